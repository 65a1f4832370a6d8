/* FULLY_CONNECTED int8, TFLM-exact like tk_fully_connected_s8, two output rows per pass from
 * one 32-bit weight word per two inputs (fully_connected_s8_pairs.c), chosen by the compiler
 * (tinykiln.lower.fully_connected) for 32 < accum_depth <= TK_FC_PAIRS_MAX_DEPTH with the fast
 * requantization when every value below fits. Rows go in pairs (a, b) = (2i, 2i + 1); an odd
 * last row is paired with a zero row. Inputs go in groups of eight, the depth padded with zero
 * weights to D8 = accum_depth rounded up to a multiple of 8. The table is int16: per pair, for
 * each group g, the eight values at weights + 8 * (i * D8 / 8 + g) are
 *     h[d] = 256 * b[d] + a[d]     for d = 8g + 0, 2, 1, 3, 4, 6, 5, 7 in that order,
 * so each 32-bit word holds two inputs' values, d and d + 2, the lanes SXTB16 makes of the input
 * words. SMLAD of a word with those two inputs accumulates 256 * (x . b) + x . a; SMLAD of its
 * SXTB16 (the low bytes: a) x . a alone; x . b is their difference over 256. The compiler takes
 * this layout only where every h fits int16 (no b[d] = -128 with a[d] < 0) and every b row's
 * 128 * sum |b| < 2^23, so |x . b| < 2^23 and the difference, exact mod 2^32, is exact.
 * folded_bias: per row (padded to an even count) twice (bias + input_offset * row sum), wrapped
 * to int32; rq: {multiplier, e1 = -shift - 1} (tk_requant_fast) per row, or one pair repeated
 * twice (per_channel 0). */
#ifndef TK_FULLY_CONNECTED_S8_PAIRS_H
#define TK_FULLY_CONNECTED_S8_PAIRS_H
#include "tk_nn.h"
#include "tk_mve.h" /* TK_MVE: model.c keeps the Helium form (fully_connected_s8_mve.h) */

/* the DSP path splits one batch's input into int16 lanes on the stack: 2 bytes per input */
#define TK_FC_PAIRS_MAX_DEPTH 1024

typedef struct {
    int32_t batches, accum_depth, output_depth;
    const int32_t *rq;               /* {multiplier, e1} per row, or one for all, twice */
    int32_t per_channel;             /* 1: rq has output_depth pairs, 0: one */
    const int32_t *folded_bias;      /* per row (even count), doubled */
    int32_t k1;                      /* 1 + 2 * output zero point */
    int32_t act_min, act_max;        /* fused activation clamp within [-128, 127] */
} tk_fc_pairs_params;

void tk_fully_connected_s8_pairs(const tk_fc_pairs_params *p, const int8_t *input,
                                 const int16_t *weights, int8_t *output);
#endif
