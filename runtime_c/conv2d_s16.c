/* CONV_2D 16x8 reference kernel (TFLM's loop nest), declared in conv2d_s16.h. */
#include "conv2d_s16.h"

/* Accumulator range: |w * x| <= 128 * 32768 = 2^22 per tap; the sum is int64 (the int32 mode
 * takes it modulo 2^32 in tk_out_s16). The compiler bounds |bias| + 2^15 * sum|w| < 2^47. */
void tk_conv2d_s16(const tk_conv_s16_params *p, const int16_t *input, const int8_t *filter,
                   const int64_t *bias, int16_t *output) {
    const int32_t filters_per_group = p->output.c / (p->input.c / p->filter.c);
    for (int32_t b = 0; b < p->input.n; ++b) {
        for (int32_t oy = 0; oy < p->output.h; ++oy) {
            const int32_t iy0 = oy * p->geom.stride_h - p->geom.pad_h;
            for (int32_t ox = 0; ox < p->output.w; ++ox) {
                const int32_t ix0 = ox * p->geom.stride_w - p->geom.pad_w;
                int16_t *out = output + ((b * p->output.h + oy) * p->output.w + ox) * p->output.c;
                for (int32_t oc = 0; oc < p->output.c; ++oc) {
                    const int32_t c0 = (oc / filters_per_group) * p->filter.c;
                    int64_t acc = 0;
                    for (int32_t ky = 0; ky < p->filter.h; ++ky) {
                        const int32_t iy = iy0 + p->geom.dil_h * ky;
                        if (iy < 0 || iy >= p->input.h) continue;  /* padding adds nothing */
                        for (int32_t kx = 0; kx < p->filter.w; ++kx) {
                            const int32_t ix = ix0 + p->geom.dil_w * kx;
                            if (ix < 0 || ix >= p->input.w) continue;
                            const int16_t *x =
                                input + ((b * p->input.h + iy) * p->input.w + ix) * p->input.c + c0;
                            const int8_t *w =
                                filter + ((oc * p->filter.h + ky) * p->filter.w + kx) * p->filter.c;
                            for (int32_t c = 0; c < p->filter.c; ++c) acc += w[c] * x[c];
                        }
                    }
                    if (bias) acc += bias[oc];
                    out[oc] = tk_out_s16(acc, p->rq + 2 * oc, p->acc64, &p->quant);
                }
            }
        }
    }
}
