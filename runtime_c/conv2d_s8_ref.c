/* CONV_2D int8 reference kernel tk_conv2d_s8_ref (TFLM reference_integer_ops::ConvPerChannel's
 * loop nest), NHWC tensors, filter [out_c][k_h][k_w][k_c]. Its fast sibling tk_conv2d_s8 is in
 * conv2d_s8.c; both are declared in conv2d_s8.h. */
#include "conv2d_s8.h"

/* Accumulator range: each tap adds w * (x + input_offset) with |w| <= 128 and |x + off| <= 255,
 * so |acc| < 2^15 per tap and a filter of up to 2^16 taps cannot overflow int32 (TFLM's bound). */
void tk_conv2d_s8_ref(const tk_conv2d_params *p, const int8_t *input, const int8_t *filter,
                      const int32_t *bias, int8_t *output) {
    const int32_t filters_per_group = p->output.c / (p->input.c / p->filter.c);
    for (int32_t b = 0; b < p->input.n; ++b) {
        for (int32_t oy = 0; oy < p->output.h; ++oy) {
            const int32_t iy0 = oy * p->geom.stride_h - p->geom.pad_h;
            for (int32_t ox = 0; ox < p->output.w; ++ox) {
                const int32_t ix0 = ox * p->geom.stride_w - p->geom.pad_w;
                for (int32_t oc = 0; oc < p->output.c; ++oc) {
                    const int32_t c0 = (oc / filters_per_group) * p->filter.c;   /* group's first */
                    int32_t acc = 0;
                    for (int32_t ky = 0; ky < p->filter.h; ++ky) {
                        const int32_t iy = iy0 + p->geom.dil_h * ky;
                        if (iy < 0 || iy >= p->input.h) continue;  /* padding adds nothing */
                        for (int32_t kx = 0; kx < p->filter.w; ++kx) {
                            const int32_t ix = ix0 + p->geom.dil_w * kx;
                            if (ix < 0 || ix >= p->input.w) continue;
                            const int8_t *x =
                                input + ((b * p->input.h + iy) * p->input.w + ix) * p->input.c + c0;
                            const int8_t *w =
                                filter + ((oc * p->filter.h + ky) * p->filter.w + kx) * p->filter.c;
                            for (int32_t c = 0; c < p->filter.c; ++c) {
                                acc += w[c] * (x[c] + p->quant.input_offset);
                            }
                        }
                    }
                    /* any int32 bias: the add wraps (as TFLM's sum does in practice) */
                    if (bias) acc = (int32_t)((uint32_t)acc + (uint32_t)bias[oc]);
                    output[((b * p->output.h + oy) * p->output.w + ox) * p->output.c + oc] =
                        tk_requant_s8(acc, p->multiplier[oc], p->shift[oc], p->quant.output_offset,
                                      p->quant.act_min, p->quant.act_max);
                }
            }
        }
    }
}
