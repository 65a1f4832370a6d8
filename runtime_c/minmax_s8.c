/* MINIMUM / MAXIMUM int8 (TFLM reference_ops::MaximumMinimumBroadcastSlow). */
#include "minmax.h"

void tk_minmax_s8(const tk_minmax_params *p, const int8_t *input1, const int8_t *input2,
                  int8_t *output) {
    if (p->is_max) {
        TK_BIN_WALK(p->bcast.dims, p->bcast.stride1, p->bcast.stride2,
                    int8_t, input1, int8_t, input2, int8_t, output, a > b ? a : b);
    } else {
        TK_BIN_WALK(p->bcast.dims, p->bcast.stride1, p->bcast.stride2,
                    int8_t, input1, int8_t, input2, int8_t, output, a < b ? a : b);
    }
}
