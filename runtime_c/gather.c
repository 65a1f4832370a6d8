/* GATHER: the index of each block is read at run time and clamped into the axis. */
#include "gather.h"

static int32_t tk_gather_index(const tk_gather_params *p, const uint8_t *indices, int32_t k) {
    int64_t v;
    if (p->index_bytes == 8) {
        memcpy(&v, indices + 8 * k, 8);
    } else {
        int32_t v32;
        memcpy(&v32, indices + 4 * k, 4);
        v = v32;
    }
    if (v < 0) return 0;
    if (v >= p->axis_size) return p->axis_size - 1;
    return (int32_t)v;
}

void tk_gather(const tk_gather_params *p, const void *input, const void *indices, void *output) {
    const uint8_t *in = (const uint8_t *)input;
    const uint8_t *ix = (const uint8_t *)indices;
    uint8_t *out = (uint8_t *)output;
    const int32_t n = p->inner_bytes;
    for (int32_t b = 0; b < p->batch; ++b) {
        for (int32_t o = 0; o < p->outer; ++o) {
            const uint8_t *src = in + (b * p->outer + o) * p->axis_size * n;
            for (int32_t c = 0; c < p->coords; ++c) {
                const int32_t i = tk_gather_index(p, ix, b * p->coords + c);
                memcpy(out, src + i * n, (size_t)n);
                out += n;
            }
        }
    }
}
