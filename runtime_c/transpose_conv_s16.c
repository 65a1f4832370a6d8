/* TRANSPOSE_CONV 16x8 kernel (gathering form of TFLM's loop nest), declared in transpose_conv.h. */
#include "transpose_conv.h"

/* |w * x| <= 2^22 per tap, summed in int64; the compiler bounds |bias| + 2^15 * sum|w| < 2^47
 * (TFLM's int64 requantization bound). TFLM's 16x8 kernel ignores zero points (they are 0). */
void tk_transpose_conv_s16(const tk_tconv_params *p, const int16_t *input,
                           const int8_t *filter, const int64_t *bias, int16_t *output) {
    const int32_t sh = p->geom.stride_h, sw = p->geom.stride_w, ic_n = p->input.c;
    for (int32_t b = 0; b < p->input.n; ++b) {
        for (int32_t oy = 0; oy < p->output.h; ++oy) {
            const int32_t ty = oy + p->geom.pad_h;
            for (int32_t ox = 0; ox < p->output.w; ++ox) {
                const int32_t tx = ox + p->geom.pad_w;
                int16_t *out = output + ((b * p->output.h + oy) * p->output.w + ox) * p->output.c;
                for (int32_t oc = 0; oc < p->output.c; ++oc) {
                    int64_t acc = 0;
                    for (int32_t ky = tk_tconv_first(oy, p->geom.pad_h, sh);
                         ky < p->filter.h && ky <= ty; ky += sh) {
                        const int32_t iy = (ty - ky) / sh;
                        if (iy >= p->input.h) continue;
                        for (int32_t kx = tk_tconv_first(ox, p->geom.pad_w, sw);
                             kx < p->filter.w && kx <= tx; kx += sw) {
                            const int32_t ix = (tx - kx) / sw;
                            if (ix >= p->input.w) continue;
                            const int16_t *x =
                                input + ((b * p->input.h + iy) * p->input.w + ix) * ic_n;
                            const int8_t *w =
                                filter + ((oc * p->filter.h + ky) * p->filter.w + kx) * ic_n;
                            for (int32_t c = 0; c < ic_n; ++c) acc += x[c] * w[c];
                        }
                    }
                    if (bias) acc += bias[oc];
                    out[oc] = tk_out_s16(acc, p->rq + 2 * oc, 1, &p->quant);
                }
            }
        }
    }
}
