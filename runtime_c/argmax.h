/* ARG_MAX and ARG_MIN, int8 input, int32 output: the input seen as [outer, axis_size, inner]
 * (row-major), the output as [outer, inner]. */
#ifndef TK_ARGMAX_H
#define TK_ARGMAX_H
#include "tk_nn.h"

typedef struct {
    int32_t outer, axis_size, inner;    /* all >= 1 */
    int32_t is_max;                     /* 1: ARG_MAX, 0: ARG_MIN */
} tk_argmax_params;

void tk_arg_min_max_s8(const tk_argmax_params *p, const int8_t *input, int32_t *output);
#endif
