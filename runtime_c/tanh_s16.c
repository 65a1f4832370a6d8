/* TANH int16 (see sigmoid_s16.h), bit-exact with TFLM. */
#define TK_SIGMOID_S16_KERNEL
#include "sigmoid_s16.h"

void tk_tanh_s16(const tk_sigmoid16_params *p, const int16_t *input, int16_t *output) {
    for (int32_t i = 0; i < p->size; ++i) {
        const int32_t v = tk_sigmoid16_scale(p, input[i]);
        const uint32_t a = (uint32_t)(v < 0 ? -v : v);
        const uint32_t uh = a >> 8;
        int32_t r;                                   /* sigmoid(2|x|) in Q0.24, < 2^24 */
        if (uh >= 255) {
            r = 0xFFFF << 8;
        } else {
            const uint32_t ua = p->table[uh], ub = p->table[uh + 1];
            r = (int32_t)((ua << 8) + (a & 0xffu) * (ub - ua));
        }
        /* 2 sigmoid - 1, and tanh(-x) = -tanh(x); back to Q0.15 with an arithmetic shift */
        r = v >= 0 ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1;
        output[i] = (int16_t)(r >> 8);
    }
}
