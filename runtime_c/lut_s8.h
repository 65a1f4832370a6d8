/* Any elementwise int8 -> int8 function given as a 256-entry table (LOGISTIC, TANH, RELU, RELU6,
 * HARD_SWISH, LEAKY_RELU, ELU, RSQRT, int8 requantizing QUANTIZE). The compiler fills the table by running TFLM's exact
 * integer algorithm over every input value, so a lookup reproduces TFLM bit for bit. */
#ifndef TK_LUT_S8_H
#define TK_LUT_S8_H
#include "tk_nn.h"

typedef struct {
    int32_t size;                    /* elements */
    const int8_t *table;             /* table[x + 128] = f(x) for x in [-128, 127] */
} tk_lut_params;

void tk_lut_s8(const tk_lut_params *p, const int8_t *input, int8_t *output);

/* The same with int16 results (QUANTIZE int8 -> int16), in lut_s8_s16.c. */
typedef struct {
    int32_t size;                    /* elements */
    const int16_t *table;            /* table[x + 128] = f(x) for x in [-128, 127] */
} tk_lut_s16_params;

void tk_lut_s8_s16(const tk_lut_s16_params *p, const int8_t *input, int16_t *output);
#endif
