/* The output stage of the int8 elementwise kernels (ADD, SUB, MUL) and their row dispatch.
 *
 * The kernels hand the output stage x2 = 2 * x, x the TFLM accumulator (ADD/SUB: the sum of the
 * two rescaled inputs; MUL: the product of the zero-point-corrected inputs). When the compiler
 * proved it (the output shift is a right shift and |x| < 2^30), the requantization is
 * tk_nn.h's tk_requant_fast in five operations; else TFLM's MultiplyByQuantizedMultiplier
 * (tk_requant) on x. Both give TFLM's bits. */
#ifndef TK_EW_S8_H
#define TK_EW_S8_H
#include "tk_nn.h"
#include "tk_simd.h"

typedef struct {
    int32_t multiplier;              /* Q31 */
    int32_t shift;                   /* modes 1, 2: -shift - 1 (>= 0); 0: TFLM's shift */
    int32_t output_offset, act_min, act_max;   /* output zero point, fused activation clamp */
} tk_ew_out;

/* requant(x) + output_offset from x2 = 2x, m, e1 = -shift - 1, k1 = 1 + 2 * output_offset
 * (tk_requant_fast with the doubling done by the caller) */
static inline int32_t tk_ew_fast(int32_t x2, int32_t m, int32_t e1, int32_t k1) {
#if TK_NN_SIMD
    const int32_t h = tk_smmulr(x2, m);
#else
    const int32_t h = (int32_t)(((int64_t)x2 * m + ((int64_t)1 << 31)) >> 32);
#endif
    const int32_t y = h - (h < 0 ? 1 : 0);
    return ((y >> e1) + k1) >> 1;
}

/* An int8 ADD/SUB input's rescaled value computed (the compiler's tables hold the same): TFLM's
 * ((v + offset) << 20) * multiplier * 2^shift with its rounding, which is tk_requant_fast of
 * x2 = v * scale + bias with scale = 2^21 and e1 = -shift - 1 (shift <= -1), or scale = 2^22
 * and e1 = 0 for the multiplier 2^30 of shift 0 (an exact halving); scale and bias negated give
 * the value negated (the rounding is symmetric: SUB's input 2). Returns twice the value:
 * 2 * ((z + 1) >> 1) = (z + 1) & ~1. |x2| < 2^30. */
typedef struct {
    int32_t scale, bias, multiplier, e1;
} tk_ew_in;

static inline int32_t tk_ew_in2(int32_t v, int32_t scale, int32_t bias, int32_t m, int32_t e1) {
    const int32_t x2 = v * scale + bias;
#if TK_NN_SIMD
    const int32_t h = tk_smmulr(x2, m);
#else
    const int32_t h = (int32_t)(((int64_t)x2 * m + ((int64_t)1 << 31)) >> 32);
#endif
    const int32_t y = h - (h < 0 ? 1 : 0);
    return ((y >> e1) + 1) & ~1;
}

/* One output from x2 = 2x in `mode`: 0 tk_requant, 1 fast and clamped to [lo, hi], 2 fast
 * with the clamp [-128, 127] (one saturation). The compiler chose the mode (the kernels'
 * variant); it is a constant where this is inlined, so each loop carries one stage only. */
#define TK_EW_STORE(dst, x2, mode, m, sh, k1, zo, lo, hi)                                     \
    do {                                                                                     \
        if ((mode) == 2) {                                                                   \
            (dst) = (int8_t)tk_ssat8(tk_ew_fast((x2), (m), (sh), (k1)));                     \
        } else if ((mode) == 1) {                                                            \
            (dst) = (int8_t)tk_clamp(tk_ew_fast((x2), (m), (sh), (k1)), (lo), (hi));          \
        } else {                                                                             \
            (dst) = (int8_t)tk_clamp(tk_requant((x2) / 2, (m), (sh)) + (zo), (lo), (hi));     \
        }                                                                                    \
    } while (0)

#endif /* TK_EW_S8_H */
