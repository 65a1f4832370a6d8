/* FULLY_CONNECTED int8, accum_depth <= 32 (fully_connected_s8_small.h). Same sums as
 * tk_fully_connected_s8: acc = folded_bias[o] + sum_d x[d] * w[o][d], every product below 2^14 in
 * magnitude, so the raw dot product of at most 32 terms fits int32 and the bias is added with
 * wrap-around like TFLM's int32 sum (the SIMD path starts at it; the padding contributes 0).
 * Four rows per pass; the group loop has a constant trip count G per function and is unrolled.
 * SIMD path: the input is split once per batch into its even and odd int16 lanes (SXTB16); per
 * group of four inputs and block of four rows, one LDRD of the input lanes, then either two LDRD
 * of int8 weights, eight SXTB16 and eight SMLAD, or (weights widened by the compiler) four LDRD
 * and eight SMLAD. The output stage is tk_requant_fast, then one saturation (or the clamp). */
/* Included by fully_connected_s8_g<G>.c and fully_connected_s8_g<G>w.c, one kernel per file, so
 * an image carries only the kernels its model calls. */
#ifndef FULLY_CONNECTED_S8_SMALL_IMPL_H
#define FULLY_CONNECTED_S8_SMALL_IMPL_H

#include "fully_connected_s8_small.h"

#if defined(__GNUC__)
#define TK_FCS_INLINE static inline __attribute__((always_inline))
#else
#define TK_FCS_INLINE static inline
#endif

/* acc2 is twice the TFLM accumulator, wrapped (the table holds doubled biases, the SIMD path
 * doubled input lanes): exactly the x2 = x << 1 that tk_requant_fast starts from, so the rest is
 * tk_requant_fast's (exact where the compiler chose this kernel: |acc| < 2^30, right shifts). */
TK_FCS_INLINE int8_t tk_fcs_out(int32_t acc2, const int32_t *rq, int32_t k1, int32_t lo,
                                int32_t hi, int wide) {
#if TK_NN_SIMD
    const int32_t h = tk_smmulr(acc2, rq[0]);
#else
    const int32_t h = (int32_t)(((int64_t)acc2 * rq[0] + ((int64_t)1 << 31)) >> 32);
#endif
    const int32_t r = ((h - (h < 0 ? 1 : 0)) >> rq[1]) + k1;
    return (int8_t)(wide ? tk_ssat8(r >> 1) : tk_clamp(r >> 1, lo, hi));
}

#if TK_NN_SIMD
typedef struct {
    /* per group: even lanes, odd lanes; after the G groups, four words of the assembly block
     * loop's state (tk_fcs_blocks16) */
    uint32_t eo[2 * TK_FC_SMALL_MAX_GROUPS + 4];
} tk_fcs_x;

/* 2x[0 .. D-1] zero-padded to 4G values (4G - 3 <= D <= 4G), each group as even and odd lanes; x
 * is not read past D: the last group is the word ending at x[D - 1] shifted down (when D >= 4) */
TK_FCS_INLINE uint32_t tk_fcs_twice(uint32_t lanes) {   /* both int16 lanes doubled */
    return (lanes << 1) & 0xFFFEFFFFu;      /* bit 16 held lane 0's sign: |2x| < 2^15 */
}

TK_FCS_INLINE void tk_fcs_load(const int8_t *x, int32_t D, int32_t G, tk_fcs_x *v) {
    for (int32_t g = 0; g < G - 1; ++g) {
        const uint32_t u = tk_ld4(x + 4 * g);
        v->eo[2 * g] = tk_fcs_twice(tk_sxtb16(u));
        v->eo[2 * g + 1] = tk_fcs_twice(tk_sxtb16_ror8(u));
    }
    uint32_t u = 0;
    if (D >= 4) {
        u = tk_ld4(x + D - 4) >> (8 * (4 * G - D));
    } else {
        for (int32_t t = 0; t < D; ++t) u |= (uint32_t)(uint8_t)x[t] << (8 * t);
    }
    v->eo[2 * G - 2] = tk_fcs_twice(tk_sxtb16(u));
    v->eo[2 * G - 1] = tk_fcs_twice(tk_sxtb16_ror8(u));
}

#if defined(TK_DSP_EMULATE_SIMD)
/* four accumulators s[] from the biases b[] plus G groups; *pw advanced past the block */
TK_FCS_INLINE void tk_fcs_block(const tk_fcs_x *v, const int8_t **pw, int32_t G, int x16,
                                const int32_t **pb, int32_t s[4]) {
    const int8_t *w = *pw;
    const int32_t *b = *pb;
    for (int32_t j = 0; j < 4; ++j) s[j] = b[j];
    for (int32_t g = 0; g < G; ++g) {
        const uint32_t xe = v->eo[2 * g], xo = v->eo[2 * g + 1];
        for (int32_t j = 0; j < 4; ++j) {
            if (x16) {                  /* {w0, w2}, {w1, w3} as int16 lanes */
                s[j] = tk_smlad(xo, tk_ld4(w + 8 * j + 4), tk_smlad(xe, tk_ld4(w + 8 * j), s[j]));
            } else {
                const uint32_t u = tk_ld4(w + 4 * j);
                s[j] = tk_smlad(xo, tk_sxtb16_ror8(u), tk_smlad(xe, tk_sxtb16(u), s[j]));
            }
        }
        w += x16 ? 32 : 16;
    }
    *pw = w;
    *pb = b + 4;
}
#else
#define TK_FCS_ROW8(s, u)                               \
    "sxtb16 %[ue], %[" #u "]\n\t"                       \
    "sxtb16 %[" #u "], %[" #u "], ror #8\n\t"           \
    "smlad  %[" #s "], %[xe], %[ue], %[" #s "]\n\t"     \
    "smlad  %[" #s "], %[xo], %[" #u "], %[" #s "]\n\t"
#define TK_FCS_ROW16(s)                                 \
    "ldrd   %[u0], %[u1], [%[pw]], #8\n\t"              \
    "smlad  %[" #s "], %[xe], %[u0], %[" #s "]\n\t"     \
    "smlad  %[" #s "], %[xo], %[u1], %[" #s "]\n\t"
/* the same in assembly, unrolled G times by the assembler (.rept) */
TK_FCS_INLINE void tk_fcs_block(const tk_fcs_x *v, const int8_t **pw, int32_t G, int x16,
                                const int32_t **pb, int32_t s[4]) {
    const uint32_t *px = v->eo;
    const int32_t *b = *pb;
    const int8_t *w = *pw;
    int32_t s0, s1, s2, s3;
    uint32_t xe, xo, u0, u1, ue;
    if (x16) {
        __asm__("ldrd   %[s0], %[s1], [%[b]], #8\n\t"
                "ldrd   %[s2], %[s3], [%[b]], #8\n\t"
                ".rept %c[G]\n\t"
                "ldrd   %[xe], %[xo], [%[px]], #8\n\t"
                TK_FCS_ROW16(s0) TK_FCS_ROW16(s1) TK_FCS_ROW16(s2) TK_FCS_ROW16(s3)
                ".endr\n\t"
                : [px] "+r"(px), [pw] "+r"(w), [b] "+r"(b), [s0] "=&r"(s0), [s1] "=&r"(s1), [s2] "=&r"(s2),
                  [s3] "=&r"(s3), [xe] "=&r"(xe), [xo] "=&r"(xo), [u0] "=&r"(u0),
                  [u1] "=&r"(u1)
                : [G] "i"(G), "m"(*(const int32_t(*)[4])b),
                  "m"(*(const uint32_t(*)[2 * TK_FC_SMALL_MAX_GROUPS])v->eo),
                  "m"(*(const int8_t(*)[32 * TK_FC_SMALL_MAX_GROUPS]) * pw));
    } else {
        __asm__("ldrd   %[s0], %[s1], [%[b]], #8\n\t"
                "ldrd   %[s2], %[s3], [%[b]], #8\n\t"
                ".rept %c[G]\n\t"
                "ldrd   %[xe], %[xo], [%[px]], #8\n\t"
                "ldrd   %[u0], %[u1], [%[pw]], #8\n\t"
                TK_FCS_ROW8(s0, u0) TK_FCS_ROW8(s1, u1)
                "ldrd   %[u0], %[u1], [%[pw]], #8\n\t"
                TK_FCS_ROW8(s2, u0) TK_FCS_ROW8(s3, u1)
                ".endr\n\t"
                : [px] "+r"(px), [pw] "+r"(w), [b] "+r"(b), [s0] "=&r"(s0), [s1] "=&r"(s1), [s2] "=&r"(s2),
                  [s3] "=&r"(s3), [xe] "=&r"(xe), [xo] "=&r"(xo), [u0] "=&r"(u0),
                  [u1] "=&r"(u1), [ue] "=&r"(ue)
                : [G] "i"(G), "m"(*(const int32_t(*)[4])b),
                  "m"(*(const uint32_t(*)[2 * TK_FC_SMALL_MAX_GROUPS])v->eo),
                  "m"(*(const int8_t(*)[16 * TK_FC_SMALL_MAX_GROUPS]) * pw));
    }
    (void)ue;
    *pw = w;
    *pb = b;
    s[0] = s0, s[1] = s1, s[2] = s2, s[3] = s3;
}

/* Every full block of four rows with widened weights, the output stage included, in assembly:
 * per block four biases (LDM), G groups of one LDRD of input lanes and four rows' LDRD + 2 SMLAD,
 * then per row LDRD of {multiplier, e1}, SMMULR, the rounding, SSAT (and the clamp) and STRB.
 * The state words v->eo[2G ..] = {k1, end of the full blocks' outputs, act_min, act_max}. */
#define TK_FCS_OUT(s, clamp)                            \
    "ldrd   %[u0], %[u1], [%[prq]], #8\n\t"             \
    "smmulr %[" #s "], %[" #s "], %[u0]\n\t"            \
    "sub    %[" #s "], %[" #s "], %[" #s "], lsr #31\n\t" \
    "asr    %[" #s "], %[" #s "], %[u1]\n\t"            \
    "add    %[" #s "], %[" #s "], %[xe]\n\t"            \
    "ssat   %[" #s "], #8, %[" #s "], asr #1\n\t"       \
    clamp                                               \
    "strb   %[" #s "], [%[po]], #1\n\t"
#define TK_FCS_CLAMP(s)                                 \
    "ldrd   %[u0], %[u1], [%[px], #8]\n\t"              \
    "cmp    %[" #s "], %[u0]\n\t"                       \
    "it     lt\n\t"                                     \
    "movlt  %[" #s "], %[u0]\n\t"                       \
    "cmp    %[" #s "], %[u1]\n\t"                       \
    "it     gt\n\t"                                     \
    "movgt  %[" #s "], %[u1]\n\t"
/* one group, unrolled by the preprocessor (not .rept: GCC sizes an asm statement by its lines,
 * and places literal pools by that size) */
#define TK_FCS_GRP                                                              \
    "ldrd   %[xe], %[xo], [%[px]], #8\n\t"                                      \
    TK_FCS_ROW16(s0) TK_FCS_ROW16(s1) TK_FCS_ROW16(s2) TK_FCS_ROW16(s3)
#define TK_FCS_GRP2 TK_FCS_GRP TK_FCS_GRP
#define TK_FCS_GRP4 TK_FCS_GRP2 TK_FCS_GRP2
#define TK_FCS_BLOCKS(groups, c0, c1, c2, c3)                                   \
    "1:\n\t"                                                                    \
    "ldm    %[pb]!, {%[s0], %[s1], %[s2], %[s3]}\n\t"                           \
    groups                                                                      \
    "ldr    %[xe], [%[px]]\n\t"                                                 \
    TK_FCS_OUT(s0, c0) TK_FCS_OUT(s1, c1) TK_FCS_OUT(s2, c2) TK_FCS_OUT(s3, c3) \
    "ldr    %[xo], [%[px], #4]\n\t"                                             \
    "sub    %[px], %[px], %[G8]\n\t"                                            \
    "cmp    %[po], %[xo]\n\t"                                                   \
    "bne    1b\n\t"
TK_FCS_INLINE void tk_fcs_blocks16(tk_fcs_x *v, const int8_t **pw, const int32_t **pb,
                                   const int32_t **prq, int8_t **pout, int32_t G, int wide) {
    register const int8_t *w __asm__("r0") = *pw;
    register const uint32_t *px __asm__("r1") = v->eo;
    register int32_t s0 __asm__("r2"), s1 __asm__("r3"), s2 __asm__("r4"), s3 __asm__("r5");
    register uint32_t xe __asm__("r6"), xo __asm__("r8"), u0 __asm__("r9"), u1 __asm__("r10");
    register const int32_t *b __asm__("r11") = *pb;
    register const int32_t *rq __asm__("r12") = *prq;
    register int8_t *out __asm__("lr") = *pout;
#define TK_FCS_OPERANDS                                                                     \
    : [pw] "+r"(w), [px] "+r"(px), [pb] "+r"(b), [prq] "+r"(rq), [po] "+r"(out),           \
      [s0] "=&r"(s0), [s1] "=&r"(s1), [s2] "=&r"(s2), [s3] "=&r"(s3), [xe] "=&r"(xe),       \
      [xo] "=&r"(xo), [u0] "=&r"(u0), [u1] "=&r"(u1)                                        \
    : [G8] "i"(8 * G)                                                                       \
    : "cc", "memory"
#define TK_FCS_CASE(n, groups)                                                              \
    case n:                                                                                 \
        if (wide) {                                                                         \
            __asm__ volatile(TK_FCS_BLOCKS(groups, "", "", "", "") TK_FCS_OPERANDS);        \
        } else {                                                                            \
            __asm__ volatile(TK_FCS_BLOCKS(groups, TK_FCS_CLAMP(s0), TK_FCS_CLAMP(s1),      \
                                           TK_FCS_CLAMP(s2), TK_FCS_CLAMP(s3))              \
                             TK_FCS_OPERANDS);                                              \
        }                                                                                   \
        break;
    switch (G) {                        /* a constant in each kernel: one case remains */
        TK_FCS_CASE(1, TK_FCS_GRP)
        TK_FCS_CASE(2, TK_FCS_GRP2)
        TK_FCS_CASE(3, TK_FCS_GRP2 TK_FCS_GRP)
        TK_FCS_CASE(4, TK_FCS_GRP4)
        TK_FCS_CASE(5, TK_FCS_GRP4 TK_FCS_GRP)
        TK_FCS_CASE(6, TK_FCS_GRP4 TK_FCS_GRP2)
        TK_FCS_CASE(7, TK_FCS_GRP4 TK_FCS_GRP2 TK_FCS_GRP)
        default:
        TK_FCS_CASE(8, TK_FCS_GRP4 TK_FCS_GRP4)
    }
#undef TK_FCS_CASE
#undef TK_FCS_OPERANDS
    *pw = w, *pb = b, *prq = rq, *pout = out;
}
#undef TK_FCS_BLOCKS
#undef TK_FCS_GRP4
#undef TK_FCS_GRP2
#undef TK_FCS_GRP
#undef TK_FCS_CLAMP
#undef TK_FCS_OUT
#undef TK_FCS_ROW8
#undef TK_FCS_ROW16
#endif
#else
typedef struct {
    int8_t b[4 * TK_FC_SMALL_MAX_GROUPS];
} tk_fcs_x;

TK_FCS_INLINE void tk_fcs_load(const int8_t *x, int32_t D, int32_t G, tk_fcs_x *v) {
    for (int32_t d = 0; d < 4 * G; ++d) v->b[d] = d < D ? x[d] : 0;
}

/* portable: int8 weights in input order, or int16 ones in the order w0, w2, w1, w3 */
TK_FCS_INLINE void tk_fcs_block(const tk_fcs_x *v, const int8_t **pw, int32_t G, int x16,
                                const int32_t **pb, int32_t s[4]) {
    int32_t a[4] = {0, 0, 0, 0};       /* |sum| <= 32 * 2^14: doubled, it still fits */
    const int8_t *w = *pw;
    for (int32_t g = 0; g < G; ++g) {
        const int8_t *x = v->b + 4 * g;
        for (int32_t j = 0; j < 4; ++j) {
            if (x16) {
                int16_t u[4];
                memcpy(u, w + 8 * j, sizeof u);
                a[j] += x[0] * u[0] + x[2] * u[1] + x[1] * u[2] + x[3] * u[3];
            } else {
                const int8_t *u = w + 4 * j;
                a[j] += x[0] * u[0] + x[1] * u[1] + x[2] * u[2] + x[3] * u[3];
            }
        }
        w += x16 ? 32 : 16;
    }
    *pw = w;
    const int32_t *b = *pb;
    for (int32_t j = 0; j < 4; ++j) s[j] = tk_add_wrap_s32(b[j], 2 * a[j]);
    *pb = b + 4;
}
#endif

TK_FCS_INLINE void tk_fcs_run(const tk_fc_small_params *p, const int8_t *input,
                              const int8_t *weights, int8_t *output, const int32_t G,
                              const int x16, const int wide) {
    const int32_t D = p->accum_depth, rows = p->output_depth, k1 = p->k1;
    const int32_t lo = p->act_min, hi = p->act_max, batches = p->batches;
    const int32_t *const rq0 = p->rq, *const bias0 = p->folded_bias;
    for (int32_t b = 0; b < batches; ++b) {
        tk_fcs_x v;
        tk_fcs_load(input + b * D, D, G, &v);
        int8_t *out = output + b * rows;
        int8_t *const end = out + (rows & ~3);
        const int8_t *w = weights;
        const int32_t *bias = bias0, *rq = rq0;
        int32_t s[4];
#if TK_NN_SIMD && !defined(TK_DSP_EMULATE_SIMD)
        if (x16 && out != end) {
            v.eo[2 * G] = (uint32_t)k1;
            v.eo[2 * G + 1] = (uint32_t)(uintptr_t)end;
            if (!wide) {                /* (constants there: a literal pool too far off) */
                v.eo[2 * G + 2] = (uint32_t)lo;
                v.eo[2 * G + 3] = (uint32_t)hi;
            }
            tk_fcs_blocks16(&v, &w, &bias, &rq, &out, G, wide);
        }
#endif
        for (; out != end; out += 4, rq += 8) {
            tk_fcs_block(&v, &w, G, x16, &bias, s);
            out[0] = tk_fcs_out(s[0], rq, k1, lo, hi, wide);
            out[1] = tk_fcs_out(s[1], rq + 2, k1, lo, hi, wide);
            out[2] = tk_fcs_out(s[2], rq + 4, k1, lo, hi, wide);
            out[3] = tk_fcs_out(s[3], rq + 6, k1, lo, hi, wide);
        }
        if (rows & 3) {                 /* 1 to 3 rows, in a block padded with zero rows */
            tk_fcs_block(&v, &w, G, x16, &bias, s);
            out[0] = tk_fcs_out(s[0], rq, k1, lo, hi, wide);
            if ((rows & 3) > 1) out[1] = tk_fcs_out(s[1], rq + 2, k1, lo, hi, wide);
            if ((rows & 3) > 2) out[2] = tk_fcs_out(s[2], rq + 4, k1, lo, hi, wide);
        }
    }
}

/* the kernel tk_fully_connected_s8_g<G>[w]: full-range outputs skip the clamp */
TK_FCS_INLINE void tk_fcs_kernel(const tk_fc_small_params *p, const int8_t *input,
                                 const int8_t *weights, int8_t *output, const int32_t G,
                                 const int x16) {
    if (p->act_min == -128 && p->act_max == 127) {
        tk_fcs_run(p, input, weights, output, G, x16, 1);
    } else {
        tk_fcs_run(p, input, weights, output, G, x16, 0);
    }
}

#endif
