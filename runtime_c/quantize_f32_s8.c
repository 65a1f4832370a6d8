/* QUANTIZE float32 -> int8: q = round_half_away(x / scale) + zero_point, clamped to int8, with
 * the single-precision division TFLM uses (a reciprocal multiply would differ in the last bit).
 *
 * TFLM converts round(x / scale) to int32 directly, which is undefined for |x / scale| >= 2^31 and
 * NaN; here such inputs saturate (NaN gives -128). Everywhere else the results are identical. */
#include "quantize_f32_s8.h"

void tk_quantize_f32_s8(const tk_quantize_f32_s8_params *p, const float *input, int8_t *output) {
    for (int32_t i = 0; i < p->size; ++i) {
        const float q = input[i] / p->scale;
        int32_t r;
        if (!(q > -512.0f)) {            /* also NaN: anything below -383 clamps to -128 */
            r = -128;
        } else if (q > 512.0f) {
            r = 127;
        } else {
            /* |q| <= 512: the truncation t and q - t are exact in float */
            r = (int32_t)q;
            const float frac = q - (float)r;
            if (frac >= 0.5f) r += 1;
            else if (frac <= -0.5f) r -= 1;
            r = tk_clamp(r + p->zero_point, -128, 127);
        }
        output[i] = (int8_t)r;
    }
}
