/* The int32 comparisons (TFLM reference_ops::ComparisonImpl and its broadcast twin). */
#include "compare.h"

void tk_compare_s32(const tk_compare_params *p, const int32_t *input1, const int32_t *input2,
                    uint8_t *output) {
    TK_CMP_WALK(p->op, p->bcast.dims, p->bcast.stride1, p->bcast.stride2, int32_t, input1, input2,
                output, a, b)
}
