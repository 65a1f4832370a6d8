/* DEPTHWISE_CONV_2D int8 reference kernel tk_depthwise_conv2d_s8_ref (TFLM
 * reference_integer_ops::DepthwiseConvPerChannel's loop nest, any depth multiplier), NHWC tensors,
 * output channel oc = ic * depth_multiplier + m. Its fast sibling tk_depthwise_conv2d_s8 is in
 * depthwise_conv2d_s8.c; both are declared in depthwise_conv2d_s8.h. */
#include "depthwise_conv2d_s8.h"

/* Accumulator range: |w * (x + input_offset)| <= 128 * 255 < 2^15 per tap, so filters of up to
 * 2^16 taps cannot overflow int32 (TFLM's bound). */
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
}
