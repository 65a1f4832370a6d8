/* RESIZE_BILINEAR int8. TFLM accumulates in int64; the compiler checks that
 * 128 * (|1024 - fy| + |fy|) * (|1024 - fx| + |fx|) + 2^19 fits int32 for every output pixel
 * (at most 2^29 when the fractions are in [-512, 1024)), so every partial sum here does. */
#include "resize_bilinear_s8.h"

void tk_resize_bilinear_s8(const tk_resize_bilinear_params *p, const int8_t *input,
                           int8_t *output) {
    const int32_t depth = p->depth, row = p->in_w * depth;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *image = input + b * p->in_h * row;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            const int32_t *ty = p->y + 3 * oy;
            const int8_t *r0 = image + ty[0] * row, *r1 = image + ty[1] * row;
            const int32_t wy1 = ty[2], wy0 = 1024 - wy1;
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t *tx = p->x + 3 * ox;
                const int32_t c0 = tx[0] * depth, c1 = tx[1] * depth;
                const int32_t wx1 = tx[2], wx0 = 1024 - wx1;
                for (int32_t c = 0; c < depth; ++c) {
                    const int32_t acc = r0[c0 + c] * wy0 * wx0 + r1[c0 + c] * wy1 * wx0 +
                                        r0[c1 + c] * wy0 * wx1 + r1[c1 + c] * wy1 * wx1;
                    const int32_t round = acc > 0 ? (1 << 19) : -(1 << 19);
                    *output++ = (int8_t)((acc + round) / (1 << 20));
                }
            }
        }
    }
}
