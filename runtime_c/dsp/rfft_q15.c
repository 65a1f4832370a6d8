/* Real FFT in Q15: an n/2-point complex FFT of z[i] = x[2i] + j x[2i+1] (radix-4 decimation in
 * frequency, one twiddle-free radix-2 stage last when log2(n/2) is odd, each stage scaling by its
 * radix so the complex FFT scales by 2/n), then the real split
 *     X[k] = P_k Z[k] + Q_k conj(Z[n/2-k]),  P_k = (1 - j W_n^k)/4, Q_k = (1 + j W_n^k)/4,
 * which scales by 1/2 more and rounds once per output. Z is read through the digit-reversal
 * table, so no reordering pass is needed.
 *
 * Arithmetic of a radix-4 butterfly (all halvings are floor((u + v) / 2), as SHADD16 does):
 *     t0 = (a + c)/2, t1 = (a - c)/2, t2 = (b + d)/2, t3 = (b - d)/2
 *     out0 = (t0 + t2)/2,              out1 = rot((t0 - t2)/2, W^2j)
 *     out2 = rot((t1 - j t3)/2, W^j),  out3 = rot((t1 + j t3)/2, W^3j)
 * rot(h, w) = sat16((h * w + 2^13) >> 14) per component with w in Q14: |h| components < 2^15 and
 * |w.re| + |w.im| <= sqrt(2) 2^14 keep each dual multiply-accumulate inside int32; for j = 0 the
 * twiddles are 1 and rot is the identity. Real split: (sum + 2^14) >> 15, saturated, where
 * |P|, |Q| <= 1/2 in Q15 bound each sum by 2^30.5.
 *
 * Three implementations compute exactly these integers: portable C; C with the Cortex-M DSP
 * extension's dual 16-bit intrinsics (also built on the host with C models of the intrinsics, for
 * tests); and, on ARMv7E-M/ARMv8-M with DSP, inline assembly for the two hot loops. */
#include "rfft_q15.h"

#if TK_DSP_SIMD
#if defined(TK_DSP_EMULATE_SIMD)
/* C models of the ARMv7E-M instructions used below (host tests of the SIMD path). */
static inline int32_t lo16(uint32_t x) { return (int16_t)(x & 0xFFFFu); }
static inline int32_t hi16(uint32_t x) { return (int16_t)(x >> 16); }
static inline uint32_t pk(int32_t lo, int32_t hi) { return (uint32_t)(uint16_t)lo | ((uint32_t)(uint16_t)hi << 16); }
static inline uint32_t __shadd16(uint32_t a, uint32_t b) { return pk(tk_asr(lo16(a) + lo16(b), 1), tk_asr(hi16(a) + hi16(b), 1)); }
static inline uint32_t __shsub16(uint32_t a, uint32_t b) { return pk(tk_asr(lo16(a) - lo16(b), 1), tk_asr(hi16(a) - hi16(b), 1)); }
static inline uint32_t __shasx(uint32_t a, uint32_t b) { return pk(tk_asr(lo16(a) - hi16(b), 1), tk_asr(hi16(a) + lo16(b), 1)); }
static inline uint32_t __shsax(uint32_t a, uint32_t b) { return pk(tk_asr(lo16(a) + hi16(b), 1), tk_asr(hi16(a) - lo16(b), 1)); }
static inline int32_t __smlad(uint32_t a, uint32_t b, int32_t acc) { return (int32_t)((uint32_t)acc + (uint32_t)(lo16(a) * lo16(b)) + (uint32_t)(hi16(a) * hi16(b))); }
static inline int32_t __smladx(uint32_t a, uint32_t b, int32_t acc) { return (int32_t)((uint32_t)acc + (uint32_t)(lo16(a) * hi16(b)) + (uint32_t)(hi16(a) * lo16(b))); }
static inline int32_t __smlsd(uint32_t a, uint32_t b, int32_t acc) { return (int32_t)((uint32_t)acc + (uint32_t)(lo16(a) * lo16(b)) - (uint32_t)(hi16(a) * hi16(b))); }
static inline int32_t __smlsdx(uint32_t a, uint32_t b, int32_t acc) { return (int32_t)((uint32_t)acc + (uint32_t)(lo16(a) * hi16(b)) - (uint32_t)(hi16(a) * lo16(b))); }
static inline int32_t __smuadx(uint32_t a, uint32_t b) { return __smladx(a, b, 0); }
#define TK_SSAT16(x) tk_sat16(x)
static inline uint32_t tk_pkhbt(int32_t lo, int32_t hi) { return (uint32_t)(uint16_t)lo | ((uint32_t)hi << 16); }
#else
#include <arm_acle.h>
#define TK_SSAT16(x) __ssat((x), 16)
static inline uint32_t tk_pkhbt(int32_t lo, int32_t hi) {
    uint32_t r;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(lo), "r"(hi));
    return r;
}
#if !defined(TK_DSP_NO_ASM)
#define TK_RFFT_ASM 1
#endif
#endif

/* sat16(re >> s), sat16(im >> s) packed as (re, im): two SSAT with shift and one PKHBT. */
static inline uint32_t pack_sat(int32_t re, int32_t im, int s) {
    return tk_pkhbt(TK_SSAT16(tk_asr(re, s)), TK_SSAT16(tk_asr(im, s)));
}

static inline uint32_t rot_simd(uint32_t h, uint32_t w) {
    return pack_sat(__smlsd(h, w, 8192), __smladx(h, w, 8192), 14);
}

/* Twiddled butterflies j = 1..q-1 of one group; p points at j = 1, tw at that j's triple. */
static void r4_group_simd(int16_t *p, int q, const int16_t *tw) {
#if defined(TK_RFFT_ASM)
    const int32_t qb = 4 * q;                         /* bytes from a to b */
    const int16_t *end = p + 2 * (q - 1);
    uint32_t a, b, c, d, x, w, o3;
    __asm__ volatile(
        "add    %[o3], %[qb], %[qb], lsl #1\n"
        "1:\n\t"
        "ldr    %[a], [%[p]]\n\t"
        "ldr    %[b], [%[p], %[qb]]\n\t"
        "ldr    %[c], [%[p], %[qb], lsl #1]\n\t"
        "ldr    %[d], [%[p], %[o3]]\n\t"
        "shadd16 %[x], %[a], %[c]\n\t"        /* t0 */
        "shsub16 %[a], %[a], %[c]\n\t"        /* t1 */
        "shadd16 %[c], %[b], %[d]\n\t"        /* t2 */
        "shsub16 %[b], %[b], %[d]\n\t"        /* t3 */
        "shadd16 %[d], %[x], %[c]\n\t"
        "str    %[d], [%[p]]\n\t"             /* out0 */
        "shsub16 %[x], %[x], %[c]\n\t"        /* h2 */
        "ldr    %[w], [%[tw]], #4\n\t"
        "smlsd  %[c], %[x], %[w], %[rnd]\n\t"
        "smladx %[d], %[x], %[w], %[rnd]\n\t"
        "ssat   %[c], #16, %[c], asr #14\n\t"
        "ssat   %[d], #16, %[d], asr #14\n\t"
        "pkhbt  %[c], %[c], %[d], lsl #16\n\t"
        "str    %[c], [%[p], %[qb]]\n\t"      /* out1 */
        "shsax  %[x], %[a], %[b]\n\t"         /* h1 = t1 - j t3 */
        "ldr    %[w], [%[tw]], #4\n\t"
        "smlsd  %[c], %[x], %[w], %[rnd]\n\t"
        "smladx %[d], %[x], %[w], %[rnd]\n\t"
        "ssat   %[c], #16, %[c], asr #14\n\t"
        "ssat   %[d], #16, %[d], asr #14\n\t"
        "pkhbt  %[c], %[c], %[d], lsl #16\n\t"
        "str    %[c], [%[p], %[qb], lsl #1]\n\t"  /* out2 */
        "shasx  %[x], %[a], %[b]\n\t"         /* h3 = t1 + j t3 */
        "ldr    %[w], [%[tw]], #4\n\t"
        "smlsd  %[c], %[x], %[w], %[rnd]\n\t"
        "smladx %[d], %[x], %[w], %[rnd]\n\t"
        "ssat   %[c], #16, %[c], asr #14\n\t"
        "ssat   %[d], #16, %[d], asr #14\n\t"
        "pkhbt  %[c], %[c], %[d], lsl #16\n\t"
        "str    %[c], [%[p], %[o3]]\n\t"      /* out3 */
        "add    %[p], %[p], #4\n\t"
        "cmp    %[p], %[end]\n\t"
        "bne    1b\n"
        : [p] "+&r"(p), [tw] "+&r"(tw), [a] "=&r"(a), [b] "=&r"(b), [c] "=&r"(c), [d] "=&r"(d),
          [x] "=&r"(x), [w] "=&r"(w), [o3] "=&r"(o3)
        : [qb] "r"(qb), [end] "r"(end), [rnd] "r"(8192)
        : "memory", "cc");
#else
    int16_t *end = p + 2 * (q - 1);
    for (; p != end; p += 2, tw += 6) {
        uint32_t a = tk_ld32(p), b = tk_ld32(p + 2 * q), c = tk_ld32(p + 4 * q), d = tk_ld32(p + 6 * q);
        uint32_t t0 = __shadd16(a, c), t1 = __shsub16(a, c);
        uint32_t t2 = __shadd16(b, d), t3 = __shsub16(b, d);
        tk_st32(p, __shadd16(t0, t2));
        tk_st32(p + 2 * q, rot_simd(__shsub16(t0, t2), tk_ld32(tw)));
        tk_st32(p + 4 * q, rot_simd(__shsax(t1, t3), tk_ld32(tw + 2)));
        tk_st32(p + 6 * q, rot_simd(__shasx(t1, t3), tk_ld32(tw + 4)));
    }
#endif
}

/* The j = 0 butterflies of a stage (twiddles 1), one per group, groups 4q complex apart. */
static void r4_untwiddled_simd(int16_t *x, int16_t *end, int q) {
    for (int16_t *p = x; p < end; p += 8 * q) {
        uint32_t a = tk_ld32(p), b = tk_ld32(p + 2 * q), c = tk_ld32(p + 4 * q), d = tk_ld32(p + 6 * q);
        uint32_t t0 = __shadd16(a, c), t1 = __shsub16(a, c);
        uint32_t t2 = __shadd16(b, d), t3 = __shsub16(b, d);
        tk_st32(p, __shadd16(t0, t2));
        tk_st32(p + 2 * q, __shsub16(t0, t2));
        tk_st32(p + 4 * q, __shsax(t1, t3));
        tk_st32(p + 6 * q, __shasx(t1, t3));
    }
}

static void cfft_simd(int16_t *x, int m, const int16_t *tw) {
    int16_t *const end = x + 2 * m;
    int L = m;
    for (; L > 4; L >>= 2) {
        const int q = L >> 2;
        r4_untwiddled_simd(x, end, q);
        for (int16_t *g = x; g < end; g += 2 * L) r4_group_simd(g + 2, q, tw + 6);
        tw += 6 * q;
    }
    if (L == 4) {
        r4_untwiddled_simd(x, end, 1);
    } else {        /* L == 2: last radix-2 stage, twiddle-free */
        for (int16_t *p = x; p < end; p += 4) {
            uint32_t a = tk_ld32(p), b = tk_ld32(p + 2);
            tk_st32(p, __shadd16(a, b));
            tk_st32(p + 2, __shsub16(a, b));
        }
    }
}

/* X[k] and X[m-k] from A = Z[k], B = Z[m-k]; P, Q the packed coefficients of k. */
static inline void post_pair(uint32_t A, uint32_t B, uint32_t P, uint32_t Q, int16_t *lo, int16_t *hi) {
    const int32_t rnd = 16384;
    int32_t r2 = __smlad(B, P, __smlsd(A, Q, rnd));
    int32_t i2 = rnd - __smlsdx(B, P, __smuadx(A, Q));
    tk_st32(hi, pack_sat(r2, i2, 15));
    int32_t r1 = __smlsd(A, P, __smlad(B, Q, rnd));
    int32_t i1 = __smladx(A, P, __smlsdx(B, Q, rnd));
    tk_st32(lo, pack_sat(r1, i1, 15));
}

static void post_simd(const tk_rfft_q15_cfg *cfg, const int16_t *z, int16_t *out) {
    const int m = cfg->n >> 1;
    const uint16_t *perm = cfg->perm;
    const int16_t *c = cfg->post;
    {   /* k = 0: Z[m] is Z[0] */
        uint32_t A = tk_ld32(z + 2 * perm[0]);
        post_pair(A, A, tk_ld32(c), tk_ld32(c + 2), out, out + 2 * m);
    }
    const uint16_t *p1 = perm + 1, *p2 = perm + m - 1;
    int16_t *lo = out + 2, *hi = out + 2 * (m - 1);
#if defined(TK_RFFT_ASM)
    if (cfg->post_stride == 1) {
        c += 4;
        uint32_t A, B, P, Q, r, i;
        __asm__ volatile(
            "1:\n\t"
            "ldrh   %[A], [%[p1]], #2\n\t"
            "ldrh   %[B], [%[p2]], #-2\n\t"
            "ldr    %[A], [%[z], %[A], lsl #2]\n\t"
            "ldr    %[B], [%[z], %[B], lsl #2]\n\t"
            "ldrd   %[P], %[Q], [%[c]], #8\n\t"
            "smlsd  %[r], %[A], %[Q], %[rnd]\n\t"
            "smlad  %[r], %[B], %[P], %[r]\n\t"
            "smuadx %[i], %[A], %[Q]\n\t"
            "smlsdx %[i], %[B], %[P], %[i]\n\t"
            "rsb    %[i], %[i], #16384\n\t"
            "ssat   %[r], #16, %[r], asr #15\n\t"
            "ssat   %[i], #16, %[i], asr #15\n\t"
            "pkhbt  %[r], %[r], %[i], lsl #16\n\t"
            "str    %[r], [%[hi]], #-4\n\t"       /* X[m-k] */
            "smlad  %[r], %[B], %[Q], %[rnd]\n\t"
            "smlsd  %[r], %[A], %[P], %[r]\n\t"
            "smlsdx %[i], %[B], %[Q], %[rnd]\n\t"
            "smladx %[i], %[A], %[P], %[i]\n\t"
            "ssat   %[r], #16, %[r], asr #15\n\t"
            "ssat   %[i], #16, %[i], asr #15\n\t"
            "pkhbt  %[r], %[r], %[i], lsl #16\n\t"
            "str    %[r], [%[lo]], #4\n\t"        /* X[k] */
            "cmp    %[lo], %[hi]\n\t"
            "bls    1b\n"
            : [p1] "+&r"(p1), [p2] "+&r"(p2), [c] "+&r"(c), [lo] "+&r"(lo), [hi] "+&r"(hi),
              [A] "=&r"(A), [B] "=&r"(B), [P] "=&r"(P), [Q] "=&r"(Q), [r] "=&r"(r), [i] "=&r"(i)
            : [z] "r"(z), [rnd] "r"(16384)
            : "memory", "cc");
        return;
    }
#endif
    const int cs = 4 * cfg->post_stride;
    for (c += cs; lo <= hi; lo += 2, hi -= 2, c += cs) {
        uint32_t A = tk_ld32(z + 2 * *p1++), B = tk_ld32(z + 2 * *p2--);
        post_pair(A, B, tk_ld32(c), tk_ld32(c + 2), lo, hi);
    }
}

#else /* portable path */

/* h * w / 2^14 rounded, saturated; h components in int16 range, w Q14. */
static inline void rot(int16_t *o, int32_t hr, int32_t hi, const int16_t *w) {
    o[0] = (int16_t)tk_sat16(tk_asr(hr * w[0] - hi * w[1] + 8192, 14));
    o[1] = (int16_t)tk_sat16(tk_asr(hr * w[1] + hi * w[0] + 8192, 14));
}

static void cfft_portable(int16_t *x, int m, const int16_t *tw) {
    int L = m;
    for (; L >= 4; L >>= 2) {
        const int q = L >> 2;
        for (int base = 0; base < m; base += L) {
            for (int j = 0; j < q; j++) {
                int16_t *pa = x + 2 * (base + j), *pb = pa + 2 * q, *pc = pa + 4 * q, *pd = pa + 6 * q;
                int32_t t0r = tk_asr(pa[0] + pc[0], 1), t0i = tk_asr(pa[1] + pc[1], 1);
                int32_t t1r = tk_asr(pa[0] - pc[0], 1), t1i = tk_asr(pa[1] - pc[1], 1);
                int32_t t2r = tk_asr(pb[0] + pd[0], 1), t2i = tk_asr(pb[1] + pd[1], 1);
                int32_t t3r = tk_asr(pb[0] - pd[0], 1), t3i = tk_asr(pb[1] - pd[1], 1);
                int32_t h2r = tk_asr(t0r - t2r, 1), h2i = tk_asr(t0i - t2i, 1);
                int32_t h1r = tk_asr(t1r + t3i, 1), h1i = tk_asr(t1i - t3r, 1);
                int32_t h3r = tk_asr(t1r - t3i, 1), h3i = tk_asr(t1i + t3r, 1);
                pa[0] = (int16_t)tk_asr(t0r + t2r, 1);
                pa[1] = (int16_t)tk_asr(t0i + t2i, 1);
                if (j == 0) {       /* twiddles are 1 */
                    pb[0] = (int16_t)h2r, pb[1] = (int16_t)h2i;
                    pc[0] = (int16_t)h1r, pc[1] = (int16_t)h1i;
                    pd[0] = (int16_t)h3r, pd[1] = (int16_t)h3i;
                } else {
                    const int16_t *w = tw + 6 * j;
                    rot(pb, h2r, h2i, w);
                    rot(pc, h1r, h1i, w + 2);
                    rot(pd, h3r, h3i, w + 4);
                }
            }
        }
        if (L > 4) tw += 6 * q;
    }
    if (L == 2) {
        for (int i = 0; i < m; i += 2) {
            int16_t *pa = x + 2 * i, *pb = pa + 2;
            int32_t ar = pa[0], ai = pa[1], br = pb[0], bi = pb[1];
            pa[0] = (int16_t)tk_asr(ar + br, 1);
            pa[1] = (int16_t)tk_asr(ai + bi, 1);
            pb[0] = (int16_t)tk_asr(ar - br, 1);
            pb[1] = (int16_t)tk_asr(ai - bi, 1);
        }
    }
}

static inline int16_t rsat15(int32_t v) {
    return (int16_t)tk_sat16(tk_asr(v + 16384, 15));
}

static void post_portable(const tk_rfft_q15_cfg *cfg, const int16_t *z, int16_t *out) {
    const int m = cfg->n >> 1;
    for (int k = 0; k <= m / 2; k++) {
        const int16_t *a = z + 2 * cfg->perm[k], *b = z + 2 * cfg->perm[(m - k) & (m - 1)];
        const int16_t *c = cfg->post + 4 * k * cfg->post_stride;
        int32_t ar = a[0], ai = a[1], br = b[0], bi = b[1];
        int32_t pr = c[0], pi = c[1], qr = c[2], qi = c[3];
        out[2 * (m - k)] = rsat15((br * pr + bi * pi) + (ar * qr - ai * qi));
        out[2 * (m - k) + 1] = rsat15(-((br * pi - bi * pr) + (ar * qi + ai * qr)));
        out[2 * k] = rsat15((ar * pr - ai * pi) + (br * qr + bi * qi));
        out[2 * k + 1] = rsat15((ar * pi + ai * pr) + (br * qi - bi * qr));
    }
}
#endif

void tk_rfft_q15(const tk_rfft_q15_cfg *cfg, int16_t *buf, int16_t *out) {
#if TK_DSP_SIMD
    cfft_simd(buf, cfg->n >> 1, cfg->twiddle);
    post_simd(cfg, buf, out);
#else
    cfft_portable(buf, cfg->n >> 1, cfg->twiddle);
    post_portable(cfg, buf, out);
#endif
}

int tk_rfft_q15_bfp(const tk_rfft_q15_cfg *cfg, int16_t *buf, int16_t *out) {
    int s = tk_headroom_q15(buf, cfg->n);
    tk_shift_q15(buf, cfg->n, s);
    tk_rfft_q15(cfg, buf, out);
    return s;
}
