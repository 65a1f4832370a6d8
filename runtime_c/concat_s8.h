/* CONCATENATION, int8 (all inputs share the output's scale and zero point): the tensors are seen
 * as [outer][block_i]; output row r is input 0's row r, then input 1's row r, ... The kernel
 * copies bytes, so int16, int32, int64 and bool tensors use it too, blocks counted in bytes. */
#ifndef TK_CONCAT_S8_H
#define TK_CONCAT_S8_H
#include "tk_nn.h"

#define TK_CONCAT_MAX_INPUTS 16

typedef struct {
    int32_t num_inputs;
    int32_t outer;                              /* product of the dims before the axis */
    int32_t block[TK_CONCAT_MAX_INPUTS];        /* bytes of one row of input i */
    const int8_t *input[TK_CONCAT_MAX_INPUTS];
} tk_concat_params;

void tk_concat_s8(const tk_concat_params *p, int8_t *output);
#endif
