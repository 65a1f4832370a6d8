/* DEPTHWISE_CONV_2D int8 reference kernel tk_depthwise_conv2d_s8_ref (TFLM
 * reference_integer_ops::DepthwiseConvPerChannel's loop nest, any depth multiplier), NHWC tensors,
 * output channel oc = ic * depth_multiplier + m. Its fast sibling tk_depthwise_conv2d_s8 is in
 * depthwise_conv2d_s8.c; both are declared in depthwise_conv2d_s8.h. */
#include "depthwise_conv2d_s8.h"

/* Accumulator range: |w * (x + input_offset)| <= 128 * 255 < 2^15 per tap, so filters of up to
 * 2^16 taps cannot overflow int32 (TFLM's bound). */
void tk_depthwise_conv2d_s8_ref(const tk_dwconv_params *p, const int8_t *input,
                                const int8_t *filter, const int32_t *bias, int8_t *output) {
    for (int32_t b = 0; b < p->input.n; ++b) {
        for (int32_t oy = 0; oy < p->output.h; ++oy) {
            const int32_t iy0 = oy * p->geom.stride_h - p->geom.pad_h;
            for (int32_t ox = 0; ox < p->output.w; ++ox) {
                const int32_t ix0 = ox * p->geom.stride_w - p->geom.pad_w;
                for (int32_t ic = 0; ic < p->input.c; ++ic) {
                    for (int32_t m = 0; m < p->depth_multiplier; ++m) {
                        const int32_t oc = ic * p->depth_multiplier + m;
                        int32_t acc = 0;
                        for (int32_t ky = 0; ky < p->filter.h; ++ky) {
                            const int32_t iy = iy0 + p->geom.dil_h * ky;
                            if (iy < 0 || iy >= p->input.h) continue;  /* padding: nothing */
                            for (int32_t kx = 0; kx < p->filter.w; ++kx) {
                                const int32_t ix = ix0 + p->geom.dil_w * kx;
                                if (ix < 0 || ix >= p->input.w) continue;
                                const int32_t x =
                                    input[((b * p->input.h + iy) * p->input.w + ix) * p->input.c
                                          + ic];
                                const int32_t w =
                                    filter[(ky * p->filter.w + kx) * p->output.c + oc];
                                acc += w * (x + p->quant.input_offset);
                            }
                        }
                        /* any int32 bias: the add wraps (as TFLM's sum does in practice) */
                        if (bias) acc = (int32_t)((uint32_t)acc + (uint32_t)bias[oc]);
                        output[((b * p->output.h + oy) * p->output.w + ox) * p->output.c + oc] =
                            tk_requant_s8(acc, p->multiplier[oc], p->shift[oc],
                                          p->quant.output_offset, p->quant.act_min,
                                          p->quant.act_max);
                    }
                }
            }
        }
    }
}
