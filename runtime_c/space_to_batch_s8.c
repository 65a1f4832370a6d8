/* SPACE_TO_BATCH_ND int8 (TFLM reference_ops::SpaceToBatchND): one depth run per output pixel,
 * copied or filled with the pad value. */
#include "space_to_batch_s8.h"

void tk_space_to_batch_s8(const tk_space_to_batch_params *p, const int8_t *input,
                          int8_t *output) {
    const int32_t depth = p->depth;
    for (int32_t ob = 0; ob < p->out_b; ++ob) {
        const int32_t n = ob % p->in_b;
        const int32_t sw = (ob / p->in_b) % p->block_w;
        const int32_t sh = (ob / p->in_b) / p->block_w;
        for (int32_t oh = 0; oh < p->out_h; ++oh) {
            const int32_t h = oh * p->block_h + sh - p->pad_top;
            for (int32_t ow = 0; ow < p->out_w; ++ow) {
                const int32_t w = ow * p->block_w + sw - p->pad_left;
                if (h < 0 || h >= p->in_h || w < 0 || w >= p->in_w) {
                    memset(output, p->pad_value, (size_t)depth);
                } else {
                    memcpy(output, input + ((n * p->in_h + h) * p->in_w + w) * depth,
                           (size_t)depth);
                }
                output += depth;
            }
        }
    }
}
