/* BATCH_MATMUL, int16 (zero points 0): the parameters of the int8 kernel (batch_matmul_s8.h). */
#ifndef TK_BATCH_MATMUL_S16_H
#define TK_BATCH_MATMUL_S16_H
#include "batch_matmul_s8.h"

void tk_batch_matmul_s16(const tk_batch_matmul_params *p, const int16_t *lhs,
                         const int16_t *rhs, int16_t *output);
#endif
