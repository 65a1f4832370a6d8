/* FULLY_CONNECTED int8 (TFLM reference_integer_ops::FullyConnected[PerChannel] semantics).
 * weights are [output_depth][accum_depth], row major. acc = folded_bias[o] + sum_d x[d] * w[o][d]
 * equals TFLM's bias + sum (x + input_offset) * w exactly: every term fits int32 for
 * accum_depth < 2^16 (|x * w| <= 2^14, |offset * w| <= 2^15). */
#include "fully_connected_s8.h"

static inline int32_t tk_dot_s8(const int8_t *a, const int8_t *b, int32_t n, int32_t acc) {
    int32_t d = 0;
    for (; d + 4 <= n; d += 4) {
        acc += a[d] * b[d] + a[d + 1] * b[d + 1] + a[d + 2] * b[d + 2] + a[d + 3] * b[d + 3];
    }
    for (; d < n; ++d) acc += a[d] * b[d];
    return acc;
}

void tk_fully_connected_s8(const tk_fc_params *p, const int8_t *input, const int8_t *weights,
                           int8_t *output) {
    const int32_t depth = p->accum_depth;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in = input + b * depth;
        int8_t *out = output + b * p->output_depth;
        for (int32_t o = 0; o < p->output_depth; ++o) {
            int32_t acc = tk_dot_s8(in, weights + o * depth, depth, p->folded_bias[o]);
            int32_t c = p->per_channel ? o : 0;
            acc = tk_requant(acc, p->multiplier[c], p->shift[c]) + p->output_offset;
            out[o] = (int8_t)tk_clamp(acc, p->act_min, p->act_max);
        }
    }
}
