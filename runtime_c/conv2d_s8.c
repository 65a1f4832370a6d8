/* CONV_2D int8 fast kernel tk_conv2d_s8 (bit-exact with TFLM
 * reference_integer_ops::ConvPerChannel), NHWC tensors. Its reference sibling tk_conv2d_s8_ref is
 * in conv2d_s8_ref.c; both are declared in conv2d_s8.h, with their contracts and the three paths
 * (where an output pixel's taps are read from).
 *
 * Every output pixel sums its K taps x[k] (the input zero point for taps in the padding) times
 * its channel's weights:
 *   out[oc] = requant(folded_bias[oc] + sum_k x[k] * w[oc][k]),
 * folded_bias = bias + input_offset * sum_k w[oc][k] (mod 2^32): the same integer as TFLM's acc,
 * since a padding tap adds w * zp = -w * input_offset, cancelling its share of the fold. Pixels go
 * two at a time (the last one twice when their count is odd), channels two at a time: each input
 * word and weight word loaded feeds two multiply-accumulate steps. */
#include "conv2d_s8_core.h"

/* The last channel oc (odd out_c) of two pixels: its KW weights w in order. */
TK_CONV_NOINLINE static void tk_conv_odd(const tk_out_stage *q, int32_t oc, const int8_t *a0,
                                         const int8_t *a1, int32_t KW, const tk_cw *w,
                                         const int32_t *fb, int8_t *o0, int8_t *o1) {
    int32_t s0 = 0, s1 = 0;
    tk_dot1x2_s8(a0, a1, w, KW, &s0, &s1);
    o0[oc] = tk_out_s8(q, tk_add_wrap_s32(fb[oc], s0), oc);
    o1[oc] = tk_out_s8(q, tk_add_wrap_s32(fb[oc], s1), oc);
}

/* Two pixels whose taps are contiguous columns a0, a1 (KW bytes: the input for 1x1 filters, or
 * im2col columns) against all out_c filters; a1/o1 may equal a0/o0. The pair blocks follow each
 * other, so the weight pointer simply runs on from one pair to the next. */
TK_CONV_NOINLINE static void tk_conv_cols2(const tk_out_stage *q, int32_t out_c, const int8_t *a0,
                                           const int8_t *a1, int32_t KW, const tk_cw *filter,
                                           const int32_t *fb, int8_t *o0, int8_t *o1) {
    const int32_t KW4 = KW & ~3;
    const tk_cw *w = filter;
    const int32_t *rq = q->rq;
    int32_t oc = 0;
    for (; oc + 2 <= out_c; oc += 2, rq += 4) {
        int32_t s00 = 0, s01 = 0, s10 = 0, s11 = 0;
#if TK_NN_SIMD
        const int8_t *p0 = a0, *p1 = a1;
        if (KW4) tk_mac2x2_s8(&p0, &p1, &w, KW4 >> 2, &s00, &s01, &s10, &s11);
        for (int32_t k = KW4; k < KW; ++k, w += 2) {
            const int32_t x0 = *p0++, x1 = *p1++;
#else
        /* written out here: gcc allocates registers better than through tk_mac2x2_s8 */
        int32_t k = 0;
#define TK_MAC2x2(j, du, dv)                                        \
        {                                                           \
            const int32_t x0 = a0[k + j], x1 = a1[k + j];           \
            const int32_t u = w[du], v = w[dv];                     \
            s00 += x0 * u;                                          \
            s01 += x0 * v;                                          \
            s10 += x1 * u;                                          \
            s11 += x1 * v;                                          \
        }
        for (; k < KW4; k += 4, w += 8) {
            TK_MAC2x2(0, 0, 4) TK_MAC2x2(1, 1, 5) TK_MAC2x2(2, 2, 6) TK_MAC2x2(3, 3, 7)
        }
#undef TK_MAC2x2
        for (; k < KW; ++k, w += 2) {
            const int32_t x0 = a0[k], x1 = a1[k];
#endif
            s00 += x0 * w[0];
            s01 += x0 * w[1];
            s10 += x1 * w[0];
            s11 += x1 * w[1];
        }
        tk_conv_out2x2(q, rq, oc, fb + oc, s00, s01, s10, s11, o0 + oc, o1 + oc);
    }
    if (oc < out_c) tk_conv_odd(q, oc, a0, a1, KW, w, fb, o0, o1);
}

#if TK_CONV_ASM
static inline tk_conv_blk tk_conv_blk_make(const tk_out_stage *q, int32_t out_c,
                                           const int8_t *a0, const int8_t *a1, int32_t n4,
                                           const int32_t *fb, int8_t *o0, int8_t *o1) {
    const tk_conv_blk b = {a0, a1, fb, q->rq, o0, o1, n4 + 1,
                           (uint32_t)(uintptr_t)(q->rq + 4 * (out_c >> 1)), q->k1, 0, 0,
                           (uint8_t)q->lo * 0x01010101u, (uint8_t)q->hi * 0x01010101u};
    return b;
}

/* tk_conv_cols2 in the assembly loop (tk_conv_pair_cols decides); with `wide` (4 * KW bytes,
 * 4-byte aligned) the columns are widened first (tk_conv_widen) for the shorter inner loop. */
TK_CONV_NOINLINE static void tk_conv_cols(const tk_out_stage *q, int32_t out_c, const int8_t *a0,
                                          const int8_t *a1, int32_t KW, const tk_cw *filter,
                                          const int32_t *fb, int8_t *o0, int8_t *o1,
                                          uint32_t *wide) {
    const int8_t *c0 = a0, *c1 = a1;
    if (wide) {
        tk_conv_widen(a0, KW >> 2, wide);
        tk_conv_widen(a1, KW >> 2, wide + (KW >> 1));
        c0 = (const int8_t *)wide;
        c1 = (const int8_t *)(wide + (KW >> 1));
    }
    tk_conv_blk b = tk_conv_blk_make(q, out_c, c0, c1, KW >> 2, fb, o0, o1);
    const tk_cw *w = tk_conv_pairs_asm(&b, filter, 1, !q->wide, wide != 0);
    if (out_c & 1) tk_conv_odd(q, out_c - 1, a0, a1, KW, w, fb, o0, o1);
}
#endif

/* Whether the assembly loop takes the columns: the fast requantization, whole groups of 4. */
static inline int32_t tk_conv_asm_ok(const tk_out_stage *q, int32_t out_c, int32_t KW) {
    return TK_CONV_ASM && q->fast && out_c >= 2 && (KW & 3) == 0 && KW > 0;
}

/* tk_conv_cols2 or tk_conv_cols, called from here (one frame deep, not two) */
static inline void tk_conv_pair_cols(const tk_out_stage *q, int32_t out_c, const int8_t *a0,
                                     const int8_t *a1, int32_t KW, const tk_cw *filter,
                                     const int32_t *fb, int8_t *o0, int8_t *o1, uint32_t *wide) {
#if TK_CONV_ASM
    if (tk_conv_asm_ok(q, out_c, KW)) {
        tk_conv_cols(q, out_c, a0, a1, KW, filter, fb, o0, o1, wide);
        return;
    }
#endif
    (void)wide;
    tk_conv_cols2(q, out_c, a0, a1, KW, filter, fb, o0, o1);
}

#if TK_CONV_QUAD
/* Three pixels' taps interleaved (xb: tap k of pixel i at 4 k + i; KW taps, a multiple of 4)
 * against channels oc..oc+3 (the pair blocks at w and w + 2 KW): twelve raw sums, each tap's
 * seven loads feeding twelve multiply-accumulates (RV32: about 2.6 instructions per MAC, against
 * 3.25 for the 2x2 block; a 4x4 block needs more registers than gcc keeps) */
static inline void tk_mac3x4_s8(const int8_t *xb, const int8_t *w, int32_t KW, int32_t s[12]) {
    const int8_t *v = w + 2 * KW, *const end = xb + 4 * KW;
    int32_t c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
    int32_t c20 = 0, c21 = 0, c22 = 0, c23 = 0;
#define TK_MAC3x4_TAP(j)                                                        \
    {                                                                           \
        const int32_t u0 = w[j], u1 = w[4 + j], u2 = v[j], u3 = v[4 + j];      \
        int32_t x = xb[4 * j];                                                  \
        c00 += x * u0, c01 += x * u1, c02 += x * u2, c03 += x * u3;             \
        x = xb[4 * j + 1];                                                      \
        c10 += x * u0, c11 += x * u1, c12 += x * u2, c13 += x * u3;             \
        x = xb[4 * j + 2];                                                      \
        c20 += x * u0, c21 += x * u1, c22 += x * u2, c23 += x * u3;             \
    }
    for (; xb != end; xb += 16, w += 8, v += 8) {
        TK_MAC3x4_TAP(0) TK_MAC3x4_TAP(1) TK_MAC3x4_TAP(2) TK_MAC3x4_TAP(3)
    }
#undef TK_MAC3x4_TAP
    s[0] = c00, s[1] = c01, s[2] = c02, s[3] = c03, s[4] = c10, s[5] = c11, s[6] = c12;
    s[7] = c13, s[8] = c20, s[9] = c21, s[10] = c22, s[11] = c23;
}

/* Three pixels' columns a[0..2] (KW bytes each, KW a multiple of 4, 4 KW <=
 * TK_CONV_QUAD_BYTES) against all out_c filters: the columns interleaved once, channel quads in
 * 3x4 blocks, the last one to three channels through tk_conv_cols2 */
TK_CONV_NOINLINE TK_CONV_NOSCHED static void tk_conv_cols3(const tk_out_stage *q, int32_t out_c,
                                                           const int8_t *const a[3],
                                                           int32_t KW, const tk_cw *filter,
                                                           const int32_t *fb,
                                                           int8_t *const o[3]) {
    int8_t xb[TK_CONV_QUAD_BYTES];
    for (int32_t k = 0; k < KW; ++k) {
        xb[4 * k] = a[0][k], xb[4 * k + 1] = a[1][k], xb[4 * k + 2] = a[2][k];
    }
    int32_t oc = 0;
    for (; oc + 4 <= out_c; oc += 4) {
        int32_t s[12];
        tk_mac3x4_s8(xb, filter + oc * KW, KW, s);
        for (int32_t i = 0; i < 3; ++i) {
            for (int32_t c = 0; c < 4; ++c) {
                o[i][oc + c] = tk_out_s8(q, tk_add_wrap_s32(fb[oc + c], s[4 * i + c]), oc + c);
            }
        }
    }
    if (oc < out_c) {
        tk_out_stage rest = *q;             /* channels oc on */
        rest.rq += 2 * oc;
        tk_conv_cols2(&rest, out_c - oc, a[0], a[1], KW, filter + oc * KW, fb + oc, o[0] + oc,
                      o[1] + oc);
        tk_conv_cols2(&rest, out_c - oc, a[2], a[2], KW, filter + oc * KW, fb + oc, o[2] + oc,
                      o[2] + oc);
    }
}
#endif

/* ---- TK_CONV_LINES: the taps read in place */

typedef struct {
    int32_t H, W, C, kh, kw, dil_h, dil_w;
    int32_t nj;             /* lines per kernel row: 1 (a row of kw * C contiguous bytes) or kw */
    int32_t lb;             /* bytes per line: kw * C or C, a multiple of 4 */
    int32_t row_step;       /* input bytes from one kernel row to the next: dil_h * W * C */
    int32_t col_step;       /* from one line of a row to the next (nj = kw): dil_w * C */
    int32_t out_c;
} tk_conv_geo;

static tk_conv_geo tk_conv_geo_make(const tk_conv2d_params *p) {
    const int32_t C = p->input.c, kw = p->filter.w;
    const int32_t nj = p->geom.dil_w == 1 || kw == 1 ? 1 : kw;
    const tk_conv_geo g = {p->input.h, p->input.w, C, p->filter.h, kw, p->geom.dil_h,
                           p->geom.dil_w, nj, nj == 1 ? kw * C : C,
                           p->geom.dil_h * p->input.w * C, p->geom.dil_w * C, p->output.c};
    return g;
}

typedef struct {
    const int8_t *img;      /* the pixel's image (batch) */
    int32_t iy0, ix0;       /* its window's top-left tap, maybe in the padding */
} tk_conv_px;

/* Bytes [lo, hi) of a line lie in the input, at p[0 .. hi - lo); the rest are padding. */
typedef struct {
    const int8_t *p;
    int32_t lo, hi;
} tk_span;

static void tk_conv_span(const tk_conv_geo *g, const tk_conv_px *px, int32_t ky, int32_t j,
                         tk_span *s) {
    s->p = 0;
    s->lo = s->hi = 0;
    const int32_t iy = px->iy0 + ky * g->dil_h;
    if (iy < 0 || iy >= g->H) return;
    const int8_t *row = px->img + iy * g->W * g->C;
    if (g->nj == 1) {                       /* taps kx in [kx0, kx1) are inside */
        const int32_t kx0 = px->ix0 < 0 ? -px->ix0 : 0;
        const int32_t kx1 = TK_MIN(g->kw, g->W - px->ix0);
        if (kx1 <= kx0) return;
        s->lo = kx0 * g->C;
        s->hi = kx1 * g->C;
        s->p = row + (px->ix0 + kx0) * g->C;
    } else {
        const int32_t ix = px->ix0 + j * g->dil_w;
        if (ix < 0 || ix >= g->W) return;
        s->hi = g->C;
        s->p = row + ix * g->C;
    }
}

/* One line of two pixels (spans a, b) against the next lb weights of one channel (two == 0,
 * weights in order) or two (pair-blocked), split into runs where each pixel's bytes come from
 * one place: the input, or the zero-point line zrow (TK_CONV_ZROW bytes). Every boundary is a
 * multiple of C, of 4. */
static void tk_conv_runs(const tk_span *a, const tk_span *b, int32_t lb, const int8_t *zrow,
                         const tk_cw **w, int32_t *s, int32_t two) {
    for (int32_t t = 0; t < lb;) {
        int32_t e = lb, z = 0;
        const int8_t *x0 = zrow, *x1 = zrow;
        if (t < a->lo) {
            e = a->lo, z = 1;
        } else if (t < a->hi) {
            x0 = a->p + (t - a->lo), e = a->hi;
        } else {
            z = 1;
        }
        if (t < b->lo) {
            e = TK_MIN(e, b->lo), z = 1;
        } else if (t < b->hi) {
            x1 = b->p + (t - b->lo), e = TK_MIN(e, b->hi);
        } else {
            z = 1;
        }
        if (z) e = TK_MIN(e, t + TK_CONV_ZROW);
        if (two) {
            tk_mac2x2_s8(&x0, &x1, w, (e - t) >> 2, &s[0], &s[1], &s[2], &s[3]);
        } else {
            tk_dot1x2_s8(x0, x1, *w, e - t, &s[0], &s[1]);
            *w += e - t;
        }
        t = e;
    }
}

/* Two pixels, either with taps in the padding. `spans` has room for TK_CONV_SPANS lines of both
 * pixels (9 on 32-bit targets): with no more lines than that they are found once, not for every
 * channel pair. */
#define TK_CONV_SPANS ((TK_CONV_WIDE_BYTES - TK_CONV_ZROW) / (2 * sizeof(tk_span)))
TK_CONV_NOINLINE static void tk_conv_border2(const tk_out_stage *q, const tk_conv_geo *g,
                                             int32_t out_c, const tk_conv_px *px0,
                                             const tk_conv_px *px1, const tk_cw *filter,
                                             const int32_t *fb, const int8_t *zrow,
                                             tk_span *spans, int8_t *o0, int8_t *o1) {
    const tk_cw *w = filter;
    const int32_t lines = g->kh * g->nj, once = lines <= (int32_t)TK_CONV_SPANS;
    for (int32_t l = 0; once && l < lines; ++l) {
        tk_conv_span(g, px0, l / g->nj, l % g->nj, &spans[2 * l]);
        tk_conv_span(g, px1, l / g->nj, l % g->nj, &spans[2 * l + 1]);
    }
    for (int32_t oc = 0; oc < out_c; oc += 2) {
        const int32_t two = oc + 2 <= out_c;
        int32_t s[4] = {0, 0, 0, 0};
        for (int32_t l = 0; l < lines; ++l) {
            if (once) {
                tk_conv_runs(&spans[2 * l], &spans[2 * l + 1], g->lb, zrow, &w, s, two);
            } else {
                tk_span a, b;
                tk_conv_span(g, px0, l / g->nj, l % g->nj, &a);
                tk_conv_span(g, px1, l / g->nj, l % g->nj, &b);
                tk_conv_runs(&a, &b, g->lb, zrow, &w, s, two);
            }
        }
        if (two) {
            tk_conv_out2x2(q, q->rq + 2 * oc, oc, fb + oc, s[0], s[1], s[2], s[3], o0 + oc,
                           o1 + oc);
        } else {
            o0[oc] = tk_out_s8(q, tk_add_wrap_s32(fb[oc], s[0]), oc);
            o1[oc] = tk_out_s8(q, tk_add_wrap_s32(fb[oc], s[1]), oc);
        }
    }
}

/* Two pixels whose windows lie inside the input, at a0 and a1 (their first taps). */
TK_CONV_NOINLINE static void tk_conv_lines2(const tk_out_stage *q, const tk_conv_geo *g,
                                            int32_t out_c, const int8_t *a0, const int8_t *a1,
                                            const tk_cw *filter, const int32_t *fb, int8_t *o0,
                                            int8_t *o1) {
    const tk_cw *w = filter;
    const int32_t kh = g->kh, nj = g->nj, n4 = g->lb >> 2;
    const int32_t row_step = g->row_step, col_step = g->col_step;
    int32_t oc = 0;
#if TK_CONV_ASM
    if (q->fast && out_c >= 2 && nj == 1) {
        tk_conv_blk b = tk_conv_blk_make(q, out_c, a0, a1, n4, fb, o0, o1);
        b.gap = row_step - g->lb;
        b.end = (uint32_t)(uintptr_t)a0 + (uint32_t)(kh * row_step);
        w = tk_conv_pairs_asm(&b, w, kh, !q->wide, 0);
        oc = out_c & ~1;
    }
#endif
    for (; oc + 2 <= out_c; oc += 2) {
        int32_t s00 = 0, s01 = 0, s10 = 0, s11 = 0;
        for (int32_t ky = 0, r = 0; ky < kh; ++ky, r += row_step) {
            for (int32_t j = 0, off = r; j < nj; ++j, off += col_step) {
                const int8_t *p0 = a0 + off, *p1 = a1 + off;
                tk_mac2x2_s8(&p0, &p1, &w, n4, &s00, &s01, &s10, &s11);
            }
        }
        tk_conv_out2x2(q, q->rq + 2 * oc, oc, fb + oc, s00, s01, s10, s11, o0 + oc, o1 + oc);
    }
    if (oc < out_c) {
        int32_t s0 = 0, s1 = 0;
        for (int32_t ky = 0, r = 0; ky < kh; ++ky, r += row_step) {
            for (int32_t j = 0, off = r; j < nj; ++j, off += col_step, w += g->lb) {
                tk_dot1x2_s8(a0 + off, a1 + off, w, g->lb, &s0, &s1);
            }
        }
        o0[oc] = tk_out_s8(q, tk_add_wrap_s32(fb[oc], s0), oc);
        o1[oc] = tk_out_s8(q, tk_add_wrap_s32(fb[oc], s1), oc);
    }
}

/* ---- TK_CONV_IM2COL */

/* n bytes from s to d (no overlap): words, the last one overlapping, or bytes below 4 */
static inline void tk_copy_small(int8_t *d, const int8_t *s, int32_t n) {
    if (n < 4) {
        for (int32_t i = 0; i < n; ++i) d[i] = s[i];
        return;
    }
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) memcpy(d + i, s + i, 4);
    if (i < n) memcpy(d + n - 4, s + n - 4, 4);
}

static inline void tk_fill_small(int8_t *d, int8_t v, int32_t n) {
    if (n >= 16) {
        memset(d, v, (size_t)n);
        return;
    }
    for (int32_t i = 0; i < n; ++i) d[i] = v;
}

/* tk_conv_patch for a window with taps in the padding (or dilated in width) */
TK_CONV_NOINLINE static void tk_conv_patch_border(const tk_conv_geo *g, const tk_conv_px *px,
                                                  int8_t zp, int8_t *d) {
    const int32_t C = g->C, kw = g->kw, R = kw * C;
    for (int32_t ky = 0; ky < g->kh; ++ky, d += R) {
        const int32_t iy = px->iy0 + g->dil_h * ky;
        if (iy < 0 || iy >= g->H) {
            tk_fill_small(d, zp, R);
            continue;
        }
        const int8_t *src = px->img + iy * g->W * C;
        if (g->dil_w == 1) {        /* taps [kx0, kx1) inside: one copy between two fills */
            const int32_t kx0 = TK_MIN(px->ix0 < 0 ? -px->ix0 : 0, kw);
            const int32_t kx1 = TK_MAX(TK_MIN(kw, g->W - px->ix0), kx0);
            tk_fill_small(d, zp, kx0 * C);
            if (kx1 > kx0) tk_copy_small(d + kx0 * C, src + (px->ix0 + kx0) * C, (kx1 - kx0) * C);
            tk_fill_small(d + kx1 * C, zp, (kw - kx1) * C);
            continue;
        }
        for (int32_t kx = 0; kx < kw; ++kx) {
            const int32_t ix = px->ix0 + g->dil_w * kx;
            if (ix < 0 || ix >= g->W) {
                tk_fill_small(d + kx * C, zp, C);
            } else {
                tk_copy_small(d + kx * C, src + ix * C, C);
            }
        }
    }
}

/* The K input bytes seen by output pixel px, in filter order [k_h][k_w][in_c], into d. */
static inline void tk_conv_patch(const tk_conv_geo *g, const tk_conv_px *px, int8_t zp,
                                 int8_t *d) {
    const int32_t iy0 = px->iy0, ix0 = px->ix0, kh = g->kh, R = g->kw * g->C;
    if (g->dil_w == 1 && ix0 >= 0 && ix0 + g->kw <= g->W && iy0 >= 0 &&
        iy0 + (kh - 1) * g->dil_h < g->H) {             /* the whole window inside */
        const int8_t *src = px->img + (iy0 * g->W + ix0) * g->C;
        const int32_t step = g->row_step;
        for (int32_t ky = 0, off = 0; ky < kh; ++ky, d += R, off += step) {
            tk_copy_small(d, src + off, R);
        }
    } else {
        tk_conv_patch_border(g, px, zp, d);
    }
}

/* ---- the pixel walk */

/* The output pixels in order (batch, row, column), two at a time: px[0], px[1] (the same pixel
 * twice at the end of an odd count); tk_conv_next2 returns how many are real (0 when done). */
typedef struct {
    const int8_t *img;              /* the current pixel's image (one past the last at the end) */
    int32_t left;                   /* pixels left */
    int32_t iy0, ix0;               /* the current pixel's window corner */
    int32_t sh, sw, ph, pw;         /* strides, leading padding */
    int32_t ix_end, iy_end;         /* ix0, iy0 one past the last output column, row */
    int32_t img_bytes;
} tk_walk;

static void tk_walk_init(tk_walk *it, const tk_conv2d_params *p, const int8_t *input) {
    it->img = input;
    it->left = p->input.n * p->output.h * p->output.w;
    it->sh = p->geom.stride_h, it->sw = p->geom.stride_w;
    it->ph = p->geom.pad_h, it->pw = p->geom.pad_w;
    it->iy0 = -it->ph, it->ix0 = -it->pw;
    it->ix_end = p->output.w * it->sw - it->pw;
    it->iy_end = p->output.h * it->sh - it->ph;
    it->img_bytes = p->input.h * p->input.w * p->input.c;
}

/* the next pixel (it->left > 0) */
static inline void tk_conv_next1(tk_walk *it, tk_conv_px *px) {
    px->img = it->img;
    px->iy0 = it->iy0;
    px->ix0 = it->ix0;
    --it->left;
    it->ix0 += it->sw;
    if (it->ix0 == it->ix_end) {
        it->ix0 = -it->pw;
        it->iy0 += it->sh;
        if (it->iy0 == it->iy_end) {
            it->iy0 = -it->ph;
            it->img += it->img_bytes;
        }
    }
}

static inline int32_t tk_conv_next2(tk_walk *it, tk_conv_px px[2]) {
    int32_t n = 0;
    for (; n < 2 && it->left > 0; ++n) tk_conv_next1(it, &px[n]);
    if (n == 1) px[1] = px[0];
    return n;
}

static int32_t tk_conv_inside(const tk_conv2d_params *p, const tk_conv_px *px) {
    return px->iy0 >= 0 && px->iy0 + (p->filter.h - 1) * p->geom.dil_h < p->input.h &&
           px->ix0 >= 0 && px->ix0 + (p->filter.w - 1) * p->geom.dil_w < p->input.w;
}

static const int8_t *tk_conv_at(const tk_conv2d_params *p, const tk_conv_px *px) {
    return px->img + (px->iy0 * p->input.w + px->ix0) * p->input.c;
}

/* Two pixels through two im2col columns of K bytes at cols (a separate function: the copies'
 * registers stay out of tk_conv_lines' frame) */
TK_CONV_NOINLINE static void tk_conv_border_cols(const tk_out_stage *q, const tk_conv_geo *g,
                                                 const tk_conv_px px[2], int8_t zp, int8_t *cols,
                                                 const tk_cw *filter, const int32_t *fb,
                                                 int8_t *o0, int8_t *o1) {
    const int32_t K = g->kh * g->kw * g->C;
    tk_conv_patch(g, &px[0], zp, cols);
    tk_conv_patch(g, &px[1], zp, cols + K);
    tk_conv_pair_cols(q, g->out_c, cols, cols + K, K, filter, fb, o0, o1, 0);
}

#if TK_CONV_ASM
/* Whether tk_conv_lines widens its inside pixel pairs' windows (into 4 K bytes of `wide`): the
 * assembly loop on the fast requantization, lines of whole kernel rows (nj == 1), an even number
 * of channels from 8 on (below that the widening costs more than it saves) */
static inline int32_t tk_conv_lines_widen(const tk_out_stage *q, const tk_conv_geo *g) {
    return q->fast && g->nj == 1 && g->out_c >= 8 && !(g->out_c & 1) &&
           4 * g->kh * g->lb <= TK_CONV_LINES_WIDE_MAX;
}

/* Two inside pixels' windows (at a0, a1) widened into `wide` one after the other (K / 2 words
 * each), then all channel pairs in the assembly loop on them */
static void tk_conv_lines2_wide(const tk_out_stage *q, const tk_conv_geo *g, const int8_t *a0,
                                const int8_t *a1, const tk_cw *filter, const int32_t *fb,
                                int8_t *o0, int8_t *o1, uint32_t *wide) {
    const int32_t n4 = g->lb >> 2, half = g->kh * (g->lb >> 1);
    for (int32_t ky = 0, r = 0; ky < g->kh; ++ky, r += g->row_step) {
        tk_conv_widen(a0 + r, n4, wide + ky * (g->lb >> 1));
        tk_conv_widen(a1 + r, n4, wide + half + ky * (g->lb >> 1));
    }
    tk_conv_blk b = tk_conv_blk_make(q, g->out_c, (const int8_t *)wide,
                                     (const int8_t *)(wide + half), g->kh * n4, fb, o0, o1);
    (void)tk_conv_pairs_asm(&b, filter, 1, !q->wide, 1);
}

/* The same for two pixels with taps in the padding: each one's im2col column (K bytes, the zero
 * point in the padding) is written to the upper half of its widened window and widened in place
 * (each group of four bytes is read before its eight bytes are written, which reach no unread
 * group) */
TK_CONV_NOINLINE static void tk_conv_border_wide(const tk_out_stage *q, const tk_conv_geo *g,
                                                 const tk_conv_px px[2], int8_t zp,
                                                 const tk_cw *filter, const int32_t *fb,
                                                 int8_t *o0, int8_t *o1, uint32_t *wide) {
    const int32_t K = g->kh * g->lb, half = K >> 1;
    for (int32_t i = 0; i < 2; ++i) {
        uint32_t *d = wide + i * half;
        tk_conv_patch(g, &px[i], zp, (int8_t *)d + K);
        tk_conv_widen((const int8_t *)d + K, K >> 2, d);
    }
    tk_conv_blk b = tk_conv_blk_make(q, g->out_c, (const int8_t *)wide,
                                     (const int8_t *)(wide + half), K >> 2, fb, o0, o1);
    (void)tk_conv_pairs_asm(&b, filter, 1, !q->wide, 1);
}
#endif

/* wide: 0, or TK_CONV_LINES_WIDE_MAX bytes (4-byte aligned) for tk_conv_lines2_wide */
TK_CONV_NOINLINE static void tk_conv_lines(const tk_conv2d_params *p, const tk_out_stage *q,
                                           const int8_t *input, const tk_cw *filter,
                                           const int32_t *fb, int8_t *output, uint32_t *wide) {
    const tk_conv_geo g = tk_conv_geo_make(p);
#if TK_CONV_ASM
    if (wide && !tk_conv_lines_widen(q, &g)) wide = 0;
#else
    (void)wide;
#endif
    const int8_t zp = (int8_t)(-p->quant.input_offset);
    const int32_t K = g.kh * g.kw * g.C, out_c = p->output.c;
    /* pixel pairs with taps in the padding: two im2col columns when they fit, else the runs of
     * tk_conv_border2 with a zero-point line (the first TK_CONV_ZROW bytes) and its spans */
    union {
        uint32_t w[TK_CONV_WIDE_BYTES / 4];
        tk_span align;                  /* the spans after the zero-point line are aligned */
    } u;
    uint32_t *buf = u.w;
    int8_t *cols = 2 * K <= TK_CONV_WIDE_BYTES ? (int8_t *)buf : 0;
    if (!cols) tk_fill_small((int8_t *)buf, zp, TK_CONV_ZROW);
    tk_walk it;
    tk_conv_px px[2];
    tk_walk_init(&it, p, input);
    for (int32_t n; (n = tk_conv_next2(&it, px)) > 0; output += n * out_c) {
        int8_t *o1 = n == 2 ? output + out_c : output;
        if (tk_conv_inside(p, &px[0]) && tk_conv_inside(p, &px[1])) {
#if TK_CONV_ASM
            if (wide) {
                tk_conv_lines2_wide(q, &g, tk_conv_at(p, &px[0]), tk_conv_at(p, &px[1]), filter,
                                    fb, output, o1, wide);
                continue;
            }
#endif
            tk_conv_lines2(q, &g, out_c, tk_conv_at(p, &px[0]), tk_conv_at(p, &px[1]), filter,
                           fb, output, o1);
#if TK_CONV_ASM
        } else if (wide) {
            tk_conv_border_wide(q, &g, px, zp, filter, fb, output, o1, wide);
#endif
        } else if (cols) {
            tk_conv_border_cols(q, &g, px, zp, cols, filter, fb, output, o1);
        } else {
            tk_conv_border2(q, &g, out_c, &px[0], &px[1], filter, fb, (const int8_t *)buf,
                            (tk_span *)(void *)(buf + TK_CONV_ZROW / 4), output, o1);
        }
    }
}

/* cols: two columns of KP bytes (their last KP - K bytes, weighted 0, are zeroed once) */
TK_CONV_NOINLINE static void tk_conv_im2col(const tk_conv2d_params *p, const tk_out_stage *q,
                                            const int8_t *input, const tk_cw *filter,
                                            const int32_t *fb, int8_t *output, int8_t *cols) {
    const int32_t KP = (p->filter.h * p->filter.w * p->input.c + 3) & ~3;
    const int32_t out_c = p->output.c;
    const tk_conv_geo g = tk_conv_geo_make(p);
    const int8_t zp = (int8_t)(-p->quant.input_offset);
    memset(cols, 0, (size_t)(2 * KP));
    tk_walk it;
    tk_conv_px px[2];
    tk_walk_init(&it, p, input);
    for (int32_t n; (n = tk_conv_next2(&it, px)) > 0; output += n * out_c) {
        tk_conv_patch(&g, &px[0], zp, cols);
        if (n == 2) tk_conv_patch(&g, &px[1], zp, cols + KP);
        tk_conv_pair_cols(q, out_c, cols, n == 2 ? cols + KP : cols, KP, filter, fb, output,
                          n == 2 ? output + out_c : output, 0);
    }
}

#if TK_CONV_ASM
static inline int32_t tk_conv_inside_g(const tk_conv_geo *g, const tk_conv_px *px) {
    return px->ix0 >= 0 && px->ix0 + (g->kw - 1) * g->dil_w < g->W && px->iy0 >= 0 &&
           px->iy0 + (g->kh - 1) * g->dil_h < g->H;
}

/* A 3x3 filter on 3 input channels, its window inside: the 27 taps (and a 28th of weight 0)
 * widened straight from the three input rows r0..r2 of 9 bytes, each group of four taps put
 * together from at most two rows without reading past either: (r0[0..3]) (r0[4..7])
 * (r0[8] r1[0..2]) (r1[3..6]) (r1[7..8] r2[0..1]) (r2[2..5]) (r2[6..8] 0). */
static inline void tk_conv_widen_333(const tk_conv_geo *g, const tk_conv_px *px, uint32_t *d) {
    const int8_t *r0 = px->img + (px->iy0 * g->W + px->ix0) * 3;
    const int8_t *r1 = r0 + g->row_step, *r2 = r1 + g->row_step;
    uint16_t h1, h2;
    memcpy(&h1, r1 + 7, 2);
    memcpy(&h2, r2, 2);
    const uint32_t v[7] = {tk_ld4(r0), tk_ld4(r0 + 4), (uint8_t)r0[8] | tk_ld4(r1) << 8,
                           tk_ld4(r1 + 3), (uint32_t)h1 | (uint32_t)h2 << 16, tk_ld4(r2 + 2),
                           tk_ld4(r2 + 5) >> 8};
    for (int32_t i = 0; i < 7; ++i) {
        d[2 * i] = tk_sxtb16(v[i]);
        d[2 * i + 1] = tk_sxtb16_ror8(v[i]);
    }
}

/* tk_conv_im2col with both columns widened in one go into `wide` (4 KP bytes, after them) and
 * the channel pairs in the assembly loop (tk_conv_asm_ok holds) */
TK_CONV_NOINLINE static void tk_conv_im2col_wide(const tk_conv2d_params *p,
                                                 const tk_out_stage *q, const int8_t *input,
                                                 const tk_cw *filter, const int32_t *fb,
                                                 int8_t *output, int8_t *cols, uint32_t *wide) {
    const int32_t KP = (p->filter.h * p->filter.w * p->input.c + 3) & ~3;
    const int32_t out_c = p->output.c;
    const tk_conv_geo g = tk_conv_geo_make(p);
    const int8_t zp = (int8_t)(-p->quant.input_offset);
    memset(cols, 0, (size_t)(2 * KP));
    tk_walk it;
    tk_conv_px px[2];
    tk_walk_init(&it, p, input);
    tk_conv_blk b = tk_conv_blk_make(q, out_c, (const int8_t *)wide,
                                     (const int8_t *)(wide + KP / 2), KP >> 2, fb, 0, 0);
    const int32_t stem = g.kh == 3 && g.kw == 3 && g.C == 3 && g.dil_w == 1 && !(out_c & 1);
    for (int32_t n; (n = tk_conv_next2(&it, px)) > 0; output += n * out_c) {
        if (stem && tk_conv_inside_g(&g, &px[0]) && tk_conv_inside_g(&g, &px[1])) {
            tk_conv_widen_333(&g, &px[0], wide);
            tk_conv_widen_333(&g, &px[1], wide + KP / 2);
        } else {
            tk_conv_patch(&g, &px[0], zp, cols);
            tk_conv_patch(&g, &px[1], zp, cols + KP);
            tk_conv_widen(cols, KP >> 1, wide);
        }
        int8_t *o1 = n == 2 ? output + out_c : output;
        b.fb = fb, b.rq = q->rq, b.o0 = output, b.o1 = o1;
        const tk_cw *w = tk_conv_pairs_asm(&b, filter, 1, !q->wide, 1);   /* moves b on */
        if (out_c & 1) tk_conv_odd(q, out_c - 1, cols, cols + KP, KP, w, fb, output, o1);
    }
}
#endif

#if TK_CONV_QUAD
/* tk_conv_im2col through 3x4 blocks: three pixels' columns (KP bytes each, KP <=
 * TK_CONV_QUAD_BYTES / 4) at a time, the last one or two as a pair */
TK_CONV_NOINLINE static void tk_conv_im2col3(const tk_conv2d_params *p, const tk_out_stage *q,
                                             const int8_t *input, const tk_cw *filter,
                                             const int32_t *fb, int8_t *output) {
    int8_t cols[3 * TK_CONV_QUAD_BYTES / 4];
    const int32_t KP = (p->filter.h * p->filter.w * p->input.c + 3) & ~3;
    const int32_t out_c = p->output.c;
    const tk_conv_geo g = tk_conv_geo_make(p);
    const int8_t zp = (int8_t)(-p->quant.input_offset);
    memset(cols, 0, (size_t)(3 * KP));
    tk_walk it;
    tk_conv_px px[2];
    tk_walk_init(&it, p, input);
    for (; it.left >= 3; output += 3 * out_c) {
        for (int32_t i = 0; i < 3; ++i) {
            tk_conv_next1(&it, &px[0]);
            tk_conv_patch(&g, &px[0], zp, cols + i * KP);
        }
        const int8_t *const a[3] = {cols, cols + KP, cols + 2 * KP};
        int8_t *const o[3] = {output, output + out_c, output + 2 * out_c};
        tk_conv_cols3(q, out_c, a, KP, filter, fb, o);
    }
    for (int32_t n; (n = tk_conv_next2(&it, px)) > 0; output += n * out_c) {
        tk_conv_patch(&g, &px[0], zp, cols);
        if (n == 2) tk_conv_patch(&g, &px[1], zp, cols + KP);
        tk_conv_pair_cols(q, out_c, cols, n == 2 ? cols + KP : cols, KP, filter, fb, output,
                          n == 2 ? output + out_c : output, 0);
    }
}
#endif

TK_CONV_NOINLINE static void tk_conv_im2col_stack(const tk_conv2d_params *p, const tk_out_stage *q,
                                                  const int8_t *input, const tk_cw *filter,
                                                  const int32_t *fb, int8_t *output) {
    /* 2 * KP <= TK_CONV_STACK_BYTES (the compiler's check); widened too when 6 * KP fit */
    uint32_t buf[TK_CONV_STACK_BYTES / 4];
#if TK_CONV_ASM
    const int32_t KP = (p->filter.h * p->filter.w * p->input.c + 3) & ~3;
    if (6 * KP <= TK_CONV_STACK_BYTES && tk_conv_asm_ok(q, p->output.c, KP)) {
        tk_conv_im2col_wide(p, q, input, filter, fb, output, (int8_t *)buf, buf + KP / 2);
        return;
    }
#endif
#if TK_CONV_QUAD
    if (p->output.c >= 4) {     /* KP <= TK_CONV_STACK_BYTES / 2, within TK_CONV_QUAD_BYTES / 4 */
        tk_conv_im2col3(p, q, input, filter, fb, output);
        return;
    }
#endif
    tk_conv_im2col(p, q, input, filter, fb, output, (int8_t *)buf);
}

#if TK_CONV_ASM
/* 1x1 filters, tk_conv_asm_ok: pixel pairs widened into `wide` (4 C bytes, 4-byte aligned) and
 * all channel pairs in one assembly loop */
static inline __attribute__((always_inline)) void tk_conv_1x1_wide(
    const tk_conv2d_params *p, const tk_out_stage *q, const int8_t *input, const tk_cw *filter,
    const int32_t *fb, int8_t *output, uint32_t *wide) {
    const int32_t out_c = p->output.c, C = p->input.c;
    tk_walk it;
    tk_conv_px px[2];
    tk_walk_init(&it, p, input);
    tk_conv_blk b = tk_conv_blk_make(q, out_c, (const int8_t *)wide,
                                     (const int8_t *)(wide + C / 2), C >> 2, fb, 0, 0);
    for (int32_t n; (n = tk_conv_next2(&it, px)) > 0; output += n * out_c) {
        const int8_t *a0 = tk_conv_at(p, &px[0]), *a1 = tk_conv_at(p, &px[1]);
        if (a1 == a0 + C) {                 /* neighbours in memory: one widening */
            tk_conv_widen(a0, C >> 1, wide);
        } else {
            tk_conv_widen(a0, C >> 2, wide);
            tk_conv_widen(a1, C >> 2, wide + C / 2);
        }
        int8_t *o1 = n == 2 ? output + out_c : output;
        b.fb = fb, b.rq = q->rq, b.o0 = output, b.o1 = o1;
        const tk_cw *w = tk_conv_pairs_asm(&b, filter, 1, !q->wide, 1);   /* moves b on */
        if (out_c & 1) tk_conv_odd(q, out_c - 1, a0, a1, C, w, fb, output, o1);
    }
}

/* the same with up to TK_CONV_1X1_WIDE_MAX input channels: its own frame, so that the smaller
 * layers' calls do not carry the larger buffer */
TK_CONV_NOINLINE static void tk_conv_1x1_wide_big(const tk_conv2d_params *p,
                                                  const tk_out_stage *q, const int8_t *input,
                                                  const tk_cw *filter, const int32_t *fb,
                                                  int8_t *output) {
    uint32_t buf[TK_CONV_1X1_WIDE_MAX];
    tk_conv_1x1_wide(p, q, input, filter, fb, output, buf);
}
#endif

/* Two pixels' columns (C <= TK_CONV_1X1_WIDE_MAX bytes each) copied before either output is
 * written: tk_conv_1x1's pairs in place (conv2d_s8.h) where no other step copies them first */
TK_CONV_NOINLINE static void tk_conv_pair_copied(const tk_out_stage *q, int32_t out_c,
                                                 const int8_t *a0, const int8_t *a1, int32_t C,
                                                 const tk_cw *filter, const int32_t *fb,
                                                 int8_t *o0, int8_t *o1) {
    int8_t x[2 * TK_CONV_1X1_WIDE_MAX] __attribute__((aligned(4)));
    memcpy(x, a0, (size_t)C);
    memcpy(x + C, a1, (size_t)C);
    tk_conv_pair_cols(q, out_c, x, x + C, C, filter, fb, o0, o1, 0);
}

/* 1x1 filters: the input pixels are the columns. In place (output == input) every path reads a
 * block of one to three pixels whole (widened, interleaved or copied) before writing their
 * outputs, blocks in order. */
TK_CONV_NOINLINE static void tk_conv_1x1(const tk_conv2d_params *p, const tk_out_stage *q,
                                         const int8_t *input, const tk_cw *filter,
                                         const int32_t *fb, int8_t *output) {
    const int32_t out_c = p->output.c;
    const int in_place = input == output;
#if TK_CONV_ASM
    const int32_t C = p->input.c;
    if (tk_conv_asm_ok(q, out_c, C)) {
        if (4 * C <= TK_CONV_STACK_BYTES) {
            uint32_t buf[TK_CONV_STACK_BYTES / 4];
            tk_conv_1x1_wide(p, q, input, filter, fb, output, buf);
            return;
        }
        if (C <= TK_CONV_1X1_WIDE_MAX) {
            tk_conv_1x1_wide_big(p, q, input, filter, fb, output);
            return;
        }
    }
#endif
    tk_walk it;
    tk_conv_px px[2];
    tk_walk_init(&it, p, input);
#if TK_CONV_QUAD
    if (!(p->input.c & 3) && 4 * p->input.c <= TK_CONV_QUAD_BYTES) {  /* three at once */
        for (; it.left >= 3; output += 3 * out_c) {
            const int8_t *a[3];
            for (int32_t i = 0; i < 3; ++i) {
                tk_conv_next1(&it, &px[0]);
                a[i] = tk_conv_at(p, &px[0]);
            }
            int8_t *const o[3] = {output, output + out_c, output + 2 * out_c};
            tk_conv_cols3(q, out_c, a, p->input.c, filter, fb, o);
        }
    }
#endif
    for (int32_t n; (n = tk_conv_next2(&it, px)) > 0; output += n * out_c) {
        const int8_t *a0 = tk_conv_at(p, &px[0]), *a1 = tk_conv_at(p, &px[1]);
        int8_t *o1 = n == 2 ? output + out_c : output;
        if (in_place) {
            tk_conv_pair_copied(q, out_c, a0, a1, p->input.c, filter, fb, output, o1);
        } else {
            tk_conv_pair_cols(q, out_c, a0, a1, p->input.c, filter, fb, output, o1, 0);
        }
    }
}

#if TK_CONV_ASM
/* tk_conv_lines with the buffer for widened windows, in a frame of its own */
TK_CONV_NOINLINE static void tk_conv_lines_big(const tk_conv2d_params *p, const tk_out_stage *q,
                                               const int8_t *input, const tk_cw *filter,
                                               const int32_t *fb, int8_t *output) {
    uint32_t buf[TK_CONV_LINES_WIDE_MAX / 4];
    tk_conv_lines(p, q, input, filter, fb, output, buf);
}
#endif

#include "conv2d_s8_mve.h"     /* the Helium path (M55), on the pixel walk and columns above */

static inline tk_out_stage tk_conv_stage(const tk_conv2d_params *p) {
    return tk_out_stage_make(p->rq, p->rq_fast, p->quant.output_offset, p->quant.act_min,
                             p->quant.act_max);
}

/* The three paths' entries (conv2d_s8.h): the compiler calls the one an op takes, so that an
 * image links, and its stack analysis counts, only the paths its model uses; each tries the
 * Helium path first */
void tk_conv2d_s8_lines(const tk_conv2d_params *p, const int8_t *input, const tk_cw *filter,
                        const int32_t *folded_bias, int8_t *output, int8_t *scratch) {
    (void)scratch;
#if TK_MVE
    if (tk_conv2d_mve(p, input, filter, folded_bias, output)) return;
#endif
    const tk_out_stage q = tk_conv_stage(p);
#if TK_CONV_ASM
    if (p->filter.h * p->filter.w * p->input.c <= TK_CONV_LINES_WIDE_MAX / 4 &&
        p->geom.dil_w == 1 && p->output.c >= 8) {
        tk_conv_lines_big(p, &q, input, filter, folded_bias, output);
        return;
    }
#endif
    tk_conv_lines(p, &q, input, filter, folded_bias, output, 0);
}

void tk_conv2d_s8_im2col(const tk_conv2d_params *p, const int8_t *input, const tk_cw *filter,
                         const int32_t *folded_bias, int8_t *output, int8_t *scratch) {
#if TK_MVE
    if (tk_conv2d_mve(p, input, filter, folded_bias, output)) return;
#endif
    const tk_out_stage q = tk_conv_stage(p);
    if (scratch) {
        tk_conv_im2col(p, &q, input, filter, folded_bias, output, scratch);
    } else {
        tk_conv_im2col_stack(p, &q, input, filter, folded_bias, output);
    }
}

void tk_conv2d_s8_cols(const tk_conv2d_params *p, const int8_t *input, const tk_cw *filter,
                       const int32_t *folded_bias, int8_t *output, int8_t *scratch) {
    (void)scratch;
#if TK_MVE
    /* in place too: the Helium path copies batches of pixels first (conv2d_s8_mve.h) */
    if (tk_conv2d_mve(p, input, filter, folded_bias, output)) return;
#endif
    const tk_out_stage q = tk_conv_stage(p);
    tk_conv_1x1(p, &q, input, filter, folded_bias, output);
}
