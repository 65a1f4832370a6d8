/* Real FFT in Q31 (see rfft_q15.c for the schedule). Halvings are floor(u/2) +- floor(v/2);
 * rot(h, w) = sat32((h * w + 2^29) >> 30) with Q30 twiddles (|products| < 2^61);
 * the real split rounds (sum + 2^30) >> 31 with |P|, |Q| <= 1/2 in Q31, so |sum| < 2^62.5.
 *
 * Two implementations compute exactly these integers: the portable reference (Cortex-M0/M0+,
 * RISC-V, hosts), and a long-multiply path for Thumb-2 and Arm code (Cortex-M3/M4/M7/M33/M55;
 * built on any host with TK_DSP_EMULATE_SIMD, for tests) that accumulates each output's two or
 * four products with SMLAL into one 64-bit register pair, shifts it with two instructions and
 * leaves saturation to a branch that only overflowing values take (about a third fewer
 * instructions on Cortex-M4). TK_DSP_PORTABLE forces the reference; TK_DSP_NO_ASM keeps the
 * long-multiply path with C in place of the SMLAL inline assembly. tk_rfft_q31_hs is the same
 * transform for half-scale input without the saturation tests (rfft_q31_lm.h, both copies). */
#include "rfft_q31.h"

/* Halving sums in Q31 halve each operand first (floor(a/2) +- floor(c/2)): two instructions on
 * Arm, no 33-bit intermediate, and an error of at most 1 LSB of Q31 (-186 dBFS). */
static inline int32_t hadd(int32_t a, int32_t c) {
    return tk_asr(a, 1) + tk_asr(c, 1);
}

static inline int32_t hsub(int32_t a, int32_t c) {
    return tk_asr(a, 1) - tk_asr(c, 1);
}

/* SMLAL exists in Thumb-2 (Armv7-M, Armv8-M Mainline, not Armv6-M) and in the Arm instruction set. */
#if !defined(TK_DSP_PORTABLE) && (defined(TK_DSP_EMULATE_SIMD) || \
    (defined(__arm__) && (defined(__thumb2__) || !defined(__thumb__))))
#define TK_RFFT31_LONGMUL 1

/* (hi, lo) += a * b, a signed 32 x 32 -> 64 multiply-accumulate (SMLAL). */
#if defined(TK_DSP_EMULATE_SIMD) || defined(TK_DSP_NO_ASM)
#define TK_SMLAL(lo, hi, a, b) do { \
        uint64_t acc_ = (((uint64_t)(uint32_t)(hi) << 32) | (lo)) + (uint64_t)((int64_t)(a) * (b)); \
        (lo) = (uint32_t)acc_; (hi) = (int32_t)(uint32_t)(acc_ >> 32); } while (0)
#else
#define TK_SMLAL(lo, hi, a, b) __asm__("smlal %0, %1, %2, %3" : "+r"(lo), "+r"(hi) : "r"(a), "r"(b))
#endif

#if defined(__GNUC__)
#define TK_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define TK_UNLIKELY(x) (x)
#endif

/* The saturated value of an accumulator whose shifted result does not fit in int32. */
static int32_t sat_of(int32_t hi) {
    return hi < 0 ? INT32_MIN : INT32_MAX;
}

#define TK_LM_CHECK 1
#define TK_LM(name) name##_sat
#define TK_LM_ENTRY tk_rfft_q31
#include "rfft_q31_lm.h"
#undef TK_LM_CHECK
#undef TK_LM
#undef TK_LM_ENTRY

#define TK_LM_CHECK 0
#define TK_LM(name) name##_hs
#define TK_LM_ENTRY tk_rfft_q31_hs
#include "rfft_q31_lm.h"
#undef TK_LM_CHECK
#undef TK_LM
#undef TK_LM_ENTRY

#else /* portable reference */

static inline int32_t sat32(int64_t x) {
    return x < INT32_MIN ? INT32_MIN : (x > INT32_MAX ? INT32_MAX : (int32_t)x);
}

static inline void rot31(int32_t *o, int32_t hr, int32_t hi, const int32_t *w) {
    o[0] = sat32(tk_asr64((int64_t)hr * w[0] - (int64_t)hi * w[1] + (1 << 29), 30));
    o[1] = sat32(tk_asr64((int64_t)hr * w[1] + (int64_t)hi * w[0] + (1 << 29), 30));
}

static void cfft_q31(int32_t *x, int m, const int32_t *tw, int tw_stride) {
    int L = m;
    for (; L >= 4; L >>= 2) {
        const int q = L >> 2;
        const int step = (m / L) * tw_stride;
        for (int base = 0; base < m; base += L) {
            for (int j = 0; j < q; j++) {
                int32_t *pa = x + 2 * (base + j), *pb = pa + 2 * q, *pc = pa + 4 * q, *pd = pa + 6 * q;
                int32_t t0r = hadd(pa[0], pc[0]), t0i = hadd(pa[1], pc[1]);
                int32_t t1r = hsub(pa[0], pc[0]), t1i = hsub(pa[1], pc[1]);
                int32_t t2r = hadd(pb[0], pd[0]), t2i = hadd(pb[1], pd[1]);
                int32_t t3r = hsub(pb[0], pd[0]), t3i = hsub(pb[1], pd[1]);
                pa[0] = hadd(t0r, t2r);
                pa[1] = hadd(t0i, t2i);
                if (j == 0) {       /* twiddles are 1 */
                    pb[0] = hsub(t0r, t2r), pb[1] = hsub(t0i, t2i);
                    pc[0] = hadd(t1r, t3i), pc[1] = hsub(t1i, t3r);
                    pd[0] = hsub(t1r, t3i), pd[1] = hadd(t1i, t3r);
                } else {
                    rot31(pb, hsub(t0r, t2r), hsub(t0i, t2i), tw + 2 * (2 * j * step));
                    rot31(pc, hadd(t1r, t3i), hsub(t1i, t3r), tw + 2 * (j * step));
                    rot31(pd, hsub(t1r, t3i), hadd(t1i, t3r), tw + 2 * (3 * j * step));
                }
            }
        }
    }
    if (L == 2) {
        for (int i = 0; i < m; i += 2) {
            int32_t *pa = x + 2 * i, *pb = pa + 2;
            int32_t ar = pa[0], ai = pa[1], br = pb[0], bi = pb[1];
            pa[0] = hadd(ar, br);
            pa[1] = hadd(ai, bi);
            pb[0] = hsub(ar, br);
            pb[1] = hsub(ai, bi);
        }
    }
}

static inline int32_t rs31(int64_t v) {
    return sat32(tk_asr64(v + ((int64_t)1 << 30), 31));
}

void tk_rfft_q31(const tk_rfft_q31_cfg *cfg, int32_t *buf, int32_t *out) {
    const int m = cfg->n >> 1;
    cfft_q31(buf, m, cfg->twiddle, cfg->tw_stride);
    for (int k = 0; k <= m / 2; k++) {
        const int32_t *a = buf + 2 * cfg->perm[k], *b = buf + 2 * cfg->perm[(m - k) & (m - 1)];
        const int32_t *c = cfg->post + 4 * k * cfg->post_stride;
        int64_t ar = a[0], ai = a[1], br = b[0], bi = b[1];
        int64_t pr = c[0], pi = c[1], qr = c[2], qi = c[3];
        out[2 * (m - k)] = rs31((br * pr + bi * pi) + (ar * qr - ai * qi));
        out[2 * (m - k) + 1] = rs31(-((br * pi - bi * pr) + (ar * qi + ai * qr)));
        out[2 * k] = rs31((ar * pr - ai * pi) + (br * qr + bi * qi));
        out[2 * k + 1] = rs31((ar * pi + ai * pr) + (br * qi - bi * qr));
    }
}

void tk_rfft_q31_hs(const tk_rfft_q31_cfg *cfg, int32_t *buf, int32_t *out) {
    tk_rfft_q31(cfg, buf, out);
}
#endif

int tk_headroom_q31(const int32_t *x, int n) {
    uint32_t mag = 0;
    for (int i = 0; i < n; i++) mag |= (uint32_t)(x[i] >= 0 ? x[i] : -1 - x[i]);
    int s = 0;
    while (s < 31 && mag < (1u << (30 - s))) s++;
    return s;
}
