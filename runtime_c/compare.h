/* EQUAL, NOT_EQUAL, LESS, LESS_EQUAL, GREATER, GREATER_EQUAL to bool (one byte, 0 or 1), with
 * numpy-style broadcasting collapsed by the compiler to 6 dims (TFLM comparisons.cc). int8 compares
 * both inputs rescaled, int32 the stored values. */
#ifndef TK_COMPARE_H
#define TK_COMPARE_H
#include "bin_walk.h"

enum { TK_CMP_EQ, TK_CMP_NE, TK_CMP_LT, TK_CMP_LE, TK_CMP_GT, TK_CMP_GE };

/* One broadcast walk per comparison `op` (TK_CMP_*), comparing the expressions A and B of the
 * input elements a and b (bin_walk.h's TK_BIN_WALK over dims, st1, st2). */
#define TK_CMP_WALK(op, dims, st1, st2, T, in1, in2, out, A, B)                               \
    switch (op) {                                                                           \
    case TK_CMP_EQ: TK_BIN_WALK(dims, st1, st2, T, in1, T, in2, uint8_t, out, A == B); break; \
    case TK_CMP_NE: TK_BIN_WALK(dims, st1, st2, T, in1, T, in2, uint8_t, out, A != B); break; \
    case TK_CMP_LT: TK_BIN_WALK(dims, st1, st2, T, in1, T, in2, uint8_t, out, A < B); break;  \
    case TK_CMP_LE: TK_BIN_WALK(dims, st1, st2, T, in1, T, in2, uint8_t, out, A <= B); break; \
    case TK_CMP_GT: TK_BIN_WALK(dims, st1, st2, T, in1, T, in2, uint8_t, out, A > B); break;  \
    default: TK_BIN_WALK(dims, st1, st2, T, in1, T, in2, uint8_t, out, A >= B); break;        \
    }

typedef struct {
    tk_bcast bcast;                  /* the broadcast walk over the output (tk_nn.h) */
    int32_t op;                      /* TK_CMP_* */
    int32_t input1_offset, input2_offset;   /* int8: -zero point */
    int32_t left_shift;              /* int8: 8 */
    int32_t input1_multiplier, input1_shift;   /* int8: each input's scale (< 1), shift <= 0 */
    int32_t input2_multiplier, input2_shift;
} tk_compare_params;

void tk_compare_s8(const tk_compare_params *p, const int8_t *input1, const int8_t *input2,
                   uint8_t *output);
void tk_compare_s32(const tk_compare_params *p, const int32_t *input1, const int32_t *input2,
                    uint8_t *output);
#endif
