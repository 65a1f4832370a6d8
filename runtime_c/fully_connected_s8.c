/* FULLY_CONNECTED int8 (TFLM reference_integer_ops::FullyConnected[PerChannel] semantics).
 * acc = folded_bias[o] + sum_d x[d] * w[o][d] equals TFLM's bias + sum (x + input_offset) * w
 * exactly: every term fits int32 for accum_depth < 2^16 (|x * w| <= 2^14, |offset * w| <= 2^15);
 * the bias is added with wrap-around like TFLM's int32 sum (the SIMD path starts at it, its
 * multiply-accumulates wrapping alike). Weights are row-blocked (fully_connected_s8.h). */
#include "fully_connected_s8.h"

#if TK_NN_SIMD
/* n groups of four inputs (*x) against four rows' blocked weights (*w) into four accumulators;
 * the pointers are advanced past what was read. Per group: one input word split once into its
 * even and odd lanes, four weight words, eight SXTB16, eight SMLAD. */
static inline void tk_fc_mac4(const int8_t **x, const int8_t **w, int32_t n, int32_t *acc) {
    const int8_t *px = *x, *pw = *w;
    int32_t s0 = acc[0], s1 = acc[1], s2 = acc[2], s3 = acc[3];
#if defined(TK_DSP_EMULATE_SIMD)
    for (; n > 0; --n, px += 4, pw += 16) {
        const uint32_t xv = tk_ld4(px);
        const uint32_t xe = tk_sxtb16(xv), xo = tk_sxtb16_ror8(xv);
        const uint32_t u0 = tk_ld4(pw), u1 = tk_ld4(pw + 4), u2 = tk_ld4(pw + 8),
                       u3 = tk_ld4(pw + 12);
        s0 = tk_smlad(xo, tk_sxtb16_ror8(u0), tk_smlad(xe, tk_sxtb16(u0), s0));
        s1 = tk_smlad(xo, tk_sxtb16_ror8(u1), tk_smlad(xe, tk_sxtb16(u1), s1));
        s2 = tk_smlad(xo, tk_sxtb16_ror8(u2), tk_smlad(xe, tk_sxtb16(u2), s2));
        s3 = tk_smlad(xo, tk_sxtb16_ror8(u3), tk_smlad(xe, tk_sxtb16(u3), s3));
    }
#else
    uint32_t xv, xe, u0, u1, ue;
#define TK_FC_ROW(s, u)                             \
        "sxtb16 %[ue], %[" #u "]\n\t"               \
        "sxtb16 %[" #u "], %[" #u "], ror #8\n\t"   \
        "smlad  %[" #s "], %[xe], %[ue], %[" #s "]\n\t" \
        "smlad  %[" #s "], %[xv], %[" #u "], %[" #s "]\n\t"
    __asm__ volatile(
        "1:\n\t"
        "ldr    %[xv], [%[px]], #4\n\t"
        "ldrd   %[u0], %[u1], [%[pw]], #8\n\t"
        "sxtb16 %[xe], %[xv]\n\t"
        "sxtb16 %[xv], %[xv], ror #8\n\t"
        TK_FC_ROW(s0, u0)
        TK_FC_ROW(s1, u1)
        "ldrd   %[u0], %[u1], [%[pw]], #8\n\t"
        TK_FC_ROW(s2, u0)
        TK_FC_ROW(s3, u1)
        "subs   %[n], %[n], #1\n\t"
        "bne    1b\n\t"
        : [px] "+r"(px), [pw] "+r"(pw), [n] "+r"(n), [s0] "+r"(s0), [s1] "+r"(s1),
          [s2] "+r"(s2), [s3] "+r"(s3), [xv] "=&r"(xv), [xe] "=&r"(xe), [u0] "=&r"(u0),
          [u1] "=&r"(u1), [ue] "=&r"(ue)
        :
        : "cc", "memory");
#undef TK_FC_ROW
#endif
    *x = px, *w = pw;
    acc[0] = s0, acc[1] = s1, acc[2] = s2, acc[3] = s3;
}
#endif

void tk_fully_connected_s8(const tk_fc_params *p, const int8_t *input, const int8_t *weights,
                           int8_t *output) {
    const int32_t D = p->accum_depth, D4 = D & ~3, rows = p->output_depth;
    const tk_out_stage q = tk_out_stage_make(p->rq, p->rq_fast, p->quant.output_offset,
                                             p->quant.act_min, p->quant.act_max);
    const int32_t rq_step = p->per_channel ? 1 : 0;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in = input + b * D;
        int8_t *out = output + b * rows;
        const int8_t *w = weights;
        int32_t o = 0;
        for (; o + 4 <= rows; o += 4) {         /* a block of four rows */
            int32_t acc[4];
#if TK_NN_SIMD
            for (int32_t j = 0; j < 4; ++j) acc[j] = p->folded_bias[o + j];
            const int8_t *x = in;
            if (D4) tk_fc_mac4(&x, &w, D4 >> 2, acc);
            for (int32_t d = D4; d < D; ++d, w += 4) {
                for (int32_t j = 0; j < 4; ++j) acc[j] = tk_add_wrap_s32(acc[j], in[d] * w[j]);
            }
#else
            int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;     /* raw sums, |sum| < 2^31 */
            int32_t d = 0;
            for (; d < D4; d += 4, w += 16) {
                for (int32_t t = 0; t < 4; ++t) {
                    const int32_t xv = in[d + t];
                    s0 += xv * w[t];
                    s1 += xv * w[4 + t];
                    s2 += xv * w[8 + t];
                    s3 += xv * w[12 + t];
                }
            }
            for (; d < D; ++d, w += 4) {
                const int32_t xv = in[d];
                s0 += xv * w[0];
                s1 += xv * w[1];
                s2 += xv * w[2];
                s3 += xv * w[3];
            }
            acc[0] = tk_add_wrap_s32(p->folded_bias[o], s0);
            acc[1] = tk_add_wrap_s32(p->folded_bias[o + 1], s1);
            acc[2] = tk_add_wrap_s32(p->folded_bias[o + 2], s2);
            acc[3] = tk_add_wrap_s32(p->folded_bias[o + 3], s3);
#endif
            for (int32_t j = 0; j < 4; ++j) out[o + j] = tk_out_s8(&q, acc[j], (o + j) * rq_step);
        }
        const int32_t n = rows - o;             /* last block: 0..3 rows, stride n */
        for (int32_t j = 0; j < n; ++j) {
            const int8_t *wr = w + 4 * j;
            int32_t s = 0;
            int32_t d = 0;
            for (; d < D4; d += 4, wr += 4 * n) {
                s += in[d] * wr[0] + in[d + 1] * wr[1] + in[d + 2] * wr[2] + in[d + 3] * wr[3];
            }
            for (wr = w + D4 * n + j; d < D; ++d, wr += n) s += in[d] * wr[0];
            out[o + j] =
                tk_out_s8(&q, tk_add_wrap_s32(p->folded_bias[o + j], s), (o + j) * rq_step);
        }
    }
}
