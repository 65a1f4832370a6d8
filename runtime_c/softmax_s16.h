/* SOFTMAX int16 -> int16 over the innermost dimension (TFLM reference_ops::SoftmaxInt16).
 * Per row: exp(x - max) is read from a 513-entry table over [-10, 0] with linear interpolation,
 * the sum of exps (Q16.15) is normalized and its reciprocal read from a second table of
 * 1 / (1 + x) over [0, 1], and each output is exp * reciprocal, rounded and shifted to Q0.15. */
#ifndef TK_SOFTMAX_S16_H
#define TK_SOFTMAX_S16_H
#include "tk_nn.h"

typedef struct {
    int32_t outer;                   /* rows */
    int32_t depth;                   /* row length, in [1, 65536] (the sum of exps fits int32) */
    int32_t input_multiplier;        /* input difference to [-65535, 0] = [-10, 0] */
    int32_t input_shift;             /* in [-31, 30] */
    const int16_t *exp_lut;          /* 513 entries, TFLM's LUTPopulate of exp */
    const int16_t *recip_lut;        /* 513 entries, TFLM's LUTPopulate of 1 / (1 + x) */
} tk_softmax16_params;

void tk_softmax_s16(const tk_softmax16_params *p, const int16_t *input, int16_t *output);
#endif
