/* DEPTHWISE_CONV_2D int8 3x3 stride 1: the line kernel (depthwise3x3_s8.h).
 *
 * Accumulators: acc = folded bias + sum of the nine x * w, x the int8 input or, at padding, the
 * zero point (so x + input_offset = 0 there); |x * w| <= 2^14, so the nine-term sum fits int32 and
 * only the bias is added with wrap-around, as the dual multiply-accumulates wrap. */
#include "depthwise3x3_s8.h"
#include "depthwise3x3_s8_mve.h"

/* Line buffers: TK_DW3_CHUNK outputs read TK_DW3_CHUNK + 2 inputs, and the last pair of an odd
 * count reads one more; rounded up to whole words. A group of up to four channels has a ring of
 * three slots each (TK_DW3_RING int16). */
#define TK_DW3_LEN (TK_DW3_CHUNK + 4)
#define TK_DW3_RING (3 * TK_DW3_LEN)
/* not inlined: gcc's inlined copies of the fill cost more than the call */
#define TK_DW3_NOINLINE static __attribute__((noinline))

/* a | b << 16 of two int8 values widened to int16 (PKHBT) */
static inline uint32_t tk_dw3_pack(int32_t a, int32_t b) {
#if TK_NN_SIMD && !defined(TK_DSP_EMULATE_SIMD)
    uint32_t r;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(a), "r"(b));
    return r;
#else
    return (uint32_t)(uint16_t)(int16_t)a | (uint32_t)(uint16_t)(int16_t)b << 16;
#endif
}

#if TK_NN_SIMD
/* lane 0 of a, lane 0 of b (PKHBT ..., lsl #16); lane 1 of b, lane 1 of a (PKHTB ..., asr #16) */
#if defined(TK_DSP_EMULATE_SIMD)
static inline uint32_t tk_dw3_pkhbt(uint32_t a, uint32_t b) { return (a & 0xFFFFu) | b << 16; }
static inline uint32_t tk_dw3_pkhtb(uint32_t a, uint32_t b) {
    return (a & 0xFFFF0000u) | b >> 16;
}
#else
static inline uint32_t tk_dw3_pkhbt(uint32_t a, uint32_t b) {
    uint32_t r;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(a), "r"(b));
    return r;
}
static inline uint32_t tk_dw3_pkhtb(uint32_t a, uint32_t b) {
    uint32_t r;
    __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(r) : "r"(a), "r"(b));
    return r;
}
#endif
#endif

/* two int16 values as one word at p (p word-aligned) */
static inline void tk_dw3_st(int16_t *p, uint32_t v) { memcpy(p, &v, 4); }

/* The range [*lo, *hi) of k in [0, n) whose position p0 + k of input line `line` lies inside the
 * image (empty, at n, for a padding line) */
static inline void tk_dw3_inside(const tk_dw3_params *p, int32_t line, int32_t p0, int32_t n,
                                 int32_t *lo, int32_t *hi) {
    int32_t a = n, b = n;
    if (line >= 0 && line < p->lines_in) {
        a = -p0;
        b = p->pos_in - p0;
        a = a < 0 ? 0 : (a > n ? n : a);
        b = b < a ? a : (b > n ? n : b);
    }
    *lo = a;
    *hi = b;
}

#include "depthwise3x3_s8_rv32.h"

#if TK_NN_SIMD
/* One line segment of `g` channels (1 or 4) widened to int16: positions p0 .. p0 + n - 1 (n even)
 * of input line `line`, the zero point outside the image, img pointing at the group's first
 * channel; channel j's values go to buf + j * TK_DW3_RING (word-aligned). Four channels are
 * gathered a word per position: two positions' words give each channel's pair of values. */
TK_DW3_NOINLINE void tk_dw3_fill(const tk_dw3_params *p, const int8_t *img, int32_t line,
                                 int32_t p0, int32_t n, int32_t g, int16_t *buf) {
    const uint32_t zp = (uint16_t)(int16_t)p->input_zp, zw = zp | zp << 16;
    const int32_t step = p->in_pos;
    int32_t lo, hi;
    tk_dw3_inside(p, line, p0, n, &lo, &hi);
    const int32_t base = line * p->in_line;     /* read only at positions inside */
    int32_t k = 0;
    for (; k < (lo & ~1); k += 2) {             /* pairs before the image */
        for (int32_t j = 0; j < g; ++j) tk_dw3_st(buf + j * TK_DW3_RING + k, zw);
    }
    if (lo < hi) {
        if (k < lo) {                           /* lo odd: the pair straddles it */
            for (int32_t j = 0; j < g; ++j) {
                tk_dw3_st(buf + j * TK_DW3_RING + k,
                          tk_dw3_pack((int16_t)zp, img[base + (p0 + lo) * step + j]));
            }
            k += 2;
        }
        const int8_t *x = img + base + (p0 + k) * step;
        int16_t *d = buf + k;
        const int32_t pairs = (hi - k) >> 1;    /* both positions inside */
        if (g == 4) {
            for (int32_t q = 0; q < pairs; ++q, d += 2, x += 2 * step) {
                const uint32_t X = tk_ld4(x), Y = tk_ld4(x + step);
                const uint32_t xe = tk_sxtb16(X), xo = tk_sxtb16_ror8(X);
                const uint32_t ye = tk_sxtb16(Y), yo = tk_sxtb16_ror8(Y);
                tk_dw3_st(d, tk_dw3_pkhbt(xe, ye));
                tk_dw3_st(d + TK_DW3_RING, tk_dw3_pkhbt(xo, yo));
                tk_dw3_st(d + 2 * TK_DW3_RING, tk_dw3_pkhtb(ye, xe));
                tk_dw3_st(d + 3 * TK_DW3_RING, tk_dw3_pkhtb(yo, xo));
            }
        } else {
            for (int32_t q = 0; q < pairs; ++q, d += 2, x += 2 * step) {
                tk_dw3_st(d, tk_dw3_pack(x[0], x[step]));
            }
        }
        k += 2 * pairs;
        if (k < hi) {                           /* hi odd: the pair straddles it */
            for (int32_t j = 0; j < g; ++j) {
                tk_dw3_st(buf + j * TK_DW3_RING + k,
                          tk_dw3_pack(img[base + (p0 + k) * step + j], (int16_t)zp));
            }
            k += 2;
        }
    }
    for (; k < n; k += 2) {                     /* pairs after the image */
        for (int32_t j = 0; j < g; ++j) tk_dw3_st(buf + j * TK_DW3_RING + k, zw);
    }
}
#endif /* TK_NN_SIMD: without SIMD, tk_dw3_rv_fill */

/* The requantization of one output: `fast` is a constant where this is inlined */
static inline __attribute__((always_inline)) int8_t tk_dw3_out(int32_t acc, int32_t m, int32_t sh,
                                                               int32_t k1, int32_t off,
                                                               int32_t lo, int32_t hi,
                                                               const int32_t fast) {
    const int32_t r = fast ? tk_requant_fast(acc, m, sh, k1) : tk_conv_requant(acc, m, sh) + off;
    return (int8_t)tk_clamp(r, lo, hi);
}

#if TK_NN_SIMD
static inline uint32_t tk_dw3_ld(const int16_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
#if defined(TK_DSP_EMULATE_SIMD)
static inline int32_t tk_dw3_smlabt(uint32_t a, uint32_t b, int32_t acc) {
    return (int32_t)((uint32_t)acc + (uint32_t)(tk_lane0(a) * tk_lane1(b)));
}
static inline int32_t tk_dw3_smlatb(uint32_t a, uint32_t b, int32_t acc) {
    return (int32_t)((uint32_t)acc + (uint32_t)(tk_lane1(a) * tk_lane0(b)));
}
#else
static inline int32_t tk_dw3_smlabt(uint32_t a, uint32_t b, int32_t acc) {
    return __smlabt((int32_t)a, (int32_t)b, acc);
}
static inline int32_t tk_dw3_smlatb(uint32_t a, uint32_t b, int32_t acc) {
    return __smlatb((int32_t)a, (int32_t)b, acc);
}
#endif
/* one filter row's taps into the two outputs at i and i + 1: x[i..i+3] from two words */
#define TK_DW3_ROW(r, wa, wb)                                   \
    {                                                           \
        const uint32_t A = tk_dw3_ld((r) + i), B = tk_dw3_ld((r) + i + 2); \
        a0 = tk_smlad(A, wa, a0);                               \
        a0 = tk_dw3_smlabt(B, wb, a0);                          \
        a1 = tk_dw3_smlatb(A, wa, a1);                          \
        a1 = tk_smlad(B, wb, a1);                               \
    }
#else
static inline int32_t tk_dw3_lo(int32_t w) { return (int16_t)(uint16_t)((uint32_t)w & 0xFFFFu); }
static inline int32_t tk_dw3_hi(int32_t w) { return (int16_t)(uint16_t)((uint32_t)w >> 16); }
#define TK_DW3_ROW(r, wa, wb)                                                           \
    {                                                                                   \
        const int32_t x0 = (r)[i], x1 = (r)[i + 1], x2 = (r)[i + 2], x3 = (r)[i + 3];   \
        const int32_t k0 = tk_dw3_lo(wa), k1 = tk_dw3_hi(wa), k2 = tk_dw3_hi(wb);       \
        s0 += x0 * k0 + x1 * k1 + x2 * k2;                                              \
        s1 += x1 * k0 + x2 * k1 + x3 * k2;                                              \
    }
#endif

/* n outputs (n <= TK_DW3_CHUNK) of one output line of one channel from the three widened input
 * lines r0..r2 (filter rows 0..2 in w), written `step` bytes apart from out, in pairs from i0 */
static inline __attribute__((always_inline)) void tk_dw3_line(
    const int16_t *r0, const int16_t *r1, const int16_t *r2, const uint32_t *w, int32_t fb,
    int32_t i0, int32_t n, int8_t *out, int32_t step, int32_t m, int32_t sh, int32_t k1,
    int32_t off, int32_t lo, int32_t hi, const int32_t fast) {
    const int32_t w0 = (int32_t)w[0], w1 = (int32_t)w[1], w2 = (int32_t)w[2], w3 = (int32_t)w[3],
                  w4 = (int32_t)w[4], w5 = (int32_t)w[5];
    out += i0 * step;
    for (int32_t i = i0; i < n; i += 2, out += 2 * step) {
#if TK_NN_SIMD
        int32_t a0 = fb, a1 = fb;
        TK_DW3_ROW(r0, (uint32_t)w0, (uint32_t)w1)
        TK_DW3_ROW(r1, (uint32_t)w2, (uint32_t)w3)
        TK_DW3_ROW(r2, (uint32_t)w4, (uint32_t)w5)
#else
        int32_t s0 = 0, s1 = 0;
        TK_DW3_ROW(r0, w0, w1)
        TK_DW3_ROW(r1, w2, w3)
        TK_DW3_ROW(r2, w4, w5)
        const int32_t a0 = tk_add_wrap_s32(fb, s0), a1 = tk_add_wrap_s32(fb, s1);
#endif
        out[0] = tk_dw3_out(a0, m, sh, k1, off, lo, hi, fast);
        if (i + 1 < n) out[step] = tk_dw3_out(a1, m, sh, k1, off, lo, hi, fast);
    }
}

/* tk_dw3_line for stride 2: output i from x[2i .. 2i + 2] of each line */
static inline __attribute__((always_inline)) void tk_dw3_line_s2(
    const int16_t *r0, const int16_t *r1, const int16_t *r2, const uint32_t *w, int32_t fb,
    int32_t n, int8_t *out, int32_t step, int32_t m, int32_t sh, int32_t k1, int32_t off,
    int32_t lo, int32_t hi, const int32_t fast) {
    const int16_t *r[3] = {r0, r1, r2};
    for (int32_t i = 0; i < n; ++i, out += step) {
#if TK_NN_SIMD
        int32_t a = fb;
        for (int32_t k = 0; k < 3; ++k) {
            a = tk_smlad(tk_dw3_ld(r[k] + 2 * i), w[2 * k], a);
            a = tk_dw3_smlabt(tk_dw3_ld(r[k] + 2 * i + 2), w[2 * k + 1], a);
        }
#else
        int32_t sum = 0;
        for (int32_t k = 0; k < 3; ++k) {
            const int16_t *x = r[k] + 2 * i;
            sum += x[0] * tk_dw3_lo((int32_t)w[2 * k]) + x[1] * tk_dw3_hi((int32_t)w[2 * k]) +
                   x[2] * tk_dw3_hi((int32_t)w[2 * k + 1]);
        }
        const int32_t a = tk_add_wrap_s32(fb, sum);
#endif
        out[0] = tk_dw3_out(a, m, sh, k1, off, lo, hi, fast);
    }
}

#if TK_NN_SIMD && !defined(TK_DSP_EMULATE_SIMD)
/* What the assembly loop reads (and its count, which it decrements) */
typedef struct {
    uint32_t w[6];                     /* the filter rows in slot order, lanes doubled */
    int32_t fb2, m, e1, k1, step, blocks;   /* fb2: the folded bias doubled (mod 2^32) */
} tk_dw3_blk;

/* one filter row (its two words at byte wo of the block) on the slot at byte offset xo (an
 * immediate operand) from p: four outputs from x[i..i+5] */
#define TK_DW3_AROW(wo, xo)                              \
    "ldrd   %[wa], %[wb], [%[wp], #" #wo "]\n\t"         \
    "ldr    %[A], [%[p], %[" #xo "]]\n\t"                \
    "ldr    %[B], [%[p], %[" #xo "4]]\n\t"               \
    "ldr    %[C], [%[p], %[" #xo "8]]\n\t"               \
    "smlad  %[a0], %[A], %[wa], %[a0]\n\t"               \
    "smlabt %[a0], %[B], %[wb], %[a0]\n\t"               \
    "smlatb %[a1], %[A], %[wa], %[a1]\n\t"               \
    "smlad  %[a1], %[B], %[wb], %[a1]\n\t"               \
    "smlad  %[a2], %[B], %[wa], %[a2]\n\t"               \
    "smlabt %[a2], %[C], %[wb], %[a2]\n\t"               \
    "smlatb %[a3], %[B], %[wa], %[a3]\n\t"               \
    "smlad  %[a3], %[C], %[wb], %[a3]\n\t"
/* tk_out_fw_s8 of acc from 2 acc (the block's weights and bias are doubled, exact as the fast
 * requantization has |acc| < 2^30): ((h - (h < 0)) >> e1) + k1 with h = smmulr(2 acc, m),
 * halved and saturated to int8 (A = m, B = e1, C = k1) */
#define TK_DW3_ARQ(a)                                    \
    "smmulr %[" #a "], %[" #a "], %[A]\n\t"              \
    "sub    %[" #a "], %[" #a "], %[" #a "], lsr #31\n\t" \
    "asr    %[" #a "], %[" #a "], %[B]\n\t"              \
    "add    %[" #a "], %[" #a "], %[C]\n\t"              \
    "ssat   %[" #a "], #8, %[" #a "], asr #1\n\t"

/* The blocks' loop head (the four accumulators start at the doubled bias) and tail (p advanced
 * by `pstep` bytes; the requantization of the four outputs, their stores `step` (wa) bytes apart,
 * the count in the block decremented), with the outputs of the asm statement */
#define TK_DW3_AHEAD                                     \
        "1:\n\t"                                         \
        "ldr    %[a0], [%[wp], #24]\n\t"                 \
        "mov    %[a1], %[a0]\n\t"                        \
        "mov    %[a2], %[a0]\n\t"                        \
        "mov    %[a3], %[a0]\n\t"
#define TK_DW3_ATAIL(pstep)                              \
        "adds   %[p], %[p], #" #pstep "\n\t"             \
        "ldrd   %[A], %[B], [%[wp], #28]\n\t"            \
        "ldrd   %[C], %[wa], [%[wp], #36]\n\t"           \
        TK_DW3_ARQ(a0)                                   \
        TK_DW3_ARQ(a1)                                   \
        TK_DW3_ARQ(a2)                                   \
        TK_DW3_ARQ(a3)                                   \
        "strb   %[a0], [%[out]]\n\t"                     \
        "strb   %[a1], [%[out], %[wa]]\n\t"              \
        "add    %[out], %[out], %[wa], lsl #1\n\t"       \
        "strb   %[a2], [%[out]]\n\t"                     \
        "strb   %[a3], [%[out], %[wa]]\n\t"              \
        "add    %[out], %[out], %[wa], lsl #1\n\t"       \
        "ldr    %[wb], [%[wp], #44]\n\t"                 \
        "subs   %[wb], %[wb], #1\n\t"                    \
        "str    %[wb], [%[wp], #44]\n\t"                 \
        "bne    1b\n\t"                                  \
        : [p] "+r"(p), [out] "+r"(out), [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2), \
          [a3] "=&r"(a3), [A] "=&r"(A), [B] "=&r"(B), [C] "=&r"(C), [wa] "=&r"(wa),     \
          [wb] "=&r"(wb)

/* 4 * blk->blocks outputs from the slots at p (TK_DW3_LEN int16 apart), the fast requantization
 * with the full int8 range only */
static void tk_dw3_blocks(tk_dw3_blk *blk, const int16_t *p, int8_t *out) {
    int32_t a0, a1, a2, a3;
    uint32_t A, B, C, wa, wb;
    __asm__ volatile(
        TK_DW3_AHEAD
        TK_DW3_AROW(0, s0)
        TK_DW3_AROW(8, s1)
        TK_DW3_AROW(16, s2)
        TK_DW3_ATAIL(8)
        : [wp] "r"(blk), [s0] "i"(0), [s04] "i"(4), [s08] "i"(8),
          [s1] "i"(2 * TK_DW3_LEN), [s14] "i"(2 * TK_DW3_LEN + 4), [s18] "i"(2 * TK_DW3_LEN + 8),
          [s2] "i"(4 * TK_DW3_LEN), [s24] "i"(4 * TK_DW3_LEN + 4),
          [s28] "i"(4 * TK_DW3_LEN + 8)
        : "cc", "memory");
}

/* tk_dw3_blocks for stride 2: four outputs from x[2i .. 2i + 8] per block, five words a row */
#define TK_DW3_AROW2(wo, xo)                             \
    "ldrd   %[wa], %[wb], [%[wp], #" #wo "]\n\t"         \
    "ldr    %[A], [%[p], %[" #xo "]]\n\t"                \
    "ldr    %[B], [%[p], %[" #xo "4]]\n\t"               \
    "smlad  %[a0], %[A], %[wa], %[a0]\n\t"               \
    "smlabt %[a0], %[B], %[wb], %[a0]\n\t"               \
    "ldr    %[A], [%[p], %[" #xo "8]]\n\t"               \
    "smlad  %[a1], %[B], %[wa], %[a1]\n\t"               \
    "smlabt %[a1], %[A], %[wb], %[a1]\n\t"               \
    "ldr    %[B], [%[p], %[" #xo "12]]\n\t"              \
    "smlad  %[a2], %[A], %[wa], %[a2]\n\t"               \
    "smlabt %[a2], %[B], %[wb], %[a2]\n\t"               \
    "ldr    %[A], [%[p], %[" #xo "16]]\n\t"              \
    "smlad  %[a3], %[B], %[wa], %[a3]\n\t"               \
    "smlabt %[a3], %[A], %[wb], %[a3]\n\t"

static void tk_dw3_blocks_s2(tk_dw3_blk *blk, const int16_t *p, int8_t *out) {
    int32_t a0, a1, a2, a3;
    uint32_t A, B, C, wa, wb;
    __asm__ volatile(
        TK_DW3_AHEAD
        TK_DW3_AROW2(0, s0)
        TK_DW3_AROW2(8, s1)
        TK_DW3_AROW2(16, s2)
        TK_DW3_ATAIL(16)
        : [wp] "r"(blk), [s0] "i"(0), [s04] "i"(4), [s08] "i"(8), [s012] "i"(12),
          [s016] "i"(16),
          [s1] "i"(2 * TK_DW3_LEN), [s14] "i"(2 * TK_DW3_LEN + 4), [s18] "i"(2 * TK_DW3_LEN + 8),
          [s112] "i"(2 * TK_DW3_LEN + 12), [s116] "i"(2 * TK_DW3_LEN + 16),
          [s2] "i"(4 * TK_DW3_LEN), [s24] "i"(4 * TK_DW3_LEN + 4), [s28] "i"(4 * TK_DW3_LEN + 8),
          [s212] "i"(4 * TK_DW3_LEN + 12), [s216] "i"(4 * TK_DW3_LEN + 16)
        : "cc", "memory");
}

/* The output at p's first position alone (a line's last one or two) */
static void tk_dw3_one(const tk_dw3_blk *blk, const int16_t *p, int8_t *out) {
    int32_t a0;
    uint32_t A, B, C, wa, wb;
    __asm__ volatile(
        "ldr    %[a0], [%[wp], #24]\n\t"
#define TK_DW3_AONE(wo, xo)                              \
        "ldrd   %[wa], %[wb], [%[wp], #" #wo "]\n\t"     \
        "ldr    %[A], [%[p], %[" #xo "]]\n\t"            \
        "ldr    %[B], [%[p], %[" #xo "4]]\n\t"           \
        "smlad  %[a0], %[A], %[wa], %[a0]\n\t"           \
        "smlabt %[a0], %[B], %[wb], %[a0]\n\t"
        TK_DW3_AONE(0, s0)
        TK_DW3_AONE(8, s1)
        TK_DW3_AONE(16, s2)
#undef TK_DW3_AONE
        "ldrd   %[A], %[B], [%[wp], #28]\n\t"
        "ldr    %[C], [%[wp], #36]\n\t"
        TK_DW3_ARQ(a0)
        "strb   %[a0], [%[out]]\n\t"
        : [a0] "=&r"(a0), [A] "=&r"(A), [B] "=&r"(B), [C] "=&r"(C), [wa] "=&r"(wa),
          [wb] "=&r"(wb)
        : [p] "r"(p), [out] "r"(out), [wp] "r"(blk), [s0] "i"(0), [s04] "i"(4),
          [s1] "i"(2 * TK_DW3_LEN), [s14] "i"(2 * TK_DW3_LEN + 4),
          [s2] "i"(4 * TK_DW3_LEN), [s24] "i"(4 * TK_DW3_LEN + 4)
        : "memory");
}

/* A whole output line of one channel in assembly, stride s: blocks of four, then the last one
 * to three (one or two alone, three as one more block into a buffer, whose reads stay within
 * the filled s * n + 4) */
static void tk_dw3_line_asm(tk_dw3_blk *b, int32_t n, int32_t s, const int16_t *ring,
                            int8_t *y) {
    const int32_t full = n & ~3, rest = n & 3, step = b->step;
    if (full) {
        b->blocks = full >> 2;
        if (s == 1) {
            tk_dw3_blocks(b, ring, y);
        } else {
            tk_dw3_blocks_s2(b, ring, y);
        }
    }
    if (rest == 3) {
        int8_t tmp[4];
        b->step = 1;
        b->blocks = 1;
        if (s == 1) {
            tk_dw3_blocks(b, ring + full, tmp);
        } else {
            tk_dw3_blocks_s2(b, ring + 2 * full, tmp);
        }
        b->step = step;
        y[full * step] = tmp[0];
        y[(full + 1) * step] = tmp[1];
        y[(full + 2) * step] = tmp[2];
    } else if (rest) {
        tk_dw3_one(b, ring + s * full, y + full * step);
        if (rest == 2) tk_dw3_one(b, ring + s * (full + 1), y + (full + 1) * step);
    }
}

/* both int16 lanes of w doubled (weights in [-128, 127]: no lane overflows) */
static inline uint32_t tk_dw3_double(uint32_t w) {
    return ((w << 1) & 0xFFFFu) | ((w >> 16) << 17);
}

/* The assembly's block for channel c and each phase o % 3 of the output line o: slot k holds
 * padded input line j with j % 3 == k, so filter row (k - o) mod 3 reads slot k */
static void tk_dw3_blk_make(const tk_dw3_params *p, const uint32_t *w, int32_t fb, int32_t c,
                            tk_dw3_blk *blk) {
    for (int32_t ph = 0; ph < 3; ++ph) {
        for (int32_t k = 0; k < 3; ++k) {
            const int32_t a = (k + 3 - ph) % 3;
            blk[ph].w[2 * k] = tk_dw3_double(w[2 * a]);
            blk[ph].w[2 * k + 1] = tk_dw3_double(w[2 * a + 1]);
        }
        blk[ph].fb2 = (int32_t)((uint32_t)fb << 1);
        blk[ph].m = p->rq[2 * c];
        blk[ph].e1 = p->rq[2 * c + 1];
        blk[ph].k1 = 1 + 2 * p->output_offset;
        blk[ph].step = p->out_pos;
    }
}
#endif

/* Output line o's n outputs of one channel (filter words w, folded bias fb) in C from its ring,
 * whose slot k holds padded input line j with j % 3 == k: filter row a reads slot (ph + a) % 3,
 * ph = (stride * o) % 3 */
static void tk_dw3_out_line(const tk_dw3_params *p, const uint32_t *w, int32_t fb, int32_t c,
                            int32_t ph, int32_t n, const int16_t *ring, int8_t *y) {
    const int32_t step = p->out_pos;
    const int32_t m = p->rq[2 * c], sh = p->rq[2 * c + 1];
    const int32_t off = p->output_offset, k1 = 1 + 2 * off, lo = p->act_min, hi = p->act_max;
    const int16_t *r0 = ring + ph * TK_DW3_LEN, *r1 = ring + (ph == 2 ? 0 : ph + 1) * TK_DW3_LEN,
                  *r2 = ring + (ph == 0 ? 2 : ph - 1) * TK_DW3_LEN;
    if (p->stride == 2) {
        if (p->rq_fast) {
            tk_dw3_line_s2(r0, r1, r2, w, fb, n, y, step, m, sh, k1, off, lo, hi, 1);
        } else {
            tk_dw3_line_s2(r0, r1, r2, w, fb, n, y, step, m, sh, k1, off, lo, hi, 0);
        }
    } else if (p->rq_fast) {
        tk_dw3_line(r0, r1, r2, w, fb, 0, n, y, step, m, sh, k1, off, lo, hi, 1);
    } else {
        tk_dw3_line(r0, r1, r2, w, fb, 0, n, y, step, m, sh, k1, off, lo, hi, 0);
    }
}

/* One chunk (n outputs from position i0 on) of every output line of the g channels (1 or 4)
 * from channel c. Padded input line j (input line j - pad_line) is widened into slot j % 3 of
 * each channel's ring; output line o reads lines s * o .. s * o + 2. */
static void tk_dw3_chunk(const tk_dw3_params *p, const int8_t *img, const uint32_t *filter,
                         const int32_t *fbias, int32_t c, int32_t g, int32_t i0, int32_t n,
                         int8_t *out, int16_t *ring) {
    const int32_t s = p->stride, p0 = s * i0 - p->pad_pos, len = (s * n + 5) & ~1;
#if TK_NN_SIMD && !defined(TK_DSP_EMULATE_SIMD)
    tk_dw3_blk blk[4][3];
    const int asm_ok = p->rq_fast && p->act_min == -128 && p->act_max == 127;
    if (asm_ok) {
        for (int32_t j = 0; j < g; ++j) tk_dw3_blk_make(p, filter + 6 * (c + j), fbias[c + j],
                                                       c + j, blk[j]);
    }
#endif
#if !TK_NN_SIMD
    tk_dw3_rv rv[4];
    int rv_ok = 1;
    for (int32_t j = 0; j < g && rv_ok; ++j) {
        rv_ok = tk_dw3_rv_make(p, filter + 6 * (c + j), fbias[c + j], c + j, &rv[j]);
    }
    /* the padding lines are left out of the rings (rows on them, at most one per output line
     * and never the middle one, go to the bias) */
    const int32_t rv_skip = rv_ok && p->lines_in >= 2 &&
                            s * (p->lines_out - 1) + 1 - p->pad_line < p->lines_in;
    int8_t *ring8 = (int8_t *)ring;     /* the line loops' ring (TK_DW3_RV_SLOT) */
#endif
    img += c;
    out += i0 * p->out_pos + c;
    int32_t next = 0, slot = 0;     /* the next padded line to widen, and its slot */
    int32_t ph = 0;                 /* (s * o) % 3: the slot of output line o's first row */
    for (int32_t o = 0; o < p->lines_out; ++o, ph = ph + s >= 3 ? ph + s - 3 : ph + s) {
        for (; next <= s * o + 2; ++next) {
#if TK_NN_SIMD
            tk_dw3_fill(p, img, next - p->pad_line, p0, len, g, ring + slot * TK_DW3_LEN);
#else
            const int32_t line = next - p->pad_line;
            if (!rv_ok) {
                tk_dw3_rv_fill(p, img, line, p0, len, g, ring + slot * TK_DW3_LEN);
            } else if (!rv_skip || (line >= 0 && line < p->lines_in)) {
                tk_dw3_rv_fill8(p, img, line, p0, s * n + 3 - s, g,
                                ring8 + slot * TK_DW3_RV_SLOT);
            }
#endif
            slot = slot == 2 ? 0 : slot + 1;
        }
        int8_t *y = out + o * p->out_line;
#if TK_NN_SIMD && !defined(TK_DSP_EMULATE_SIMD)
        if (asm_ok) {
            for (int32_t j = 0; j < g; ++j) {
                tk_dw3_line_asm(&blk[j][ph], n, s, ring + j * TK_DW3_RING, y + j);
            }
            continue;
        }
#endif
#if !TK_NN_SIMD
        if (rv_ok) {
            tk_dw3_rv_lines(p, rv, g, o, rv_skip, ring8, n, y);
            continue;
        }
#endif
        for (int32_t j = 0; j < g; ++j) {
            tk_dw3_out_line(p, filter + 6 * (c + j), fbias[c + j], c + j, ph, n,
                            ring + j * TK_DW3_RING, y + j);
        }
    }
}

void tk_depthwise3x3_s8(const tk_dw3_params *p, const int8_t *input, const int32_t *filter,
                        const int32_t *folded_bias, int8_t *output) {
#if TK_MVE
    if (tk_dw3_mve(p, input, filter, folded_bias, output)) return;
#endif
    int16_t ring[4 * TK_DW3_RING] __attribute__((aligned(4)));
    const uint32_t *w = (const uint32_t *)filter;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *img = input + b * p->in_image;
        int8_t *out = output + b * p->out_image;
        for (int32_t c = 0; c < p->channels;) {
            const int32_t g = p->channels - c >= 4 ? 4 : 1;
            const int32_t chunk = TK_DW3_CHUNK / p->stride;
            for (int32_t i0 = 0; i0 < p->pos_out; i0 += chunk) {
                const int32_t left = p->pos_out - i0;
                tk_dw3_chunk(p, img, w, folded_bias, c, g, i0, left < chunk ? left : chunk, out,
                             ring);
            }
            c += g;
        }
    }
}
