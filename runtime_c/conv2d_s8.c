/* CONV_2D int8 kernels (TFLM reference_integer_ops::ConvPerChannel), NHWC tensors, filter
 * [out_c][k_h][k_w][k_c]. See conv2d_s8.h for the two siblings and their contracts. */
#include "conv2d_s8.h"

/* Accumulator range: each tap adds w * (x + input_offset) with |w| <= 128 and |x + off| <= 255,
 * so |acc| < 2^15 per tap and a filter of up to 2^16 taps cannot overflow int32 (TFLM's bound). */
static inline int8_t tk_conv_finish(int32_t acc, const tk_conv2d_params *p, int32_t oc) {
    acc = tk_requant(acc, p->multiplier[oc], p->shift[oc]);
    acc += p->output_offset;
    return (int8_t)tk_clamp(acc, p->act_min, p->act_max);
}

void tk_conv2d_s8_ref(const tk_conv2d_params *p, const int8_t *input, const int8_t *filter,
                      const int32_t *bias, int8_t *output) {
    const int32_t filters_per_group = p->out_c / (p->in_c / p->k_c);
    for (int32_t b = 0; b < p->batches; ++b) {
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                for (int32_t oc = 0; oc < p->out_c; ++oc) {
                    const int32_t c0 = (oc / filters_per_group) * p->k_c;   /* group's first */
                    int32_t acc = 0;
                    for (int32_t ky = 0; ky < p->k_h; ++ky) {
                        const int32_t iy = iy0 + p->dil_h * ky;
                        if (iy < 0 || iy >= p->in_h) continue;      /* padding taps add nothing */
                        for (int32_t kx = 0; kx < p->k_w; ++kx) {
                            const int32_t ix = ix0 + p->dil_w * kx;
                            if (ix < 0 || ix >= p->in_w) continue;
                            const int8_t *x =
                                input + ((b * p->in_h + iy) * p->in_w + ix) * p->in_c + c0;
                            const int8_t *w = filter + ((oc * p->k_h + ky) * p->k_w + kx) * p->k_c;
                            for (int32_t c = 0; c < p->k_c; ++c) {
                                acc += w[c] * (x[c] + p->input_offset);
                            }
                        }
                    }
                    if (bias) acc += bias[oc];
                    output[((b * p->out_h + oy) * p->out_w + ox) * p->out_c + oc] =
                        tk_conv_finish(acc, p, oc);
                }
            }
        }
    }
}

/* ---- fast sibling: every output pixel is a row of K = k_h * k_w * in_c input bytes (the input
 * itself for 1x1 filters, else an im2col copy in which padding taps hold the input zero point, so
 * that they contribute w * (zp + input_offset) = 0 exactly as TFLM's skipped taps do). Then
 *   out[oc] = requant(folded_bias[oc] + sum_k row[k] * w[oc][k]),
 * folded_bias = bias + input_offset * sum_k w[oc][k] (mod 2^32): the same integer as TFLM's acc.
 * |row[k] * w| <= 2^14, so the raw sum fits int32 for K < 2^17; the final add wraps like TFLM's. */

static inline int32_t tk_add_wrap(int32_t a, int32_t b) {
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

/* Output-stage constants in locals: int8 stores may alias the params struct, so reading it through
 * `p` after each store would reload every field. */
typedef struct {
    const int32_t *fb, *mult, *shift;
    int32_t out_off, lo, hi;
} tk_conv_out_stage;

static inline int8_t tk_conv_out(const tk_conv_out_stage *q, int32_t sum, int32_t oc) {
    int32_t acc = tk_conv_requant(tk_add_wrap(q->fb[oc], sum), q->mult[oc], q->shift[oc]);
    acc += q->out_off;
    return (int8_t)tk_clamp(acc, q->lo, q->hi);
}

/* Two output pixels (rows a0, a1; outputs o0, o1) against all out_c filters, two filters at a time:
 * each input byte and weight byte loaded feeds two multiply-accumulates. a1/o1 may equal a0/o0. */
static void tk_conv_rows2(const tk_conv2d_params *p, const int8_t *a0, const int8_t *a1, int32_t K,
                          const int8_t *filter, const int32_t *fb, int8_t *o0, int8_t *o1) {
    const tk_conv_out_stage q = {fb, p->multiplier, p->shift, p->output_offset, p->act_min,
                                 p->act_max};
    const int32_t out_c = p->out_c;
    int32_t oc = 0;
    for (; oc + 2 <= out_c; oc += 2) {
        const int8_t *w0 = filter + oc * K;
        const int8_t *w1 = w0 + K;
        int32_t s00 = 0, s01 = 0, s10 = 0, s11 = 0;
        int32_t k = 0;
        for (; k + 4 <= K; k += 4) {
#define TK_MAC2x2(j)                                         \
            {                                                \
                const int32_t x0 = a0[k + j], x1 = a1[k + j];\
                const int32_t u = w0[k + j], v = w1[k + j];  \
                s00 += x0 * u;                               \
                s01 += x0 * v;                               \
                s10 += x1 * u;                               \
                s11 += x1 * v;                               \
            }
            TK_MAC2x2(0) TK_MAC2x2(1) TK_MAC2x2(2) TK_MAC2x2(3)
        }
        for (; k < K; ++k) TK_MAC2x2(0)
#undef TK_MAC2x2
        o0[oc] = tk_conv_out(&q, s00, oc);
        o0[oc + 1] = tk_conv_out(&q, s01, oc + 1);
        o1[oc] = tk_conv_out(&q, s10, oc);
        o1[oc + 1] = tk_conv_out(&q, s11, oc + 1);
    }
    if (oc < out_c) {
        const int8_t *w0 = filter + oc * K;
        int32_t s0 = 0, s1 = 0;
        for (int32_t k = 0; k < K; ++k) {
            const int32_t u = w0[k];
            s0 += a0[k] * u;
            s1 += a1[k] * u;
        }
        o0[oc] = tk_conv_out(&q, s0, oc);
        o1[oc] = tk_conv_out(&q, s1, oc);
    }
}

/* The K input bytes seen by output pixel (b, oy, ox), in filter order [k_h][k_w][in_c]. */
static const int8_t *tk_conv_patch(const tk_conv2d_params *p, const int8_t *input, int32_t b,
                                   int32_t oy, int32_t ox, int8_t *dst) {
    const int32_t iy0 = oy * p->stride_h - p->pad_h;
    const int32_t ix0 = ox * p->stride_w - p->pad_w;
    const int32_t C = p->in_c;
    const int8_t *img = input + b * p->in_h * p->in_w * C;
    if (p->k_h == 1 && p->k_w == 1) {       /* 1x1 filters never pad: iy0, ix0 are inside */
        return img + (iy0 * p->in_w + ix0) * C;
    }
    const int8_t zp = (int8_t)(-p->input_offset);
    const int32_t row_bytes = p->k_w * C;
    int8_t *d = dst;
    for (int32_t ky = 0; ky < p->k_h; ++ky, d += row_bytes) {
        const int32_t iy = iy0 + p->dil_h * ky;
        if (iy < 0 || iy >= p->in_h) {
            memset(d, zp, (size_t)row_bytes);
            continue;
        }
        const int8_t *src = img + iy * p->in_w * C;
        if (p->dil_w == 1 && ix0 >= 0 && ix0 + p->k_w <= p->in_w) {   /* whole row inside */
            memcpy(d, src + ix0 * C, (size_t)row_bytes);
            continue;
        }
        for (int32_t kx = 0; kx < p->k_w; ++kx) {
            const int32_t ix = ix0 + p->dil_w * kx;
            if (ix < 0 || ix >= p->in_w) {
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
    const int32_t K = p->k_h * p->k_w * p->in_c;
    const int32_t npix = p->batches * p->out_h * p->out_w;
    int32_t b = 0, oy = 0, ox = 0;          /* coordinates of pixel i */
    for (int32_t i = 0; i < npix; i += 2) {
        const int8_t *rows[2];
        for (int32_t j = 0; j < 2; ++j) {
            if (i + j == npix) {            /* odd pixel count: compute the last one twice */
                rows[1] = rows[0];
                break;
            }
            rows[j] = tk_conv_patch(p, input, b, oy, ox, scratch ? scratch + j * K : 0);
            if (++ox == p->out_w) {
                ox = 0;
                if (++oy == p->out_h) {
                    oy = 0;
                    ++b;
                }
            }
        }
        int8_t *o0 = output + i * p->out_c;
        int8_t *o1 = i + 1 < npix ? o0 + p->out_c : o0;
        tk_conv_rows2(p, rows[0], rows[1], K, filter, folded_bias, o0, o1);
    }
}
