/* ARG_MAX and ARG_MIN int8 (TFLM reference_ops::ArgMinMax): a later element replaces the best
 * only if strictly greater (smaller), so ties keep the first index. Walked inner-fastest so the
 * input is read in order: one running best per inner position of a row. */
#include "argmax.h"

void tk_arg_min_max_s8(const tk_argmax_params *p, const int8_t *input, int32_t *output) {
    const int32_t sign = p->is_max ? 1 : -1;     /* ARG_MIN: the maximum of -x */
    for (int32_t o = 0; o < p->outer; ++o) {
        const int8_t *row = input + o * p->axis_size * p->inner;
        int32_t *out = output + o * p->inner;
        for (int32_t j = 0; j < p->inner; ++j) {
            out[j] = 0;
        }
        for (int32_t i = 1; i < p->axis_size; ++i) {
            const int8_t *cur = row + i * p->inner;
            for (int32_t j = 0; j < p->inner; ++j) {
                if (sign * cur[j] > sign * row[out[j] * p->inner + j]) {
                    out[j] = i;
                }
            }
        }
    }
}
