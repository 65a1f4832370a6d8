/* SUB int16 (sub_s16.c: zero points 0), with numpy-style broadcasting collapsed by the compiler
 * to 6 dims: TFLM's quantized SUB, ADD's arithmetic with the second term subtracted. Its
 * parameters are ADD's (tk_add_params: left_shift 15). int8 SUB runs tk_add_s8 (add_s8.c) with
 * input 2's table negated. */
#ifndef TK_SUB_S8_H
#define TK_SUB_S8_H
#include "add_s8.h"

void tk_sub_s16(const tk_add_params *p, const int16_t *input1, const int16_t *input2,
                int16_t *output);
#endif
