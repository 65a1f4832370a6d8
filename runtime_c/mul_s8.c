/* MUL int8 (TFLM reference_integer_ops::MulElementwise): the product of the zero-point-corrected
 * inputs (|product| <= 255 * 255) requantized by s1 * s2 / s_out. */
#include "mul_s8.h"

void tk_mul_s8(const tk_mul_params *p, const int8_t *input1, const int8_t *input2,
               int8_t *output) {
    const int32_t n = p->bcast.dims[5], s1 = p->bcast.stride1[5], s2 = p->bcast.stride2[5];
    const int32_t off1 = p->input1_offset, off2 = p->input2_offset;
    const int32_t rows = tk_bcast_rows(p->bcast.dims);
    int32_t idx[5] = {0, 0, 0, 0, 0}, o1 = 0, o2 = 0;
    for (int32_t r = 0; r < rows; ++r) {
        const int8_t *a = input1 + o1, *b = input2 + o2;
        for (int32_t i = 0; i < n; ++i) {
            const int32_t prod = (a[i * s1] + off1) * (b[i * s2] + off2);
            *output++ = tk_requant_s8(prod, p->output_multiplier, p->output_shift,
                                      p->quant.output_offset, p->quant.act_min,
                                      p->quant.act_max);
        }
        tk_bcast_step(p->bcast.dims, p->bcast.stride1, p->bcast.stride2, idx, &o1, &o2);
    }
}
