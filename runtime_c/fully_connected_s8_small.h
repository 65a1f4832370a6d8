/* FULLY_CONNECTED int8 for shallow rows (accum_depth <= 32, the gates of unrolled recurrent
 * models), TFLM-exact like tk_fully_connected_s8, one function per number of input groups G
 * (accum_depth rounded up to a multiple of 4, over 4), chosen by the compiler
 * (tinykiln.lower.fully_connected). The compiler pads everything the inner loop reads:
 *  - weights: the [rows][accum_depth] matrix padded with zero rows to a multiple of 4 and with
 *    zero columns to 4*G, then row-blocked (fully_connected_s8.h): per block of four rows, for each
 *    group of four inputs the four rows' four weights in turn (16 bytes per group and block);
 *    for the _g<G>w functions widened to int16 and each row's four in the order w0, w2, w1, w3
 *    (32 bytes per group and block: on the DSP cores two words that SMLAD takes as they are);
 *  - folded_bias: per row twice (bias + input_offset * row sum), wrapped to int32 (0 for padding
 *    rows): the kernel accumulates twice TFLM's accumulator (fully_connected_s8_small.c);
 *  - rq: per row the tk_requant_fast pair {multiplier, e1 = -shift - 1} (per-tensor quantization
 *    repeats its pair; padding rows are never read).
 * The input is not padded: the kernel copies it (its last accum_depth mod 4 values byte by byte)
 * into a zero-padded stack buffer once per batch, so the row loop has no tail. Only the
 * tk_requant_fast requantization (rq_fast in tk_fc_params). */
#ifndef TK_FULLY_CONNECTED_S8_SMALL_H
#define TK_FULLY_CONNECTED_S8_SMALL_H
#include "tk_nn.h"

typedef struct {
    int32_t batches, accum_depth, output_depth;
    const int32_t *rq;               /* {multiplier, e1} per row (per tensor: repeated) */
    const int32_t *folded_bias;      /* per padded row, doubled */
    int32_t k1;                      /* 1 + 2 * output zero point */
    int32_t act_min, act_max;        /* fused activation clamp within [-128, 127] */
} tk_fc_small_params;

#define TK_FC_SMALL_MAX_GROUPS 8

void tk_fully_connected_s8_g1(const tk_fc_small_params *p, const int8_t *input,
                              const int8_t *weights, int8_t *output);
void tk_fully_connected_s8_g1w(const tk_fc_small_params *p, const int8_t *input,
                               const int16_t *weights, int8_t *output);
void tk_fully_connected_s8_g2(const tk_fc_small_params *p, const int8_t *input,
                              const int8_t *weights, int8_t *output);
void tk_fully_connected_s8_g2w(const tk_fc_small_params *p, const int8_t *input,
                               const int16_t *weights, int8_t *output);
void tk_fully_connected_s8_g3(const tk_fc_small_params *p, const int8_t *input,
                              const int8_t *weights, int8_t *output);
void tk_fully_connected_s8_g3w(const tk_fc_small_params *p, const int8_t *input,
                               const int16_t *weights, int8_t *output);
void tk_fully_connected_s8_g4(const tk_fc_small_params *p, const int8_t *input,
                              const int8_t *weights, int8_t *output);
void tk_fully_connected_s8_g4w(const tk_fc_small_params *p, const int8_t *input,
                               const int16_t *weights, int8_t *output);
void tk_fully_connected_s8_g5(const tk_fc_small_params *p, const int8_t *input,
                              const int8_t *weights, int8_t *output);
void tk_fully_connected_s8_g5w(const tk_fc_small_params *p, const int8_t *input,
                               const int16_t *weights, int8_t *output);
void tk_fully_connected_s8_g6(const tk_fc_small_params *p, const int8_t *input,
                              const int8_t *weights, int8_t *output);
void tk_fully_connected_s8_g6w(const tk_fc_small_params *p, const int8_t *input,
                               const int16_t *weights, int8_t *output);
void tk_fully_connected_s8_g7(const tk_fc_small_params *p, const int8_t *input,
                              const int8_t *weights, int8_t *output);
void tk_fully_connected_s8_g7w(const tk_fc_small_params *p, const int8_t *input,
                               const int16_t *weights, int8_t *output);
void tk_fully_connected_s8_g8(const tk_fc_small_params *p, const int8_t *input,
                              const int8_t *weights, int8_t *output);
void tk_fully_connected_s8_g8w(const tk_fc_small_params *p, const int8_t *input,
                               const int16_t *weights, int8_t *output);
#endif
