/* CONV_2D 16x8, fast sibling of tk_conv2d_s16 (conv2d_s16.c), groups == 1 and dil_w == 1: a
 * filter row (filter.w taps of input.c channels) meets one contiguous run of the input, summed
 * by tk_dot_s16_s8 (tk_conv16.h: DSP dual multiply-accumulates in int32 blocks); at the left
 * and right borders the part inside the image, the same way where it is made of whole groups
 * of four taps, else tap by tap (tk_dot_part_s16_s8).
 * Weights quad-swapped by the compiler. Exact int64 sums either way: the reference's bits. */
#include "conv2d_s16.h"

void tk_conv2d_s16_fast(const tk_conv_s16_params *p, const int16_t *input, const int8_t *filter,
                        const int64_t *bias, int16_t *output) {
    const int32_t ic = p->input.c, kw = p->filter.w, run = kw * ic;
    const int32_t run4 = run - run % 4;
    for (int32_t b = 0; b < p->input.n; ++b) {
        for (int32_t oy = 0; oy < p->output.h; ++oy) {
            const int32_t iy0 = oy * p->geom.stride_h - p->geom.pad_h;
            for (int32_t ox = 0; ox < p->output.w; ++ox) {
                const int32_t ix0 = ox * p->geom.stride_w - p->geom.pad_w;
                /* the filter columns [kx0, kx1) that fall inside the image */
                const int32_t kx0 = TK_MAX(0, -ix0), kx1 = TK_MIN(kw, p->input.w - ix0);
                /* [kx0 * ic, kx1 * ic) is a quad-swapped run of its own when it starts on a
                 * group of four and ends on one or at the run's end (always when ic % 4 == 0) */
                const int32_t a = kx0 * ic, e = kx1 * ic;
                const int32_t whole = (a & 3) == 0 && ((e & 3) == 0 || e == run);
                int16_t *out = output + ((b * p->output.h + oy) * p->output.w + ox) * p->output.c;
                for (int32_t oc = 0; oc < p->output.c; ++oc) {
                    int64_t acc = 0;
                    for (int32_t ky = 0; ky < p->filter.h; ++ky) {
                        const int32_t iy = iy0 + p->geom.dil_h * ky;
                        if (iy < 0 || iy >= p->input.h || kx1 <= kx0) continue;
                        const int16_t *x =
                            input + ((b * p->input.h + iy) * p->input.w + ix0 + kx0) * ic;
                        const int8_t *w = filter + (oc * p->filter.h + ky) * run;
                        acc += whole ? tk_dot_s16_s8(x, w + a, e - a)
                                     : tk_dot_part_s16_s8(x, w, run4, a, e);
                    }
                    if (bias) acc += bias[oc];
                    out[oc] = tk_out_s16(acc, p->rq + 2 * oc, p->acc64, &p->quant);
                }
            }
        }
    }
}
