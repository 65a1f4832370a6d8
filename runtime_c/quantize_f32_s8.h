/* QUANTIZE float32 -> int8 (TFLM reference_ops::AffineQuantize), as converters emit at inputs. */
#ifndef TK_QUANTIZE_F32_S8_H
#define TK_QUANTIZE_F32_S8_H
#include "tk_nn.h"

typedef struct {
    int32_t size;                    /* elements */
    float scale;                     /* output scale (float32, as TFLM divides by it) */
    int32_t zero_point;              /* output zero point, in [-128, 127] */
} tk_quantize_f32_s8_params;

void tk_quantize_f32_s8(const tk_quantize_f32_s8_params *p, const float *input, int8_t *output);
#endif
