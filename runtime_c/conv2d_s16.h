/* CONV_2D and DEPTHWISE_CONV_2D 16x8: int16 activations (zero point 0), int8 weights per output
 * channel, bias widened to int64 by the compiler (the model's int64 or int32 bias; `acc64` says
 * which accumulator TFLM uses, tk_conv16.h). Bit-exact with TFLM
 * reference_integer_ops::ConvPerChannel / DepthwiseConvPerChannel for int16. One params struct
 * for both ops; the depthwise kernel is in depthwise_conv2d_s16.c. */
#ifndef TK_CONV2D_S16_H
#define TK_CONV2D_S16_H
#include "tk_conv16.h"

typedef struct {
    tk_dims input;                    /* n, h, w, c */
    tk_dims output;                   /* h, w, c (n is input.n) */
    tk_dims filter;                   /* conv: [output.c][h][w][c], groups = input.c / c;
                                       * depthwise: [1][h][w][output.c] */
    tk_conv_geom geom;
    tk_quant_io quant;                /* act_min, act_max within [-32768, 32767]; offsets 0 */
    int32_t depth_multiplier;         /* depthwise only */
    const int32_t *rq;                /* two words per output channel (tk_conv16.h) */
    int32_t acc64;                    /* 1: int64 accumulator, 0: int32 (int32 bias) */
} tk_conv_s16_params;

void tk_conv2d_s16(const tk_conv_s16_params *p, const int16_t *input, const int8_t *filter,
                   const int64_t *bias, int16_t *output);

/* tk_conv2d_s16's fast sibling (conv2d_s16_fast.c), for groups == 1 and dil_w == 1: the same
 * result; `filter` quad-swapped (tk_dot_s16_s8) along each (output channel, ky) run of
 * filter.w * input.c taps, which meets a contiguous run of the input wherever the filter row
 * lies wholly inside the image. */
void tk_conv2d_s16_fast(const tk_conv_s16_params *p, const int16_t *input, const int8_t *filter,
                        const int64_t *bias, int16_t *output);

void tk_depthwise_conv2d_s16(const tk_conv_s16_params *p, const int16_t *input,
                             const int8_t *filter, const int64_t *bias, int16_t *output);
#endif
