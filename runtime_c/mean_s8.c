/* MEAN and SUM int8 (TFLM reference_ops::QuantizedMeanOrSum; SUM: compute_sum = true): the
 * int32 sum over the reduced dims, minus zero point * count, requantized by a multiplier that
 * (MEAN only) already includes 1/count; plus the output zero point (wrapping as TFLM's int32 add
 * would, a SUM's left shift can reach 2^31), clamped to int8 (no fused activation). */
#include "mean_s8.h"

void tk_mean_s8(const tk_mean_params *p, const int8_t *input, int8_t *output) {
    for (int32_t k0 = 0; k0 < p->keep_dims[0]; ++k0) {
        for (int32_t k1 = 0; k1 < p->keep_dims[1]; ++k1) {
            for (int32_t k2 = 0; k2 < p->keep_dims[2]; ++k2) {
                const int8_t *base = input + k0 * p->keep_stride[0] + k1 * p->keep_stride[1]
                                   + k2 * p->keep_stride[2];
                /* |sum| <= 128 * count < 2^31 */
                int32_t sum = 0;
                for (int32_t r0 = 0; r0 < p->red_dims[0]; ++r0) {
                    for (int32_t r1 = 0; r1 < p->red_dims[1]; ++r1) {
                        const int8_t *in = base + r0 * p->red_stride[0] + r1 * p->red_stride[1];
                        for (int32_t r2 = 0; r2 < p->red_dims[2]; ++r2) {
                            sum += in[r2 * p->red_stride[2]];
                        }
                    }
                }
                const int32_t v = tk_requant(sum - p->zp_times_count, p->multiplier, p->shift);
                *output++ = (int8_t)tk_clamp(tk_add_wrap_s32(v, p->output_offset), -128, 127);
            }
        }
    }
}
