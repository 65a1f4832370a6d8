/* AVERAGE_POOL_2D int8 on Helium (MVE): tk_avg_pool_mve runs tk_avg_pool_s8's work (same
 * params, avg_pool_s8.h) on the M55. Per output pixel, sixteen channels at a time: the window's
 * pixels summed as int16 lanes (VLDRB.S16 widening loads and VADD.I16; exact, as a window of at
 * most 256 pixels sums to at most 128 * 256 in magnitude), then per channel TFLM's division
 * rounded half away from zero (C division truncates toward zero, as TFLM's does) and the clamp.
 * The last partial group of channels uses predicated loads: nothing past the pixel's channels
 * is read. Larger windows run the C kernel. */
#ifndef TK_AVG_POOL_S8_MVE_H
#define TK_AVG_POOL_S8_MVE_H
#include "avg_pool_s8.h"
#include "tk_mve.h"

#if TK_MVE

/* the sums of channels c .. c + 15 (the first n <= 16 of them valid) over the window rows
 * ys .. ye - 1, columns xs .. xe - 1 of the image at img, into s */
static void tk_apm_sums(const tk_pool_params *p, const int8_t *img, int32_t ys, int32_t ye,
                        int32_t xs, int32_t xe, int32_t c, int32_t n, int16_t *s) {
    const int32_t depth = p->input.c, row = p->input.w * depth;
    tk_s16x8 a0 = tk_vdupq_n_s16(0), a1 = a0;
    if (n == 16) {
        for (int32_t y = ys; y < ye; ++y) {
            const int8_t *q = img + y * row + xs * depth + c;
            for (int32_t x = xs; x < xe; ++x, q += depth) {
                a0 = tk_vaddq_s16(a0, tk_vldrbq_s16(q));
                a1 = tk_vaddq_s16(a1, tk_vldrbq_s16(q + 8));
            }
        }
    } else {
        const tk_pred m0 = tk_vctp16q((uint32_t)n);
        const tk_pred m1 = tk_vctp16q((uint32_t)(n > 8 ? n - 8 : 0));
        for (int32_t y = ys; y < ye; ++y) {
            const int8_t *q = img + y * row + xs * depth + c;
            for (int32_t x = xs; x < xe; ++x, q += depth) {
                a0 = tk_vaddq_s16(a0, tk_vldrbq_z_s16(q, m0));
                a1 = tk_vaddq_s16(a1, tk_vldrbq_z_s16(q + 8, m1));
            }
        }
    }
    tk_vstrhq_s16(s, a0);
    tk_vstrhq_s16(s + 8, a1);
}

/* 1 when done; 0 for windows of more than 256 pixels (the C kernel runs instead) */
static int tk_avg_pool_mve(const tk_pool_params *p, const int8_t *input, int8_t *output) {
    if (p->filter.h * p->filter.w > 256) return 0;
    const int32_t depth = p->input.c, lo = p->quant.act_min, hi = p->quant.act_max;
    int16_t s[16];
    for (int32_t b = 0; b < p->input.n; ++b) {
        const int8_t *img = input + b * p->input.h * p->input.w * depth;
        for (int32_t oy = 0; oy < p->output.h; ++oy) {
            int32_t ys, ye;
            tk_pool_span(oy, p->geom.stride_h, p->geom.pad_h, p->filter.h, p->input.h, &ys, &ye);
            for (int32_t ox = 0; ox < p->output.w; ++ox, output += depth) {
                int32_t xs, xe;
                tk_pool_span(ox, p->geom.stride_w, p->geom.pad_w, p->filter.w, p->input.w, &xs,
                             &xe);
                const int32_t count = (ye - ys) * (xe - xs), half = count / 2;
                for (int32_t c = 0; c < depth; c += 16) {
                    const int32_t n = depth - c < 16 ? depth - c : 16;
                    tk_apm_sums(p, img, ys, ye, xs, xe, c, n, s);
                    for (int32_t j = 0; j < n; ++j) {
                        const int32_t a = s[j];
                        const int32_t r = a > 0 ? (a + half) / count : (a - half) / count;
                        output[c + j] = (int8_t)tk_clamp(r, lo, hi);
                    }
                }
            }
        }
    }
    return 1;
}

#endif /* TK_MVE */
#endif
