/* MUL int8 (TFLM reference_integer_ops::MulElementwise): the product of the zero-point-corrected
 * inputs (|product| <= 255 * 255) requantized by s1 * s2 / s_out. */
#include "mul_s8.h"

void tk_mul_s8(const tk_mul_params *p, const int8_t *input1, const int8_t *input2,
               int8_t *output) {
    const int32_t n = p->dims[5], s1 = p->stride1[5], s2 = p->stride2[5];
    const int32_t off1 = p->input1_offset, off2 = p->input2_offset;
    /* rows = product of the 5 outer dims; o1, o2 are the row starts in each input, kept by an
     * odometer over the outer dims (offsets, not pointers, so nothing points out of range) */
    const int32_t rows = p->dims[0] * p->dims[1] * p->dims[2] * p->dims[3] * p->dims[4];
    int32_t idx[5] = {0, 0, 0, 0, 0}, o1 = 0, o2 = 0;
    for (int32_t r = 0; r < rows; ++r) {
        const int8_t *a = input1 + o1, *b = input2 + o2;
        for (int32_t i = 0; i < n; ++i) {
            const int32_t prod = (a[i * s1] + off1) * (b[i * s2] + off2);
            const int32_t out = tk_requant(prod, p->output_multiplier, p->output_shift)
                              + p->output_offset;
            *output++ = (int8_t)tk_clamp(out, p->act_min, p->act_max);
        }
        for (int d = 4; d >= 0; --d) {
            if (++idx[d] < p->dims[d]) {
                o1 += p->stride1[d];
                o2 += p->stride2[d];
                break;
            }
            idx[d] = 0;
            o1 -= (p->dims[d] - 1) * p->stride1[d];
            o2 -= (p->dims[d] - 1) * p->stride2[d];
        }
    }
}
