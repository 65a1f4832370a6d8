/* CONV_2D int8 on Helium (MVE): tk_conv2d_mve runs tk_conv2d_s8's work (same params, the same
 * pair-blocked filter, folded bias and rq table, conv2d_s8.h) on the M55. Included by
 * conv2d_s8.c only, after the pixel walk and tk_conv_patch it uses.
 *
 * Output channels go in blocks: a block's weights are decoded once per layer from the
 * pair-blocked table into plain rows of KR bytes on the stack (K taps, KR = K rounded up to 16,
 * the rest zero; one 16-lane VLDRB gather and one VSTRB per 16 taps of a channel), as many rows
 * as TK_CMV_WBUF holds, a multiple of four. Then for every output pixel its column of K taps
 * (1x1 filters: the input pixel itself; others: tk_conv_patch's im2col column on the stack,
 * padding taps at the input zero point, zero past K) is dotted with four rows at a time: per 16
 * taps one VLDRB of the column, four VLDRB of the rows and four VMLADAVA.S8 (64 multiply-
 * accumulates in 9 instructions); a 1x1 column's last partial 16 is a predicated load (VCTP), so
 * nothing past the input is read. The four sums of one pixel are consecutive output channels:
 * one vector through TFLM's per-channel requantization (the folded bias, then the fast stage of
 * tk_requant_fast or the exact one of tk_conv_requant, lane by lane), clamped and stored with
 * one VSTRB.32 (predicated for a block's last one to three channels).
 *
 * Raw sums: K <= TK_CMV_KMAX taps, |x * w| <= 2^14, so no VMLADAVA sum overflows; the folded bias
 * is added with wrap-around (VADD), TFLM's int32 accumulator bit for bit. */
#ifndef TK_CONV2D_S8_MVE_H
#define TK_CONV2D_S8_MVE_H
#include "tk_mve.h"

#if TK_MVE

#define TK_CMV_WBUF 2048        /* bytes of decoded weight rows on the stack */
#define TK_CMV_KMAX 512         /* taps per output pixel on this path (four rows fit) */

typedef struct {
    const int32_t *rq, *fb;
    int32_t fast, off;
    tk_s32x4 lo, hi;
    tk_u32x4 orq;                   /* gather offsets 0, 2, 4, 6 (words) */
} tk_cmv_stage;

/* channel c's weights (pair-blocked, KW per channel) into row[0 .. KR): taps 0 .. K - 1, zeros */
static void tk_cmv_decode(const int8_t *filter, int32_t out_c, int32_t KW, int32_t K, int32_t c,
                          int8_t *row, int32_t KR) {
    const int8_t *base = filter + (c & ~1) * KW;
    const tk_s8x16 z = tk_vdupq_n_s8(0);
    for (int32_t k = 0; k < KR; k += 16) tk_vstrbq_s8(row + k, z);
    if (c == out_c - 1 && !(c & 1)) {           /* an odd last channel: its weights in order */
        for (int32_t k = 0; k < K; k += 16) {
            const int32_t n = K - k < 16 ? K - k : 16;
            tk_vstrbq_s8(row + k, tk_vldrbq_z_s8(base + k, tk_vctp8q((uint32_t)n)));
        }
        return;
    }
    const int32_t h = c & 1, KW4 = KW & ~3, K4 = K < KW4 ? K : KW4;
    uint8_t o[16];
    for (int32_t j = 0; j < 16; ++j) o[j] = (uint8_t)((j >> 2) * 8 + (j & 3) + 4 * h);
    const tk_u8x16 off = tk_u8x16_of(o);
    for (int32_t k = 0; k < K4; k += 16) {
        const int32_t n = K4 - k < 16 ? K4 - k : 16;
        tk_vstrbq_s8(row + k, tk_vldrbq_gather_offset_z_s8(base + 2 * k, off,
                                                           tk_vctp8q((uint32_t)n)));
    }
    for (int32_t k = K4; k < K; ++k) row[k] = base[2 * KW4 + 2 * (k - KW4) + h];
}

/* the four sums of column x against rows w, w + KR, w + 2 KR, w + 3 KR: K16 taps in full
 * vectors, then (tail != 0) one predicated vector at x + K16 */
TK_MVE_INLINE tk_s32x4 tk_cmv_dot4(const int8_t *x, const int8_t *w, int32_t KR, int32_t K16,
                                   tk_pred tail) {
    const int8_t *w1 = w + KR, *w2 = w1 + KR, *w3 = w2 + KR;
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (int32_t k = 0; k < K16; k += 16) {
        const tk_s8x16 xv = tk_vldrbq_s8(x + k);
        a0 = tk_vmladavaq_s8(a0, xv, tk_vldrbq_s8(w + k));
        a1 = tk_vmladavaq_s8(a1, xv, tk_vldrbq_s8(w1 + k));
        a2 = tk_vmladavaq_s8(a2, xv, tk_vldrbq_s8(w2 + k));
        a3 = tk_vmladavaq_s8(a3, xv, tk_vldrbq_s8(w3 + k));
    }
    if (tail) {
        const tk_s8x16 xv = tk_vldrbq_z_s8(x + K16, tail);
        a0 = tk_vmladavaq_s8(a0, xv, tk_vldrbq_s8(w + K16));
        a1 = tk_vmladavaq_s8(a1, xv, tk_vldrbq_s8(w1 + K16));
        a2 = tk_vmladavaq_s8(a2, xv, tk_vldrbq_s8(w2 + K16));
        a3 = tk_vmladavaq_s8(a3, xv, tk_vldrbq_s8(w3 + K16));
    }
    return tk_vmov4_s32(a0, a1, a2, a3);
}

/* output channels oc .. oc + n - 1 (n in 1..4) of one pixel from their raw sums v, into out + oc */
TK_MVE_INLINE void tk_cmv_out4(const tk_cmv_stage *q, int32_t oc, int32_t n, tk_s32x4 v,
                               int8_t *out) {
    const tk_pred in = tk_vctp32q((uint32_t)n);
    const int32_t *rq = q->rq + 2 * oc;
    const tk_s32x4 m = tk_vldrwq_gather_shifted_offset_z_s32(rq, q->orq, in);
    const tk_s32x4 s = tk_vldrwq_gather_shifted_offset_z_s32(rq + 1, q->orq, in);
    tk_s32x4 x = tk_vaddq_s32(v, tk_vldrwq_z_s32(q->fb + oc, in));
    if (q->fast) {                  /* s = e1: ((h - [h < 0]) >> e1 + k1) >> 1, h = SMMULR(2x, m) */
        tk_s32x4 h = tk_vrmulhq_s32(tk_vaddq_s32(x, x), m);
        h = tk_vaddq_s32(h, tk_vshrq_n_s32(h, 31));
        x = tk_vrshlq_s32(h, tk_vsubq_s32(tk_vdupq_n_s32(-1), s));
    } else {                        /* s = shift: TFLM's MultiplyByQuantizedMultiplier */
        const tk_s32x4 zero = tk_vdupq_n_s32(0), r = tk_vminq_s32(s, zero);
        x = tk_vqrdmulhq_s32(tk_vshlq_s32(x, tk_vmaxq_s32(s, zero)), m);
        x = tk_vqaddq_s32(x, tk_vandq_s32(tk_vshrq_n_s32(x, 31), tk_vshrq_n_s32(r, 31)));
        x = tk_vrshlq_s32(x, r);
    }
    x = tk_vminq_s32(tk_vmaxq_s32(tk_vaddq_n_s32(x, q->off), q->lo), q->hi);
    tk_vstrbq_p_s32(out + oc, x, in);
}

/* one pixel's column x against the block's rows (channels c0 .. c0 + nb - 1) */
TK_MVE_INLINE void tk_cmv_pixel(const tk_cmv_stage *q, const int8_t *x, const int8_t *rows,
                                int32_t KR, int32_t K16, tk_pred tail, int32_t c0, int32_t nb,
                                int8_t *out) {
    for (int32_t g = 0; g < nb; g += 4, rows += 4 * KR) {
        const tk_s32x4 v = tk_cmv_dot4(x, rows, KR, K16, tail);
        tk_cmv_out4(q, c0 + g, nb - g < 4 ? nb - g : 4, v, out);
    }
}

/* every output pixel against the block c0 .. c0 + nb - 1; col: a column of KR bytes (0: 1x1) */
static void tk_cmv_block(const tk_conv2d_params *p, const tk_cmv_stage *q, const int8_t *input,
                         const int8_t *rows, int32_t K, int32_t KR, int32_t c0, int32_t nb,
                         int8_t *col, int8_t *output) {
    const tk_conv_geo g = tk_conv_geo_make(p);
    const int8_t zp = (int8_t)(-p->quant.input_offset);
    const int32_t out_c = p->output.c;
    const int32_t K16 = col ? KR : K & ~15;
    const tk_pred tail = col || !(K & 15) ? 0 : tk_vctp8q((uint32_t)(K & 15));
    tk_walk it;
    tk_conv_px px[2];
    tk_walk_init(&it, p, input);
    for (int32_t n; (n = tk_conv_next2(&it, px)) > 0;) {
        for (int32_t i = 0; i < n; ++i, output += out_c) {
            const int8_t *x = col;
            if (col) {
                tk_conv_patch(&g, &px[i], zp, col);
            } else {
                x = tk_conv_at(p, &px[i]);
            }
            tk_cmv_pixel(q, x, rows, KR, K16, tail, c0, nb, output);
        }
    }
}

/* 1 when done; 0 when K is over TK_CMV_KMAX (tk_conv2d_s8's DSP path runs instead) */
static int tk_conv2d_mve(const tk_conv2d_params *p, const int8_t *input, const int8_t *filter,
                         const int32_t *fbias, int8_t *output) {
    const int32_t K = p->filter.h * p->filter.w * p->input.c, out_c = p->output.c;
    if (K > TK_CMV_KMAX || K < 1) return 0;
    const int32_t KW = p->path == TK_CONV_IM2COL ? (K + 3) & ~3 : K, KR = (K + 15) & ~15;
    const int32_t cap = (TK_CMV_WBUF / KR) & ~3;
    const int one = p->filter.h == 1 && p->filter.w == 1;
    static const uint32_t orq[4] = {0, 2, 4, 6};
    tk_cmv_stage q;
    q.rq = p->rq, q.fb = fbias, q.fast = p->rq_fast, q.off = p->quant.output_offset;
    q.lo = tk_vdupq_n_s32(p->quant.act_min), q.hi = tk_vdupq_n_s32(p->quant.act_max);
    q.orq = tk_u32x4_of(orq);
    int8_t rows[TK_CMV_WBUF] __attribute__((aligned(16)));
    int8_t col[TK_CMV_KMAX] __attribute__((aligned(16)));
    if (!one) {
        for (int32_t k = 0; k < KR; k += 16) tk_vstrbq_s8(col + k, tk_vdupq_n_s8(0));
    }
    for (int32_t c0 = 0; c0 < out_c; c0 += cap) {
        const int32_t nb = out_c - c0 < cap ? out_c - c0 : cap;
        for (int32_t i = 0; i < ((nb + 3) & ~3); ++i) {
            if (i < nb) {
                tk_cmv_decode(filter, out_c, KW, K, c0 + i, rows + i * KR, KR);
            } else {
                for (int32_t k = 0; k < KR; k += 16) tk_vstrbq_s8(rows + i * KR + k,
                                                                  tk_vdupq_n_s8(0));
            }
        }
        tk_cmv_block(p, &q, input, rows, K, KR, c0, nb, one ? 0 : col, output);
    }
    return 1;
}

#endif /* TK_MVE */
#endif
