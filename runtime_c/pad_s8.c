/* PAD int8 (TFLM reference_ops::Pad): output rows are either all padding or padding, one input
 * row, padding, in order. The output may start before the input in one buffer (a lag the
 * compiler proved from this walk: passes/lag_orders.py), so an input row moves with memmove. */
#include "pad_s8.h"

static inline int inside(int32_t o, const tk_pad_params *p, int d) {
    return o >= p->before[d] && o < p->before[d] + p->in_dims[d];
}

void tk_pad_s8(const tk_pad_params *p, const int8_t *input, int8_t *output) {
    const int32_t row = p->out_dims[3], in_row = p->in_dims[3];
    const int32_t left = p->before[3], right = row - in_row - left;
    const int v = p->pad_value;
    for (int32_t o0 = 0; o0 < p->out_dims[0]; ++o0) {
        for (int32_t o1 = 0; o1 < p->out_dims[1]; ++o1) {
            for (int32_t o2 = 0; o2 < p->out_dims[2]; ++o2) {
                if (inside(o0, p, 0) && inside(o1, p, 1) && inside(o2, p, 2)) {
                    memset(output, v, (size_t)left);
                    memmove(output + left, input, (size_t)in_row);
                    memset(output + left + in_row, v, (size_t)right);
                    input += in_row;    /* input rows are consumed in order */
                } else {
                    memset(output, v, (size_t)row);
                }
                output += row;
            }
        }
    }
}
