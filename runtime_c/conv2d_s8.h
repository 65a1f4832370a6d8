/* CONV_2D, int8 activations (per tensor), int8 weights (per output channel; per tensor is
 * broadcast by the compiler), int32 bias. Two siblings, bit-exact with TFLM
 * reference_integer_ops::ConvPerChannel, in sibling files (conv2d_s8_ref.c, conv2d_s8.c) so that
 * an image copies only the one it calls:
 *   tk_conv2d_s8_ref: TFLM's loop nest (any groups, padding, dilation); `bias` is the model's or 0.
 *   tk_conv2d_s8:     im2col + 2x2-blocked matrix multiply, groups == 1; `bias` is the compiler's
 *                     folded bias (bias + input_offset * sum of the channel's weights, mod 2^32);
 *                     `scratch` holds 2 * K bytes (none needed for 1x1 filters);
 *                     `filter` is pair-blocked by the compiler (below) and the requantization
 *                     comes from `rq`, not `multiplier`/`shift`.
 * Pair-blocked filter (K = filter.h * filter.w * input.c taps per channel, K4 = K rounded down
 * to a multiple of 4): output channels 2j and 2j+1 occupy the 2K bytes at filter + 2jK, first for
 * each group of four taps k = 4g..4g+3 < K4 the four weights of channel 2j then those of channel
 * 2j+1, then for each remaining tap k >= K4 the weight of 2j then that of 2j+1; an odd last
 * channel keeps its K weights in order. One 8-byte read gives both channels' weights for four
 * taps. */
#ifndef TK_CONV2D_S8_H
#define TK_CONV2D_S8_H
#include "tk_nn.h"

typedef struct {
    tk_dims input;                    /* n, h, w, c */
    tk_dims output;                   /* h, w, c (n is input.n) */
    tk_dims filter;                   /* [output.c][h][w][c]; groups = input.c / filter.c */
    tk_conv_geom geom;
    tk_quant_io quant;
    const int32_t *multiplier;        /* output.c entries, Q31 */
    const int32_t *shift;             /* output.c entries, in [-31, 30]; > 0 is a left shift */
    const int32_t *rq;                /* tk_conv2d_s8: {multiplier, shift} per channel */
    int32_t rq_fast;                  /* tk_conv2d_s8: tk_requant_fast is exact (tk_nn.h) */
} tk_conv2d_params;

void tk_conv2d_s8_ref(const tk_conv2d_params *p, const int8_t *input, const int8_t *filter,
                      const int32_t *bias, int8_t *output);

void tk_conv2d_s8(const tk_conv2d_params *p, const int8_t *input, const int8_t *filter,
                  const int32_t *folded_bias, int8_t *output, int8_t *scratch);
#endif
