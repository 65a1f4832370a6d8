/* The int8 comparisons (TFLM reference_ops::ComparisonWithScaling and its broadcast twin): both
 * inputs rescaled to a common scale before they are compared, whatever their quantization. */
#include "compare.h"

/* |x + offset| <= 255, << 8: below 2^16; the multiplier < 1 keeps it there */
static inline int32_t scaled(int32_t x, int32_t offset, int32_t left_shift, int32_t m,
                             int32_t shift) {
    return tk_requant((x + offset) * (1 << left_shift), m, shift);
}

void tk_compare_s8(const tk_compare_params *p, const int8_t *input1, const int8_t *input2,
                   uint8_t *output) {
    const int32_t off1 = p->input1_offset, off2 = p->input2_offset, ls = p->left_shift;
    const int32_t m1 = p->input1_multiplier, sh1 = p->input1_shift;
    const int32_t m2 = p->input2_multiplier, sh2 = p->input2_shift;
    TK_CMP_WALK(p->op, p->bcast.dims, p->bcast.stride1, p->bcast.stride2, int8_t, input1, input2,
                output, scaled(a, off1, ls, m1, sh1), scaled(b, off2, ls, m2, sh2))
}
