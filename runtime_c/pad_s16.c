/* PAD int16 (TFLM reference_ops::Pad): as tk_pad_s8, with an element fill for the padding. */
#include "pad_s8.h"

static void fill16(int16_t *out, int16_t v, int32_t n) {
    for (int32_t i = 0; i < n; ++i) {
        out[i] = v;
    }
}

static inline int inside(int32_t o, const tk_pad_params *p, int d) {
    return o >= p->before[d] && o < p->before[d] + p->in_dims[d];
}

void tk_pad_s16(const tk_pad_params *p, const int16_t *input, int16_t *output) {
    const int32_t row = p->out_dims[3], in_row = p->in_dims[3];
    const int32_t left = p->before[3], right = row - in_row - left;
    const int16_t v = (int16_t)p->pad_value;
    for (int32_t o0 = 0; o0 < p->out_dims[0]; ++o0) {
        for (int32_t o1 = 0; o1 < p->out_dims[1]; ++o1) {
            for (int32_t o2 = 0; o2 < p->out_dims[2]; ++o2) {
                if (inside(o0, p, 0) && inside(o1, p, 1) && inside(o2, p, 2)) {
                    fill16(output, v, left);
                    memcpy(output + left, input, (size_t)in_row * sizeof(int16_t));
                    fill16(output + left + in_row, v, right);
                    input += in_row;    /* input rows are consumed in order */
                } else {
                    fill16(output, v, row);
                }
                output += row;
            }
        }
    }
}
