/* PRELU int8 and int16 (see prelu.h), bit-exact with TFLM. */
#include "prelu.h"

/* |v| <= 65535 and |a| <= 255, so v * a fits int32; the left shifts (<= 30) wrap in uint32 as
 * TFLM's int32 multiply does in practice */
static inline int32_t tk_prelu_one(const tk_prelu_params *p, int32_t x, int32_t alpha) {
    const int32_t v = x + p->input_offset;
    const int32_t y = v >= 0 ? tk_requant(v, p->multiplier1, p->shift1)
                             : tk_requant(v * (alpha + p->alpha_offset), p->multiplier2,
                                          p->shift2);
    return (int32_t)((uint32_t)y + (uint32_t)p->output_offset);
}

void tk_prelu_s8(const tk_prelu_params *p, const int8_t *input, const int8_t *alpha,
                 int8_t *output) {
    const int32_t n = p->bcast.dims[5], s1 = p->bcast.stride1[5], s2 = p->bcast.stride2[5];
    const int32_t rows = tk_bcast_rows(p->bcast.dims);
    int32_t idx[5] = {0, 0, 0, 0, 0}, o1 = 0, o2 = 0;
    for (int32_t r = 0; r < rows; ++r) {
        for (int32_t i = 0; i < n; ++i) {
            const int32_t y = tk_prelu_one(p, input[o1 + i * s1], alpha[o2 + i * s2]);
            *output++ = (int8_t)tk_clamp(y, -128, 127);
        }
        tk_bcast_step(p->bcast.dims, p->bcast.stride1, p->bcast.stride2, idx, &o1, &o2);
    }
}

void tk_prelu_s16(const tk_prelu_params *p, const int16_t *input, const int8_t *alpha,
                  int16_t *output) {
    const int32_t n = p->bcast.dims[5], s1 = p->bcast.stride1[5], s2 = p->bcast.stride2[5];
    const int32_t rows = tk_bcast_rows(p->bcast.dims);
    int32_t idx[5] = {0, 0, 0, 0, 0}, o1 = 0, o2 = 0;
    for (int32_t r = 0; r < rows; ++r) {
        for (int32_t i = 0; i < n; ++i) {
            const int32_t y = tk_prelu_one(p, input[o1 + i * s1], alpha[o2 + i * s2]);
            *output++ = (int16_t)tk_clamp(y, -32768, 32767);
        }
        tk_bcast_step(p->bcast.dims, p->bcast.stride1, p->bcast.stride2, idx, &o1, &o2);
    }
}
