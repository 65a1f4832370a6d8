/* Elementwise int8 -> int16 table lookup (see lut_s8.h). */
#include "lut_s8.h"

void tk_lut_s8_s16(const tk_lut_s16_params *p, const int8_t *input, int16_t *output) {
    const int16_t *t = p->table + 128;     /* t[x] for x in [-128, 127] */
    for (int32_t i = 0; i < p->size; ++i) output[i] = t[input[i]];
}
