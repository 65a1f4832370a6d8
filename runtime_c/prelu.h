/* PRELU with a broadcast alpha (TFLM reference_ops::BroadcastPrelu4DSlow): per element, with
 * v = x - input zero point and a = alpha - alpha zero point,
 *   y = output zero point + (v >= 0 ? M(v, 1) : M(v * a, 2)), clamped to the output type,
 * M being TFLM's MultiplyByQuantizedMultiplier. int8 input and alpha (tk_prelu_s8), or int16
 * input with int8 alpha (tk_prelu_s16). */
#ifndef TK_PRELU_H
#define TK_PRELU_H
#include "tk_nn.h"

typedef struct {
    tk_bcast bcast;                  /* stride1: input, stride2: alpha */
    int32_t input_offset, alpha_offset;  /* minus the zero points */
    int32_t output_offset;
    int32_t multiplier1, shift1;     /* v >= 0: input scale / output scale */
    int32_t multiplier2, shift2;     /* v < 0: input scale * alpha scale / output scale */
} tk_prelu_params;

void tk_prelu_s8(const tk_prelu_params *p, const int8_t *input, const int8_t *alpha,
                 int8_t *output);
void tk_prelu_s16(const tk_prelu_params *p, const int16_t *input, const int8_t *alpha,
                  int16_t *output);
#endif
