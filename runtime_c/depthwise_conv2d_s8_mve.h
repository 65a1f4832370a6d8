/* DEPTHWISE_CONV_2D int8 on Helium (MVE), any filter of at most 32 taps, strides, dilation:
 * tk_dwg_mve runs tk_depthwise_conv2d_s8's work (same params, group-blocked filter and folded
 * bias, depthwise_conv2d_s8.h) on the M55, channel by channel, as depthwise3x3_s8_mve.h does
 * for the 3x3 line kernel: a band of output rows and a chunk of output columns read R padded
 * input rows and Q padded columns, which one channel copies into a column-major byte plane P
 * (P[q R + r]; the zero point where that is padding, written once per chunk; the inside
 * gathered eight columns of a row at a time, VLDRB.S16 gather + VSTRB.16 scatter). The output at
 * (row y, column x) of the band reads tap (ky, kx) at P + x sw R + y sh + kx dw R + ky dh: one
 * 16-lane VLDRB.U8 gather per sixteen taps (constant offsets, the lanes past the taps read
 * offset 0 and meet zero weights) and one VMLADAV.S8 with the channel's weights, gathered from
 * the group-blocked filter. Four outputs along a row go into a vector for TFLM's
 * requantization (as depthwise3x3_s8_mve.h) and a scatter store. Bands are as tall as the 8-bit
 * offsets allow; a geometry they cannot hold, or more than 32 taps, keeps the C kernel. */
#ifndef TK_DEPTHWISE_CONV2D_S8_MVE_H
#define TK_DEPTHWISE_CONV2D_S8_MVE_H
#include "depthwise_conv2d_s8.h"
#include "tk_mve.h"

#if TK_MVE

#define TK_DWG_PLANE 1024   /* bytes of P on the stack */

typedef struct {
    tk_u8x16 o[2];                  /* tap offsets in P, taps 0..15 and 16..31 */
    tk_s8x16 w[2];                  /* the channel's weights in the same lanes */
    tk_s32x4 lo, hi;
    tk_u32x4 ob;                    /* output lane offsets 0, C, 2 C, 3 C */
    int32_t gathers, R, xstep;      /* xstep = sw R: P bytes between neighbouring outputs */
    int32_t fb, m, left, e, off;
} tk_dwg_k;

/* output j's accumulator (folded bias not yet added) from base: one or two gathers */
TK_MVE_INLINE int32_t tk_dwg_acc(const tk_dwg_k *k, const int8_t *x, const int two) {
    int32_t a = tk_vmladavq_s8(tk_vldrbq_gather_offset_s8(x, k->o[0]), k->w[0]);
    if (two) a = tk_vmladavaq_s8(a, tk_vldrbq_gather_offset_s8(x, k->o[1]), k->w[1]);
    return a;
}

/* n (1..4) outputs along a row from base, requantized, stored from out */
TK_MVE_INLINE void tk_dwg_out4(const tk_dwg_k *k, const int8_t *base, int8_t *out, int32_t n,
                               const int two) {
    const int32_t xs = k->xstep;
    tk_s32x4 v = tk_vmov4_s32(tk_dwg_acc(k, base, two), tk_dwg_acc(k, base + xs, two),
                              tk_dwg_acc(k, base + 2 * xs, two), tk_dwg_acc(k, base + 3 * xs, two));
    v = tk_vaddq_n_s32(v, k->fb);
    if (k->left) v = tk_vshlq_r_s32(v, k->left);
    v = tk_vqrdmulhq_n_s32(v, k->m);
    if (k->e) v = tk_vrshlq_n_s32(tk_vqaddq_s32(v, tk_vshrq_n_s32(v, 31)), -k->e);
    v = tk_vminq_s32(tk_vmaxq_s32(tk_vaddq_n_s32(v, k->off), k->lo), k->hi);
    if (n >= 4) {
        tk_vstrbq_scatter_offset_s32(out, k->ob, v);
    } else {
        tk_vstrbq_scatter_offset_p_s32(out, k->ob, v, tk_vctp32q((uint32_t)n));
    }
}

/* one output row of the band (row y): n outputs */
TK_MVE_INLINE void tk_dwg_row(const tk_dwg_k *k, const int8_t *base, int8_t *o, int32_t n,
                              int32_t C, const int two) {
    for (int32_t i = 0; i < n; i += 4, o += 4 * C, base += 4 * k->xstep) {
        tk_dwg_out4(k, base, o, n - i, two);
    }
}

/* output rows of a band: R padded rows for `rows` of them, 0 if over the offsets' 8 bits */
static int32_t tk_dwg_rows(const tk_dwconv_params *p, int32_t rows) {
    const int32_t R = (rows - 1) * p->geom.stride_h + (p->filter.h - 1) * p->geom.dil_h + 1;
    const int32_t span =
        (p->filter.w - 1) * p->geom.dil_w * R + (p->filter.h - 1) * p->geom.dil_h;
    return span <= 255 ? R : 0;
}

/* output columns per chunk for R padded rows (the last pass reads 3 sw columns past them) */
static int32_t tk_dwg_cols(const tk_dwconv_params *p, int32_t R) {
    const int32_t sw = p->geom.stride_w, kq = (p->filter.w - 1) * p->geom.dil_w + 1;
    const int32_t q = TK_DWG_PLANE / R - kq - 3 * sw;
    return q < 0 ? 0 : (q / sw + 1) & ~3;      /* a multiple of 4: no tail but the last */
}

/* channel c's weights and requantization into k (the op's fields already there) */
static void tk_dwg_channel(const tk_dwconv_params *p, const int8_t *filter, const int32_t *fbias,
                           int32_t c, tk_dwg_k *k) {
    const int32_t C = p->output.c, T = p->filter.h * p->filter.w, c0 = c & ~3;
    const int32_t n = C - c0 < 4 ? C - c0 : 4;
    const int8_t *w = filter + c0 * T + (c - c0);
    uint8_t o[16];
    for (int32_t g = 0; g < k->gathers; ++g) {
        const int32_t t0 = 16 * g, nt = T - t0 < 16 ? T - t0 : 16;
        for (int32_t j = 0; j < 16; ++j) o[j] = (uint8_t)(j < nt ? (t0 + j) * n : 0);
        k->w[g] = tk_vldrbq_gather_offset_z_s8(w, tk_u8x16_of(o), tk_vctp8q((uint32_t)nt));
    }
    const int32_t r = p->rq[2 * c + 1], shift = p->rq_fast ? -r - 1 : r;
    k->m = p->rq[2 * c];
    k->left = shift > 0 ? shift : 0;
    k->e = shift < 0 ? -shift : 0;
    k->fb = fbias[c];
}

/* P for the channel at img (its first byte): input rows y0 .. y0 + R - 1 (those inside), input
 * columns x0 + lo .. x0 + hi - 1 at padded columns lo .. hi - 1 */
static void tk_dwg_fill(const tk_dwconv_params *p, const int8_t *img, int32_t y0, int32_t R,
                        int32_t x0, int32_t lo, int32_t hi, tk_u16x8 oin, tk_u16x8 opl,
                        int8_t *P) {
    const int32_t C = p->input.c, in8 = 8 * C, pl8 = 8 * R;
    const int32_t ya = y0 > 0 ? y0 : 0, yb = y0 + R < p->input.h ? y0 + R : p->input.h;
    for (int32_t y = ya; y < yb; ++y) {
        const int8_t *x = img + (y * p->input.w + x0 + lo) * C;
        int8_t *d = P + lo * R + (y - y0);
        int32_t left = hi - lo;
        for (; left >= 8; left -= 8, x += in8, d += pl8) {
            tk_vstrbq_scatter_offset_s16(d, opl, tk_vldrbq_gather_offset_s16(x, oin));
        }
        if (left > 0) {
            const tk_pred m = tk_vctp16q((uint32_t)left);
            tk_vstrbq_scatter_offset_p_s16(d, opl, tk_vldrbq_gather_offset_z_s16(x, oin, m), m);
        }
    }
}

/* output rows oy0 .. oy0 + rows - 1, columns ox0 .. ox0 + n - 1 of every channel of one image */
static void tk_dwg_chunk(const tk_dwconv_params *p, tk_dwg_k *k, const int8_t *filter,
                         const int32_t *fbias, const int8_t *img, int32_t oy0, int32_t rows,
                         int32_t ox0, int32_t n, int8_t *P, int8_t *out) {
    const int32_t C = p->input.c, sh = p->geom.stride_h, sw = p->geom.stride_w, R = k->R;
    const int32_t np = (n - 1) * sw + (p->filter.w - 1) * p->geom.dil_w + 1;
    const int32_t x0 = ox0 * sw - p->geom.pad_w, y0 = oy0 * sh - p->geom.pad_h;
    int32_t lo = -x0, hi = p->input.w - x0;
    lo = lo < 0 ? 0 : (lo > np ? np : lo);
    hi = hi < lo ? lo : (hi > np ? np : hi);
    const tk_s8x16 z = tk_vdupq_n_s8((int8_t)-p->quant.input_offset);
    for (int32_t j = 0; j < (np + 3 * sw) * R; j += 16) tk_vstrbq_s8(P + j, z);
    uint16_t oi[8], op[8];
    for (int32_t j = 0; j < 8; ++j) oi[j] = (uint16_t)(j * C), op[j] = (uint16_t)(j * R);
    const tk_u16x8 oin = tk_u16x8_of(oi), opl = tk_u16x8_of(op);
    for (int32_t c = 0; c < C; ++c) {
        tk_dwg_channel(p, filter, fbias, c, k);
        tk_dwg_fill(p, img + c, y0, R, x0, lo, hi, oin, opl, P);
        const tk_dwg_k kc = *k;     /* in registers: the byte stores could alias *k */
        for (int32_t y = 0; y < rows; ++y) {
            int8_t *o = out + ((oy0 + y) * p->output.w + ox0) * C + c;
            if (kc.gathers > 1) {
                tk_dwg_row(&kc, P + y * sh, o, n, C, 1);
            } else {
                tk_dwg_row(&kc, P + y * sh, o, n, C, 0);
            }
        }
    }
}

/* 1 when done; 0 when the geometry does not fit (the C kernel runs instead) */
static int tk_dwg_mve(const tk_dwconv_params *p, const int8_t *input, const int8_t *filter,
                      const int32_t *fbias, int8_t *output) {
    const int32_t T = p->filter.h * p->filter.w, C = p->input.c;
    if (T > 32 || p->output.c != C || 7 * (int64_t)C > 65535) return 0;
    /* the output over the input (with a lag): the C kernel's raster order, which the compiler
     * proved, not these bands */
    const int32_t img = p->input.h * p->input.w * C, oimg = p->output.h * p->output.w * C;
    if (output < input + p->input.n * img && input < output + p->input.n * oimg) return 0;
    int32_t band = p->output.h < 64 ? p->output.h : 64;
    while (band > 0 && (!tk_dwg_rows(p, band) || tk_dwg_cols(p, tk_dwg_rows(p, band)) < 4)) {
        --band;
    }
    if (band == 0) return 0;
    tk_dwg_k k;
    uint8_t o[32];
    k.gathers = T > 16 ? 2 : 1;
    k.off = p->quant.output_offset;
    k.lo = tk_vdupq_n_s32(p->quant.act_min);
    k.hi = tk_vdupq_n_s32(p->quant.act_max);
    const uint32_t ob[4] = {0, (uint32_t)C, 2u * (uint32_t)C, 3u * (uint32_t)C};
    k.ob = tk_u32x4_of(ob);
    int8_t P[TK_DWG_PLANE] __attribute__((aligned(16)));
    const int32_t img_bytes = p->input.h * p->input.w * C;
    const int32_t out_bytes = p->output.h * p->output.w * C;
    for (int32_t b = 0; b < p->input.n; ++b) {
        for (int32_t oy0 = 0; oy0 < p->output.h; oy0 += band) {
            const int32_t rows = p->output.h - oy0 < band ? p->output.h - oy0 : band;
            k.R = tk_dwg_rows(p, rows);         /* no more than the band's: fits */
            k.xstep = p->geom.stride_w * k.R;
            for (int32_t t = 0; t < 32; ++t) {
                o[t] = (uint8_t)(t < T ? (t % p->filter.w) * p->geom.dil_w * k.R +
                                         (t / p->filter.w) * p->geom.dil_h : 0);
            }
            k.o[0] = tk_u8x16_of(o), k.o[1] = tk_u8x16_of(o + 16);
            const int32_t chunk = tk_dwg_cols(p, k.R);
            for (int32_t ox0 = 0; ox0 < p->output.w; ox0 += chunk) {
                const int32_t n = p->output.w - ox0 < chunk ? p->output.w - ox0 : chunk;
                tk_dwg_chunk(p, &k, filter, fbias, input + b * img_bytes, oy0, rows, ox0, n, P,
                             output + b * out_bytes);
            }
        }
    }
    return 1;
}

#endif /* TK_MVE */
#endif
