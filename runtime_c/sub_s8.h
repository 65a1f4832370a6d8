/* SUB, int8 and int16 (sub_s16.c: zero points 0), with numpy-style broadcasting collapsed by the
 * compiler to 6 dims: TFLM's quantized SUB, ADD's arithmetic with the second term subtracted. Its
 * parameters are ADD's (tk_add_params: left_shift 20 for int8, 15 for int16). */
#ifndef TK_SUB_S8_H
#define TK_SUB_S8_H
#include "add_s8.h"

void tk_sub_s8(const tk_add_params *p, const int8_t *input1, const int8_t *input2,
               int8_t *output);
void tk_sub_s16(const tk_add_params *p, const int16_t *input1, const int16_t *input2,
                int16_t *output);
#endif
