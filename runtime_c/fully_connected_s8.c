/* FULLY_CONNECTED int8 reference kernel (TFLM reference_integer_ops::FullyConnected[PerChannel]).
 * weights are [output_depth][accum_depth], row major. */
#include "fully_connected_s8.h"

void tk_fully_connected_s8(const tk_fc_params *p, const int8_t *input, const int8_t *weights,
                           const int32_t *bias, int8_t *output) {
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in = input + b * p->accum_depth;
        for (int32_t o = 0; o < p->output_depth; ++o) {
            const int8_t *w = weights + o * p->accum_depth;
            /* |(x + off) * w| <= 255 * 128, so accum_depth up to 65k cannot overflow int32 */
            int32_t acc = 0;
            for (int32_t d = 0; d < p->accum_depth; ++d) {
                acc += (in[d] + p->input_offset) * w[d];
            }
            if (bias) acc += bias[o];
            int32_t c = p->per_channel ? o : 0;
            acc = tk_requant(acc, p->multiplier[c], p->shift[c]);
            acc += p->output_offset;
            output[b * p->output_depth + o] = (int8_t)tk_clamp(acc, p->act_min, p->act_max);
        }
    }
}
