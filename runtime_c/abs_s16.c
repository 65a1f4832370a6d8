/* ABS int16 (TFLM elementwise.cc AbsEvalQuantized). */
#include "abs.h"

void tk_abs_s16(const tk_abs_params *p, const int16_t *input, int16_t *output) {
    const int32_t izp = p->input_zp, ozp = p->output_zp, m = p->multiplier, sh = p->shift;
    const int32_t rescale = p->rescale;
    for (int32_t i = 0; i < p->size; ++i) {
        output[i] = (int16_t)tk_abs_one(input[i], izp, ozp, m, sh, rescale, -32768, 32767);
    }
}
