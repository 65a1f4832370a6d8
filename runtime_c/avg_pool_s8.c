/* AVERAGE_POOL_2D int8 (TFLM reference_integer_ops::AveragePool): the mean over the part of the
 * window inside the input (padding is not counted), rounded half away from zero. */
#include "avg_pool_s8.h"
#include "avg_pool_s8_mve.h"

void tk_avg_pool_s8(const tk_pool_params *p, const int8_t *input, int8_t *output) {
#if TK_MVE
    if (tk_avg_pool_mve(p, input, output)) return;
#endif
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
                /* count >= 1 (checked by the compiler); |acc| <= 128 * count fits easily */
                const int32_t count = (ye - ys) * (xe - xs);
                const int32_t half = count / 2;
                for (int32_t c = 0; c < depth; ++c) {
                    int32_t acc = 0;
                    for (int32_t y = ys; y < ye; ++y) {
                        const int8_t *in = in_b + y * row + c;
                        for (int32_t x = xs; x < xe; ++x) acc += in[x * depth];
                    }
                    /* C division truncates toward zero, as TFLM's does */
                    acc = acc > 0 ? (acc + half) / count : (acc - half) / count;
                    *output++ = (int8_t)tk_clamp(acc, p->quant.act_min, p->quant.act_max);
                }
            }
        }
    }
}
