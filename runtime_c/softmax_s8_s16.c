/* SOFTMAX int8 -> int16 (tk_softmax_s8_s16), bit-exact with TFLM's reference kernel. The row
 * arithmetic it shares with the int8-output sibling (softmax_s8.c) is in softmax_s8.h. */
#define TK_SOFTMAX_KERNEL
#include "softmax_s8.h"

void tk_softmax_s8_s16(const tk_softmax_params *p, const int8_t *input, int16_t *output) {
    for (int32_t r = 0; r < p->outer; ++r) {
        const int8_t *in = input + r * p->depth;
        int16_t *out = output + r * p->depth;
        const int32_t max_in_row = tk_softmax_row_max(in, p->depth);
        int exponent;
        const int32_t scale = tk_softmax_row_scale(p, in, max_in_row, 16, &exponent);
        for (int32_t c = 0; c < p->depth; ++c) {
            const int32_t e = p->exp_table[max_in_row - in[c]];
            const int32_t v = tk_rdbpot(tk_srdhm(scale, e), exponent) - 32768;
            out[c] = (int16_t)tk_clamp(v, -32768, 32767);
        }
    }
}
