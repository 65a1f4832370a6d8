/* MUL int16 (TFLM reference_integer_ops::MulElementwise / BroadcastMul6DSlow, zero points 0): the
 * product of the inputs (|product| <= 2^30) requantized by s1 * s2 / s_out; a left shift wraps in
 * int32 as TFLM's multiply does (tk_requant). */
#include "mul_s8.h"
#include "bin_walk.h"

void tk_mul_s16(const tk_mul_params *p, const int16_t *input1, const int16_t *input2,
                int16_t *output) {
    const int32_t m = p->output_multiplier, sh = p->output_shift;
    const int32_t zo = p->quant.output_offset, lo = p->quant.act_min, hi = p->quant.act_max;
    TK_BIN_WALK(p->bcast.dims, p->bcast.stride1, p->bcast.stride2,
                int16_t, input1, int16_t, input2, int16_t, output,
                tk_clamp(tk_requant(a * b, m, sh) + zo, lo, hi));
}
