/* TRANSPOSE_CONV int8 kernel (gathering form of TFLM's loop nest), declared in transpose_conv.h. */
#include "transpose_conv.h"

/* |w * (x + input_offset)| <= 128 * 255 < 2^15 per tap and the compiler allows at most 2^16
 * taps per output, so the int32 sum cannot overflow; the bias add wraps as TFLM's does. */
void tk_transpose_conv_s8(const tk_tconv_params *p, const int8_t *input, const int8_t *filter,
                          const int32_t *bias, int8_t *output) {
    const int32_t sh = p->geom.stride_h, sw = p->geom.stride_w, ic_n = p->input.c;
    for (int32_t b = 0; b < p->input.n; ++b) {
        for (int32_t oy = 0; oy < p->output.h; ++oy) {
            const int32_t ty = oy + p->geom.pad_h;     /* >= 0: padding is never negative */
            for (int32_t ox = 0; ox < p->output.w; ++ox) {
                const int32_t tx = ox + p->geom.pad_w;
                int8_t *out = output + ((b * p->output.h + oy) * p->output.w + ox) * p->output.c;
                for (int32_t oc = 0; oc < p->output.c; ++oc) {
                    int32_t acc = 0;
                    for (int32_t ky = tk_tconv_first(oy, p->geom.pad_h, sh);
                         ky < p->filter.h && ky <= ty; ky += sh) {
                        const int32_t iy = (ty - ky) / sh;
                        if (iy >= p->input.h) continue;
                        for (int32_t kx = tk_tconv_first(ox, p->geom.pad_w, sw);
                             kx < p->filter.w && kx <= tx; kx += sw) {
                            const int32_t ix = (tx - kx) / sw;
                            if (ix >= p->input.w) continue;
                            const int8_t *x =
                                input + ((b * p->input.h + iy) * p->input.w + ix) * ic_n;
                            const int8_t *w =
                                filter + ((oc * p->filter.h + ky) * p->filter.w + kx) * ic_n;
                            for (int32_t c = 0; c < ic_n; ++c) {
                                acc += (x[c] + p->quant.input_offset) * w[c];
                            }
                        }
                    }
                    if (bias) acc = tk_add_wrap_s32(acc, bias[oc]);
                    out[oc] = tk_requant_s8(acc, p->rq[2 * oc], p->rq[2 * oc + 1],
                                            p->quant.output_offset, p->quant.act_min,
                                            p->quant.act_max);
                }
            }
        }
    }
}
