/* CONCATENATION int8 (TFLM reference_ops::Concatenation): a copy, no requantization. */
#include "concat_s8.h"

void tk_concat_s8(const tk_concat_params *p, int8_t *output) {
    for (int32_t r = 0; r < p->outer; ++r) {
        for (int32_t i = 0; i < p->num_inputs; ++i) {
            const int32_t n = p->block[i];
            memcpy(output, p->input[i] + r * n, (size_t)n);
            output += n;
        }
    }
}
