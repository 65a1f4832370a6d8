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
/* The fast 16x8 kernels' dot product: sum of x[i] * w[i] over n taps, with the weights stored
 * quad-swapped by the compiler (tinykiln.lower.conv16.quad_swapped): in each group of four taps
 * the order w0 w2 w1 w3, a last group of fewer than four as it is. Then one word of weights
 * expanded by tk_sxtb16 / tk_sxtb16_ror8 gives (w0, w1) and (w2, w3), which pair with the input
 * words (x0, x1) and (x2, x3) in two dual multiply-accumulates (tk_simd.h). Each product is at
 * most 2^22 in magnitude, so blocks of 256 taps sum exactly in int32 (at most 2^30) before
 * being added to the int64 total: the result is the exact sum, as TFLM's loop forms it. */
#define TK_DOT16_BLOCK 256

#if TK_NN_SIMD
static inline uint32_t tk_ld2_s16(const int16_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
#endif

static inline int64_t tk_dot_s16_s8(const int16_t *x, const int8_t *w, int32_t n) {
    int64_t total = 0;
    while (n > 0) {
        const int32_t blk = n < TK_DOT16_BLOCK ? n : TK_DOT16_BLOCK;
        int32_t acc = 0;
        n -= blk;
        for (int32_t q = blk >> 2; q > 0; --q) {
#if TK_NN_SIMD
            const uint32_t wv = tk_ld4(w);
            acc = tk_smlad(tk_ld2_s16(x), tk_sxtb16(wv), acc);
            acc = tk_smlad(tk_ld2_s16(x + 2), tk_sxtb16_ror8(wv), acc);
#else
            acc += x[0] * w[0] + x[1] * w[2] + x[2] * w[1] + x[3] * w[3];
#endif
            x += 4;
            w += 4;
        }
        for (int32_t r = blk & 3; r > 0; --r) acc += *x++ * *w++;
        total += acc;
    }
    return total;
}
/* The taps [a, b) of a quad-swapped run whose first n4 taps are in groups of four (n4 = the
 * run's length rounded down to a multiple of 4): x points at tap a's input. Slow (one tap at a
 * time, int64 sum), for the border pixels of tk_conv2d_s16_fast. */
static inline int64_t tk_dot_part_s16_s8(const int16_t *x, const int8_t *w, int32_t n4,
                                         int32_t a, int32_t b) {
    int64_t acc = 0;
    for (int32_t i = a; i < b; ++i) {
        const int32_t j = i < n4 ? (i & ~3) | ((i & 1) << 1) | ((i >> 1) & 1) : i;
        acc += x[i - a] * w[j];
    }
    return acc;
}
#endif /* TK_CONV16_H */
