/* MUL, int8 and int16 (mul_s16.c: zero points 0), with numpy-style broadcasting collapsed by the
 * compiler to 6 dims (TFLM's limit). */
#ifndef TK_MUL_S8_H
#define TK_MUL_S8_H
#include "tk_nn.h"

typedef struct {
    tk_bcast bcast;                  /* the broadcast walk over the output (tk_nn.h) */
    int32_t input1_offset, input2_offset;   /* -zero point, in [-127, 128]; int16: 0, unread */
    int32_t output_multiplier, output_shift;
    tk_quant_io quant;               /* output_offset, act_min, act_max (the two inputs'
                                      * offsets are input1_offset, input2_offset above) */
} tk_mul_params;

void tk_mul_s8(const tk_mul_params *p, const int8_t *input1, const int8_t *input2,
               int8_t *output);
void tk_mul_s16(const tk_mul_params *p, const int16_t *input1, const int16_t *input2,
                int16_t *output);
#endif
