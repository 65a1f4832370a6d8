/* DEPTHWISE_CONV_2D int8 fast kernel tk_depthwise_conv2d_s8 (bit-exact with TFLM
 * reference_integer_ops::DepthwiseConvPerChannel), NHWC tensors. Its reference sibling
 * tk_depthwise_conv2d_s8_ref is in depthwise_conv2d_s8_ref.c; both are declared in
 * depthwise_conv2d_s8.h. */
#include "depthwise_conv2d_s8.h"
#include "depthwise_conv2d_s8_mve.h"

/* Depth multiplier 1. Each output pixel reads a k_h x k_w window of channel
 * vectors; padding taps count as the input zero point instead (they then contribute
 * w * (zp + input_offset) = 0, as TFLM's skipped taps do). With
 * folded_bias = bias + input_offset * sum(w) (mod 2^32),
 *   out[c] = requant(folded_bias[c] + sum_taps x * w)   -- the same integer as TFLM's acc.
 * |x * w| <= 2^14: the raw sum fits int32 for up to 2^17 taps; the bias is added with wrap-around
 * (the SIMD path starts at it, its multiply-accumulates wrapping alike).
 * Filter layout (group-blocked by the compiler, T = k_h * k_w taps): channels in groups of four,
 * the last group holding C mod 4 if that is not 0; the group starting at channel c0 with n
 * channels occupies the n*T bytes at filter + c0*T, tap by tap, the n channels' weights of each
 * tap together. So four channels' weights of one tap are one aligned word. */

/* One output pixel, all channels. x: the input at tap (0, 0) (a padding position for border
 * pixels: then only the taps with ky0 <= ky < ky1 and kx0 <= kx < kx1 are read);
 * row/col: bytes between taps' rows/columns. */
typedef struct {
    int32_t row, col, ky0, ky1, kx0, kx1;
} tk_dw_window;

static void tk_dw_pixel(const tk_dwconv_params *p, const tk_out_stage *q, const int8_t *img,
                        int32_t xoff, const tk_dw_window *win, const int8_t *filter,
                        const int32_t *fb, int8_t *out) {
    const int32_t C = p->output.c, k_h = p->filter.h, k_w = p->filter.w, T = k_h * k_w;
    const int32_t row = win->row, col = win->col;
    const int32_t ky0 = win->ky0, ky1 = win->ky1, kx0 = win->kx0, kx1 = win->kx1;
    const int interior = ky0 == 0 && kx0 == 0 && ky1 == k_h && kx1 == k_w;
    const int32_t zp = -p->quant.input_offset;
    int32_t c = 0;
    for (; c + 4 <= C; c += 4) {
        const int8_t *w = filter + c * T;
        int32_t s0 = fb[c], s1 = fb[c + 1], s2 = fb[c + 2], s3 = fb[c + 3];
        /* offsets from img stay non-negative: only taps inside the image are formed */
#if TK_NN_SIMD
        w = (const int8_t *)__builtin_assume_aligned(w, 4);
#define TK_DW_TAP(xw)                                                   \
        {                                                               \
            const uint32_t xv = (xw), u = tk_ld4(w);                    \
            const uint32_t xe = tk_sxtb16(xv), xo = tk_sxtb16_ror8(xv); \
            const uint32_t ue = tk_sxtb16(u), uo = tk_sxtb16_ror8(u);   \
            s0 = tk_smlabb(xe, ue, s0);                                 \
            s2 = tk_smlatt(xe, ue, s2);                                 \
            s1 = tk_smlabb(xo, uo, s1);                                 \
            s3 = tk_smlatt(xo, uo, s3);                                 \
            w += 4;                                                     \
        }
        const uint32_t zw = (uint32_t)(uint8_t)zp * 0x01010101u;
        if (interior && k_w == 3) {
            const int8_t *xr = img + xoff + c;
            const int32_t col2 = 2 * col;
            for (int32_t ky = 0; ky < k_h; ++ky, xr += row) {
                TK_DW_TAP(tk_ld4(xr))
                TK_DW_TAP(tk_ld4(xr + col))
                TK_DW_TAP(tk_ld4(xr + col2))
            }
        } else if (interior) {
            const int8_t *xr = img + xoff + c;
            for (int32_t ky = 0; ky < k_h; ++ky, xr += row) {
                const int8_t *xp = xr;
                for (int32_t kx = 0; kx < k_w; ++kx, xp += col) TK_DW_TAP(tk_ld4(xp))
            }
        } else if (k_w == 3) {
            /* border pixel: padding taps take the zero point word instead */
            for (int32_t ky = 0; ky < k_h; ++ky) {
                if (ky < ky0 || ky >= ky1) {
                    TK_DW_TAP(zw) TK_DW_TAP(zw) TK_DW_TAP(zw)
                    continue;
                }
                const int32_t at = xoff + ky * row + c;   /* tap (ky, 0), read only if inside */
                TK_DW_TAP(kx0 == 0 ? tk_ld4(img + at) : zw)
                TK_DW_TAP(kx0 <= 1 && kx1 >= 2 ? tk_ld4(img + (at + col)) : zw)
                TK_DW_TAP(kx1 == 3 ? tk_ld4(img + (at + 2 * col)) : zw)
            }
        } else {
            /* border pixel: padding taps take the zero point word instead */
            for (int32_t ky = 0; ky < k_h; ++ky) {
                if (ky < ky0 || ky >= ky1) {
                    for (int32_t kx = 0; kx < k_w; ++kx) TK_DW_TAP(zw)
                    continue;
                }
                int32_t kx = 0;
                for (; kx < kx0; ++kx) TK_DW_TAP(zw)
                const int8_t *xp = img + (xoff + ky * row + kx0 * col + c);
                for (; kx < kx1; ++kx, xp += col) TK_DW_TAP(tk_ld4(xp))
                for (; kx < k_w; ++kx) TK_DW_TAP(zw)
            }
        }
#undef TK_DW_TAP
#else
        int32_t r0 = 0, r1 = 0, r2 = 0, r3 = 0;
        if (interior) {                 /* every tap inside: pointers only, no tests */
            const int8_t *xr = img + xoff + c;
            for (int32_t ky = 0; ky < k_h; ++ky, xr += row) {
                const int8_t *xp = xr;
                for (int32_t kx = 0; kx < k_w; ++kx, xp += col, w += 4) {
                    r0 += xp[0] * w[0];
                    r1 += xp[1] * w[1];
                    r2 += xp[2] * w[2];
                    r3 += xp[3] * w[3];
                }
            }
        } else {
            for (int32_t ky = 0; ky < k_h; ++ky) {
                const int row_in = ky >= ky0 && ky < ky1;
                for (int32_t kx = 0; kx < k_w; ++kx, w += 4) {
                    if (row_in && kx >= kx0 && kx < kx1) {
                        const int8_t *xp = img + (xoff + ky * row + kx * col + c);
                        r0 += xp[0] * w[0];
                        r1 += xp[1] * w[1];
                        r2 += xp[2] * w[2];
                        r3 += xp[3] * w[3];
                    } else {
                        r0 += zp * w[0];
                        r1 += zp * w[1];
                        r2 += zp * w[2];
                        r3 += zp * w[3];
                    }
                }
            }
        }
        s0 = tk_add_wrap_s32(s0, r0);
        s1 = tk_add_wrap_s32(s1, r1);
        s2 = tk_add_wrap_s32(s2, r2);
        s3 = tk_add_wrap_s32(s3, r3);
#endif
        if (q->fast && q->wide) {
            const int32_t *rq = q->rq + 2 * c;
            const int32_t k1 = q->k1;
            out[c] = tk_out_fw_s8(s0, rq[0], rq[1], k1);
            out[c + 1] = tk_out_fw_s8(s1, rq[2], rq[3], k1);
            out[c + 2] = tk_out_fw_s8(s2, rq[4], rq[5], k1);
            out[c + 3] = tk_out_fw_s8(s3, rq[6], rq[7], k1);
        } else {
            out[c] = tk_out_s8(q, s0, c);
            out[c + 1] = tk_out_s8(q, s1, c + 1);
            out[c + 2] = tk_out_s8(q, s2, c + 2);
            out[c + 3] = tk_out_s8(q, s3, c + 3);
        }
    }
    const int32_t n = C - c;                /* last group: 0..3 channels, weights [tap][n] */
    for (int32_t j = 0; j < n; ++j) {
        const int8_t *w = filter + c * T + j;
        int32_t r = 0;
        for (int32_t ky = 0; ky < k_h; ++ky) {
            const int row_in = ky >= ky0 && ky < ky1;
            for (int32_t kx = 0; kx < k_w; ++kx, w += n) {
                const int inside = row_in && kx >= kx0 && kx < kx1;
                r += (inside ? img[xoff + ky * row + kx * col + c + j] : zp) * w[0];
            }
        }
        out[c + j] = tk_out_s8(q, tk_add_wrap_s32(fb[c + j], r), c + j);
    }
}

/* first..last taps (of k, spaced d, from position i0) inside [0, size) */
static inline void tk_dw_range(int32_t i0, int32_t d, int32_t k, int32_t size, int32_t *t0,
                               int32_t *t1) {
    int32_t a = 0, b = k;
    while (a < k && i0 + a * d < 0) ++a;
    while (b > a && i0 + (b - 1) * d >= size) --b;
    *t0 = a;
    *t1 = b;
}

void tk_depthwise_conv2d_s8(const tk_dwconv_params *p, const int8_t *input, const int8_t *filter,
                            const int32_t *folded_bias, int8_t *output) {
#if TK_MVE
    if (tk_dwg_mve(p, input, filter, folded_bias, output)) return;
#endif
    const tk_out_stage q = tk_out_stage_make(p->rq, p->rq_fast, p->quant.output_offset,
                                             p->quant.act_min, p->quant.act_max);
    const int32_t C = p->input.c;
    const int32_t img_row = p->input.w * C;
    tk_dw_window win;
    win.row = p->geom.dil_h * img_row;
    win.col = p->geom.dil_w * C;
    for (int32_t b = 0; b < p->input.n; ++b) {
        const int8_t *img = input + b * p->input.h * img_row;
        for (int32_t oy = 0; oy < p->output.h; ++oy) {
            const int32_t iy0 = oy * p->geom.stride_h - p->geom.pad_h;
            tk_dw_range(iy0, p->geom.dil_h, p->filter.h, p->input.h, &win.ky0, &win.ky1);
            for (int32_t ox = 0; ox < p->output.w; ++ox) {
                const int32_t ix0 = ox * p->geom.stride_w - p->geom.pad_w;
                int8_t *out = output + ((b * p->output.h + oy) * p->output.w + ox) * C;
                tk_dw_range(ix0, p->geom.dil_w, p->filter.w, p->input.w, &win.kx0, &win.kx1);
                /* offset of tap (0, 0): may lie outside the image (border pixels), but only
                 * taps inside are read */
                const int32_t xoff = iy0 * img_row + ix0 * C;
                tk_dw_pixel(p, &q, img, xoff, &win, filter, folded_bias, out);
            }
        }
    }
}
