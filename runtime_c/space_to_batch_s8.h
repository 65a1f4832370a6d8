/* SPACE_TO_BATCH_ND, int8 (3D inputs are seen as [N, H, 1, C]): output batch
 * (sh * block_w + sw) * in_b + n holds input rows h = oh * block_h + sh - pad_top,
 * w = ow * block_w + sw - pad_left of batch n; positions in the padding get pad_value. */
#ifndef TK_SPACE_TO_BATCH_S8_H
#define TK_SPACE_TO_BATCH_S8_H
#include "tk_nn.h"

typedef struct {
    int32_t in_b, in_h, in_w, depth;
    int32_t out_b, out_h, out_w;        /* out_b = in_b * block_h * block_w */
    int32_t block_h, block_w;
    int32_t pad_top, pad_left;          /* >= 0; out_h * block_h = pad_top + in_h + bottom */
    int32_t pad_value;
} tk_space_to_batch_params;

void tk_space_to_batch_s8(const tk_space_to_batch_params *p, const int8_t *input,
                          int8_t *output);
#endif
