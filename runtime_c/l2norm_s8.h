/* L2_NORMALIZATION int8 over the innermost dimension (TFLM reference_integer_ops::
 * L2Normalization): per row, the sum of squares of (x - zero point) gives 1/sqrt(sum) by TFLM's
 * GetInvSqrtQuantizedMultiplierExp (a fixed-point Newton-Raphson), and each output is
 * (x - zero point) / sqrt(sum) in Q0.7. As in TFLM, the output tensor's scale and zero point are
 * not used: the output is always scale 1/128, zero point 0. */
#ifndef TK_L2NORM_S8_H
#define TK_L2NORM_S8_H
#include "tk_nn.h"

typedef struct {
    int32_t outer;                   /* rows */
    int32_t depth;                   /* row length, in [1, 33025]: the sum of squares fits int32 */
    int32_t input_offset;            /* -input zero point */
} tk_l2norm_params;

void tk_l2norm_s8(const tk_l2norm_params *p, const int8_t *input, int8_t *output);
#endif
