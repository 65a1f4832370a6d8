/* DEPTHWISE_CONV_2D 16x8 reference kernel (TFLM's loop nest, any depth multiplier), declared in
 * conv2d_s16.h; output channel oc = ic * depth_multiplier + m. TFLM sums in int64 always. */
#include "conv2d_s16.h"

void tk_depthwise_conv2d_s16(const tk_conv_s16_params *p, const int16_t *input,
                             const int8_t *filter, const int64_t *bias, int16_t *output) {
    const int32_t dm = p->depth_multiplier;
    for (int32_t b = 0; b < p->input.n; ++b) {
        for (int32_t oy = 0; oy < p->output.h; ++oy) {
            const int32_t iy0 = oy * p->geom.stride_h - p->geom.pad_h;
            for (int32_t ox = 0; ox < p->output.w; ++ox) {
                const int32_t ix0 = ox * p->geom.stride_w - p->geom.pad_w;
                int16_t *out = output + ((b * p->output.h + oy) * p->output.w + ox) * p->output.c;
                for (int32_t oc = 0; oc < p->output.c; ++oc) {
                    const int32_t ic = oc / dm;
                    int64_t acc = 0;
                    for (int32_t ky = 0; ky < p->filter.h; ++ky) {
                        const int32_t iy = iy0 + p->geom.dil_h * ky;
                        if (iy < 0 || iy >= p->input.h) continue;  /* padding adds nothing */
                        for (int32_t kx = 0; kx < p->filter.w; ++kx) {
                            const int32_t ix = ix0 + p->geom.dil_w * kx;
                            if (ix < 0 || ix >= p->input.w) continue;
                            const int32_t x =
                                input[((b * p->input.h + iy) * p->input.w + ix) * p->input.c + ic];
                            acc += filter[(ky * p->filter.w + kx) * p->output.c + oc] * x;
                        }
                    }
                    if (bias) acc += bias[oc];
                    out[oc] = tk_out_s16(acc, p->rq + 2 * oc, p->acc64, &p->quant);
                }
            }
        }
    }
}
