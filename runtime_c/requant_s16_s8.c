/* int16 -> int8 requantization (see requant_s16.h). */
#define TK_REQUANT_S16_KERNEL
#include "requant_s16.h"

void tk_requant_s16_s8(const tk_requant16_params *p, const int16_t *input, int8_t *output) {
    for (int32_t i = 0; i < p->size; ++i) output[i] = (int8_t)tk_requant16_one(p, input[i]);
}
