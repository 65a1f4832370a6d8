/* LOGISTIC int16 (see sigmoid_s16.h), bit-exact with TFLM. */
#define TK_SIGMOID_S16_KERNEL
#include "sigmoid_s16.h"

void tk_logistic_s16(const tk_sigmoid16_params *p, const int16_t *input, int16_t *output) {
    for (int32_t i = 0; i < p->size; ++i) {
        const int32_t v = tk_sigmoid16_scale(p, input[i]);
        const uint32_t a = (uint32_t)(v < 0 ? -v : v);
        const uint32_t uh = a >> 9;
        uint32_t r;                                  /* sigmoid(|v|) in Q0.25 */
        if (uh >= 255) {
            r = 0x7FFFu << 10;
        } else {
            const uint32_t ua = p->table[uh], ub = p->table[uh + 1];
            r = (ua << 9) + (a & 0x1ffu) * (ub - ua);
        }
        /* sigmoid(-x) = 1 - sigmoid(x); rounded back to Q0.15, in [0, 32767] */
        r = v >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1u;
        output[i] = (int16_t)(r >> 10);
    }
}
