/* One frame to log filterbank energies (see logmel.h). Ranges: the frame is x 2^15 (|y| <= 2^30)
 * or (x 2^15 - alpha x_prev) / 2 (|y| < 2^30) for any int16 pair; a Q31 bin's power is < 2^63
 * (uint64), its magnitude < 2^31.5 (uint32). A filter's energy is kept as hi * 2^32 + lo with
 * hi = sum w (S >> 32), lo = sum w (S mod 2^32): 16-bit weights and at most 2^9 bins keep both
 * sums below 2^58, so nothing of a 96-bit energy is lost before the log (for the magnitude
 * spectrum hi is 0 and lo the whole sum, one multiply-accumulate per weight). */
#include "logmel.h"

/* gcc would turn the zero padding into a memset call (a byte loop in small C libraries). */
#if defined(__GNUC__) && !defined(__clang__)
#define TK_NO_LIBCALL __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define TK_NO_LIBCALL
#endif

/* Largest magnitude bits: y ^ (y >> 31) is y for y >= 0 and ~y = -1 - y below, so the OR over
 * the frame has the leading one of the largest of them (tk_headroom_q31's measure). */
static inline uint32_t fold(int32_t y) {
    return (uint32_t)(y ^ tk_asr(y, 31));
}

/* The Q31 frame of logmel.h (pre-emphasis, window, zero padding), then the block-floating-point
 * shift s = headroom - 1 (at most max_shift); returns s. With a window, the rounded product
 * (y w + 2^30) >> 31 is (2y w + 2^31) >> 32, one SMMULR on DSP cores: 2y is x 2^16 without
 * pre-emphasis, and (x 2^15 - alpha x_prev) with its lowest bit cleared with it (|2y| < 2^31). */
static TK_NO_LIBCALL int prepare(const tk_logmel_cfg *cfg, const int16_t *x, int16_t prev, int32_t *buf) {
    const int L = cfg->frame_length, n = cfg->fft->n;
    const int32_t *w = cfg->window;
    const int32_t a = cfg->preemph;
    uint32_t mag = 0;
    if (a) {
        int32_t before = prev;
        if (w) {
            for (int i = 0; i < L; i++) {
                int32_t y2 = tk_lsl(x[i], 15) - a * before;
                before = x[i];
                int32_t y = tk_mulhr((int32_t)((uint32_t)y2 & ~1u), w[i]);
                mag |= fold(y);
                buf[i] = y;
            }
        } else {
            for (int i = 0; i < L; i++) {
                int32_t y = tk_asr(tk_lsl(x[i], 15) - a * before, 1);
                before = x[i];
                mag |= fold(y);
                buf[i] = y;
            }
        }
    } else if (w) {
        int i = 0;
#if TK_DSP_SIMD
        /* two samples per load: x[i] << 16 is the word shifted, x[i+1] << 16 its upper half */
#if defined(TK_DSP_SMMULR)
        if (L >= 2) {                                /* the same loop in 13 instructions a pair */
            const int16_t *xp = x;
            const int32_t *wp = w;
            int32_t *bp = buf;
            uint32_t xx, y0, y1, w0, w1, pairs = (uint32_t)L >> 1;
            __asm__ volatile(
                "1:\n\t"
                "ldr %[xx], [%[xp]], #4\n\t"
                "ldrd %[w0], %[w1], [%[wp]], #8\n\t"
                "lsl %[y0], %[xx], #16\n\t"
                "and %[y1], %[xx], %[hm]\n\t"
                "smmulr %[y0], %[y0], %[w0]\n\t"
                "smmulr %[y1], %[y1], %[w1]\n\t"
                "strd %[y0], %[y1], [%[bp]], #8\n\t"
                "eor %[y0], %[y0], %[y0], asr #31\n\t"
                "eor %[y1], %[y1], %[y1], asr #31\n\t"
                "orr %[mag], %[mag], %[y0]\n\t"
                "orr %[mag], %[mag], %[y1]\n\t"
                "subs %[n], %[n], #1\n\t"
                "bne 1b"
                : [xp] "+r"(xp), [wp] "+r"(wp), [bp] "+r"(bp), [n] "+r"(pairs), [mag] "+r"(mag),
                  [xx] "=&r"(xx), [y0] "=&r"(y0), [y1] "=&r"(y1), [w0] "=&r"(w0), [w1] "=&r"(w1)
                : [hm] "r"(0xFFFF0000u)
                : "cc", "memory");
            i = L & ~1;
        }
#else
        for (; i + 1 < L; i += 2) {
            uint32_t xx = tk_ld32(x + i);
            int32_t y0 = tk_mulhr((int32_t)(xx << 16), w[i]);
            int32_t y1 = tk_mulhr((int32_t)(xx & 0xFFFF0000u), w[i + 1]);
            mag |= fold(y0) | fold(y1);
            buf[i] = y0;
            buf[i + 1] = y1;
        }
#endif
#endif
        for (; i < L; i++) {
            int32_t y = tk_mulhr(tk_lsl(x[i], 16), w[i]);
            mag |= fold(y);
            buf[i] = y;
        }
    } else {
        for (int i = 0; i < L; i++) {
            int32_t y = tk_lsl(x[i], 15);
            mag |= fold(y);
            buf[i] = y;
        }
    }
    int i = L;
    for (; i & 3; i++) buf[i] = 0;                 /* n is a multiple of 4 */
    for (; i < n; i += 4) buf[i] = buf[i + 1] = buf[i + 2] = buf[i + 3] = 0;
    /* mag < 2^30, so s = clz(mag) - 2 = headroom - 1 >= 0; the shift keeps the peak at or below
     * half scale: the first radix-4 stage rotates complex pairs of magnitude up to sqrt(2) times
     * the peak, which must not saturate. The padding stays 0. */
    int s = tk_clz32(mag) - 2;
    if (s > cfg->max_shift) s = cfg->max_shift;
    if (s) {
        for (i = 0; i + 3 < L; i += 4) {
            buf[i] = tk_lsl(buf[i], s);
            buf[i + 1] = tk_lsl(buf[i + 1], s);
            buf[i + 2] = tk_lsl(buf[i + 2], s);
            buf[i + 3] = tk_lsl(buf[i + 3], s);
        }
        for (; i < L; i++) buf[i] = tk_lsl(buf[i], s);
    }
    return s;
}

void tk_logmel(const tk_logmel_cfg *cfg, const int16_t *frame, int16_t prev, int32_t *scratch, int32_t *v) {
    const int n = cfg->fft->n, nb = n / 2 + 1;
    int32_t *buf = scratch;                          /* n int32 */
    int32_t *X = scratch + n;                        /* n + 2 int32, then the spectrum in place */
    int s = prepare(cfg, frame, prev, buf);
    TK_DSP_STEP();
    tk_rfft_q31_hs(cfg->fft, buf, X);
    TK_DSP_STEP();
    const int32_t shift_q16 = cfg->log_shift_mult * s * 65536;
    const int nf = cfg->n_filters, floor_is_add = cfg->floor_is_add;
    const int32_t floor_q16 = floor_is_add ? INT32_MIN : cfg->floor_q16;
    const uint64_t add_hi = floor_is_add ? cfg->floor_add[2 * s] : 0;
    const uint64_t add_lo = floor_is_add ? cfg->floor_add[2 * s + 1] : 0;
    const uint16_t *start = cfg->fb_start, *count = cfg->fb_count, *offset = cfg->fb_offset;
    const uint16_t *weights = cfg->fb_weights;
    const uint32_t *table = cfg->log2_table;
    if (cfg->magnitude) {
        uint32_t *S = (uint32_t *)X;                 /* S[k] overwrites X[k/2]: read before written */
        const int32_t *xp = X;
        for (uint32_t *sp = S, *se = S + nb; sp < se; sp++, xp += 2) *sp = tk_mag_q31(xp[0], xp[1]);
        TK_DSP_STEP();
        for (int f = 0; f < nf; f++) {
            const uint32_t *sp = S + start[f];
            const uint16_t *w = weights + offset[f];
            uint64_t lo = add_lo;                    /* < 2^57 + floor */
            for (int i = 0, c = count[f]; i < c; i++) lo = tk_umlal(lo, w[i], sp[i]);
            int32_t r = tk_log2_96_q16(add_hi, lo, table) - shift_q16;
            v[f] = r < floor_q16 ? floor_q16 : r;
        }
    } else {
        uint64_t *S = (uint64_t *)(void *)X;
        for (int k = 0; k < nb; k++) {
            int64_t re = X[2 * k], im = X[2 * k + 1];    /* read both before S[k] overwrites them */
            S[k] = (uint64_t)(re * re) + (uint64_t)(im * im);
        }
        TK_DSP_STEP();
        for (int f = 0; f < nf; f++) {
            const uint64_t *sp = S + start[f];
            const uint16_t *w = weights + offset[f];
            uint64_t hi = add_hi, lo = add_lo;
            for (int i = 0, c = count[f]; i < c; i++) {
                lo = tk_umlal(lo, w[i], (uint32_t)sp[i]);
                hi = tk_umlal(hi, w[i], (uint32_t)(sp[i] >> 32));
            }
            int32_t r = tk_log2_96_q16(hi, lo, table) - shift_q16;
            v[f] = r < floor_q16 ? floor_q16 : r;
        }
    }
}
