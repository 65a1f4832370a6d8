/* MEAN and SUM int16 (TFLM reference_ops::QuantizedMeanOrSum<int16_t>): the int32 sum over the
 * reduced dims, minus zero point * count, requantized (double rounding), plus the output zero
 * point, clamped to int16. */
#include "reduce_sum_s16.h"

void tk_reduce_sum_s16(const tk_mean_params *p, const int16_t *input, int16_t *output) {
    for (int32_t k0 = 0; k0 < p->keep_dims[0]; ++k0) {
        for (int32_t k1 = 0; k1 < p->keep_dims[1]; ++k1) {
            for (int32_t k2 = 0; k2 < p->keep_dims[2]; ++k2) {
                const int16_t *base = input + k0 * p->keep_stride[0] + k1 * p->keep_stride[1]
                                    + k2 * p->keep_stride[2];
                /* |sum| <= 32768 * count < 2^30, |zp * count| < 2^30 */
                int32_t sum = 0;
                for (int32_t r0 = 0; r0 < p->red_dims[0]; ++r0) {
                    for (int32_t r1 = 0; r1 < p->red_dims[1]; ++r1) {
                        const int16_t *in = base + r0 * p->red_stride[0] + r1 * p->red_stride[1];
                        for (int32_t r2 = 0; r2 < p->red_dims[2]; ++r2) {
                            sum += in[r2 * p->red_stride[2]];
                        }
                    }
                }
                const int32_t v = tk_requant(sum - p->zp_times_count, p->multiplier, p->shift);
                *output++ = (int16_t)tk_clamp(tk_add_wrap_s32(v, p->output_offset), -32768,
                                              32767);
            }
        }
    }
}
