/* ADD int8 (TFLM reference_integer_ops::AddFunc): both inputs are scaled to a common scale with
 * 20 bits of headroom, summed, then requantized to the output. */
#include "add_s8.h"

static inline int8_t add_one(const tk_add_params *p, int32_t a, int32_t b) {
    /* |a + offset| <= 255, so the shifted values stay within +-2^28 */
    const int32_t x = (a + p->input1_offset) * (1 << p->left_shift);
    const int32_t y = (b + p->input2_offset) * (1 << p->left_shift);
    /* multipliers are < 1: each scaled term is within +-2^28, the sum within +-2^29 */
    const int32_t sum = tk_requant(x, p->input1_multiplier, p->input1_shift)
                      + tk_requant(y, p->input2_multiplier, p->input2_shift);
    return tk_requant_s8(sum, p->output_multiplier, p->output_shift, p->quant.output_offset,
                         p->quant.act_min, p->quant.act_max);
}

void tk_add_s8(const tk_add_params *p, const int8_t *input1, const int8_t *input2,
               int8_t *output) {
    const int32_t n = p->bcast.dims[5], s1 = p->bcast.stride1[5], s2 = p->bcast.stride2[5];
    const int32_t rows = tk_bcast_rows(p->bcast.dims);
    int32_t idx[5] = {0, 0, 0, 0, 0}, o1 = 0, o2 = 0;
    for (int32_t r = 0; r < rows; ++r) {
        const int8_t *a = input1 + o1, *b = input2 + o2;
        for (int32_t i = 0; i < n; ++i) {
            *output++ = add_one(p, a[i * s1], b[i * s2]);
        }
        tk_bcast_step(p->bcast.dims, p->bcast.stride1, p->bcast.stride2, idx, &o1, &o2);
    }
}
