/* MEAN and SUM, int16: the walk and requantization of the int8 kernel (tk_mean_params), with the
 * compiler's int16 limit on the count (< 2^15, so |sum - zp * count| < 2^31). */
#ifndef TK_REDUCE_SUM_S16_H
#define TK_REDUCE_SUM_S16_H
#include "mean_s8.h"

void tk_reduce_sum_s16(const tk_mean_params *p, const int16_t *input, int16_t *output);
#endif
