/* ABS, int8 and int16 (zero points 0), TFLM elementwise.cc: |x - input zero point|, requantized
 * when the input and output scales differ, plus the output zero point, clamped to the type. */
#ifndef TK_ABS_H
#define TK_ABS_H
#include "tk_nn.h"

typedef struct {
    int32_t size;                    /* elements */
    int32_t input_zp, output_zp;
    int32_t multiplier, shift;       /* s_in / s_out, shift in [-31, 30]; used when rescale */
    int32_t rescale;                 /* 1: the scales differ */
} tk_abs_params;

/* |x - input_zp| <= 255 (int8) or 32768 (int16), requantized if the scales differ (a positive
 * shift wraps in int32 as TFLM's multiply does), plus the output zero point (added in int32 as
 * TFLM does), clamped to [lo, hi]. */
static inline int32_t tk_abs_one(int32_t x, int32_t izp, int32_t ozp, int32_t m, int32_t sh,
                                 int32_t rescale, int32_t lo, int32_t hi) {
    const int32_t d = x - izp;
    const int32_t v = d < 0 ? -d : d;
    return tk_clamp(tk_add_wrap_s32(rescale ? tk_requant(v, m, sh) : v, ozp), lo, hi);
}

void tk_abs_s8(const tk_abs_params *p, const int8_t *input, int8_t *output);
void tk_abs_s16(const tk_abs_params *p, const int16_t *input, int16_t *output);
#endif
