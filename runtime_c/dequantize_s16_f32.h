/* DEQUANTIZE int16 -> float32 (TFLM reference_ops::Dequantize). */
#ifndef TK_DEQUANTIZE_S16_F32_H
#define TK_DEQUANTIZE_S16_F32_H
#include "tk_nn.h"

typedef struct {
    int32_t size;                    /* elements */
    float scale;                     /* input scale */
    int32_t zero_point;              /* input zero point */
} tk_dequantize_s16_f32_params;

void tk_dequantize_s16_f32(const tk_dequantize_s16_f32_params *p, const int16_t *input,
                           float *output);
#endif
