/* FULLY_CONNECTED, int8 activations, int8 weights per tensor or per output channel, int32 bias. */
#ifndef TK_FULLY_CONNECTED_S8_H
#define TK_FULLY_CONNECTED_S8_H
#include "tk_nn.h"

typedef struct {
    int32_t batches, accum_depth, output_depth;
    int32_t output_offset;           /* output zero point */
    int32_t act_min, act_max;
    int32_t per_channel;             /* 1: multiplier/shift arrays have output_depth entries */
    const int32_t *multiplier;
    const int32_t *shift;
    /* bias[o] + input_offset * sum_d weights[o][d], folded by the compiler (input_offset being
     * minus the input zero point), so the inner loop is a plain int8 dot product */
    const int32_t *folded_bias;
} tk_fc_params;

void tk_fully_connected_s8(const tk_fc_params *p, const int8_t *input, const int8_t *weights,
                           int8_t *output);
#endif
