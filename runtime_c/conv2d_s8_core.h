/* CONV_2D int8 fast kernel, its inner blocks (included by conv2d_s8.c only): the 2-pixel x
 * 2-channel multiply-accumulate over pair-blocked weights (conv2d_s8.h) in its three builds (the
 * DSP extension in assembly, the same through the C models of tk_simd.h, portable C), and the
 * output stage of such a block.
 *
 * Raw sums: every block sums x * w over at most 2^16 taps (the compiler's limit), |x * w| <= 2^14,
 * so |sum| < 2^31 whatever the order; the folded bias is added at the end with wrap-around, which
 * gives TFLM's int32 accumulator bit for bit. */
#ifndef TK_CONV2D_S8_CORE_H
#define TK_CONV2D_S8_CORE_H
#include "conv2d_s8.h"

/* the kernel's parts stay separate functions: smaller stack frames on the way to the inner loop */
#define TK_CONV_NOINLINE __attribute__((noinline))

/* One group of four taps of a 2x2 block in assembly (two pixels from p0, p1, two channels'
 * pair-blocked weights from pw): four loads, eight SXTB16, eight SMLAD; with the widened filter
 * (TK_CONV_W16) four loads, four SXTB16, eight SMLAD. Used by tk_mac2x2_s8 and the channel-pair
 * loops below. */
#if TK_CONV_W16
#define TK_MAC2x2_BODY                          \
        "ldr    %[x0], [%[p0]], #4\n\t"         \
        "ldr    %[x1], [%[p1]], #4\n\t"         \
        "ldrd   %[u], %[ue], [%[pw]], #8\n\t"   \
        "sxtb16 %[t0], %[x0]\n\t"               \
        "sxtb16 %[x0], %[x0], ror #8\n\t"       \
        "sxtb16 %[t1], %[x1]\n\t"               \
        "sxtb16 %[x1], %[x1], ror #8\n\t"       \
        "smlad  %[c00], %[t0], %[u], %[c00]\n\t" \
        "smlad  %[c00], %[x0], %[ue], %[c00]\n\t" \
        "smlad  %[c10], %[t1], %[u], %[c10]\n\t" \
        "smlad  %[c10], %[x1], %[ue], %[c10]\n\t" \
        "ldrd   %[u], %[ue], [%[pw]], #8\n\t"   \
        "smlad  %[c01], %[t0], %[u], %[c01]\n\t" \
        "smlad  %[c01], %[x0], %[ue], %[c01]\n\t" \
        "smlad  %[c11], %[t1], %[u], %[c11]\n\t" \
        "smlad  %[c11], %[x1], %[ue], %[c11]\n\t"
#else
#define TK_MAC2x2_BODY                          \
        "ldr    %[x0], [%[p0]], #4\n\t"         \
        "ldr    %[x1], [%[p1]], #4\n\t"         \
        "ldr    %[u], [%[pw]], #4\n\t"          \
        "sxtb16 %[t0], %[x0]\n\t"               \
        "sxtb16 %[x0], %[x0], ror #8\n\t"       \
        "sxtb16 %[t1], %[x1]\n\t"               \
        "sxtb16 %[x1], %[x1], ror #8\n\t"       \
        "sxtb16 %[ue], %[u]\n\t"                \
        "sxtb16 %[u], %[u], ror #8\n\t"         \
        "smlad  %[c00], %[t0], %[ue], %[c00]\n\t" \
        "smlad  %[c00], %[x0], %[u], %[c00]\n\t"  \
        "smlad  %[c10], %[t1], %[ue], %[c10]\n\t" \
        "smlad  %[c10], %[x1], %[u], %[c10]\n\t"  \
        "ldr    %[u], [%[pw]], #4\n\t"          \
        "sxtb16 %[ue], %[u]\n\t"                \
        "sxtb16 %[u], %[u], ror #8\n\t"         \
        "smlad  %[c01], %[t0], %[ue], %[c01]\n\t" \
        "smlad  %[c01], %[x0], %[u], %[c01]\n\t"  \
        "smlad  %[c11], %[t1], %[ue], %[c11]\n\t" \
        "smlad  %[c11], %[x1], %[u], %[c11]\n\t"
#endif

/* n groups of four taps of two pixels (*a0, *a1: four bytes each per group) against two
 * channels' pair-blocked weights (*w: eight bytes per group), added to the four raw sums; the
 * pointers are advanced past what was read. n >= 1. */
static inline void tk_mac2x2_s8(const int8_t **a0, const int8_t **a1, const tk_cw **w, int32_t n,
                                int32_t *s00, int32_t *s01, int32_t *s10, int32_t *s11) {
    const int8_t *p0 = *a0, *p1 = *a1;
    const tk_cw *pw = *w;
    int32_t c00 = *s00, c01 = *s01, c10 = *s10, c11 = *s11;
#if TK_NN_SIMD && defined(TK_DSP_EMULATE_SIMD)
    /* per group: four loads, eight SXTB16, eight SMLAD (both words of a product split alike);
     * the widened filter holds the weights' words as SXTB16 would give them */
    for (; n > 0; --n, p0 += 4, p1 += 4, pw += 8) {
        const uint32_t x0 = tk_ld4(p0), x1 = tk_ld4(p1);
        const uint32_t x0e = tk_sxtb16(x0), x0o = tk_sxtb16_ror8(x0);
        const uint32_t x1e = tk_sxtb16(x1), x1o = tk_sxtb16_ror8(x1);
#if TK_CONV_W16
        const int8_t *pb = (const int8_t *)pw;
        const uint32_t ue = tk_ld4(pb), uo = tk_ld4(pb + 4);
        const uint32_t ve = tk_ld4(pb + 8), vo = tk_ld4(pb + 12);
#else
        const uint32_t u = tk_ld4(pw), v = tk_ld4(pw + 4);
        const uint32_t ue = tk_sxtb16(u), uo = tk_sxtb16_ror8(u);
        const uint32_t ve = tk_sxtb16(v), vo = tk_sxtb16_ror8(v);
#endif
        c00 = tk_smlad(x0o, uo, tk_smlad(x0e, ue, c00));
        c10 = tk_smlad(x1o, uo, tk_smlad(x1e, ue, c10));
        c01 = tk_smlad(x0o, vo, tk_smlad(x0e, ve, c01));
        c11 = tk_smlad(x1o, vo, tk_smlad(x1e, ve, c11));
    }
#elif TK_NN_SIMD
    /* the same in assembly: fourteen live registers, more than gcc keeps without spilling;
     * unrolled twice, entered in the middle when n is odd */
    uint32_t x0, x1, t0, t1, u, ue;
    __asm__ volatile(
        "adds   %[n], %[n], #1\n\t"
        "lsrs   %[n], %[n], #1\n\t"
        "bcc    2f\n"
        "1:\n\t"
        TK_MAC2x2_BODY
        "2:\n\t"
        TK_MAC2x2_BODY
        "subs   %[n], %[n], #1\n\t"
        "bne    1b\n\t"
        : [p0] "+r"(p0), [p1] "+r"(p1), [pw] "+r"(pw), [n] "+r"(n),
          [c00] "+r"(c00), [c01] "+r"(c01), [c10] "+r"(c10), [c11] "+r"(c11),
          [x0] "=&r"(x0), [x1] "=&r"(x1), [t0] "=&r"(t0), [t1] "=&r"(t1), [u] "=&r"(u),
          [ue] "=&r"(ue)
        :
        : "cc", "memory");
#else
    /* unrolled by hand (gcc -O2 keeps a four-step inner loop as a loop), indexed like this:
     * one add fewer per group than advancing both pixels' pointers */
#define TK_MAC2x2_TAP(j)                                            \
        {                                                           \
            const int32_t x0 = p0[k + j], x1 = p1[k + j], u = pw[j], v = pw[4 + j]; \
            c00 += x0 * u;                                          \
            c01 += x0 * v;                                          \
            c10 += x1 * u;                                          \
            c11 += x1 * v;                                          \
        }
    const int32_t n4 = 4 * n;
    for (int32_t k = 0; k < n4; k += 4, pw += 8) {
        TK_MAC2x2_TAP(0) TK_MAC2x2_TAP(1) TK_MAC2x2_TAP(2) TK_MAC2x2_TAP(3)
    }
    p0 += n4, p1 += n4;
#undef TK_MAC2x2_TAP
#endif
    *a0 = p0, *a1 = p1, *w = pw;
    *s00 = c00, *s01 = c01, *s10 = c10, *s11 = c11;
}

#if TK_NN_SIMD && !defined(TK_DSP_EMULATE_SIMD)
#define TK_CONV_ASM 1
/* All channel pairs of two pixels in one assembly loop, for the fast output stage (every
 * channel's tk_requant_fast exact): per pair, the raw sums start at the folded biases, run over
 * `lines` lines of n4 groups of four taps (after each line both pixels' pointers move on by
 * `gap`), and go through tk_out_fw_s8; with `clamp` the four bytes are then clamped to [lo, hi]
 * at once (SSUB8 sets a flag per byte, SEL picks). The fields are read and advanced by the
 * assembly at these byte offsets. */
typedef struct {
    const int8_t *a0, *a1;    /* 0, 4: the pixels' first taps */
    const int32_t *fb;        /* 8: the pair's two folded biases, advanced by 8 */
    const int32_t *rq;        /* 12: its {m, e1} x 2, advanced by 16 */
    int8_t *o0, *o1;          /* 16, 20: its outputs, advanced by 2 */
    int32_t n4p;              /* 24: groups of four taps per line (>= 1), plus 1 */
    uint32_t rq_end;          /* 28: rq after the last pair (>= 1 pair), as a number */
    int32_t k1;               /* 32: tk_out_stage k1 */
    int32_t gap;              /* 36: bytes from a line's end to the next line's start */
    uint32_t end;             /* 40: a0 + lines * (4 * n4 + gap), as a number */
    uint32_t lo4, hi4;        /* 44, 48: the clamp's bounds, each in all four bytes */
} tk_conv_blk;

/* one output: the raw sum plus bias in c, {m, e1} in m, e; k1 in k */
#define TK_CONV_OUT(c, m, e, k)                     \
        "lsls   %[" c "], %[" c "], #1\n\t"         \
        "smmulr %[" c "], %[" c "], %[" m "]\n\t"   \
        "sub    %[" c "], %[" c "], %[" c "], lsr #31\n\t" \
        "asrs   %[" c "], %[" c "], %[" e "]\n\t"   \
        "add    %[" c "], %[" c "], %[" k "]\n\t"   \
        "ssat   %[" c "], #8, %[" c "], asr #1\n\t"

/* The same for taps widened beforehand (tk_conv_widen): per group of four taps a pixel has two
 * words, its taps 0, 2 and 1, 3 as int16 pairs, read at once (LDRD; 4-byte aligned): sixteen
 * instructions per group instead of twenty, twelve with the widened filter. */
#if TK_CONV_W16
#define TK_CONV_MAC16_BODY                      \
        "ldrd   %[x0], %[t0], [%[p0]], #8\n\t"  \
        "ldrd   %[x1], %[t1], [%[p1]], #8\n\t"  \
        "ldrd   %[u], %[ue], [%[pw]], #8\n\t"   \
        "smlad  %[c00], %[x0], %[u], %[c00]\n\t" \
        "smlad  %[c00], %[t0], %[ue], %[c00]\n\t" \
        "smlad  %[c10], %[x1], %[u], %[c10]\n\t" \
        "smlad  %[c10], %[t1], %[ue], %[c10]\n\t" \
        "ldrd   %[u], %[ue], [%[pw]], #8\n\t"   \
        "smlad  %[c01], %[x0], %[u], %[c01]\n\t" \
        "smlad  %[c01], %[t0], %[ue], %[c01]\n\t" \
        "smlad  %[c11], %[x1], %[u], %[c11]\n\t" \
        "smlad  %[c11], %[t1], %[ue], %[c11]\n\t"
#else
#define TK_CONV_MAC16_BODY                      \
        "ldrd   %[x0], %[t0], [%[p0]], #8\n\t"  \
        "ldrd   %[x1], %[t1], [%[p1]], #8\n\t"  \
        "ldr    %[u], [%[pw]], #4\n\t"          \
        "sxtb16 %[ue], %[u]\n\t"                \
        "sxtb16 %[u], %[u], ror #8\n\t"         \
        "smlad  %[c00], %[x0], %[ue], %[c00]\n\t" \
        "smlad  %[c00], %[t0], %[u], %[c00]\n\t"  \
        "smlad  %[c10], %[x1], %[ue], %[c10]\n\t" \
        "smlad  %[c10], %[t1], %[u], %[c10]\n\t"  \
        "ldr    %[u], [%[pw]], #4\n\t"          \
        "sxtb16 %[ue], %[u]\n\t"                \
        "sxtb16 %[u], %[u], ror #8\n\t"         \
        "smlad  %[c01], %[x0], %[ue], %[c01]\n\t" \
        "smlad  %[c01], %[t0], %[u], %[c01]\n\t"  \
        "smlad  %[c11], %[x1], %[ue], %[c11]\n\t" \
        "smlad  %[c11], %[t1], %[u], %[c11]\n\t"
#endif

/* The channel pairs up to b->rq_end; w: the first pair's weights; returns the weights after the
 * last.
 * x16: a0, a1 are widened columns (one line). */
static inline const tk_cw *tk_conv_pairs_asm(tk_conv_blk *b, const tk_cw *w, int32_t lines,
                                             int32_t clamp, int32_t x16) {
    const tk_cw *pw = w;
    const int8_t *p0, *p1;
    int32_t n, c00, c01, c10, c11;
    uint32_t x0, x1, t0, t1, u, ue;
    tk_conv_blk *volatile bp = b;
#define TK_CONV_PAIR_HEAD(BODY)                         \
        "1:\n\t"                                        \
        "ldr    %[u], %[bp]\n\t"                        \
        "ldrd   %[p0], %[p1], [%[u], #0]\n\t"           \
        "ldr    %[t0], [%[u], #8]\n\t"                  \
        "ldrd   %[c00], %[c01], [%[t0]], #8\n\t"        \
        "str    %[t0], [%[u], #8]\n\t"                  \
        "mov    %[c10], %[c00]\n\t"                     \
        "mov    %[c11], %[c01]\n\t"                     \
        "2:\n\t"                                        \
        "ldr    %[n], [%[u], #24]\n\t"                  \
        "lsrs   %[n], %[n], #1\n\t"                     \
        "bcc    4f\n"                                   \
        "3:\n\t"                                        \
        BODY                                            \
        "4:\n\t"                                        \
        BODY                                            \
        "subs   %[n], %[n], #1\n\t"                     \
        "bne    3b\n\t"                                 \
        "ldr    %[u], %[bp]\n\t"
#define TK_CONV_PAIR_TAIL                               \
        "ldr    %[t0], [%[u], #12]\n\t"                 \
        "ldrd   %[x0], %[x1], [%[t0]], #8\n\t"          \
        "ldrd   %[p0], %[p1], [%[t0]], #8\n\t"          \
        "str    %[t0], [%[u], #12]\n\t"                 \
        "ldr    %[t1], [%[u], #32]\n\t"                 \
        TK_CONV_OUT("c00", "x0", "x1", "t1")            \
        TK_CONV_OUT("c10", "x0", "x1", "t1")            \
        TK_CONV_OUT("c01", "p0", "p1", "t1")            \
        TK_CONV_OUT("c11", "p0", "p1", "t1")            \
        "ldrd   %[x0], %[x1], [%[u], #16]\n\t"
#define TK_CONV_PAIR_STORE                              \
        "strb   %[c00], [%[x0]], #1\n\t"                \
        "strb   %[c01], [%[x0]], #1\n\t"                \
        "strb   %[c10], [%[x1]], #1\n\t"                \
        "strb   %[c11], [%[x1]], #1\n\t"
#define TK_CONV_PAIR_CLAMP_STORE                        \
        "bfi    %[c00], %[c01], #8, #8\n\t"             \
        "bfi    %[c00], %[c10], #16, #8\n\t"            \
        "bfi    %[c00], %[c11], #24, #8\n\t"            \
        "ldrd   %[p0], %[p1], [%[u], #44]\n\t"          \
        "ssub8  %[ue], %[c00], %[p0]\n\t"               \
        "sel    %[c00], %[c00], %[p0]\n\t"              \
        "ssub8  %[ue], %[c00], %[p1]\n\t"               \
        "sel    %[c00], %[p1], %[c00]\n\t"              \
        "strh   %[c00], [%[x0]], #2\n\t"                \
        "lsrs   %[c00], %[c00], #16\n\t"                \
        "strh   %[c00], [%[x1]], #2\n\t"
#define TK_CONV_PAIR_NEXT                               \
        "strd   %[x0], %[x1], [%[u], #16]\n\t"          \
        "ldr    %[n], [%[u], #28]\n\t"                  \
        "cmp    %[t0], %[n]\n\t"                        \
        "bne    1b\n\t"
#define TK_CONV_NEXT_LINE                               \
        "ldr    %[t0], [%[u], #36]\n\t"                 \
        "add    %[p0], %[p0], %[t0]\n\t"                \
        "add    %[p1], %[p1], %[t0]\n\t"                \
        "ldr    %[t0], [%[u], #40]\n\t"                 \
        "cmp    %[p0], %[t0]\n\t"                       \
        "bne    2b\n\t"
#define TK_CONV_OPERANDS                                                                    \
        : [p0] "=&r"(p0), [p1] "=&r"(p1), [pw] "+r"(pw), [n] "=&r"(n),                      \
          [c00] "=&r"(c00), [c01] "=&r"(c01), [c10] "=&r"(c10), [c11] "=&r"(c11),           \
          [x0] "=&r"(x0), [x1] "=&r"(x1), [t0] "=&r"(t0), [t1] "=&r"(t1), [u] "=&r"(u),     \
          [ue] "=&r"(ue)                                                                    \
        : [bp] "m"(bp)                                                                      \
        : "cc", "memory"
    if (x16 && !clamp) {
        __asm__ volatile(TK_CONV_PAIR_HEAD(TK_CONV_MAC16_BODY) TK_CONV_PAIR_TAIL
                         TK_CONV_PAIR_STORE TK_CONV_PAIR_NEXT TK_CONV_OPERANDS);
    } else if (x16) {
        __asm__ volatile(TK_CONV_PAIR_HEAD(TK_CONV_MAC16_BODY) TK_CONV_PAIR_TAIL
                         TK_CONV_PAIR_CLAMP_STORE TK_CONV_PAIR_NEXT TK_CONV_OPERANDS);
    } else if (lines == 1 && !clamp) {
        __asm__ volatile(TK_CONV_PAIR_HEAD(TK_MAC2x2_BODY) TK_CONV_PAIR_TAIL TK_CONV_PAIR_STORE
                         TK_CONV_PAIR_NEXT TK_CONV_OPERANDS);
    } else if (lines == 1) {
        __asm__ volatile(TK_CONV_PAIR_HEAD(TK_MAC2x2_BODY) TK_CONV_PAIR_TAIL
                         TK_CONV_PAIR_CLAMP_STORE TK_CONV_PAIR_NEXT TK_CONV_OPERANDS);
    } else if (!clamp) {
        __asm__ volatile(TK_CONV_PAIR_HEAD(TK_MAC2x2_BODY) TK_CONV_NEXT_LINE TK_CONV_PAIR_TAIL
                         TK_CONV_PAIR_STORE TK_CONV_PAIR_NEXT TK_CONV_OPERANDS);
    } else {
        __asm__ volatile(TK_CONV_PAIR_HEAD(TK_MAC2x2_BODY) TK_CONV_NEXT_LINE TK_CONV_PAIR_TAIL
                         TK_CONV_PAIR_CLAMP_STORE TK_CONV_PAIR_NEXT TK_CONV_OPERANDS);
    }
#undef TK_CONV_PAIR_HEAD
#undef TK_CONV_PAIR_TAIL
#undef TK_CONV_PAIR_STORE
#undef TK_CONV_PAIR_CLAMP_STORE
#undef TK_CONV_PAIR_NEXT
#undef TK_CONV_NEXT_LINE
#undef TK_CONV_OPERANDS
    (void)p0, (void)p1, (void)n, (void)c00, (void)c01, (void)c10, (void)c11;
    (void)x0, (void)x1, (void)t0, (void)t1, (void)u, (void)ue;
    return pw;
}
#undef TK_CONV_OUT
#undef TK_CONV_MAC16_BODY

/* n4 >= 1 groups of four int8 taps to the widened form of TK_CONV_MAC16_BODY (d 4-byte
 * aligned) */
static inline void tk_conv_widen(const int8_t *x, int32_t n4, uint32_t *d) {
    uint32_t v, e, o;
    __asm__ volatile(
        "1:\n\t"
        "ldr    %[v], [%[x]], #4\n\t"
        "sxtb16 %[e], %[v]\n\t"
        "sxtb16 %[o], %[v], ror #8\n\t"
        "strd   %[e], %[o], [%[d]], #8\n\t"
        "subs   %[n], %[n], #1\n\t"
        "bne    1b\n\t"
        : [x] "+r"(x), [d] "+r"(d), [n] "+r"(n4), [v] "=&r"(v), [e] "=&r"(e), [o] "=&r"(o)
        :
        : "cc", "memory");
}
#endif

#ifndef TK_CONV_ASM
#define TK_CONV_ASM 0
#endif

/* 3-pixel x 4-channel blocks in portable C where the core has registers for them (RISC-V: 31;
 * the host builds test them): not on Arm cores without the DSP extension (Cortex-M3: 13). */
#if !TK_NN_SIMD && !defined(__arm__) && !defined(__thumb__)
#define TK_CONV_QUAD 1
#define TK_CONV_QUAD_BYTES 1024     /* the interleaved columns (four bytes a tap, up to 256 taps) */
/* gcc's scheduling before register allocation hoists the block's loads until the twelve sums
 * spill (RV32: 43 stack accesses per loop); without it none do */
#if defined(__GNUC__) && !defined(__clang__)
#define TK_CONV_NOSCHED __attribute__((optimize("no-schedule-insns")))
#else
#define TK_CONV_NOSCHED
#endif
#else
#define TK_CONV_QUAD 0
#endif

/* The stack buffer of the in-place path's border columns (the 1x1 and im2col paths' is
 * TK_CONV_STACK_BYTES) */
#define TK_CONV_WIDE_BYTES 288

/* The 2x2 block's four outputs from its raw sums: channels oc, oc+1 (their folded biases fb[0],
 * fb[1]; rq points at oc's pair of words) of the two pixels. */
static inline __attribute__((always_inline)) void tk_conv_out2x2(
    const tk_out_stage *q, const int32_t *rq, int32_t oc, const int32_t *fb, int32_t s00,
    int32_t s01, int32_t s10, int32_t s11, int8_t *o0, int8_t *o1) {
    s00 = tk_add_wrap_s32(fb[0], s00);
    s10 = tk_add_wrap_s32(fb[0], s10);
    s01 = tk_add_wrap_s32(fb[1], s01);
    s11 = tk_add_wrap_s32(fb[1], s11);
    if (q->fast && q->wide) {
        const int32_t k1 = q->k1;
        o0[0] = tk_out_fw_s8(s00, rq[0], rq[1], k1);
        o1[0] = tk_out_fw_s8(s10, rq[0], rq[1], k1);
        o0[1] = tk_out_fw_s8(s01, rq[2], rq[3], k1);
        o1[1] = tk_out_fw_s8(s11, rq[2], rq[3], k1);
    } else {
        o0[0] = tk_out_s8(q, s00, oc);
        o0[1] = tk_out_s8(q, s01, oc + 1);
        o1[0] = tk_out_s8(q, s10, oc);
        o1[1] = tk_out_s8(q, s11, oc + 1);
    }
}

/* The raw sums of one channel's n weights in order (w) with two pixels' n bytes. */
static inline void tk_dot1x2_s8(const int8_t *a0, const int8_t *a1, const tk_cw *w, int32_t n,
                                int32_t *s0, int32_t *s1) {
    int32_t c0 = *s0, c1 = *s1;
    for (int32_t k = 0; k < n; ++k) {
        const int32_t u = w[k];
        c0 += a0[k] * u;
        c1 += a1[k] * u;
    }
    *s0 = c0, *s1 = c1;
}
#endif
