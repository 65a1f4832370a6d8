/* The long-multiply path of rfft_q31.c, included there twice: with TK_LM_CHECK 1 as tk_rfft_q31
 * (saturating), with TK_LM_CHECK 0 as tk_rfft_q31_hs (half-scale input, where no value can leave
 * int32, so the saturation tests are left out). TK_LM(name) gives each copy its own names. Not a
 * header to include anywhere else (no include guard on purpose). */

/* sat32((a b + c d + 2^29) >> 30): the sum is exact in 64 bits (|a|, |c| <= 2^31, |b|, |d| <=
 * 2^30). The shifted value is (hi << 2) | (lo >> 30); it fits iff hi is in [-2^29, 2^29), i.e.
 * iff shifting it back gives hi. */
static inline int32_t TK_LM(mla2_q30)(int32_t a, int32_t b, int32_t c, int32_t d) {
    uint32_t lo = 1u << 29;
    int32_t hi = 0;
    TK_SMLAL(lo, hi, a, b);
    TK_SMLAL(lo, hi, c, d);
    int32_t r = (int32_t)((lo >> 30) | ((uint32_t)hi << 2));
#if TK_LM_CHECK
    if (TK_UNLIKELY(tk_asr(r, 2) != hi)) r = sat_of(hi);
#endif
    return r;
}

/* sat32((a b + c d + e f + g h + 2^30) >> 31), |sum| < 2^62.5 (real split). */
static inline int32_t TK_LM(mla4_q31)(int32_t a, int32_t b, int32_t c, int32_t d, int32_t e, int32_t f,
                               int32_t g, int32_t h) {
    uint32_t lo = 1u << 30;
    int32_t hi = 0;
    TK_SMLAL(lo, hi, a, b);
    TK_SMLAL(lo, hi, c, d);
    TK_SMLAL(lo, hi, e, f);
    TK_SMLAL(lo, hi, g, h);
    int32_t r = (int32_t)((lo >> 31) | ((uint32_t)hi << 1));
#if TK_LM_CHECK
    if (TK_UNLIKELY(tk_asr(r, 1) != hi)) r = sat_of(hi);
#endif
    return r;
}

/* h * w: re = hr wr + hi (-wi), im = hr wi + hi wr. The twiddle's imaginary part is negated
 * (|w| <= 2^30, so -w.im exists), never h's (hadd results can be -2^31). */
static inline void TK_LM(rot_lm)(int32_t *o, int32_t hr, int32_t hi, const int32_t *w) {
    const int32_t wr = w[0], wi = w[1];
    o[0] = TK_LM(mla2_q30)(hr, wr, hi, -wi);
    o[1] = TK_LM(mla2_q30)(hr, wi, hi, wr);
}

/* One radix-4 stage of sub-FFT length L = 4q: the j = 0 butterflies (twiddles 1) of every group,
 * then the twiddled ones j = 1 .. q-1 group by group, with three twiddle pointers stepping
 * through the shared table (step words per j). */
static void TK_LM(r4_stage_lm)(int32_t *x, int32_t *end, int q, const int32_t *tw, int step) {
    for (int32_t *pa = x; pa < end; pa += 8 * q) {
        int32_t *pb = pa + 2 * q, *pc = pa + 4 * q, *pd = pa + 6 * q;
        int32_t t0r = hadd(pa[0], pc[0]), t0i = hadd(pa[1], pc[1]);
        int32_t t1r = hsub(pa[0], pc[0]), t1i = hsub(pa[1], pc[1]);
        int32_t t2r = hadd(pb[0], pd[0]), t2i = hadd(pb[1], pd[1]);
        int32_t t3r = hsub(pb[0], pd[0]), t3i = hsub(pb[1], pd[1]);
        pa[0] = hadd(t0r, t2r), pa[1] = hadd(t0i, t2i);
        pb[0] = hsub(t0r, t2r), pb[1] = hsub(t0i, t2i);
        pc[0] = hadd(t1r, t3i), pc[1] = hsub(t1i, t3r);
        pd[0] = hsub(t1r, t3i), pd[1] = hadd(t1i, t3r);
    }
    if (q == 1) return;
    for (int32_t *g = x; g < end; g += 8 * q) {
        const int32_t *w1 = tw + step, *w2 = tw + 2 * step, *w3 = tw + 3 * step;
        for (int32_t *pa = g + 2, *gend = g + 2 * q; pa < gend; pa += 2) {
            int32_t *pb = pa + 2 * q, *pc = pa + 4 * q, *pd = pa + 6 * q;
            int32_t t0r = hadd(pa[0], pc[0]), t0i = hadd(pa[1], pc[1]);
            int32_t t1r = hsub(pa[0], pc[0]), t1i = hsub(pa[1], pc[1]);
            int32_t t2r = hadd(pb[0], pd[0]), t2i = hadd(pb[1], pd[1]);
            int32_t t3r = hsub(pb[0], pd[0]), t3i = hsub(pb[1], pd[1]);
            pa[0] = hadd(t0r, t2r), pa[1] = hadd(t0i, t2i);
            TK_LM(rot_lm)(pb, hsub(t0r, t2r), hsub(t0i, t2i), w2);
            TK_LM(rot_lm)(pc, hadd(t1r, t3i), hsub(t1i, t3r), w1);
            TK_LM(rot_lm)(pd, hsub(t1r, t3i), hadd(t1i, t3r), w3);
            w1 += step, w2 += 2 * step, w3 += 3 * step;
        }
    }
}

/* X[k] (to lo) and X[m-k] (to hi) from A = Z[k], B = Z[m-k] and the coefficient row
 * (P.re, P.im, Q.re, Q.im) of k; the signs are folded into negated coefficients (|P|, |Q| <= 2^30). */
static inline void TK_LM(post_pair_lm)(const int32_t *a, const int32_t *b, const int32_t *c, int32_t *lo, int32_t *hi) {
    const int32_t ar = a[0], ai = a[1], br = b[0], bi = b[1];
    const int32_t pr = c[0], pi = c[1], qr = c[2], qi = c[3];
    hi[0] = TK_LM(mla4_q31)(br, pr, bi, pi, ar, qr, ai, -qi);
    hi[1] = TK_LM(mla4_q31)(br, -pi, bi, pr, ar, -qi, ai, -qr);
    lo[0] = TK_LM(mla4_q31)(ar, pr, ai, -pi, br, qr, bi, qi);
    lo[1] = TK_LM(mla4_q31)(ar, pi, ai, pr, br, qi, bi, -qr);
}

static void TK_LM(rfft_q31_lm)(const tk_rfft_q31_cfg *cfg, int32_t *buf, int32_t *out) {
    const int m = cfg->n >> 1;
    int32_t *const end = buf + 2 * m;
    int L = m;
    for (; L >= 4; L >>= 2) {
        TK_LM(r4_stage_lm)(buf, end, L >> 2, cfg->twiddle, 2 * (m / L) * cfg->tw_stride);
    }
    if (L == 2) {
        for (int32_t *pa = buf; pa < end; pa += 4) {
            int32_t ar = pa[0], ai = pa[1], br = pa[2], bi = pa[3];
            pa[0] = hadd(ar, br), pa[1] = hadd(ai, bi);
            pa[2] = hsub(ar, br), pa[3] = hsub(ai, bi);
        }
    }
    /* Real split (X[m-k] first, then X[k]: at k = m/2 both are the same value). */
    const uint16_t *perm = cfg->perm;
    const int32_t *c = cfg->post;
    const int cs = 4 * cfg->post_stride;
    for (int k = 0; k <= m / 2; k++, c += cs) {
        TK_LM(post_pair_lm)(buf + 2 * perm[k], buf + 2 * perm[(m - k) & (m - 1)], c, out + 2 * k, out + 2 * (m - k));
    }
}

void TK_LM_ENTRY(const tk_rfft_q31_cfg *cfg, int32_t *buf, int32_t *out) {
    TK_LM(rfft_q31_lm)(cfg, buf, out);
}
