/* DEPTHWISE_CONV_2D 16x8, fast sibling of tk_depthwise_conv2d_s16 (depthwise_conv2d_s16.c), for
 * depth multiplier 1 and at most TK_DW16_FAST_TAPS filter taps (every |sum| of one channel's
 * products < 2^15 * 2^7 * 2^8 = 2^30: exact in int32, then widened as the reference's int64).
 * wx: the compiler's weights, per tap (ky * filter.w + kx), per pair of channels c, c + 1 one
 * word of int16 lanes (w[c] in lane 0, w[c + 1] in lane 1), the odd last channel's weight
 * alone in lane 0: (output.c + 1) / 2 words per tap. Same bits as the reference. */
#ifndef TK_DEPTHWISE_CONV2D_S16_FAST_H
#define TK_DEPTHWISE_CONV2D_S16_FAST_H
#include "conv2d_s16.h"

#define TK_DW16_FAST_TAPS 256       /* the int32 bound; no stack grows with it */

void tk_depthwise_conv2d_s16_fast(const tk_conv_s16_params *p, const int16_t *input,
                                  const int32_t *wx, const int64_t *bias, int16_t *output);
#endif
