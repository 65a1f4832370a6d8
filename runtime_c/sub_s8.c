/* SUB int8 (TFLM reference_ops::SubElementwise / BroadcastQuantSubSlow). */
#include "sub_s8.h"
#include "bin_walk.h"

void tk_sub_s8(const tk_add_params *p, const int8_t *input1, const int8_t *input2,
               int8_t *output) {
    const int32_t off1 = p->input1_offset, off2 = p->input2_offset, ls = p->left_shift;
    const int32_t m1 = p->input1_multiplier, sh1 = p->input1_shift;
    const int32_t m2 = p->input2_multiplier, sh2 = p->input2_shift;
    const int32_t mo = p->output_multiplier, sho = p->output_shift;
    const int32_t zo = p->quant.output_offset, lo = p->quant.act_min, hi = p->quant.act_max;
    /* output multiplier < 1 (shift <= 0): the requantized difference stays within int32 */
    TK_BIN_WALK(p->bcast.dims, p->bcast.stride1, p->bcast.stride2,
                int8_t, input1, int8_t, input2, int8_t, output,
                tk_clamp(tk_requant(tk_addsub_raw(a, b, off1, off2, ls, m1, sh1, m2, sh2, -1),
                                    mo, sho) + zo, lo, hi));
}
