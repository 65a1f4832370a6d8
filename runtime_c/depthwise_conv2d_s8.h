/* DEPTHWISE_CONV_2D, int8 activations (per tensor), int8 weights (per output channel; per tensor is
 * broadcast by the compiler), int32 bias. Two siblings, bit-exact with TFLM
 * reference_integer_ops::DepthwiseConvPerChannel, in sibling files (depthwise_conv2d_s8_ref.c,
 * depthwise_conv2d_s8.c) so that an image copies only the one it calls:
 *   tk_depthwise_conv2d_s8_ref: TFLM's loop nest (any depth multiplier); `bias`: the model's or 0.
 *   tk_depthwise_conv2d_s8:     depth multiplier 1 only; `bias` is the compiler's folded bias
 *                               (bias + input_offset * sum of the channel's weights, mod 2^32);
 *                               `filter` group-blocked by the compiler (depthwise_conv2d_s8.c);
 *                               requantization from `rq` (tk_out_stage in tk_nn.h). */
#ifndef TK_DEPTHWISE_CONV2D_S8_H
#define TK_DEPTHWISE_CONV2D_S8_H
#include "tk_nn.h"

typedef struct {
    tk_dims input;                    /* n, h, w, c */
    tk_dims output;                   /* h, w, c = input.c * depth_multiplier (n is input.n) */
    tk_dims filter;                   /* h, w: filter [1][h][w][output.c] */
    int32_t depth_multiplier;
    tk_conv_geom geom;
    tk_quant_io quant;
    const int32_t *multiplier;        /* output.c entries, Q31 */
    const int32_t *shift;             /* output.c entries, in [-31, 30]; > 0 is a left shift */
    const int32_t *rq;                /* tk_depthwise_conv2d_s8: two words per channel */
    int32_t rq_fast;                  /* tk_depthwise_conv2d_s8: tk_requant_fast is exact */
} tk_dwconv_params;

void tk_depthwise_conv2d_s8_ref(const tk_dwconv_params *p, const int8_t *input,
                                const int8_t *filter, const int32_t *bias, int8_t *output);

void tk_depthwise_conv2d_s8(const tk_dwconv_params *p, const int8_t *input, const int8_t *filter,
                            const int32_t *folded_bias, int8_t *output);
#endif
