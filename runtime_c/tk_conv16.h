/* tinykiln runtime: the output stage of the 16x8 kernels (int16 activations, int8 weights):
 * CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED and TRANSPOSE_CONV in int16.
 *
 * TFLM accumulates 16x8 products in the bias's type. With an int64 bias (what the converter
 * emits) the sum is int64 and TFLM requantizes it with the int64 MultiplyByQuantizedMultiplier,
 * which rounds once: (x * m16 + 2^(t-1)) >> t with a 16-bit multiplier m16 (the Q31 multiplier
 * rounded to Q15) and t = 15 - shift. With an int32 bias (CONV_2D and FULLY_CONNECTED accept
 * one) the sum is int32, wrapping, and requantization is the int32 double-rounding one
 * (tk_requant). The kernels here always sum in int64; for the int32 mode the sum is then taken
 * modulo 2^32, which is what TFLM's wrapping int32 sum gives. The compiler stores per channel
 * {m16, t} (int64 mode) or {multiplier, shift} (int32 mode) in `rq`. */
#ifndef TK_CONV16_H
#define TK_CONV16_H
#include "tk_nn.h"

/* x * m16 / 2^t rounded (halves up), TFLM's int64 MultiplyByQuantizedMultiplier with m16 and
 * t = 15 - shift precomputed. The compiler checks |x| < 2^47 (TFLM's bound: x * m16 < 2^62)
 * and t in [8, 46]; the result is cut to 32 bits as TFLM's int32 conversion does. */
static inline int32_t tk_requant_s64(int64_t x, int32_t m16, int32_t t) {
    const int64_t r = (x * m16 + ((int64_t)1 << (t - 1))) >> t;
    return (int32_t)(uint32_t)(uint64_t)r;
}

/* The int16 output of accumulator `acc` (bias included) with channel rq pair `rq`. */
static inline int16_t tk_out_s16(int64_t acc, const int32_t *rq, int32_t acc64,
                                 const tk_quant_io *q) {
    const int32_t r = acc64 ? tk_requant_s64(acc, rq[0], rq[1])
                            : tk_requant((int32_t)(uint32_t)(uint64_t)acc, rq[0], rq[1]);
    return (int16_t)tk_clamp(tk_add_wrap_s32(r, q->output_offset), q->act_min, q->act_max);
}
#endif /* TK_CONV16_H */
