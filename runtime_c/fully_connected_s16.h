/* FULLY_CONNECTED 16x8: int16 activations, int8 weights [output_depth][accum_depth] per tensor
 * or per row, bias widened to int64 by the compiler (the model's int64 or int32 bias; `acc64`
 * says which accumulator TFLM uses, tk_conv16.h). Bit-exact with TFLM
 * reference_integer_ops::FullyConnected / FullyConnectedPerChannel for int16, zero points
 * included (TFLM applies them here). */
#ifndef TK_FULLY_CONNECTED_S16_H
#define TK_FULLY_CONNECTED_S16_H
#include "tk_conv16.h"

typedef struct {
    int32_t batches, accum_depth, output_depth;
    tk_quant_io quant;               /* input_offset in [-32767, 32768], output_offset, clamp */
    int32_t per_channel;             /* 1: rq has a pair per row, 0: one pair */
    const int32_t *rq;               /* tk_conv16.h */
    int32_t acc64;
} tk_fc_s16_params;

void tk_fully_connected_s16(const tk_fc_s16_params *p, const int16_t *input,
                            const int8_t *weights, const int64_t *bias, int16_t *output);
/* tk_fully_connected_s16's fast sibling (fully_connected_s16_fast.c): the same result; each
 * weights row quad-swapped (tk_dot_s16_s8) and `bias` the compiler's folded bias, bias +
 * input_offset * sum of the row's weights in int64 (never 0; quant.input_offset unread). */
void tk_fully_connected_s16_fast(const tk_fc_s16_params *p, const int16_t *input,
                                 const int8_t *weights, const int64_t *folded_bias,
                                 int16_t *output);
#endif
