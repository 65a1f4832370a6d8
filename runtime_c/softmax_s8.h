/* SOFTMAX over the innermost dimension, int8 input, int8 or int16 output
 * (TFLM reference_ops::Softmax with gemmlowp fixed point). tk_softmax_s8 (int8 output) is in
 * softmax_s8.c, tk_softmax_s8_s16 (int16 output) in softmax_s8_s16.c; the per-row arithmetic
 * both share is at the end of this header.
 * Per row: exp(x - max) comes from the compile-time table (it depends only on x - max, which
 * lies in [-255, 0]); the sum of exps is accumulated in Q12.19, its reciprocal is found with
 * gemmlowp's Newton-Raphson 1/(1+x), and each output is exp * reciprocal, shifted to 8 or 16 bits.
 */
#ifndef TK_SOFTMAX_S8_H
#define TK_SOFTMAX_S8_H
#include "tk_nn.h"

typedef struct {
    int32_t outer;                   /* rows */
    int32_t depth;                   /* row length, >= 1 */
    /* exp_table[max - x] = exp(beta * scale * (x - max)) in Q0.31 for x - max >= diff_min, else
     * 0 (TFLM skips those inputs: they add nothing to the sum and give the lowest output) */
    const int32_t *exp_table;
} tk_softmax_params;

void tk_softmax_s8(const tk_softmax_params *p, const int8_t *input, int8_t *output);
void tk_softmax_s8_s16(const tk_softmax_params *p, const int8_t *input, int16_t *output);

/* gemmlowp's saturating shift and 1/(1+x), compiled into the softmax kernels and LOG_SOFTMAX
 * (log_softmax_s8.c defines TK_SOFTMAX_RECIPROCAL). */
#if defined(TK_SOFTMAX_KERNEL) || defined(TK_SOFTMAX_RECIPROCAL)
/* gemmlowp's saturating x * 2^e for e in [1, 30] */
static inline int32_t tk_softmax_sat_shl(int32_t x, int e) {
    const int32_t threshold = (int32_t)(((uint32_t)1 << (31 - e)) - 1u);
    if (x > threshold) return INT32_MAX;
    if (x < -threshold) return INT32_MIN;
    return (int32_t)((uint32_t)x << e);
}

/* gemmlowp one_over_one_plus_x_for_x_in_0_1: a in Q0.31 in [0, 1), result 1/(1+a) in Q0.31.
 * Kept out of line (once per row): the kernel is then 32 bytes smaller on Cortex-M4 -O2. */
__attribute__((noinline)) static int32_t tk_softmax_one_over_one_plus_x(int32_t a) {
    /* RoundingHalfSum(a, 1.0): (a + INT32_MAX + 1) / 2, in 64 bits, truncating */
    const int64_t s = (int64_t)a + INT32_MAX;
    const int32_t half_denominator = (int32_t)((s + (s >= 0 ? 1 : -1)) / 2);
    /* Q2.29 Newton-Raphson for 1 / half_denominator starting from 48/17 - 32/17 * d */
    int32_t x = tk_add_wrap_s32(1515870810, tk_srdhm(half_denominator, -1010580540));
    for (int i = 0; i < 3; ++i) {
        const int32_t one_minus_dx = (int32_t)((uint32_t)(1 << 29) -
                                               (uint32_t)tk_srdhm(half_denominator, x));
        x = tk_add_wrap_s32(x, tk_softmax_sat_shl(tk_srdhm(x, one_minus_dx), 2));
    }
    return tk_softmax_sat_shl(x, 1);   /* x / 2, from Q2.29 back to Q0.31 */
}
#endif

/* The per-row arithmetic of both kernels, compiled only into softmax_s8.c and softmax_s8_s16.c
 * (they define TK_SOFTMAX_KERNEL before including this header). */
#ifdef TK_SOFTMAX_KERNEL
static inline int tk_softmax_clz(uint32_t x) {
#if defined(__GNUC__)
    return x ? __builtin_clz(x) : 32;
#else
    int n = 0;
    while (n < 32 && !(x & 0x80000000u)) { x <<= 1; ++n; }
    return n;
#endif
}

/* The row's reciprocal scale (Q0.31) and the output shift that TFLM derives from the sum. */
static int32_t tk_softmax_row_scale(const tk_softmax_params *p, const int8_t *in,
                                    int32_t max_in_row, int out_bits, int *exponent) {
    /* sum of exps in Q12.19: each term <= 2^19, so up to 4096 terms cannot wrap (TFLM's int32
     * sum would wrap beyond that; the uint32 add reproduces it) */
    int32_t sum = 0;
    for (int32_t c = 0; c < p->depth; ++c) {
        sum = tk_add_wrap_s32(sum, tk_rdbpot(p->exp_table[max_in_row - in[c]], 12));
    }
    const int headroom_plus_one = tk_softmax_clz((uint32_t)sum);
    const int num_bits_over_unit = 12 - headroom_plus_one;
    const uint32_t shifted = headroom_plus_one < 32 ? (uint32_t)sum << headroom_plus_one : 0u;
    const int32_t shifted_scale = tk_softmax_one_over_one_plus_x(
        (int32_t)(shifted - 0x80000000u));
    /* the row maximum contributes exp(0) = 2^19, so (unless wrapped) the sum is in [2^19, 2^31)
     * and headroom_plus_one in [1, 12]: the exponent is in [15, 26] for int16 output and in
     * [23, 34] for int8, where TFLM stops with a failed check above 31 (real sum >= 512); the
     * shift saturates here instead */
    int e = num_bits_over_unit + 31 - out_bits;
    *exponent = e < 0 ? 0 : (e > 31 ? 31 : e);
    return shifted_scale;
}

static int32_t tk_softmax_row_max(const int8_t *in, int32_t depth) {
    int32_t m = -128;
    for (int32_t c = 0; c < depth; ++c) m = TK_MAX(m, (int32_t)in[c]);
    return m;
}
#endif /* TK_SOFTMAX_KERNEL */

#endif
