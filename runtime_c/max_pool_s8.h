/* MAX_POOL_2D, int8 NHWC; input and output share scale and zero point
 * (tk_pool_params is in tk_nn.h). */
#ifndef TK_MAX_POOL_S8_H
#define TK_MAX_POOL_S8_H
#include "tk_nn.h"

void tk_max_pool_s8(const tk_pool_params *p, const int8_t *input, int8_t *output);
#endif
