/* TRANSPOSE_CONV, int8 (int32 bias) and 16x8 (int16 activations, int64 bias), int8 weights per
 * output channel: filter [output.c][h][w][input.c], NHWC tensors. Bit-exact with TFLM
 * reference_integer_ops::TransposeConv. TFLM scatters each input pixel's products into a
 * scratch of accumulators; these kernels gather instead: output (oy, ox) sums the taps
 * (ky, kx) with oy = iy * stride_h - pad_h + ky (and alike for x) for an input pixel (iy, ix).
 * The same products are summed (int32 wrapping or int64 exact, either order gives the same
 * bits), so no scratch is needed. In sibling files transpose_conv_s8.c, transpose_conv_s8_fast.c,
 * transpose_conv_s16.c. */
#ifndef TK_TRANSPOSE_CONV_H
#define TK_TRANSPOSE_CONV_H
#include "tk_conv16.h"

typedef struct {
    tk_dims input;                    /* n, h, w, c */
    tk_dims output;                   /* h, w, c (n is input.n) */
    tk_dims filter;                   /* h, w */
    tk_conv_geom geom;                /* stride_h, stride_w, pad_h, pad_w (TFLM's padding) */
    tk_quant_io quant;                /* int8: offsets and clamp; int16: clamp (offsets 0) */
    const int32_t *rq;                /* two words per output channel: int8 {multiplier,
                                       * shift} (tk_requant), int16 {m16, t} (tk_conv16.h);
                                       * tk_transpose_conv_s8_fast: tk_out_stage's table */
    int32_t rq_fast;                  /* tk_transpose_conv_s8_fast: tk_out_stage's rq_fast */
} tk_tconv_params;

void tk_transpose_conv_s8(const tk_tconv_params *p, const int8_t *input, const int8_t *filter,
                          const int32_t *bias, int8_t *output);

/* The fast int8 kernel (transpose_conv_s8_fast.c), same bits as tk_transpose_conv_s8. wx: the
 * compiler's expanded weights, int32 words, per output channel group (groups of four channels,
 * then single ones; group g of size gs starts at word o0 * words_per_oc), per tap ky * w + kx:
 * gs words input_offset * sum of the tap's weights, then per block of four input channels
 * c..c+3 and per channel of the group two words of int16 pairs (w[c], w[c+2]) and
 * (w[c+1], w[c+3]) (lane 0 low), then the input.c % 4 last channels' weights, one word per
 * channel of the group. words_per_oc = (1 + (input.c & ~3) / 2 + input.c % 4) * h * w. At most
 * TK_TCONV_FAST_TAPS taps reach one output, and TK_TCONV_FAST_PRODUCTS products. */
#define TK_TCONV_FAST_TAPS 64
#define TK_TCONV_FAST_PRODUCTS 32768
void tk_transpose_conv_s8_fast(const tk_tconv_params *p, const int8_t *input, const int32_t *wx,
                               const int32_t *bias, int8_t *output);

void tk_transpose_conv_s16(const tk_tconv_params *p, const int16_t *input,
                           const int8_t *filter, const int64_t *bias, int16_t *output);

/* The first filter row (or column) that reaches output row o, given stride s and padding pad:
 * the taps k = first, first + s, ... with k <= o + pad read input row (o + pad - k) / s. */
static inline int32_t tk_tconv_first(int32_t o, int32_t pad, int32_t s) {
    return (o + pad) % s;
}
#endif
