/* REDUCE_MAX and REDUCE_MIN, int8 (input and output share scale and zero point): the compiler
 * collapses the input into up to 3 kept and 3 reduced dims (size 1, stride 0 where unused); kept
 * dims in order enumerate the output. */
#ifndef TK_REDUCE_MINMAX_S8_H
#define TK_REDUCE_MINMAX_S8_H
#include "tk_nn.h"

typedef struct {
    int32_t keep_dims[3], keep_stride[3];   /* element strides into the input */
    int32_t red_dims[3], red_stride[3];     /* at least one element reduced per output */
} tk_reduce_params;

void tk_reduce_max_s8(const tk_reduce_params *p, const int8_t *input, int8_t *output);
void tk_reduce_min_s8(const tk_reduce_params *p, const int8_t *input, int8_t *output);
#endif
