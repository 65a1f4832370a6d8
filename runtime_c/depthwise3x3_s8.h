/* DEPTHWISE_CONV_2D int8, 3x3 filter, stride 1 or 2, no dilation, depth multiplier 1: the line kernel
 * tk_depthwise3x3_s8 (depthwise3x3_s8.c), bit-exact with TFLM
 * reference_integer_ops::DepthwiseConvPerChannel.
 *
 * It works channel by channel along "lines": the image's rows, or its columns when the compiler
 * transposes the geometry (strides below) so that the lines are the longer dimension. Each input
 * line of one channel is widened once into an int16 line buffer on the stack (three of them in a
 * ring, each serving three output lines), with the input zero point at padding positions; two
 * neighbouring outputs then take six dual multiply-accumulates per filter row (SMLAD, SMLABT,
 * SMLATB) from two word loads (stride 2: four from two and a half). With the compiler's folded bias (bias + input_offset * sum of the
 * channel's nine weights, mod 2^32) a padding tap, holding the zero point, adds nothing, as TFLM's
 * skipped taps do. Lines longer than TK_DW3_CHUNK outputs are done in chunks.
 * In place (output == input): at stride 1 with the output the input's shape and one chunk per
 * line (pos_out <= TK_DW3_CHUNK), each group of channels writes output line o only after the
 * input lines up to o + 1 are in its ring, and never reads an input line again; the Helium path
 * (one channel's plane copied whole before its outputs) takes it only in one band and chunk.
 * The compiler's in-place pass checks this order (compiler/passes/in_place.py). */
#ifndef TK_DEPTHWISE3X3_S8_H
#define TK_DEPTHWISE3X3_S8_H
#include "tk_nn.h"

/* outputs of a line per chunk (stride 2: half as many): the stack holds 12 * (TK_DW3_CHUNK + 4)
 * int16 */
#define TK_DW3_CHUNK 32

typedef struct {
    int32_t batches, channels;
    int32_t stride;                    /* 1 or 2, along and across the lines alike */
    int32_t lines_in, pos_in;          /* input lines and positions along a line */
    int32_t lines_out, pos_out;        /* output likewise */
    int32_t pad_line, pad_pos;         /* leading padding (0 or 1) across and along the lines */
    int32_t in_line, in_pos;           /* input bytes between lines / positions (channels apart) */
    int32_t out_line, out_pos;         /* output bytes likewise */
    int32_t in_image, out_image;       /* bytes per batch image */
    int32_t input_zp;                  /* the input's zero point: what padding taps hold */
    int32_t output_offset, act_min, act_max;
    const int32_t *rq;                 /* two words per channel (tk_out_stage in tk_nn.h) */
    int32_t rq_fast;
} tk_dw3_params;

/* filter: per channel six words of two int16 lanes, per filter row a (across the lines)
 * {w[a][0] | w[a][1] << 16, w[a][1] | w[a][2] << 16}, positions along the line being the second
 * index; folded_bias: per channel. */
void tk_depthwise3x3_s8(const tk_dw3_params *p, const int8_t *input, const int32_t *filter,
                        const int32_t *folded_bias, int8_t *output);
#endif
