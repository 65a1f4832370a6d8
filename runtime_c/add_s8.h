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
 * is a function of the int8 value alone. For an op of many elements the compiler tabulates it,
 * doubled (256 entries per input, indexed by x + 128; |entry| < 2^29), and negated for SUB's
 * input 2; else the kernel computes it: the input at the larger scale, whose multiplier is 1/2,
 * exactly as 2 * ((x + offset) << 19) = x * in1_scale + in1_bias (the compiler passes it as
 * input 1, swapping the inputs if need be; in1_scale is -2^20 for SUB's subtrahend), the other
 * by tk_ew_in2 (ew_s8.h). The kernel adds the two and requantizes the sum (tk_ew_out). */
typedef struct {
    tk_bcast bcast;
    const int32_t *table1, *table2;  /* variants 0-9 */
    int32_t in1_scale, in1_bias;     /* variants 10-19 */
    tk_ew_in in2;
    tk_ew_out out;
    int32_t variant;                 /* 10 * stage + 3 * kind + mode (TK_EW_STORE): stage 0
                                      * tables, 1 computed; kind 0 both inputs read with
                                      * stride 1 along the innermost dim, 1 input 2 broadcast
                                      * along it, 2 input 1; 3 * kind + mode 9: both, mode 0 */
    int32_t rows;                    /* dims[0..4]'s product; 0 for an empty output */
} tk_add8_params;

void tk_add_s8(const tk_add8_params *p, const int8_t *input1, const int8_t *input2,
               int8_t *output);
void tk_add_s16(const tk_add_params *p, const int16_t *input1, const int16_t *input2,
                int16_t *output);
#endif
