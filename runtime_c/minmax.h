/* MINIMUM and MAXIMUM, int8, int16 and int32, with numpy-style broadcasting collapsed by the
 * compiler to 6 dims: the stored values compared (the compiler checked that inputs and output
 * share one quantization), as TFLM does. */
#ifndef TK_MINMAX_H
#define TK_MINMAX_H
#include "bin_walk.h"

typedef struct {
    tk_bcast bcast;                  /* the broadcast walk over the output (tk_nn.h) */
    int32_t is_max;                  /* 1: MAXIMUM, 0: MINIMUM */
} tk_minmax_params;

void tk_minmax_s8(const tk_minmax_params *p, const int8_t *input1, const int8_t *input2,
                  int8_t *output);
void tk_minmax_s16(const tk_minmax_params *p, const int16_t *input1, const int16_t *input2,
                   int16_t *output);
void tk_minmax_s32(const tk_minmax_params *p, const int32_t *input1, const int32_t *input2,
                   int32_t *output);
#endif
