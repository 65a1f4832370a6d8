/* QUANTIZE float32 -> int16: q = round_half_away(x / scale) + zero_point, clamped to int16, with
 * TFLM's single-precision division. As in quantize_f32_s8.c, inputs whose quotient does not fit
 * int32 (and NaN, which gives -32768) saturate where TFLM's conversion is undefined. */
#include "quantize_f32_s16.h"

void tk_quantize_f32_s16(const tk_quantize_f32_s16_params *p, const float *input,
                         int16_t *output) {
    for (int32_t i = 0; i < p->size; ++i) {
        const float q = input[i] / p->scale;
        int32_t r;
        if (!(q > -131072.0f)) {         /* also NaN: below -98303 everything clamps */
            r = -32768;
        } else if (q > 131072.0f) {
            r = 32767;
        } else {
            /* |q| <= 2^17: the truncation t and q - t are exact in float */
            r = (int32_t)q;
            const float frac = q - (float)r;
            if (frac >= 0.5f) r += 1;
            else if (frac <= -0.5f) r -= 1;
            r = tk_clamp(r + p->zero_point, -32768, 32767);
        }
        output[i] = (int16_t)r;
    }
}
