/* SPLIT, SPLIT_V and UNPACK (one input, several outputs) and PACK (several inputs, one output),
 * any element size: per index of the dims before the axis, each part holds one contiguous block of
 * the whole tensor, in part order (TFLM's SplitImpl, UnpackImpl and PackImpl). The parts are
 * activation tensors, found at their byte offsets in the arena. */
#ifndef TK_SLICE_SPLIT_H
#define TK_SLICE_SPLIT_H
#include "tk_nn.h"

typedef struct {
    int32_t parts;              /* outputs of SPLIT / SPLIT_V / UNPACK, inputs of PACK, >= 1 */
    int32_t outer;              /* product of the dims before the axis, >= 1 */
    const int32_t *block;       /* bytes of part i per outer index */
    const int32_t *offset;      /* arena byte offset of part i */
} tk_parts_params;

void tk_split(const tk_parts_params *p, const void *input, uint8_t *arena);
void tk_pack(const tk_parts_params *p, const uint8_t *arena, void *output);
#endif
