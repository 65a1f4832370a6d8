/* Elementwise int8 table lookup; input and output may be the same buffer. */
#include "lut_s8.h"

void tk_lut_s8(const tk_lut_params *p, const int8_t *input, int8_t *output) {
    const int8_t *t = p->table + 128;      /* t[x] for x in [-128, 127] */
    for (int32_t i = 0; i < p->size; ++i) output[i] = t[input[i]];
}
