/* DEQUANTIZE int16 -> float32: y = scale * (x - zero_point). TFLM multiplies in double and rounds
 * once; the exact product of a 24-bit float scale and a 17-bit integer fits a double, so its result
 * is the correctly rounded product, which one single-precision multiply also gives (|x - zp| <
 * 2^24 converts to float exactly). */
#include "dequantize_s16_f32.h"

void tk_dequantize_s16_f32(const tk_dequantize_s16_f32_params *p, const int16_t *input,
                           float *output) {
    for (int32_t i = 0; i < p->size; ++i) {
        output[i] = p->scale * (float)((int32_t)input[i] - p->zero_point);
    }
}
