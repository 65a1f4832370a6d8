/* QUANTIZE float32 -> int16 (TFLM reference_ops::AffineQuantize), so raw int16 audio scaled as
 * float, or a float input, can enter an int16 model. */
#ifndef TK_QUANTIZE_F32_S16_H
#define TK_QUANTIZE_F32_S16_H
#include "tk_nn.h"

typedef struct {
    int32_t size;                    /* elements */
    float scale;                     /* output scale (float32, as TFLM divides by it) */
    int32_t zero_point;              /* output zero point, in [-32768, 32767] */
} tk_quantize_f32_s16_params;

void tk_quantize_f32_s16(const tk_quantize_f32_s16_params *p, const float *input,
                         int16_t *output);
#endif
