/* FULLY_CONNECTED int8 two rows per pass (fully_connected_s8_pairs.h for the weight layout).
 * TFLM's accumulator is folded_bias + x . w (fully_connected_s8.c); here each pass yields, for a
 * row pair (a, b), e = x . a and f = 256 * (x . b) + x . a mod 2^32, so x . b = (f - e) / 256
 * exactly (|x . b| < 2^23, checked by the compiler). The output stage takes twice the
 * accumulator, fb2 + 2e and fb2 + (f - e) / 128, into tk_requant_fast's steps (the compiler chose
 * this kernel only where they are exact: |acc| < 2^30, right shifts).
 * DSP path: one batch's input split once into int16 lanes on the stack (SXTB16: per eight
 * inputs (x0, x2), (x1, x3), (x4, x6), (x5, x7)); per group of eight inputs and row pair, one LDM
 * of four input words, one LDM of four weight words, then per word SMLAD, SXTB16, SMLAD: 14
 * instructions per 16 multiply-accumulates, the group loop unrolled eight times.
 * Portable path: the same words read as int16 halves (256 b + a) and their low bytes (a). */
#include "fully_connected_s8_pairs.h"
#include "fully_connected_s8_mve.h"
#include "fully_connected_s8_rows.h"

#include <string.h>

#if TK_NN_SIMD
/* x[0 .. D-1] as int16 lanes, per group of eight four words, the last group zero-padded (x is
 * not read past D) */
static void tk_fcp_split(const int8_t *x, int32_t D, uint32_t *xb) {
    const int32_t D8 = D & ~7;
#if defined(TK_DSP_EMULATE_SIMD)
    for (int32_t d = 0; d < D8; d += 8, xb += 4) {
        const uint32_t u = tk_ld4(x + d), v = tk_ld4(x + d + 4);
        xb[0] = tk_sxtb16(u);
        xb[1] = tk_sxtb16_ror8(u);
        xb[2] = tk_sxtb16(v);
        xb[3] = tk_sxtb16_ror8(v);
    }
#else
    if (D8 > 0) {                       /* the same: two LDR (any alignment), one STM */
        register const int8_t *px __asm__("r0") = x;
        register uint32_t *pb __asm__("r1") = xb;
        register const int8_t *end __asm__("r2") = x + D8;
        register uint32_t a0 __asm__("r3"), a1 __asm__("r4"), a2 __asm__("r5"),
            a3 __asm__("r6");
        __asm__ volatile(
            "1:\n\t"
            "ldr    %[a1], [%[px]], #4\n\t"
            "ldr    %[a3], [%[px]], #4\n\t"
            "sxtb16 %[a0], %[a1]\n\t"
            "sxtb16 %[a1], %[a1], ror #8\n\t"
            "sxtb16 %[a2], %[a3]\n\t"
            "sxtb16 %[a3], %[a3], ror #8\n\t"
            "stm    %[pb]!, {%[a0], %[a1], %[a2], %[a3]}\n\t"
            "cmp    %[px], %[end]\n\t"
            "bne    1b\n\t"
            : [px] "+r"(px), [pb] "+r"(pb), [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2),
              [a3] "=&r"(a3)
            : [end] "r"(end)
            : "cc", "memory");
        xb = pb;
    }
#endif
    if (D8 < D) {
        int8_t t[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        memcpy(t, x + D8, (size_t)(D - D8));
        const uint32_t u = tk_ld4(t), v = tk_ld4(t + 4);
        xb[0] = tk_sxtb16(u);
        xb[1] = tk_sxtb16_ror8(u);
        xb[2] = tk_sxtb16(v);
        xb[3] = tk_sxtb16_ror8(v);
    }
}

/* the state words of the assembly row loop, after the input lanes */
enum { TK_FCP_BIAS, TK_FCP_RQ, TK_FCP_OUT, TK_FCP_K1, TK_FCP_STEP, TK_FCP_END, TK_FCP_XB,
       TK_FCP_ENTRY, TK_FCP_LO, TK_FCP_HI, TK_FCP_STATE };

#if defined(TK_DSP_EMULATE_SIMD)
/* e and f of one row pair over G groups; *pw advanced past the pair's 16 * G bytes */
TK_FCP_INLINE void tk_fcp_dot(const uint32_t *xb, int32_t G, const int8_t **pw, int32_t *pe,
                              int32_t *pf) {
    const int8_t *w = *pw;
    int32_t e = 0, f = 0;
    for (int32_t g = 0; g < 4 * G; ++g, w += 4) {
        const uint32_t u = tk_ld4(w);
        f = tk_smlad(xb[g], u, f);
        e = tk_smlad(xb[g], tk_sxtb16(u), e);
    }
    *pw = w;
    *pe = e, *pf = f;
}
#else
#define TK_FCP_WORD(x, u)                               \
    "smlad  %[f], %[" #x "], %[" #u "], %[f]\n\t"       \
    "sxtb16 %[" #u "], %[" #u "]\n\t"                   \
    "smlad  %[e], %[" #x "], %[" #u "], %[e]\n\t"
#define TK_FCP_GROUP                                                \
    "ldm    %[px]!, {%[x0], %[x1], %[x2], %[x3]}\n\t"               \
    "ldm    %[pw]!, {%[u0], %[u1], %[u2], %[u3]}\n\t"               \
    TK_FCP_WORD(x0, u0) TK_FCP_WORD(x1, u1) TK_FCP_WORD(x2, u2) TK_FCP_WORD(x3, u3)
/* G groups from px on, lr at their end: the loop unrolled eight times, entered by TBB (index
 * x0 = G mod 8) at G mod 8 groups from its end */
#define TK_FCP_LOOP                                                                 \
    "tbb    [pc, %[x0]]\n\t"                                                        \
    "0:\n\t"                                                                        \
    ".byte  (1f - 0b) / 2, (8f - 0b) / 2, (7f - 0b) / 2, (6f - 0b) / 2\n\t"         \
    ".byte  (5f - 0b) / 2, (4f - 0b) / 2, (3f - 0b) / 2, (2f - 0b) / 2\n\t"         \
    "1:\n\t" TK_FCP_GROUP "2:\n\t" TK_FCP_GROUP "3:\n\t" TK_FCP_GROUP               \
    "4:\n\t" TK_FCP_GROUP "5:\n\t" TK_FCP_GROUP "6:\n\t" TK_FCP_GROUP               \
    "7:\n\t" TK_FCP_GROUP "8:\n\t" TK_FCP_GROUP                                     \
    "cmp    %[px], lr\n\t"                                                          \
    "bne    1b\n\t"
/* the same in assembly: fixed registers (LDM lists ascend); lr holds the input's end. Only an
 * odd last row takes it: one copy of its code (not inlined) */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void tk_fcp_dot(const uint32_t *xb, int32_t G, const int8_t **pw, int32_t *pe,
                              int32_t *pf) {
    register const int8_t *w __asm__("r0") = *pw;
    register const uint32_t *px __asm__("r1") = xb;
    register uint32_t x0 __asm__("r2"), x1 __asm__("r3"), x2 __asm__("r4"), x3 __asm__("r5");
    register uint32_t u0 __asm__("r6"), u1 __asm__("r8"), u2 __asm__("r9"), u3 __asm__("r10");
    register int32_t e __asm__("r11") = G;
    register int32_t f __asm__("r12");
    __asm__ volatile(
        "and    %[x0], %[e], #7\n\t"
        "add    lr, %[px], %[e], lsl #4\n\t"
        "mov    %[e], #0\n\t"
        "mov    %[f], #0\n\t"
        TK_FCP_LOOP
        : [pw] "+r"(w), [px] "+r"(px), [e] "+r"(e), [f] "=&r"(f), [x0] "=&r"(x0),
          [x1] "=&r"(x1), [x2] "=&r"(x2), [x3] "=&r"(x3), [u0] "=&r"(u0), [u1] "=&r"(u1),
          [u2] "=&r"(u2), [u3] "=&r"(u3)
        :
        : "lr", "cc", "memory");
    *pw = w;
    *pe = e, *pf = f;
}
/* The whole row-pair loop of one batch in assembly, the output stage included: the state words
 * lie right after the input lanes, where lr stops at the end of each group loop */
#define TK_FCP_CLAMP(r)                                 \
    "cmp    %[" #r "], %[u1]\n\t"                       \
    "it     lt\n\t"                                     \
    "movlt  %[" #r "], %[u1]\n\t"                       \
    "cmp    %[" #r "], %[u2]\n\t"                       \
    "it     gt\n\t"                                     \
    "movgt  %[" #r "], %[u2]\n\t"
#define TK_FCP_ROWS(clamp)                                                          \
    "mov    lr, %[e]\n\t"                                                           \
    "9:\n\t"                                                                        \
    "ldrd   %[px], %[x0], [lr, #24]\n\t"                                            \
    "mov    %[e], #0\n\t"                                                           \
    "mov    %[f], #0\n\t"                                                           \
    TK_FCP_LOOP                                                                     \
    "ldm    lr, {%[px], %[x0], %[x1], %[x2]}\n\t"   /* bias, rq, out, k1 */         \
    "ldrd   %[x3], %[u0], [%[px]], #8\n\t"                                          \
    "sub    %[f], %[f], %[e]\n\t"                                                   \
    "add    %[x3], %[x3], %[e], lsl #1\n\t"                                         \
    "add    %[u0], %[u0], %[f], asr #7\n\t"                                         \
    "ldm    %[x0], {%[u1], %[u2], %[u3], %[e]}\n\t" /* m, e1 of both rows */        \
    "smmulr %[x3], %[x3], %[u1]\n\t"                                                \
    "smmulr %[u0], %[u0], %[u3]\n\t"                                                \
    "sub    %[x3], %[x3], %[x3], lsr #31\n\t"                                       \
    "sub    %[u0], %[u0], %[u0], lsr #31\n\t"                                       \
    "asr    %[x3], %[x3], %[u2]\n\t"                                                \
    "asr    %[u0], %[u0], %[e]\n\t"                                                 \
    "add    %[x3], %[x3], %[x2]\n\t"                                                \
    "add    %[u0], %[u0], %[x2]\n\t"                                                \
    "ssat   %[x3], #8, %[x3], asr #1\n\t"                                           \
    "ssat   %[u0], #8, %[u0], asr #1\n\t"                                           \
    clamp                                                                           \
    "strb   %[x3], [%[x1]], #1\n\t"                                                 \
    "strb   %[u0], [%[x1]], #1\n\t"                                                 \
    "ldrd   %[u1], %[u2], [lr, #16]\n\t"            /* rq step, out end */          \
    "add    %[x0], %[x0], %[u1]\n\t"                                                \
    "stm    lr, {%[px], %[x0], %[x1]}\n\t"                                          \
    "cmp    %[x1], %[u2]\n\t"                                                       \
    "bne    9b\n\t"

/* every full row pair of one batch; st: the state words, at the end of the input lanes */
TK_FCP_INLINE const int8_t *tk_fcp_pairs(const int8_t *weights, const uint32_t *st, int wide) {
    register const int8_t *w __asm__("r0") = weights;
    register const uint32_t *px __asm__("r1");
    register uint32_t x0 __asm__("r2"), x1 __asm__("r3"), x2 __asm__("r4"), x3 __asm__("r5");
    register uint32_t u0 __asm__("r6"), u1 __asm__("r8"), u2 __asm__("r9"), u3 __asm__("r10");
    register int32_t e __asm__("r11") = (int32_t)(uintptr_t)st;
    register int32_t f __asm__("r12");
#define TK_FCP_OPERANDS                                                                     \
    : [pw] "+r"(w), [px] "=&r"(px), [e] "+r"(e), [f] "=&r"(f), [x0] "=&r"(x0),            \
      [x1] "=&r"(x1), [x2] "=&r"(x2), [x3] "=&r"(x3), [u0] "=&r"(u0), [u1] "=&r"(u1),       \
      [u2] "=&r"(u2), [u3] "=&r"(u3)                                                        \
    :                                                                                       \
    : "lr", "cc", "memory"
    if (wide) {
        __asm__ volatile(TK_FCP_ROWS("") TK_FCP_OPERANDS);
    } else {
        __asm__ volatile(TK_FCP_ROWS("ldrd   %[u1], %[u2], [lr, #32]\n\t"
                                     TK_FCP_CLAMP(x3) TK_FCP_CLAMP(u0)) TK_FCP_OPERANDS);
    }
#undef TK_FCP_OPERANDS
    return w;
}
#undef TK_FCP_ROWS
#undef TK_FCP_CLAMP
#undef TK_FCP_LOOP
#undef TK_FCP_GROUP
#undef TK_FCP_WORD
#endif

TK_FCP_INLINE void tk_fcp_run(const tk_fc_pairs_params *p, const int8_t *input,
                              const int8_t *weights, int8_t *output, const int wide) {
    const int32_t D = p->accum_depth, G = (D + 7) >> 3, rows = p->output_depth;
    const int32_t k1 = p->k1, lo = p->act_min, hi = p->act_max, batches = p->batches;
    const int32_t step = p->per_channel ? 2 : 0;
    const int32_t *const rq0 = p->rq, *const bias0 = p->folded_bias;
    uint32_t xb[4 * G + TK_FCP_STATE];     /* 2 bytes per input: at most 2 KB + 40 B (the
                                             * compiler takes this kernel up to
                                             * TK_FC_PAIRS_MAX_DEPTH inputs) */
    for (int32_t b = 0; b < batches; ++b) {
        tk_fcp_split(input + b * D, D, xb);
        int8_t *out = output + b * rows;
        const int8_t *w = weights;
        const int32_t *bias = bias0, *rq = rq0;
        const int32_t paired = rows & ~1;
        int32_t e, f;
#if defined(TK_DSP_EMULATE_SIMD)
        for (int8_t *const end = out + paired; out != end; out += 2, bias += 2, rq += 2 * step) {
            tk_fcp_dot(xb, G, &w, &e, &f);
            out[0] = tk_fcp_out((uint32_t)bias[0] + ((uint32_t)e << 1), rq, k1, lo, hi, wide);
            out[1] = tk_fcp_out((uint32_t)bias[1] + tk_fcp_hi2(e, f), rq + step, k1, lo, hi,
                                wide);
        }
#else
        if (paired) {
            uint32_t *const st = xb + 4 * G;
            st[TK_FCP_BIAS] = (uint32_t)(uintptr_t)bias;
            st[TK_FCP_RQ] = (uint32_t)(uintptr_t)rq;
            st[TK_FCP_OUT] = (uint32_t)(uintptr_t)out;
            st[TK_FCP_K1] = (uint32_t)k1;
            st[TK_FCP_STEP] = (uint32_t)(8 * step);
            st[TK_FCP_END] = (uint32_t)(uintptr_t)(out + paired);
            st[TK_FCP_XB] = (uint32_t)(uintptr_t)xb;
            st[TK_FCP_ENTRY] = (uint32_t)(G & 7);
            st[TK_FCP_LO] = (uint32_t)lo;
            st[TK_FCP_HI] = (uint32_t)hi;
            w = tk_fcp_pairs(w, st, wide);
            out += paired, bias += paired, rq += paired * step;
        }
#endif
        if (rows & 1) {                 /* the last row, paired with a zero row */
            tk_fcp_dot(xb, G, &w, &e, &f);
            out[0] = tk_fcp_out((uint32_t)bias[0] + ((uint32_t)e << 1), rq, k1, lo, hi, wide);
        }
    }
}
#else
/* portable: each int16 value h = 256 b + a (tk_fcp_half) and a, its low byte (tk_fcp_low);
 * two row pairs per pass (np = 2) share each input load */

/* e[j] += x . a, f[j] += 256 x . b + x . a (wrapped) for pairs j < np over n groups of four
 * inputs x[0..4n-1] (words 2q, 2q + 1 of a group: inputs 4q + 0, 2 and 4q + 1, 3); w: the first
 * pair's bytes, the second's 16 * G bytes on */
TK_FCP_INLINE void tk_fcp_quads(const int8_t *x, const int8_t *w, int32_t n, int32_t G, int np,
                                int32_t *e, uint32_t *f) {
    const int8_t *v = w + 16 * G;
    int32_t e0 = e[0], e1 = e[1];
    uint32_t f0 = f[0], f1 = f[1];
    for (; n > 0; --n, x += 4, w += 8, v += 8) {
#define TK_FCP_IN(xv, k)                                            \
        e0 += (xv) * tk_fcp_low(w + (k));                           \
        f0 += (uint32_t)((xv) * tk_fcp_half(w + (k)));              \
        if (np > 1) {                                               \
            e1 += (xv) * tk_fcp_low(v + (k));                       \
            f1 += (uint32_t)((xv) * tk_fcp_half(v + (k)));          \
        }
        const int32_t x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3];
        TK_FCP_IN(x0, 0)
        TK_FCP_IN(x2, 2)
        TK_FCP_IN(x1, 4)
        TK_FCP_IN(x3, 6)
#undef TK_FCP_IN
    }
    e[0] = e0, e[1] = e1, f[0] = f0, f[1] = f1;
}

/* np row pairs (np rows for a last odd row) from row o on: sums, then the output stage */
TK_FCP_INLINE void tk_fcp_rows(const tk_fc_pairs_params *p, const int8_t *x, const int8_t *t,
                               const int8_t *w, int32_t o, int np, int8_t *out, const int wide) {
    const int32_t D8 = p->accum_depth & ~7, G = (p->accum_depth + 7) >> 3;
    const int32_t step = p->per_channel ? 2 : 0, k1 = p->k1, lo = p->act_min, hi = p->act_max;
    int32_t e[2] = {0, 0};              /* |x . a| <= 2^24 */
    uint32_t f[2] = {0, 0};
    tk_fcp_quads(x, w, D8 >> 2, G, np, e, f);
    if (D8 < p->accum_depth) tk_fcp_quads(t, w + 2 * D8, 2, G, np, e, f);
    for (int32_t j = 0; j < 2 * np && o + j < p->output_depth; ++j) {
        const uint32_t s = j & 1 ? tk_fcp_hi2(e[j >> 1], (int32_t)f[j >> 1])
                                 : (uint32_t)e[j >> 1] << 1;
        out[o + j] = tk_fcp_out((uint32_t)p->folded_bias[o + j] + s, p->rq + (o + j) * step,
                                k1, lo, hi, wide);
    }
}

TK_FCP_INLINE void tk_fcp_run(const tk_fc_pairs_params *p, const int8_t *input,
                              const int8_t *weights, int8_t *output, const int wide) {
    const int32_t D = p->accum_depth, D8 = D & ~7, rows = p->output_depth;
    const int32_t pair_bytes = 16 * ((D + 7) >> 3);
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *x = input + b * D;
        int8_t t[8] = {0, 0, 0, 0, 0, 0, 0, 0};        /* the last group, zero-padded */
        memcpy(t, x + D8, (size_t)(D - D8));
        int32_t o = 0;
        for (; o + 4 <= rows; o += 4) {
            tk_fcp_rows(p, x, t, weights + (o >> 1) * pair_bytes, o, 2, output + b * rows, wide);
        }
        if (o < rows) {
            tk_fcp_rows(p, x, t, weights + (o >> 1) * pair_bytes, o, 1, output + b * rows, wide);
        }
        if (o + 2 < rows) {
            tk_fcp_rows(p, x, t, weights + (o >> 1) * pair_bytes + pair_bytes, o + 2, 1,
                        output + b * rows, wide);
        }
    }
}
#endif

void tk_fully_connected_s8_pairs(const tk_fc_pairs_params *p, const int8_t *input,
                                 const int16_t *weights, int8_t *output) {
#if TK_MVE
    tk_fc_pairs_mve(p, input, weights, output);
    return;
#endif
    const int8_t *const w = (const int8_t *)weights;        /* read as bytes and words */
    if (p->act_min == -128 && p->act_max == 127) {      /* full range: one saturation */
        tk_fcp_run(p, input, w, output, 1);
    } else {
        tk_fcp_run(p, input, w, output, 0);
    }
}
