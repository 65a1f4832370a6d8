/* CONV_2D, int8 activations (per tensor), int8 weights (per output channel; per tensor is
 * broadcast by the compiler), int32 bias. Two siblings, bit-exact with TFLM
 * reference_integer_ops::ConvPerChannel:
 *   tk_conv2d_s8_ref: TFLM's loop nest (any groups, padding, dilation); `bias` is the model's or 0.
 *   tk_conv2d_s8:     im2col + 2x2-blocked matrix multiply, groups == 1; `bias` is the compiler's
 *                     folded bias (bias + input_offset * sum of the channel's weights, mod 2^32);
 *                     `scratch` holds 2 * k_h * k_w * in_c bytes (none needed for 1x1 filters). */
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
} tk_conv2d_params;

/* tk_requant (TFLM's MultiplyByQuantizedMultiplier) for the multipliers TFLM's QuantizeMultiplier
 * produces, 0 or in [2^30, 2^31). The product is then never INT32_MIN * INT32_MIN, and the doubling
 * high multiply, (x*m + nudge) / 2^31 truncated with nudge 2^30 or 1 - 2^30 by the product's sign,
 * equals floor((x*m + 2^30) / 2^31) in every case: one 64-bit add and shift, no branches. The
 * rounding divide by 2^e is TFLM's (halves away from zero). Shared by the conv kernels. */
static inline int32_t tk_conv_requant(int32_t x, int32_t m, int32_t shift) {
    int32_t e = 0;
    if (shift > 0) {
        x = (int32_t)((uint32_t)x << shift);        /* wraps like TFLM's int32 multiply */
    } else {
        e = -shift;                                 /* 0..31 */
    }
    const int32_t h = (int32_t)(((int64_t)x * m + (1 << 30)) >> 31);   /* |x*m| < 2^62: fits */
    const int32_t mask = (int32_t)((1u << e) - 1u);
    const int32_t threshold = (mask >> 1) + (h < 0 ? 1 : 0);
    return (h >> e) + ((h & mask) > threshold ? 1 : 0);
}

void tk_conv2d_s8_ref(const tk_conv2d_params *p, const int8_t *input, const int8_t *filter,
                      const int32_t *bias, int8_t *output);

void tk_conv2d_s8(const tk_conv2d_params *p, const int8_t *input, const int8_t *filter,
                  const int32_t *folded_bias, int8_t *output, int8_t *scratch);
#endif
