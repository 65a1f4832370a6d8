/* DEPTHWISE_CONV_2D int8 kernels (TFLM reference_integer_ops::DepthwiseConvPerChannel), NHWC
 * tensors, output channel oc = ic * depth_multiplier + m. See depthwise_conv2d_s8.h. */
#include "depthwise_conv2d_s8.h"
#include "conv2d_s8.h"      /* tk_conv_requant */

/* Accumulator range: |w * (x + input_offset)| <= 128 * 255 < 2^15 per tap, so filters of up to
 * 2^16 taps cannot overflow int32 (TFLM's bound). */
static inline int8_t tk_dw_finish(int32_t acc, const tk_dwconv_params *p, int32_t oc) {
    acc = tk_requant(acc, p->multiplier[oc], p->shift[oc]);
    acc += p->output_offset;
    return (int8_t)tk_clamp(acc, p->act_min, p->act_max);
}

void tk_depthwise_conv2d_s8_ref(const tk_dwconv_params *p, const int8_t *input,
                                const int8_t *filter, const int32_t *bias, int8_t *output) {
    for (int32_t b = 0; b < p->batches; ++b) {
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                for (int32_t ic = 0; ic < p->in_c; ++ic) {
                    for (int32_t m = 0; m < p->depth_multiplier; ++m) {
                        const int32_t oc = ic * p->depth_multiplier + m;
                        int32_t acc = 0;
                        for (int32_t ky = 0; ky < p->k_h; ++ky) {
                            const int32_t iy = iy0 + p->dil_h * ky;
                            if (iy < 0 || iy >= p->in_h) continue;  /* padding taps add nothing */
                            for (int32_t kx = 0; kx < p->k_w; ++kx) {
                                const int32_t ix = ix0 + p->dil_w * kx;
                                if (ix < 0 || ix >= p->in_w) continue;
                                const int32_t x =
                                    input[((b * p->in_h + iy) * p->in_w + ix) * p->in_c + ic];
                                const int32_t w = filter[(ky * p->k_w + kx) * p->out_c + oc];
                                acc += w * (x + p->input_offset);
                            }
                        }
                        if (bias) acc += bias[oc];
                        output[((b * p->out_h + oy) * p->out_w + ox) * p->out_c + oc] =
                            tk_dw_finish(acc, p, oc);
                    }
                }
            }
        }
    }
}

/* ---- fast sibling, depth multiplier 1. Each output pixel reads a k_h x k_w window of channel
 * vectors; padding taps read the input zero point instead (they then contribute
 * w * (zp + input_offset) = 0, as TFLM's skipped taps do). With
 * folded_bias = bias + input_offset * sum(w) (mod 2^32),
 *   out[c] = requant(folded_bias[c] + sum_taps x * w)   -- the same integer as TFLM's acc.
 * |x * w| <= 2^14: the raw sum fits int32 for up to 2^17 taps; the final add wraps like TFLM's. */

static inline int32_t tk_dw_add_wrap(int32_t a, int32_t b) {
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

/* Output-stage constants in locals: int8 stores may alias the params struct, so reading it through
 * `p` after each store would reload every field. */
typedef struct {
    const int32_t *fb, *mult, *shift;
    int32_t out_off, lo, hi;
} tk_dw_out_stage;

static inline int8_t tk_dw_out(const tk_dw_out_stage *q, int32_t sum, int32_t oc) {
    int32_t acc = tk_conv_requant(tk_dw_add_wrap(q->fb[oc], sum), q->mult[oc], q->shift[oc]);
    acc += q->out_off;
    return (int8_t)tk_clamp(acc, q->lo, q->hi);
}

/* The taps of one output pixel that lie inside the image: rows [ky0, ky1), columns [kx0, kx1);
 * x is the input at tap (ky0, kx0), `row` bytes between taps' rows, `col` between columns. */
typedef struct {
    const int8_t *x;
    int32_t row, col, ky0, ky1, kx0, kx1;
} tk_dw_window;

/* One output pixel whose window lies inside the image, four channels at a time. */
static void tk_dw_pixel(const tk_dwconv_params *p, const tk_dw_window *win,
                        const int8_t *filter, const int32_t *fb, int8_t *out) {
    const tk_dw_out_stage q = {fb, p->multiplier, p->shift, p->output_offset, p->act_min,
                               p->act_max};
    const int32_t C = p->out_c, k_w = p->k_w, row = win->row, col = win->col;
    const int32_t ky0 = win->ky0, ky1 = win->ky1, kx0 = win->kx0, kx1 = win->kx1;
    int32_t c = 0;
    for (; c + 4 <= C; c += 4) {
        int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        const int8_t *xr = win->x + c;
        for (int32_t ky = ky0; ky < ky1; ++ky, xr += row) {
            const int8_t *xp = xr;
            const int8_t *w = filter + (ky * k_w + kx0) * C + c;
            for (int32_t kx = kx0; kx < kx1; ++kx, xp += col, w += C) {
                s0 += xp[0] * w[0];
                s1 += xp[1] * w[1];
                s2 += xp[2] * w[2];
                s3 += xp[3] * w[3];
            }
        }
        out[c] = tk_dw_out(&q, s0, c);
        out[c + 1] = tk_dw_out(&q, s1, c + 1);
        out[c + 2] = tk_dw_out(&q, s2, c + 2);
        out[c + 3] = tk_dw_out(&q, s3, c + 3);
    }
    for (; c < C; ++c) {
        int32_t s = 0;
        const int8_t *xr = win->x + c;
        for (int32_t ky = ky0; ky < ky1; ++ky, xr += row) {
            const int8_t *xp = xr;
            const int8_t *w = filter + (ky * k_w + kx0) * C + c;
            for (int32_t kx = kx0; kx < kx1; ++kx, xp += col, w += C) {
                s += xp[0] * w[0];
            }
        }
        out[c] = tk_dw_out(&q, s, c);
    }
}

/* One output pixel whose window reaches into the padding: every tap, padding taps reading the
 * input zero point (so that with the folded bias they add w * (zp + input_offset) = 0). */
static void tk_dw_border_pixel(const tk_dwconv_params *p, const int8_t *img, int32_t iy0,
                               int32_t ix0, const int8_t *filter, const int32_t *fb,
                               int8_t *out) {
    const tk_dw_out_stage q = {fb, p->multiplier, p->shift, p->output_offset, p->act_min,
                               p->act_max};
    const int32_t C = p->out_c;
    const int32_t zp = -p->input_offset;
    int32_t c = 0;
    for (; c + 4 <= C; c += 4) {
        int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        const int8_t *w = filter + c;
        for (int32_t ky = 0; ky < p->k_h; ++ky) {
            const int32_t iy = iy0 + ky * p->dil_h;
            for (int32_t kx = 0; kx < p->k_w; ++kx, w += C) {
                const int32_t ix = ix0 + kx * p->dil_w;
                if (iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w) {
                    const int8_t *xp = img + (iy * p->in_w + ix) * C + c;
                    s0 += xp[0] * w[0];
                    s1 += xp[1] * w[1];
                    s2 += xp[2] * w[2];
                    s3 += xp[3] * w[3];
                } else {
                    s0 += zp * w[0];
                    s1 += zp * w[1];
                    s2 += zp * w[2];
                    s3 += zp * w[3];
                }
            }
        }
        out[c] = tk_dw_out(&q, s0, c);
        out[c + 1] = tk_dw_out(&q, s1, c + 1);
        out[c + 2] = tk_dw_out(&q, s2, c + 2);
        out[c + 3] = tk_dw_out(&q, s3, c + 3);
    }
    for (; c < C; ++c) {
        int32_t s = 0;
        const int8_t *w = filter + c;
        for (int32_t ky = 0; ky < p->k_h; ++ky) {
            const int32_t iy = iy0 + ky * p->dil_h;
            for (int32_t kx = 0; kx < p->k_w; ++kx, w += C) {
                const int32_t ix = ix0 + kx * p->dil_w;
                const int inside = iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w;
                s += (inside ? img[(iy * p->in_w + ix) * C + c] : zp) * w[0];
            }
        }
        out[c] = tk_dw_out(&q, s, c);
    }
}

void tk_depthwise_conv2d_s8(const tk_dwconv_params *p, const int8_t *input, const int8_t *filter,
                            const int32_t *folded_bias, int8_t *output) {
    const int32_t C = p->in_c;
    const int32_t img_row = p->in_w * C;
    tk_dw_window win;
    win.row = p->dil_h * img_row;
    win.col = p->dil_w * C;
    win.ky0 = win.kx0 = 0;
    win.ky1 = p->k_h;
    win.kx1 = p->k_w;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *img = input + b * p->in_h * img_row;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            const int rows_inside = iy0 >= 0 && iy0 + (p->k_h - 1) * p->dil_h < p->in_h;
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                int8_t *out = output + ((b * p->out_h + oy) * p->out_w + ox) * C;
                if (rows_inside && ix0 >= 0 && ix0 + (p->k_w - 1) * p->dil_w < p->in_w) {
                    win.x = img + iy0 * img_row + ix0 * C;
                    tk_dw_pixel(p, &win, filter, folded_bias, out);
                } else {
                    tk_dw_border_pixel(p, img, iy0, ix0, filter, folded_bias, out);
                }
            }
        }
    }
}
