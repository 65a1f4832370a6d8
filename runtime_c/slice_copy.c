/* TRANSPOSE / STRIDED_SLICE / SLICE / BROADCAST_TO (TFLM reference_ops Transpose, StridedSlice,
 * Slice, BroadcastTo): the output is written in order, one run of count[5] elements per index of
 * the outer five dims (an odometer over dims 4..0). */
#include "slice_copy.h"

/* n elements of `elem` bytes, `step` bytes apart in the input, to consecutive output bytes. */
static uint8_t *tk_copy_run(uint8_t *out, const uint8_t *in, int32_t n, int32_t step,
                            int32_t elem) {
    int32_t k;
    if (step == elem) {
        memcpy(out, in, (size_t)(n * elem));
        return out + n * elem;
    }
    switch (elem) {
    case 1:
        for (k = 0; k < n; ++k) out[k] = in[k * step];
        break;
    case 2:
        for (k = 0; k < n; ++k) memcpy(out + 2 * k, in + k * step, 2);
        break;
    case 4:
        for (k = 0; k < n; ++k) memcpy(out + 4 * k, in + k * step, 4);
        break;
    default:
        for (k = 0; k < n; ++k) memcpy(out + 8 * k, in + k * step, 8);
        break;
    }
    return out + n * elem;
}

void tk_slice_copy(const tk_slice_copy_params *p, const void *input, void *output) {
    const uint8_t *in = (const uint8_t *)input;
    uint8_t *out = (uint8_t *)output;
    int32_t idx[TK_SLICE_DIMS - 1] = {0};
    int32_t off = p->in_start;          /* byte offset of the current run's first element */
    const int32_t inner = TK_SLICE_DIMS - 1;
    for (;;) {
        int32_t d;
        out = tk_copy_run(out, in + off, p->count[inner], p->in_step[inner], p->elem);
        for (d = inner - 1; d >= 0; --d) {
            off += p->in_step[d];
            if (++idx[d] < p->count[d]) break;
            off -= p->in_step[d] * p->count[d];
            idx[d] = 0;
        }
        if (d < 0) return;
    }
}
