/* ADD, int8 and int16 (add_s16.c), with numpy-style broadcasting collapsed by the compiler to 6
 * dims (TFLM's limit). The int16 kernel reads the same parameters (left_shift 15, offsets within
 * [-32767, 32768]). */
#ifndef TK_ADD_S8_H
#define TK_ADD_S8_H
#include "tk_nn.h"

typedef struct {
    tk_bcast bcast;                  /* the broadcast walk over the output (tk_nn.h) */
    int32_t input1_offset, input2_offset;   /* -zero point, in [-127, 128] */
    int32_t left_shift;              /* 20: (x + offset) << 20 stays below 2^28 */
    int32_t input1_multiplier, input1_shift;   /* shifts <= 0 */
    int32_t input2_multiplier, input2_shift;
    int32_t output_multiplier, output_shift;   /* shift <= 0 */
    tk_quant_io quant;               /* output_offset, act_min, act_max (the two inputs'
                                      * offsets are input1_offset, input2_offset above) */
} tk_add_params;

void tk_add_s8(const tk_add_params *p, const int8_t *input1, const int8_t *input2,
               int8_t *output);
void tk_add_s16(const tk_add_params *p, const int16_t *input1, const int16_t *input2,
                int16_t *output);
#endif
