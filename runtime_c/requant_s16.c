/* int16 -> int16 requantization (see requant_s16.h). */
#define TK_REQUANT_S16_KERNEL
#include "requant_s16.h"

void tk_requant_s16(const tk_requant16_params *p, const int16_t *input, int16_t *output) {
    for (int32_t i = 0; i < p->size; ++i) output[i] = (int16_t)tk_requant16_one(p, input[i]);
}
