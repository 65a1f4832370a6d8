/* L2_NORMALIZATION int8 (see l2norm_s8.h), bit-exact with TFLM. */
#include "l2norm_s8.h"

/* gemmlowp's saturating x * 2^e, e in [1, 30] */
static int32_t tk_l2_sat_shl(int32_t x, int e) {
    const int32_t threshold = (int32_t)(((uint32_t)1 << (31 - e)) - 1u);
    if (x > threshold) return INT32_MAX;
    if (x < -threshold) return INT32_MIN;
    return (int32_t)((uint32_t)x << e);
}

static int tk_l2_clz(uint32_t x) {
#if defined(__GNUC__)
    return x ? __builtin_clz(x) : 32;
#else
    int n = 0;
    while (n < 32 && !(x & 0x80000000u)) { x <<= 1; ++n; }
    return n;
#endif
}

/* TFLM's GetInvSqrtQuantizedMultiplierExp(x, -1): 1/sqrt(x) ~= multiplier * 2^(shift - 31) for
 * x >= 0 (0 and 1 give INT32_MAX, shift 0). Newton-Raphson in Q3.28, five steps from 1. */
static int32_t tk_inv_sqrt(int32_t x, int32_t *shift) {
    if (x <= 1) {
        *shift = 0;
        return INT32_MAX;
    }
    int32_t s = 11;
    while (x >= (1 << 29)) {
        x /= 4;
        ++s;
    }
    const int pairs = (tk_l2_clz((uint32_t)x) - 1) / 2 - 1;
    s -= pairs;
    x <<= 2 * pairs;                                  /* now in [2^27, 2^29) */
    const int32_t half_x = tk_rdbpot(x >> 1, 1);
    const int32_t half_three = (1 << 28) + (1 << 27);
    int32_t r = 1 << 28;
    for (int i = 0; i < 5; ++i) {
        const int32_t r3 = tk_l2_sat_shl(tk_srdhm(tk_srdhm(r, r), r), 6);
        r = tk_l2_sat_shl((int32_t)((uint32_t)tk_srdhm(half_three, r) -
                                    (uint32_t)tk_srdhm(half_x, r3)), 3);
    }
    r = tk_srdhm(r, 1518500250);                      /* * sqrt(2) / 2 */
    if (s < 0) {
        r = (int32_t)((uint32_t)r << -s);
        s = 0;
    }
    *shift = -s;
    return r;
}

void tk_l2norm_s8(const tk_l2norm_params *p, const int8_t *input, int8_t *output) {
    for (int32_t r = 0; r < p->outer; ++r) {
        const int8_t *in = input + r * p->depth;
        int8_t *out = output + r * p->depth;
        int32_t acc = 0;                              /* <= depth * 255^2 < 2^31 */
        for (int32_t c = 0; c < p->depth; ++c) {
            const int32_t v = in[c] + p->input_offset;
            acc += v * v;
        }
        int32_t shift;
        const int32_t m = tk_inv_sqrt(acc, &shift);
        for (int32_t c = 0; c < p->depth; ++c) {
            /* shift + 7 in [-5, 7] */
            const int32_t v = tk_requant(in[c] + p->input_offset, m, shift + 7);
            out[c] = (int8_t)tk_clamp(v, -128, 127);
        }
    }
}
