/* CONV_2D, int8 activations (per tensor), int8 weights (per output channel; per tensor is
 * broadcast by the compiler), int32 bias. Two siblings, bit-exact with TFLM
 * reference_integer_ops::ConvPerChannel, in sibling files (conv2d_s8_ref.c, conv2d_s8.c) so that
 * an image copies only the one it calls:
 *   tk_conv2d_s8_ref: TFLM's loop nest (any groups, padding, dilation); `bias` is the model's or 0.
 *   tk_conv2d_s8:     im2col + 2x2-blocked matrix multiply, groups == 1; `bias` is the compiler's
 *                     folded bias (bias + input_offset * sum of the channel's weights, mod 2^32);
 *                     `scratch` holds 2 * k_h * k_w * in_c bytes (none needed for 1x1 filters);
 *                     `filter` is pair-blocked by the compiler (below) and the requantization
 *                     comes from `rq`, not `multiplier`/`shift`.
 * Pair-blocked filter (K = k_h * k_w * in_c taps per channel, K4 = K rounded down to a multiple
 * of 4): output channels 2j and 2j+1 occupy the 2K bytes at filter + 2jK, first for each group of
 * four taps k = 4g..4g+3 < K4 the four weights of channel 2j then those of channel 2j+1, then for
 * each remaining tap k >= K4 the weight of 2j then that of 2j+1; an odd last channel keeps its K
 * weights in order. One 8-byte read gives both channels' weights for four taps. */
#ifndef TK_CONV2D_S8_H
#define TK_CONV2D_S8_H
#include "tk_nn.h"

typedef struct {
    int32_t batches;
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t k_h, k_w, k_c;            /* filter [out_c][k_h][k_w][k_c]; groups = in_c / k_c */
    int32_t stride_h, stride_w;
    int32_t dil_h, dil_w;
    int32_t pad_h, pad_w;             /* top / left padding (TFLM ComputePaddingHeightWidth) */
    int32_t input_offset;             /* -input zero point, in [-127, 128] */
    int32_t output_offset;            /* output zero point */
    int32_t act_min, act_max;         /* fused activation as a clamp, within [-128, 127] */
    const int32_t *multiplier;        /* out_c entries, Q31 */
    const int32_t *shift;             /* out_c entries, in [-31, 30]; > 0 is a left shift */
    const int32_t *rq;                /* tk_conv2d_s8: {multiplier, shift} per channel */
    int32_t rq_fast;                  /* tk_conv2d_s8: tk_requant_fast is exact (tk_nn.h) */
} tk_conv2d_params;

void tk_conv2d_s8_ref(const tk_conv2d_params *p, const int8_t *input, const int8_t *filter,
                      const int32_t *bias, int8_t *output);

void tk_conv2d_s8(const tk_conv2d_params *p, const int8_t *input, const int8_t *filter,
                  const int32_t *folded_bias, int8_t *output, int8_t *scratch);
#endif
