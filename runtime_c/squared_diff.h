/* SQUARED_DIFFERENCE, int8 and int16 (zero points 0), with numpy-style broadcasting collapsed by
 * the compiler to 6 dims (TFLM squared_difference.cc). Parameters as ADD's (tk_add_params):
 * left_shift 7 (int8) or 0 (int16), input multipliers below 1/2, an output multiplier of any
 * shift in [-31, 30], the clamp the type's range. */
#ifndef TK_SQUARED_DIFF_H
#define TK_SQUARED_DIFF_H
#include "add_s8.h"
#include "bin_walk.h"

/* Both inputs scaled to a common scale as SUB does, the difference squared, then requantized.
 * int8: |a + offset| <= 255, << 7 and halved at most: each scaled term is within +-16320 and the
 * square below 2^30. int16 (offsets 0, no shift): each term within +-16384, the square at most
 * 2^30. The output shift may be positive: tk_requant wraps the left shift as TFLM's multiply,
 * and the zero point is added in int32 as TFLM does. */
static inline int32_t tk_squared_diff_one(int32_t a, int32_t b, int32_t off1, int32_t off2,
                                          int32_t ls, int32_t m1, int32_t sh1, int32_t m2,
                                          int32_t sh2, int32_t mo, int32_t sho, int32_t zo,
                                          int32_t lo, int32_t hi) {
    const int32_t d = tk_addsub_raw(a, b, off1, off2, ls, m1, sh1, m2, sh2, -1);
    return tk_clamp(tk_add_wrap_s32(tk_requant(d * d, mo, sho), zo), lo, hi);
}

void tk_squared_diff_s8(const tk_add_params *p, const int8_t *input1, const int8_t *input2,
                        int8_t *output);
void tk_squared_diff_s16(const tk_add_params *p, const int16_t *input1, const int16_t *input2,
                         int16_t *output);
#endif
