/* MEAN and SUM, int8 (SUM's multiplier has no 1/count in it): the compiler collapses the input
 * into up to 3 kept and 3 reduced dims (size 1, stride 0 where unused); kept dims in order
 * enumerate the output. The int16 kernel (reduce_sum_s16.h) takes the same parameters. */
#ifndef TK_MEAN_S8_H
#define TK_MEAN_S8_H
#include "tk_nn.h"

typedef struct {
    int32_t keep_dims[3], keep_stride[3];   /* element strides into the input */
    int32_t red_dims[3], red_stride[3];     /* product of red_dims = count < 2^24 */
    int32_t zp_times_count;                 /* input zero point * count */
    int32_t multiplier, shift;              /* (s_in / s_out) / count, folded as TFLM does
                                             * (SUM: s_in / s_out) */
    int32_t output_offset;
} tk_mean_params;

void tk_mean_s8(const tk_mean_params *p, const int8_t *input, int8_t *output);
#endif
