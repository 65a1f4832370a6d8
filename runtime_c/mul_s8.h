/* MUL, int8 and int16 (mul_s16.c: zero points 0), with numpy-style broadcasting collapsed by the
 * compiler to 6 dims (TFLM's limit). */
#ifndef TK_MUL_S8_H
#define TK_MUL_S8_H
#include "tk_nn.h"
#include "ew_s8.h"

/* int16 MUL */
typedef struct {
    tk_bcast bcast;                  /* the broadcast walk over the output (tk_nn.h) */
    int32_t input1_offset, input2_offset;   /* 0, unread */
    int32_t output_multiplier, output_shift;
    tk_quant_io quant;               /* output_offset, act_min, act_max */
} tk_mul_params;

/* int8 MUL: the product of the zero-point-corrected inputs (|product| <= 255 * 255), requantized
 * by tk_ew_out */
typedef struct {
    tk_bcast bcast;
    int32_t input1_offset, input2_offset;   /* -zero point, in [-127, 128] */
    tk_ew_out out;
    int32_t variant;                 /* as tk_add8_params' (add_s8.h) */
    int32_t rows;                    /* dims[0..4]'s product; 0 for an empty output */
} tk_mul8_params;

void tk_mul_s8(const tk_mul8_params *p, const int8_t *input1, const int8_t *input2,
               int8_t *output);
void tk_mul_s16(const tk_mul_params *p, const int16_t *input1, const int16_t *input2,
                int16_t *output);
#endif
