/* tinykiln runtime: types and fixed-point helpers shared by every int8 kernel.
 *
 * Requantization follows TFLM's double-rounding MultiplyByQuantizedMultiplier: a saturating rounding
 * doubling high multiply by a Q31 multiplier, then a rounding (half away from zero) right shift.
 * All shifts and multipliers are computed by the compiler; kernels only do integer arithmetic. */
#ifndef TK_NN_H
#define TK_NN_H

#include <stdint.h>
#include <string.h>

#define TK_MIN(a, b) ((a) < (b) ? (a) : (b))
#define TK_MAX(a, b) ((a) > (b) ? (a) : (b))

/* (a * b * 2) >> 32 rounded to nearest, saturating the single overflow case INT32_MIN * INT32_MIN. */
static inline int32_t tk_srdhm(int32_t a, int32_t b) {
    if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
    int64_t ab = (int64_t)a * (int64_t)b;
    int32_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    /* divide (not shift) so that negative products truncate toward zero as gemmlowp does */
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/* x / 2^exponent rounded to nearest, halves away from zero; exponent in [0, 31]. */
static inline int32_t tk_rdbpot(int32_t x, int exponent) {
    int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    int32_t remainder = x & mask;
    int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* x * multiplier * 2^shift, shift in [-31, 30]: TFLM's MultiplyByQuantizedMultiplier. The left
 * shift wraps like TFLM's int32 multiply would (done in uint32 to stay defined behaviour). */
static inline int32_t tk_requant(int32_t x, int32_t multiplier, int32_t shift) {
    int left = shift > 0 ? shift : 0;
    int right = shift > 0 ? 0 : -shift;
    int32_t shifted = (int32_t)((uint32_t)x << left);
    return tk_rdbpot(tk_srdhm(shifted, multiplier), right);
}

static inline int32_t tk_clamp(int32_t x, int32_t lo, int32_t hi) {
    return x < lo ? lo : (x > hi ? hi : x);
}

#endif /* TK_NN_H */
