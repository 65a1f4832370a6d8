/* SOFTMAX int8 -> int8 on Helium (MVE): tk_softmax_mve runs tk_softmax_s8's per-row work (same
 * params and exp table, softmax_s8.h) on the M55: the row maximum by VMAXV over sixteen inputs
 * at a time; the sum of the table's exps at max - x (VLDRW gathers, four at a time), each
 * rounded to Q12.19 (VRSHR #12: the entries are >= 0) and added across lanes (VADDVA, wrapping
 * as TFLM's int32 sum); the reciprocal and shift as softmax_s8.h computes them; each output
 * VQRDMULH (TFLM's SaturatingRoundingDoublingHighMul) of the scale and its exp, the rounding
 * shift (VRSHL: the product is >= 0), - 128, clamped, stored. Predicated loads, gathers and
 * stores for a row's last inputs: nothing past the row is read or written. */
#ifndef TK_SOFTMAX_S8_MVE_H
#define TK_SOFTMAX_S8_MVE_H
#include "softmax_s8.h"
#include "tk_mve.h"

#if TK_MVE && defined(TK_SOFTMAX_KERNEL)

/* the exps of the n (1..4) inputs at in as table offsets max - x (0 past n) */
TK_MVE_INLINE tk_s32x4 tk_smm_exp(const int32_t *table, const int8_t *in, int32_t max,
                                  tk_pred m) {
    const tk_s32x4 off = tk_vsubq_s32(tk_vdupq_n_s32(max), tk_vldrbq_z_s32(in, m));
    return tk_vldrwq_gather_shifted_offset_z_s32(table, tk_u32x4_of_s32(off), m);
}

static void tk_softmax_mve(const tk_softmax_params *p, const int8_t *input, int8_t *output) {
    const int32_t D = p->depth;
    const int32_t *table = p->exp_table;
    for (int32_t r = 0; r < p->outer; ++r) {
        const int8_t *in = input + r * D;
        int8_t *out = output + r * D;
        int8_t mx = -128;
        for (int32_t c = 0; c < D; c += 16) {
            const tk_pred m = tk_vctp8q((uint32_t)(D - c));
            mx = tk_vmaxvq_p_s8(mx, tk_vldrbq_z_s8(in + c, m), m);
        }
        int32_t sum = 0;
        for (int32_t c = 0; c < D; c += 4) {
            const tk_pred m = tk_vctp32q((uint32_t)(D - c));
            sum = tk_vaddvaq_p_s32(sum, tk_vrshrq_n_s32(tk_smm_exp(table, in + c, mx, m), 12), m);
        }
        const int headroom_plus_one = tk_softmax_clz((uint32_t)sum);
        const uint32_t shifted = headroom_plus_one < 32 ? (uint32_t)sum << headroom_plus_one : 0u;
        const int32_t scale = tk_softmax_one_over_one_plus_x((int32_t)(shifted - 0x80000000u));
        const int32_t e = 12 - headroom_plus_one + 31 - 8;
        const int32_t exponent = e < 0 ? 0 : (e > 31 ? 31 : e);
        const tk_s32x4 lo = tk_vdupq_n_s32(-128), hi = tk_vdupq_n_s32(127);
        for (int32_t c = 0; c < D; c += 4) {
            const tk_pred m = tk_vctp32q((uint32_t)(D - c));
            tk_s32x4 v = tk_vqrdmulhq_n_s32(tk_smm_exp(table, in + c, mx, m), scale);
            v = tk_vaddq_n_s32(tk_vrshlq_n_s32(v, -exponent), -128);
            tk_vstrbq_p_s32(out + c, tk_vminq_s32(tk_vmaxq_s32(v, lo), hi), m);
        }
    }
}

#endif /* TK_MVE && TK_SOFTMAX_KERNEL */
#endif
