/* LOG_SOFTMAX int8 over the innermost dimension (TFLM reference_ops::LogSoftmax, int8): per row,
 * the sum of exp(x - max) in Q12.19 (each term from a compile-time table, as the difference lies
 * in [-255, 0]), its natural log by gemmlowp's log_x_for_x_greater_than_or_equal_to_1 (Q5.26),
 * and each output (x - max) - log(sum) in TFLM's fixed output quantization: scale 16/256, zero
 * point 127. */
#ifndef TK_LOG_SOFTMAX_S8_H
#define TK_LOG_SOFTMAX_S8_H
#include "tk_nn.h"

typedef struct {
    int32_t outer;                   /* rows */
    int32_t depth;                   /* row length, in [1, 4095]: the sum of exps, each at most
                                      * 2^19, stays below 2^31 */
    int32_t diff_min;                /* differences below it add nothing to the sum */
    int32_t reverse_multiplier;      /* log(sum) back to input units: < 1 */
    int32_t reverse_shift;           /* in [-31, 0] */
    const int32_t *exp_table;        /* [max - x]: exp(scale * (x - max)) in Q12.19 (0 below
                                      * diff_min) */
    const int32_t *diff_table;       /* [max - x]: scale * (x - max) in Q5.26 */
} tk_log_softmax_params;

void tk_log_softmax_s8(const tk_log_softmax_params *p, const int8_t *input, int8_t *output);
#endif
