/* CONV_2D int8 reference kernel tk_conv2d_s8_ref (TFLM reference_integer_ops::ConvPerChannel's
 * loop nest), NHWC tensors, filter [out_c][k_h][k_w][k_c]. Its fast sibling tk_conv2d_s8 is in
 * conv2d_s8.c; both are declared in conv2d_s8.h. */
#include "conv2d_s8.h"

/* Accumulator range: each tap adds w * (x + input_offset) with |w| <= 128 and |x + off| <= 255,
 * so |acc| < 2^15 per tap and a filter of up to 2^16 taps cannot overflow int32 (TFLM's bound). */
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
                    /* any int32 bias: the add wraps (as TFLM's sum does in practice) */
                    if (bias) acc = (int32_t)((uint32_t)acc + (uint32_t)bias[oc]);
                    output[((b * p->out_h + oy) * p->out_w + ox) * p->out_c + oc] =
                        tk_requant_s8(acc, p->multiplier[oc], p->shift[oc], p->output_offset,
                                      p->act_min, p->act_max);
                }
            }
        }
    }
}
