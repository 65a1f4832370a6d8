/* FULLY_CONNECTED int8, four rows per pass, inputs widened on the fly (fully_connected_s8_quads.h
 * for the table). Per four inputs and row quad: one LDR of the input word (any alignment), two
 * SXTB16 into lanes (x0, x2), (x1, x3), one LDM of the quad's four weight words, then per word
 * SMLAD, SXTB16, SMLAD as in the pair kernel: 16 instructions per 16 multiply-accumulates, no
 * buffer. The sums e, f of each pair and the output stage are the pair kernel's
 * (fully_connected_s8_rows.h). Inputs past the last multiple of four go through a zero-padded
 * word; nothing is read past the input's accum_depth values. */
#include "fully_connected_s8_quads.h"
#include "fully_connected_s8_rows.h"

#include <string.h>

/* s[0..3] = e, f of pair A then of pair B, advanced over one group of four inputs x (w: its
 * 16 bytes of table) */
TK_FCP_INLINE void tk_fcq_step(const int8_t *x, const int8_t *w, int32_t *s) {
#if TK_NN_SIMD
    const uint32_t u = tk_ld4(x), x02 = tk_sxtb16(u), x13 = tk_sxtb16_ror8(u);
    for (int j = 0; j < 2; ++j, w += 8, s += 2) {
        const uint32_t a = tk_ld4(w), b = tk_ld4(w + 4);
        s[1] = tk_smlad(x02, a, s[1]);
        s[0] = tk_smlad(x02, tk_sxtb16(a), s[0]);
        s[1] = tk_smlad(x13, b, s[1]);
        s[0] = tk_smlad(x13, tk_sxtb16(b), s[0]);
    }
#else
    const int32_t x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3];
    for (int j = 0; j < 2; ++j, w += 8, s += 2) {
        s[0] += x0 * tk_fcp_low(w) + x2 * tk_fcp_low(w + 2) + x1 * tk_fcp_low(w + 4) +
                x3 * tk_fcp_low(w + 6);
        s[1] = (int32_t)((uint32_t)s[1] + (uint32_t)(x0 * tk_fcp_half(w)) +
                         (uint32_t)(x2 * tk_fcp_half(w + 2)) +
                         (uint32_t)(x1 * tk_fcp_half(w + 4)) +
                         (uint32_t)(x3 * tk_fcp_half(w + 6)));
    }
#endif
}

#if TK_NN_SIMD && !defined(TK_DSP_EMULATE_SIMD)
#define TK_FCQ_WORD(x, u, e, f)                          \
    "smlad  %[" #f "], %[" #x "], %[" #u "], %[" #f "]\n\t" \
    "sxtb16 %[" #u "], %[" #u "]\n\t"                    \
    "smlad  %[" #e "], %[" #x "], %[" #u "], %[" #e "]\n\t"
#define TK_FCQ_GROUP                                     \
    "ldr    %[x0], [%[px]], #4\n\t"                      \
    "ldm    %[pw]!, {%[u0], %[u1], %[u2], %[u3]}\n\t"   \
    "sxtb16 %[x1], %[x0], ror #8\n\t"                    \
    "sxtb16 %[x0], %[x0]\n\t"                            \
    TK_FCQ_WORD(x0, u0, ea, fa) TK_FCQ_WORD(x1, u1, ea, fa) \
    TK_FCQ_WORD(x0, u2, eb, fb) TK_FCQ_WORD(x1, u3, eb, fb)
/* the sums over n >= 1 groups of four inputs from x: the loop unrolled eight times, entered by
 * TBB (index n mod 8) at n mod 8 groups from its end; lr holds the inputs' end. Returns w
 * advanced past the groups' table. A call, not inlined: the caller's output stage keeps its
 * values in the registers this saves */
__attribute__((noinline)) static const int8_t *tk_fcq_dot(const int8_t *x, int32_t n, const int8_t *w,
                                       int32_t *s) {
    register const int8_t *pw __asm__("r0") = w;
    register const int8_t *px __asm__("r1") = x;
    register uint32_t x0 __asm__("r2"), x1 __asm__("r3");
    register int32_t eb __asm__("r4"), fb __asm__("r5");
    register uint32_t u0 __asm__("r6"), u1 __asm__("r8"), u2 __asm__("r9"), u3 __asm__("r10");
    register int32_t ea __asm__("r11") = n;
    register int32_t fa __asm__("r12");
    __asm__ volatile(
        "and    %[x0], %[ea], #7\n\t"
        "add    lr, %[px], %[ea], lsl #2\n\t"
        "mov    %[ea], #0\n\t"
        "mov    %[fa], #0\n\t"
        "mov    %[eb], #0\n\t"
        "mov    %[fb], #0\n\t"
        "tbb    [pc, %[x0]]\n\t"
        "0:\n\t"
        ".byte  (1f - 0b) / 2, (8f - 0b) / 2, (7f - 0b) / 2, (6f - 0b) / 2\n\t"
        ".byte  (5f - 0b) / 2, (4f - 0b) / 2, (3f - 0b) / 2, (2f - 0b) / 2\n\t"
        "1:\n\t" TK_FCQ_GROUP "2:\n\t" TK_FCQ_GROUP "3:\n\t" TK_FCQ_GROUP
        "4:\n\t" TK_FCQ_GROUP "5:\n\t" TK_FCQ_GROUP "6:\n\t" TK_FCQ_GROUP
        "7:\n\t" TK_FCQ_GROUP "8:\n\t" TK_FCQ_GROUP
        "cmp    %[px], lr\n\t"
        "bne    1b\n\t"
        : [pw] "+r"(pw), [px] "+r"(px), [ea] "+r"(ea), [fa] "=&r"(fa), [eb] "=&r"(eb),
          [fb] "=&r"(fb), [x0] "=&r"(x0), [x1] "=&r"(x1), [u0] "=&r"(u0), [u1] "=&r"(u1),
          [u2] "=&r"(u2), [u3] "=&r"(u3)
        :
        : "lr", "cc", "memory");
    s[0] = ea, s[1] = fa, s[2] = eb, s[3] = fb;
    return pw;
}
#undef TK_FCQ_GROUP
#undef TK_FCQ_WORD
#else
TK_FCP_INLINE const int8_t *tk_fcq_dot(const int8_t *x, int32_t n, const int8_t *w,
                                       int32_t *s) {
    s[0] = s[1] = s[2] = s[3] = 0;
    for (; n > 0; --n, x += 4, w += 16) tk_fcq_step(x, w, s);
    return w;
}
#endif

/* rows o .. o + n - 1 of a quad (n <= 4) from its sums s: e, f of pair A, then of pair B */
TK_FCP_INLINE void tk_fcq_out(const int32_t *s, const int32_t *bias, const int32_t *rq,
                              int32_t step, int32_t n, int32_t k1, int32_t lo, int32_t hi,
                              int8_t *out, const int wide) {
    out[0] = tk_fcp_out((uint32_t)bias[0] + ((uint32_t)s[0] << 1), rq, k1, lo, hi, wide);
    if (n > 1) out[1] = tk_fcp_out((uint32_t)bias[1] + tk_fcp_hi2(s[0], s[1]), rq + step, k1,
                                   lo, hi, wide);
    if (n > 2) out[2] = tk_fcp_out((uint32_t)bias[2] + ((uint32_t)s[2] << 1), rq + 2 * step,
                                   k1, lo, hi, wide);
    if (n > 3) out[3] = tk_fcp_out((uint32_t)bias[3] + tk_fcp_hi2(s[2], s[3]), rq + 3 * step,
                                   k1, lo, hi, wide);
}

TK_FCP_INLINE void tk_fcq_run(const tk_fc_pairs_params *p, const int8_t *input, const int8_t *w,
                              int8_t *output, const int wide) {
    const int32_t D = p->accum_depth, n = D >> 2, rows = p->output_depth, full = rows & ~3;
    const int32_t k1 = p->k1, lo = p->act_min, hi = p->act_max, batches = p->batches;
    const int32_t step = p->per_channel ? 2 : 0;
    const int32_t *const rq0 = p->rq, *const bias0 = p->folded_bias;
    for (int32_t b = 0; b < batches; ++b) {
        const int8_t *const x = input + b * D;
        int8_t t[4] = {0, 0, 0, 0};     /* the inputs past 4n, zero-padded */
        memcpy(t, x + 4 * n, (size_t)(D - 4 * n));
        int8_t *out = output + b * rows;
        const int8_t *wq = w;
        const int32_t *bias = bias0, *rq = rq0;
        int32_t s[4];
        for (int8_t *const end = out + full; out != end; out += 4, bias += 4, rq += 4 * step) {
            wq = tk_fcq_dot(x, n, wq, s);
            if (D & 3) {
                tk_fcq_step(t, wq, s);
                wq += 16;
            }
            tk_fcq_out(s, bias, rq, step, 4, k1, lo, hi, out, wide);
        }
        if (rows > full) {      /* the last rows, with zero rows to four in the table */
            wq = tk_fcq_dot(x, n, wq, s);
            if (D & 3) tk_fcq_step(t, wq, s);
            tk_fcq_out(s, bias, rq, step, rows - full, k1, lo, hi, out, wide);
        }
    }
}

void tk_fully_connected_s8_quads(const tk_fc_pairs_params *p, const int8_t *input,
                                 const int16_t *weights, int8_t *output) {
    const int8_t *const w = (const int8_t *)weights;        /* read as bytes and words */
    if (p->act_min == -128 && p->act_max == 127) {      /* full range: one saturation */
        tk_fcq_run(p, input, w, output, 1);
    } else {
        tk_fcq_run(p, input, w, output, 0);
    }
}
