/* SOFTMAX int16 -> int16 (see softmax_s16.h), bit-exact with TFLM. */
#include "softmax_s16.h"

/* TFLM's int16 LUTLookup: 9 high bits index the table, the 7 low bits interpolate. */
static int16_t tk_lut16(const int16_t *lut, int16_t value) {
    const int32_t index = 256 + (value >> 7);               /* in [0, 511] */
    const int32_t offset = value & 0x7f;
    const int32_t base = lut[index];
    const int32_t slope = lut[index + 1] - base;            /* |slope| < 2^16 */
    return (int16_t)(base + ((slope * offset + 64) >> 7));
}

static int tk_clz32(uint32_t x) {
#if defined(__GNUC__)
    return x ? __builtin_clz(x) : 32;
#else
    int n = 0;
    while (n < 32 && !(x & 0x80000000u)) { x <<= 1; ++n; }
    return n;
#endif
}

void tk_softmax_s16(const tk_softmax16_params *p, const int16_t *input, int16_t *output) {
    for (int32_t r = 0; r < p->outer; ++r) {
        const int16_t *in = input + r * p->depth;
        int16_t *out = output + r * p->depth;
        int32_t max_in_row = -32768;
        for (int32_t c = 0; c < p->depth; ++c) max_in_row = TK_MAX(max_in_row, (int32_t)in[c]);
        /* exps in Q0.15 (in [0, 32767]), kept in the output row as TFLM does; the row maximum
         * gives 32767, so the sum is in [32767, 65536 * 32767] */
        int32_t sum = 0;
        for (int32_t c = 0; c < p->depth; ++c) {
            /* difference in [-65535, 0]: the left shift (<= 30) wraps like TFLM's multiply */
            const int32_t scaled = tk_requant((int32_t)in[c] - max_in_row, p->input_multiplier,
                                              p->input_shift);
            const int32_t sym = tk_clamp((int32_t)((uint32_t)scaled + 32767u), -32768, 32767);
            out[c] = tk_lut16(p->exp_lut, (int16_t)sym);
            sum += out[c];
        }
        const int headroom_plus_one = tk_clz32((uint32_t)sum);      /* in [1, 17] */
        const int32_t shifted_sum = (int32_t)((((int64_t)sum << (headroom_plus_one - 1)) +
                                               (1 << 13)) >> 14);
        /* x = sum - 1, recentred from [0, 65535] to [-32768, 32767] */
        const int32_t sym_sum = tk_clamp(shifted_sum - ((1 << 15) + (1 << 16)), -32768, 32767);
        const int32_t recip = tk_lut16(p->recip_lut, (int16_t)sym_sum);
        const int right_shift = 31 - headroom_plus_one;             /* in [14, 30] */
        const int64_t round = (int64_t)1 << (right_shift - 1);
        for (int32_t c = 0; c < p->depth; ++c) {
            const int32_t v = (int32_t)(((int64_t)out[c] * recip + round) >> right_shift);
            out[c] = (int16_t)tk_clamp(v, 0, 32767);
        }
    }
}
