/* ADD, int8 and int16 (add_s16.c), with numpy-style broadcasting collapsed by the compiler to 6
 * dims (TFLM's limit). int8 SUB runs the int8 ADD kernel with input 2's table negated. */
#ifndef TK_ADD_S8_H
#define TK_ADD_S8_H
#include "tk_nn.h"
#include "ew_s8.h"

/* int16 ADD and SUB, int8 and int16 SQUARED_DIFFERENCE: TFLM's parameters as they are */
typedef struct {
    tk_bcast bcast;                  /* the broadcast walk over the output (tk_nn.h) */
    int32_t input1_offset, input2_offset;   /* -zero point */
    int32_t left_shift;              /* 20 (int8), 15 (int16), 7 / 0 (SQUARED_DIFFERENCE) */
    int32_t input1_multiplier, input1_shift;   /* shifts <= 0 */
    int32_t input2_multiplier, input2_shift;
    int32_t output_multiplier, output_shift;
    tk_quant_io quant;               /* output_offset, act_min, act_max (the two inputs'
                                      * offsets are input1_offset, input2_offset above) */
} tk_add_params;

/* int8 ADD and SUB. TFLM's input stage, ((x + offset) << 20) scaled by the input's multiplier,
 * is a function of the int8 value alone: the compiler tabulates it, doubled (256 entries per
 * input, indexed by x + 128; |entry| < 2^29), and negated for SUB's input 2. The kernel adds two
 * entries and requantizes the sum (tk_ew_out). */
typedef struct {
    tk_bcast bcast;
    const int32_t *table1, *table2;
    tk_ew_out out;
    int32_t variant;                 /* 3 * kind + mode (TK_EW_STORE): kind 0 both inputs read
                                      * with stride 1 along the innermost dim, 1 input 2
                                      * broadcast along it, 2 input 1; 9: both, mode 0 */
    int32_t rows;                    /* dims[0..4]'s product; 0 for an empty output */
} tk_add8_params;

void tk_add_s8(const tk_add8_params *p, const int8_t *input1, const int8_t *input2,
               int8_t *output);
void tk_add_s16(const tk_add_params *p, const int16_t *input1, const int16_t *input2,
                int16_t *output);
#endif
