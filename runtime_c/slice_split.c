/* SPLIT / SPLIT_V / UNPACK and PACK: the whole tensor is, for each outer index, part 0's block,
 * then part 1's ..., so the loop walks it in order; part i's own data is its blocks back to back. */
#include "slice_split.h"

void tk_split(const tk_parts_params *p, const void *input, uint8_t *arena) {
    const uint8_t *in = (const uint8_t *)input;
    for (int32_t r = 0; r < p->outer; ++r) {
        for (int32_t i = 0; i < p->parts; ++i) {
            const int32_t n = p->block[i];
            memcpy(arena + p->offset[i] + r * n, in, (size_t)n);
            in += n;
        }
    }
}

void tk_pack(const tk_parts_params *p, const uint8_t *arena, void *output) {
    uint8_t *out = (uint8_t *)output;
    for (int32_t r = 0; r < p->outer; ++r) {
        for (int32_t i = 0; i < p->parts; ++i) {
            const int32_t n = p->block[i];
            memcpy(out, arena + p->offset[i] + r * n, (size_t)n);
            out += n;
        }
    }
}
