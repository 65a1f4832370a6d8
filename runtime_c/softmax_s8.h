/* SOFTMAX over the innermost dimension, int8 input, int8 or int16 output
 * (TFLM reference_ops::Softmax with gemmlowp fixed point). */
#ifndef TK_SOFTMAX_S8_H
#define TK_SOFTMAX_S8_H
#include "tk_nn.h"

typedef struct {
    int32_t outer;                   /* rows */
    int32_t depth;                   /* row length, >= 1 */
    /* exp_table[max - x] = exp(beta * scale * (x - max)) in Q0.31 for x - max >= diff_min, else
     * 0 (TFLM skips those inputs: they add nothing to the sum and give the lowest output) */
    const int32_t *exp_table;
} tk_softmax_params;

void tk_softmax_s8(const tk_softmax_params *p, const int8_t *input, int8_t *output);
void tk_softmax_s8_s16(const tk_softmax_params *p, const int8_t *input, int16_t *output);
#endif
