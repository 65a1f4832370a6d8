/* MAX_POOL_2D int8 (TFLM reference_integer_ops::MaxPool): the maximum over the part of the window
 * inside the input, then the fused activation clamp. */
#include "max_pool_s8.h"

void tk_max_pool_s8(const tk_pool_params *p, const int8_t *input, int8_t *output) {
    const int32_t depth = p->input.c;
    const int32_t row = p->input.w * depth;
    for (int32_t b = 0; b < p->input.n; ++b) {
        const int8_t *in_b = input + b * p->input.h * row;
        for (int32_t oy = 0; oy < p->output.h; ++oy) {
            int32_t ys, ye;
            tk_pool_span(oy, p->geom.stride_h, p->geom.pad_h, p->filter.h, p->input.h, &ys, &ye);
            for (int32_t ox = 0; ox < p->output.w; ++ox) {
                int32_t xs, xe;
                tk_pool_span(ox, p->geom.stride_w, p->geom.pad_w, p->filter.w, p->input.w, &xs,
                             &xe);
                for (int32_t c = 0; c < depth; ++c) {
                    int32_t m = -128;
                    for (int32_t y = ys; y < ye; ++y) {
                        const int8_t *in = in_b + y * row + c;
                        for (int32_t x = xs; x < xe; ++x) m = TK_MAX(m, in[x * depth]);
                    }
                    *output++ = (int8_t)tk_clamp(m, p->quant.act_min, p->quant.act_max);
                }
            }
        }
    }
}
