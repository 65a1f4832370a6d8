/* LOGISTIC and TANH on int16 (TFLM reference_integer_ops::Logistic / Tanh for int16): the input,
 * rescaled by an integer multiplier and a rounding right shift so that 2^12 stands for 1/3 (TANH:
 * 2^12 for 2/3, as tanh(x) = 2 sigmoid(2x) - 1), indexes a 256-entry table of sigmoid(i / 24)
 * with 9 (TANH: 8) bits of linear interpolation. Output Q0.15, zero point 0. tk_logistic_s16 is
 * in logistic_s16.c, tk_tanh_s16 in tanh_s16.c. */
#ifndef TK_SIGMOID_S16_H
#define TK_SIGMOID_S16_H
#include "tk_nn.h"

typedef struct {
    int32_t size;                    /* elements */
    int32_t input_multiplier;        /* in [1, 32767] (TANH: up to 6 in the power-of-two case) */
    int32_t input_shift;             /* right shift, in [0, 31] */
    const uint16_t *table;           /* sigmoid(i / 24) in Q0.16, i = 0..255 */
} tk_sigmoid16_params;

void tk_logistic_s16(const tk_sigmoid16_params *p, const int16_t *input, int16_t *output);
void tk_tanh_s16(const tk_sigmoid16_params *p, const int16_t *input, int16_t *output);

#ifdef TK_SIGMOID_S16_KERNEL
/* x * multiplier + round fits int32: |x| <= 2^15, multiplier < 2^15, round <= 2^30 */
static inline int32_t tk_sigmoid16_scale(const tk_sigmoid16_params *p, int32_t x) {
    const int32_t round = p->input_shift > 0 ? (int32_t)1 << (p->input_shift - 1) : 0;
    return (x * p->input_multiplier + round) >> p->input_shift;
}
#endif
#endif
