/* SOFTMAX int8 -> int8 (tk_softmax_s8), bit-exact with TFLM's reference kernel. The row
 * arithmetic it shares with the int16-output sibling (softmax_s8_s16.c) is in softmax_s8.h. */
#define TK_SOFTMAX_KERNEL
#include "softmax_s8.h"
#include "softmax_s8_mve.h"

void tk_softmax_s8(const tk_softmax_params *p, const int8_t *input, int8_t *output) {
#if TK_MVE
    tk_softmax_mve(p, input, output);
    return;
#endif
    for (int32_t r = 0; r < p->outer; ++r) {
        const int8_t *in = input + r * p->depth;
        int8_t *out = output + r * p->depth;
        const int32_t max_in_row = tk_softmax_row_max(in, p->depth);
        int exponent;
        const int32_t scale = tk_softmax_row_scale(p, in, max_in_row, 8, &exponent);
        for (int32_t c = 0; c < p->depth; ++c) {
            const int32_t e = p->exp_table[max_in_row - in[c]];
            const int32_t v = tk_rdbpot(tk_srdhm(scale, e), exponent) - 128;
            out[c] = (int8_t)tk_clamp(v, -128, 127);
        }
    }
}
