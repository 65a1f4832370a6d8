/* FULLY_CONNECTED int8, TFLM-exact like tk_fully_connected_s8_pairs (the same params and the same
 * int16 values h = 256 * b + a per row pair (a, b): fully_connected_s8_pairs.h), without that
 * kernel's stack buffer of int16 input lanes (2 bytes per input): each word of four inputs is
 * widened as it is read (SXTB16) and serves four rows, two pairs. About one instruction per MAC
 * where the pair kernel takes 7/8, so the compiler takes it where RAM matters more
 * (passes/lean_stack.py: --optimize ram, and balanced where that buffer sets the stack peak
 * within its instruction budget).
 * Table: rows zero-padded to a multiple of four, inputs to Q = accum_depth rounded up to a
 * multiple of 4; per row quad (pairs A = rows 4q, 4q + 1 and B = rows 4q + 2, 4q + 3), per four
 * inputs d = 4k .. 4k + 3, four words of two int16 values: A's (h[d], h[d + 2]),
 * (h[d + 1], h[d + 3]), then B's alike. One table for every build: Helium cores run the DSP path
 * (the compiler does not take this kernel for them: their pair kernel keeps no lanes). */
#ifndef TK_FULLY_CONNECTED_S8_QUADS_H
#define TK_FULLY_CONNECTED_S8_QUADS_H
#include "fully_connected_s8_pairs.h"

void tk_fully_connected_s8_quads(const tk_fc_pairs_params *p, const int8_t *input,
                                 const int16_t *weights, int8_t *output);
#endif
