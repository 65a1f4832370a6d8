/* FULLY_CONNECTED 16x8 reference kernel (TFLM's loop), declared in fully_connected_s16.h. */
#include "fully_connected_s16.h"

/* |w * (x + input_offset)| <= 128 * 65535 < 2^23 per input; the int64 sum is bounded by the
 * compiler (|bias| + 65535 * sum|w| < 2^47). */
void tk_fully_connected_s16(const tk_fc_s16_params *p, const int16_t *input,
                            const int8_t *weights, const int64_t *bias, int16_t *output) {
    const int32_t depth = p->accum_depth, off = p->quant.input_offset;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int16_t *x = input + b * depth;
        for (int32_t o = 0; o < p->output_depth; ++o) {
            const int8_t *w = weights + o * depth;
            int64_t acc = 0;
            for (int32_t d = 0; d < depth; ++d) acc += w[d] * (x[d] + off);
            if (bias) acc += bias[o];
            output[b * p->output_depth + o] =
                tk_out_s16(acc, p->rq + (p->per_channel ? 2 * o : 0), p->acc64, &p->quant);
        }
    }
}
