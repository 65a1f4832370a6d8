/* FULLY_CONNECTED, int8 activations, int8 weights per tensor or per output channel, int32 bias.
 * Weights come row-blocked by the compiler (tinykiln.lower.fully_connected.row_blocked): output
 * rows in blocks of four (the last block holding output_depth mod 4 rows if that is not 0); the
 * block starting at row r0 with n rows occupies the n*accum_depth bytes at weights + r0*accum_depth:
 * first, for each group of four inputs d = 4g..4g+3 below D4 (accum_depth rounded down to a
 * multiple of 4), the four weights of each of the n rows in turn, then for each remaining input
 * d >= D4 the n rows' weights. One 16-byte read gives four rows' weights for four inputs. */
#ifndef TK_FULLY_CONNECTED_S8_H
#define TK_FULLY_CONNECTED_S8_H
#include "tk_nn.h"

typedef struct {
    int32_t batches, accum_depth, output_depth;
    tk_quant_io quant;               /* output_offset, act_min, act_max (input_offset is folded
                                      * into folded_bias, below) */
    int32_t per_channel;             /* 1: rq has output_depth entries, 0: one */
    /* {multiplier, shift} per entry, or {multiplier, -shift - 1} when rq_fast (tk_out_stage) */
    const int32_t *rq;
    int32_t rq_fast;
    /* bias[o] + input_offset * sum_d weights[o][d], folded by the compiler (input_offset being
     * minus the input zero point), so the inner loop is a plain int8 dot product */
    const int32_t *folded_bias;
} tk_fc_params;

void tk_fully_connected_s8(const tk_fc_params *p, const int8_t *input, const int8_t *weights,
                           int8_t *output);
#endif
