/* CONV_2D int8 fast kernel tk_conv2d_s8 (bit-exact with TFLM
 * reference_integer_ops::ConvPerChannel), NHWC tensors. Its reference sibling tk_conv2d_s8_ref is
 * in conv2d_s8_ref.c; both are declared in conv2d_s8.h, with their contracts. */
#include "conv2d_s8.h"

/* Every output pixel is a row of K = filter.h * filter.w * input.c input bytes (the input
 * itself for 1x1 filters, else an im2col copy in which padding taps hold the input zero point, so
 * that they contribute w * (zp + input_offset) = 0 exactly as TFLM's skipped taps do). Then
 *   out[oc] = requant(folded_bias[oc] + sum_k row[k] * w[oc][k]),
 * folded_bias = bias + input_offset * sum_k w[oc][k] (mod 2^32): the same integer as TFLM's acc.
 * |row[k] * w| <= 2^14, so the raw sum fits int32 for K < 2^17; the final add wraps like TFLM's. */

#if TK_NN_SIMD
/* n groups of four taps of two rows (*a0, *a1) against two channels' pair-blocked weights (*w),
 * into the 2x2 accumulators; the pointers are advanced past what was read. Per group: four loads,
 * eight SXTB16, eight SMLAD. */
static inline void tk_mac2x2_s8(const int8_t **a0, const int8_t **a1, const int8_t **w, int32_t n,
                                int32_t *s00, int32_t *s01, int32_t *s10, int32_t *s11) {
#if defined(TK_DSP_EMULATE_SIMD)
    const int8_t *p0 = *a0, *p1 = *a1, *pw = *w;
    int32_t c00 = *s00, c01 = *s01, c10 = *s10, c11 = *s11;
    for (; n > 0; --n, p0 += 4, p1 += 4, pw += 8) {
        const uint32_t x0 = tk_ld4(p0), x1 = tk_ld4(p1);
        const uint32_t x0e = tk_sxtb16(x0), x0o = tk_sxtb16_ror8(x0);
        const uint32_t x1e = tk_sxtb16(x1), x1o = tk_sxtb16_ror8(x1);
        const uint32_t u = tk_ld4(pw), v = tk_ld4(pw + 4);
        const uint32_t ue = tk_sxtb16(u), uo = tk_sxtb16_ror8(u);
        const uint32_t ve = tk_sxtb16(v), vo = tk_sxtb16_ror8(v);
        c00 = tk_smlad(x0o, uo, tk_smlad(x0e, ue, c00));
        c10 = tk_smlad(x1o, uo, tk_smlad(x1e, ue, c10));
        c01 = tk_smlad(x0o, vo, tk_smlad(x0e, ve, c01));
        c11 = tk_smlad(x1o, vo, tk_smlad(x1e, ve, c11));
    }
    *a0 = p0, *a1 = p1, *w = pw;
    *s00 = c00, *s01 = c01, *s10 = c10, *s11 = c11;
#else
    /* the same in assembly: fourteen live registers, more than gcc keeps without spilling;
     * unrolled twice, entered in the middle when n is odd */
    const int8_t *p0 = *a0, *p1 = *a1, *pw = *w;
    int32_t c00 = *s00, c01 = *s01, c10 = *s10, c11 = *s11;
    uint32_t x0, x1, t0, t1, u, ue;
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
#undef TK_MAC2x2_BODY
    *a0 = p0, *a1 = p1, *w = pw;
    *s00 = c00, *s01 = c01, *s10 = c10, *s11 = c11;
#endif
}
#endif

/* The 2x2 block's four outputs: channels oc, oc+1 (rq points at oc's pair of words) of the two
 * pixels. */
static inline void tk_conv_out2x2(const tk_out_stage *q, const int32_t *rq, int32_t oc,
                                  int32_t s00, int32_t s01, int32_t s10, int32_t s11, int8_t *o0,
                                  int8_t *o1) {
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

/* Two output pixels (rows a0, a1; outputs o0, o1) against all out_c filters, two filters at a time:
 * each input word and weight word loaded feeds two multiply-accumulate steps. a1/o1 may equal
 * a0/o0. `filter` is pair-blocked (conv2d_s8.h): the pair blocks follow each other, so the weight
 * pointer simply runs on from one pair to the next. */
__attribute__((noinline)) static void tk_conv_rows2(const tk_out_stage *q, int32_t out_c,
                                                   const int8_t *a0,
                          const int8_t *a1, int32_t K, const int8_t *filter, const int32_t *fb,
                          int8_t *o0, int8_t *o1) {
    const int32_t K4 = K & ~3;
    const int8_t *w = filter;
    const int32_t *rq = q->rq;
    int32_t oc = 0;
    for (; oc + 2 <= out_c; oc += 2, rq += 4) {
#if TK_NN_SIMD
        /* started at the folded bias: SMLAD wraps like tk_add_wrap_s32, so the final integer is
         * the same; both the x and w words are split by tk_sxtb16 / _ror8 alike (tk_simd.h) */
        int32_t s00 = fb[oc], s01 = fb[oc + 1], s10 = s00, s11 = s01;
        const int8_t *p0 = a0, *p1 = a1;
        if (K4) tk_mac2x2_s8(&p0, &p1, &w, K4 >> 2, &s00, &s01, &s10, &s11);
        for (int32_t k = K4; k < K; ++k, w += 2) {
            const int32_t x0 = *p0++, x1 = *p1++;
            s00 = tk_add_wrap_s32(s00, x0 * w[0]);
            s01 = tk_add_wrap_s32(s01, x0 * w[1]);
            s10 = tk_add_wrap_s32(s10, x1 * w[0]);
            s11 = tk_add_wrap_s32(s11, x1 * w[1]);
        }
#else
        /* raw sums: |sum| < 2^31 (see above); the folded bias is added with wrap-around */
        int32_t s00 = 0, s01 = 0, s10 = 0, s11 = 0;
        int32_t k = 0;
#define TK_MAC2x2(j, du, dv)                                 \
            {                                                \
                const int32_t x0 = a0[k + j], x1 = a1[k + j];\
                const int32_t u = w[du], v = w[dv];          \
                s00 += x0 * u;                               \
                s01 += x0 * v;                               \
                s10 += x1 * u;                               \
                s11 += x1 * v;                               \
            }
        for (; k < K4; k += 4, w += 8) {
            TK_MAC2x2(0, 0, 4) TK_MAC2x2(1, 1, 5) TK_MAC2x2(2, 2, 6) TK_MAC2x2(3, 3, 7)
        }
        for (; k < K; ++k, w += 2) TK_MAC2x2(0, 0, 1)
#undef TK_MAC2x2
        s00 = tk_add_wrap_s32(fb[oc], s00);
        s10 = tk_add_wrap_s32(fb[oc], s10);
        s01 = tk_add_wrap_s32(fb[oc + 1], s01);
        s11 = tk_add_wrap_s32(fb[oc + 1], s11);
#endif
        tk_conv_out2x2(q, rq, oc, s00, s01, s10, s11, o0 + oc, o1 + oc);
    }
    if (oc < out_c) {                       /* odd last channel: its K weights in order */
        int32_t s0 = 0, s1 = 0;
        for (int32_t k = 0; k < K; ++k) {
            const int32_t u = w[k];
            s0 += a0[k] * u;
            s1 += a1[k] * u;
        }
        o0[oc] = tk_out_s8(q, tk_add_wrap_s32(fb[oc], s0), oc);
        o1[oc] = tk_out_s8(q, tk_add_wrap_s32(fb[oc], s1), oc);
    }
}

/* The K input bytes seen by output pixel (b, oy, ox), in filter order [k_h][k_w][in_c]. */
static const int8_t *tk_conv_patch(const tk_conv2d_params *p, const int8_t *input, int32_t b,
                                   int32_t oy, int32_t ox, int8_t *dst) {
    const int32_t iy0 = oy * p->geom.stride_h - p->geom.pad_h;
    const int32_t ix0 = ox * p->geom.stride_w - p->geom.pad_w;
    const int32_t C = p->input.c;
    const int8_t *img = input + b * p->input.h * p->input.w * C;
    if (p->filter.h == 1 && p->filter.w == 1) {   /* 1x1 filters never pad: iy0, ix0 are inside */
        return img + (iy0 * p->input.w + ix0) * C;
    }
    const int8_t zp = (int8_t)(-p->quant.input_offset);
    const int32_t row_bytes = p->filter.w * C;
    int8_t *d = dst;
    for (int32_t ky = 0; ky < p->filter.h; ++ky, d += row_bytes) {
        const int32_t iy = iy0 + p->geom.dil_h * ky;
        if (iy < 0 || iy >= p->input.h) {
            memset(d, zp, (size_t)row_bytes);
            continue;
        }
        const int8_t *src = img + iy * p->input.w * C;
        /* the whole row inside */
        if (p->geom.dil_w == 1 && ix0 >= 0 && ix0 + p->filter.w <= p->input.w) {
            memcpy(d, src + ix0 * C, (size_t)row_bytes);
            continue;
        }
        for (int32_t kx = 0; kx < p->filter.w; ++kx) {
            const int32_t ix = ix0 + p->geom.dil_w * kx;
            if (ix < 0 || ix >= p->input.w) {
                memset(d + kx * C, zp, (size_t)C);
            } else {
                memcpy(d + kx * C, src + ix * C, (size_t)C);
            }
        }
    }
    return dst;
}

void tk_conv2d_s8(const tk_conv2d_params *p, const int8_t *input, const int8_t *filter,
                  const int32_t *folded_bias, int8_t *output, int8_t *scratch) {
    const int32_t K = p->filter.h * p->filter.w * p->input.c;
    const int32_t npix = p->input.n * p->output.h * p->output.w;
    const tk_out_stage q = tk_out_stage_make(p->rq, p->rq_fast, p->quant.output_offset,
                                             p->quant.act_min, p->quant.act_max);
    int32_t b = 0, oy = 0, ox = 0;          /* coordinates of pixel i */
    for (int32_t i = 0; i < npix; i += 2) {
        const int8_t *rows[2];
        for (int32_t j = 0; j < 2; ++j) {
            if (i + j == npix) {            /* odd pixel count: compute the last one twice */
                rows[1] = rows[0];
                break;
            }
            rows[j] = tk_conv_patch(p, input, b, oy, ox, scratch ? scratch + j * K : 0);
            if (++ox == p->output.w) {
                ox = 0;
                if (++oy == p->output.h) {
                    oy = 0;
                    ++b;
                }
            }
        }
        int8_t *o0 = output + i * p->output.c;
        int8_t *o1 = i + 1 < npix ? o0 + p->output.c : o0;
        tk_conv_rows2(&q, p->output.c, rows[0], rows[1], K, filter, folded_bias, o0, o1);
    }
}
