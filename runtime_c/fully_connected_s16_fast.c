/* FULLY_CONNECTED 16x8, fast sibling of tk_fully_connected_s16 (fully_connected_s16.c): the
 * input offset folded into the bias by the compiler, each row's dot product by tk_dot_s16_s8
 * (tk_conv16.h), weights quad-swapped. sum w * (x + off) + bias = sum w * x + folded_bias
 * exactly in int64, so the bits are the reference's. */
#include "fully_connected_s16.h"

void tk_fully_connected_s16_fast(const tk_fc_s16_params *p, const int16_t *input,
                                 const int8_t *weights, const int64_t *folded_bias,
                                 int16_t *output) {
    const int32_t depth = p->accum_depth;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int16_t *x = input + b * depth;
        for (int32_t o = 0; o < p->output_depth; ++o) {
            const int64_t acc = tk_dot_s16_s8(x, weights + o * depth, depth) + folded_bias[o];
            output[b * p->output_depth + o] =
                tk_out_s16(acc, p->rq + (p->per_channel ? 2 * o : 0), p->acc64, &p->quant);
        }
    }
}
