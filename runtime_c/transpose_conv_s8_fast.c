/* TRANSPOSE_CONV int8, fast sibling of tk_transpose_conv_s8 (transpose_conv_s8.c), declared in
 * transpose_conv.h. Per output pixel the taps that reach it are listed once (input offset, tap
 * index); then each group of four output channels (one at a time for the last oc % 4) sums
 * them with the compiler's expanded weights (layout in transpose_conv.h): per tap the input
 * offset's term (input_offset * the tap's weight sum, a compile-time int32) and, per block of
 * four input channels, two dual multiply-accumulates on sign-extended int16 pairs (tk_simd.h;
 * plain C without the DSP extension), the ic % 4 last channels one by one.
 * The sum is sum w * (x + input_offset) over the same taps as the reference, exact in int32:
 * the compiler takes this kernel only for at most TK_TCONV_FAST_PRODUCTS products per output
 * (|partial sums| < 2^31), so the bits are the reference's. The output stage is the fast conv
 * kernels' (tk_out_stage, tk_nn.h: rq_fast when the compiler proved tk_requant_fast exact). */
#include "transpose_conv.h"
#include "tk_simd.h"

#if TK_NN_SIMD
#define TK_TC_DOT4(acc, xa, xb, w) \
    acc = tk_smlad((xb), (uint32_t)(w)[1], tk_smlad((xa), (uint32_t)(w)[0], acc))
#else
static inline int32_t tk_tc_lo(int32_t w) { return (int16_t)(uint16_t)((uint32_t)w & 0xFFFFu); }
static inline int32_t tk_tc_hi(int32_t w) { return (int16_t)(uint16_t)((uint32_t)w >> 16); }
/* xa = {x0, x2}, xb = {x1, x3} as plain values; w = {(w0, w2), (w1, w3)} */
#define TK_TC_DOT4(acc, xa, xb, w)                                                   \
    acc += (xa)[0] * tk_tc_lo((w)[0]) + (xa)[1] * tk_tc_hi((w)[0]) +                 \
           (xb)[0] * tk_tc_lo((w)[1]) + (xb)[1] * tk_tc_hi((w)[1])
#endif

/* The taps reaching output (oy, ox) of batch b, as the reference visits them: their input
 * pixels and the word offsets of their weights in a group of four channels ((ky * filter.w +
 * kx) * 4 * per, per: the words of one channel's tap); returns their count. */
static int32_t tk_tc_taps(const tk_tconv_params *p, const int8_t *input, int32_t per4,
                          int32_t b, int32_t oy, int32_t ox, const int8_t **xp, int32_t *wo) {
    const int32_t sh = p->geom.stride_h, sw = p->geom.stride_w;
    const int32_t ty = oy + p->geom.pad_h, tx = ox + p->geom.pad_w;
    int32_t n = 0;
    for (int32_t ky = tk_tconv_first(oy, p->geom.pad_h, sh); ky < p->filter.h && ky <= ty;
         ky += sh) {
        const int32_t iy = (ty - ky) / sh;
        if (iy >= p->input.h) continue;
        for (int32_t kx = tk_tconv_first(ox, p->geom.pad_w, sw); kx < p->filter.w && kx <= tx;
             kx += sw) {
            const int32_t ix = (tx - kx) / sw;
            if (ix >= p->input.w) continue;
            xp[n] = input + ((b * p->input.h + iy) * p->input.w + ix) * p->input.c;
            wo[n++] = (ky * p->filter.w + kx) * per4;
        }
    }
    return n;
}

/* acc (bias not yet added) of output channel oc to out[oc] */
static inline void tk_tc_out(const tk_out_stage *q, int32_t acc, const int32_t *bias,
                             int32_t oc, int8_t *out) {
    if (bias) acc = tk_add_wrap_s32(acc, bias[oc]);
    out[oc] = q->fast && q->wide ? tk_out_fw_s8(acc, q->rq[2 * oc], q->rq[2 * oc + 1], q->k1)
                                 : tk_out_s8(q, acc, oc);
}

/* Output channels o0 .. o0 + 3 of one pixel; w: this group's weights; rem: input.c % 4 (a
 * constant where inlined, so that the tail loop goes when it is 0). */
static inline __attribute__((always_inline)) void tk_tc_group4_body(
        const tk_tconv_params *p, const tk_out_stage *q, const int32_t *w,
        const int8_t *const *xp, const int32_t *wo, int32_t n, const int32_t *bias, int32_t o0,
        int8_t *out, int32_t rem) {
    const int32_t ic4 = p->input.c & ~3;
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (int32_t t = 0; t < n; ++t) {
        const int8_t *x = xp[t];
        const int32_t *wt = w + wo[t];
        a0 += wt[0]; a1 += wt[1]; a2 += wt[2]; a3 += wt[3];
        wt += 4;
        for (int32_t c = 0; c < ic4; c += 4, wt += 8) {
#if TK_NN_SIMD
            const uint32_t v = tk_ld4(x + c);
            const uint32_t xa = tk_sxtb16(v), xb = tk_sxtb16_ror8(v);
#else
            const int32_t xa[2] = {x[c], x[c + 2]}, xb[2] = {x[c + 1], x[c + 3]};
#endif
            TK_TC_DOT4(a0, xa, xb, wt);
            TK_TC_DOT4(a1, xa, xb, wt + 2);
            TK_TC_DOT4(a2, xa, xb, wt + 4);
            TK_TC_DOT4(a3, xa, xb, wt + 6);
        }
        for (int32_t c = ic4; c < ic4 + rem; ++c, wt += 4) {
            const int32_t v = x[c];
            a0 += v * wt[0]; a1 += v * wt[1]; a2 += v * wt[2]; a3 += v * wt[3];
        }
    }
    tk_tc_out(q, a0, bias, o0, out);
    tk_tc_out(q, a1, bias, o0 + 1, out);
    tk_tc_out(q, a2, bias, o0 + 2, out);
    tk_tc_out(q, a3, bias, o0 + 3, out);
}

static void tk_tc_group4(const tk_tconv_params *p, const tk_out_stage *q, const int32_t *w,
                         const int8_t *const *xp, const int32_t *wo, int32_t n,
                         const int32_t *bias, int32_t o0, int8_t *out) {
    const int32_t rem = p->input.c & 3;
    if (rem == 0) {
        tk_tc_group4_body(p, q, w, xp, wo, n, bias, o0, out, 0);
    } else {
        tk_tc_group4_body(p, q, w, xp, wo, n, bias, o0, out, rem);
    }
}

/* Output channel o of one pixel (the last oc % 4); w: its weights (tap-major). */
static void tk_tc_one(const tk_tconv_params *p, const tk_out_stage *q, const int32_t *w,
                      const int8_t *const *xp, const int32_t *wo, int32_t n,
                      const int32_t *bias, int32_t o, int8_t *out) {
    const int32_t ic = p->input.c, ic4 = ic & ~3;
    int32_t acc = 0;
    for (int32_t t = 0; t < n; ++t) {
        const int8_t *x = xp[t];
        const int32_t *wt = w + (wo[t] >> 2);
        acc += *wt++;
        for (int32_t c = 0; c < ic4; c += 4, wt += 2) {
#if TK_NN_SIMD
            const uint32_t v = tk_ld4(x + c);
            const uint32_t xa = tk_sxtb16(v), xb = tk_sxtb16_ror8(v);
#else
            const int32_t xa[2] = {x[c], x[c + 2]}, xb[2] = {x[c + 1], x[c + 3]};
#endif
            TK_TC_DOT4(acc, xa, xb, wt);
        }
        for (int32_t c = ic4; c < ic; ++c) acc += x[c] * *wt++;
    }
    tk_tc_out(q, acc, bias, o, out);
}

void tk_transpose_conv_s8_fast(const tk_tconv_params *p, const int8_t *input, const int32_t *wx,
                               const int32_t *bias, int8_t *output) {
    const int32_t oc = p->output.c, oc4 = oc & ~3, ic = p->input.c;
    const int32_t per = 1 + (ic & ~3) / 2 + (ic & 3), per_oc = per * p->filter.h * p->filter.w;
    const int8_t *xp[TK_TCONV_FAST_TAPS];
    int32_t wo[TK_TCONV_FAST_TAPS];
    const tk_out_stage q = tk_out_stage_make(p->rq, p->rq_fast, p->quant.output_offset,
                                             p->quant.act_min, p->quant.act_max);
    for (int32_t b = 0; b < p->input.n; ++b) {
        for (int32_t oy = 0; oy < p->output.h; ++oy) {
            for (int32_t ox = 0; ox < p->output.w; ++ox) {
                int8_t *out = output + ((b * p->output.h + oy) * p->output.w + ox) * oc;
                const int32_t n = tk_tc_taps(p, input, 4 * per, b, oy, ox, xp, wo);
                for (int32_t o = 0; o < oc4; o += 4) {
                    tk_tc_group4(p, &q, wx + o * per_oc, xp, wo, n, bias, o, out);
                }
                for (int32_t o = oc4; o < oc; ++o) {
                    tk_tc_one(p, &q, wx + o * per_oc, xp, wo, n, bias, o, out);
                }
            }
        }
    }
}
