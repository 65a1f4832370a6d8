/* DEQUANTIZE int8 -> float32: y = scale * (x - zero_point).
 * TFLM multiplies in double and rounds to float once. The exact product of a 24-bit float scale
 * and a 9-bit integer fits a double, so TFLM's result is the correctly rounded exact product;
 * a single-precision IEEE multiply of the same operands is also correctly rounded: identical,
 * without double arithmetic on the target. */
#include "dequantize_s8_f32.h"

void tk_dequantize_s8_f32(const tk_dequantize_s8_f32_params *p, const int8_t *input,
                          float *output) {
    for (int32_t i = 0; i < p->size; ++i) {
        output[i] = p->scale * (float)(input[i] - p->zero_point);   /* |x - zp| <= 255 */
    }
}
