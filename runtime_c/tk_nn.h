/* tinykiln runtime: types and fixed-point helpers shared by every int8 kernel.
 *
 * Requantization follows TFLM's double-rounding MultiplyByQuantizedMultiplier: a saturating rounding
 * doubling high multiply by a Q31 multiplier, then a rounding (half away from zero) right shift.
 * All shifts and multipliers are computed by the compiler; kernels only do integer arithmetic. */
#ifndef TK_NN_H
#define TK_NN_H

#include <stdint.h>
#include <string.h>

#include "tk_simd.h"

#define TK_MIN(a, b) ((a) < (b) ? (a) : (b))
#define TK_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Shared parameter blocks, nested in the op parameter structs (as CMSIS-NN's arm_nn_types.h).
 * A field the op's kernel does not read is left out of the generated initializer (zero). */
typedef struct {
    int32_t n, h, w, c;               /* batches, height, width, channels (NHWC) */
} tk_dims;

typedef struct {
    int32_t stride_h, stride_w;
    int32_t pad_h, pad_w;             /* top / left padding (TFLM ComputePaddingHeightWidth) */
    int32_t dil_h, dil_w;             /* dilation */
} tk_conv_geom;

typedef struct {
    int32_t input_offset;             /* -input zero point, in [-127, 128] */
    int32_t output_offset;            /* output zero point */
    int32_t act_min, act_max;         /* fused activation as a clamp, within [-128, 127] */
} tk_quant_io;

/* (a * b * 2) >> 32 rounded to nearest, saturating the single overflow case INT32_MIN * INT32_MIN. */
static inline int32_t tk_srdhm(int32_t a, int32_t b) {
    if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
    int64_t ab = (int64_t)a * (int64_t)b;
    int32_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    /* divide (not shift) so that negative products truncate toward zero as gemmlowp does */
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/* x / 2^exponent rounded to nearest, halves away from zero; exponent in [0, 31]. */
static inline int32_t tk_rdbpot(int32_t x, int exponent) {
    int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    int32_t remainder = x & mask;
    int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* x * multiplier * 2^shift, shift in [-31, 30]: TFLM's MultiplyByQuantizedMultiplier. The left
 * shift wraps like TFLM's int32 multiply would (done in uint32 to stay defined behaviour). */
static inline int32_t tk_requant(int32_t x, int32_t multiplier, int32_t shift) {
    int left = shift > 0 ? shift : 0;
    int right = shift > 0 ? 0 : -shift;
    int32_t shifted = (int32_t)((uint32_t)x << left);
    return tk_rdbpot(tk_srdhm(shifted, multiplier), right);
}

/* a + b modulo 2^32 (TFLM's int32 sums wrap in practice): the add done in uint32, which is
 * defined behaviour, cast back. The fast kernels add their folded bias with it. */
static inline int32_t tk_add_wrap_s32(int32_t a, int32_t b) {
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

static inline int32_t tk_clamp(int32_t x, int32_t lo, int32_t hi) {
    return x < lo ? lo : (x > hi ? hi : x);
}

/* The output stage of the reference kernels (TFLM's order): requantize, add the output zero
 * point, clamp to the fused activation range (within [-128, 127]). */
static inline int8_t tk_requant_s8(int32_t acc, int32_t multiplier, int32_t shift,
                                   int32_t output_offset, int32_t act_min, int32_t act_max) {
    return (int8_t)tk_clamp(tk_requant(acc, multiplier, shift) + output_offset, act_min, act_max);
}

/* Pooling (AVERAGE_POOL_2D, MAX_POOL_2D), int8 NHWC: the parameters both kernels take. The
 * compiler has checked that every window overlaps the input (no empty window). */
typedef struct {
    tk_dims input;                   /* n, h, w, c */
    tk_dims output;                  /* h, w (n, c are the input's) */
    tk_dims filter;                  /* h, w: the window */
    tk_conv_geom geom;               /* stride, padding (no dilation) */
    tk_quant_io quant;               /* act_min, act_max: fused activation clamp (input and
                                      * output share scale and zero point: no offsets) */
} tk_pool_params;

/* The part [*start, *end) of the input axis of length `in` that the pooling window of output
 * index `o` covers (TFLM clips the window to the input; padding is never read). */
static inline void tk_pool_span(int32_t o, int32_t stride, int32_t pad, int32_t filter, int32_t in,
                                int32_t *start, int32_t *end) {
    const int32_t first = o * stride - pad;
    *start = TK_MAX(first, 0);
    *end = TK_MIN(first + filter, in);
}

/* Broadcast walks of the binary elementwise kernels (ADD, MUL): an output of 6 dims, each input
 * read with its own element strides (0 along broadcast dims). */
typedef struct {
    int32_t dims[6];                 /* output shape; dims[5] is the innermost */
    int32_t stride1[6], stride2[6];  /* element strides into each input, 0 along broadcast dims */
} tk_bcast;

/* The 5 outer dims of a tk_bcast form `rows`;
 * tk_bcast_step advances the odometer idx over them and keeps o1, o2 (element offsets of the row
 * starts in each input; offsets, not pointers, so nothing points out of range). */
static inline int32_t tk_bcast_rows(const int32_t dims[6]) {
    return dims[0] * dims[1] * dims[2] * dims[3] * dims[4];
}

static inline void tk_bcast_step(const int32_t dims[6], const int32_t stride1[6],
                                 const int32_t stride2[6], int32_t idx[5], int32_t *o1,
                                 int32_t *o2) {
    for (int d = 4; d >= 0; --d) {
        if (++idx[d] < dims[d]) {
            *o1 += stride1[d];
            *o2 += stride2[d];
            return;
        }
        idx[d] = 0;
        *o1 -= (dims[d] - 1) * stride1[d];
        *o2 -= (dims[d] - 1) * stride2[d];
    }
}

/* tk_requant (TFLM's MultiplyByQuantizedMultiplier) for the multipliers TFLM's QuantizeMultiplier
 * produces, 0 or in [2^30, 2^31). The product is then never INT32_MIN * INT32_MIN, and the doubling
 * high multiply, (x*m + nudge) / 2^31 truncated with nudge 2^30 or 1 - 2^30 by the product's sign,
 * equals floor((x*m + 2^30) / 2^31) in every case: one 64-bit add and shift, no branches. The
 * rounding divide by 2^e is TFLM's (halves away from zero). Shared by the conv kernels. */
static inline int32_t tk_conv_requant(int32_t x, int32_t m, int32_t shift) {
    int32_t e = 0;
    if (shift > 0) {
        x = (int32_t)((uint32_t)x << shift);        /* wraps like TFLM's int32 multiply */
    } else {
        e = -shift;                                 /* 0..31 */
    }
    const int32_t h = (int32_t)(((int64_t)x * m + (1 << 30)) >> 31);   /* |x*m| < 2^62: fits */
    const int32_t mask = (int32_t)((1u << e) - 1u);
    const int32_t threshold = (mask >> 1) + (h < 0 ? 1 : 0);
    return (h >> e) + ((h & mask) > threshold ? 1 : 0);
}

/* The same result in five operations, for what the compiler proves (tinykiln.lower.conv.
 * requant_table): shift <= -1 (a right shift e = -shift >= 1; multiplier 0 comes with shift -1)
 * and |x| < 2^30. Then 2x fits int32 and
 *     h = floor((x*m + 2^30) / 2^31) = floor((2x*m + 2^31) / 2^32)       (SMMULR of 2x and m)
 * TFLM's divide by 2^e rounding halves away from zero is floor((h - [h<0] + 2^(e-1)) / 2^e)
 * = floor((floor((h - [h<0]) / 2^(e-1)) + 1) / 2), and adding the output offset inside that last
 * halving as 2*out_off adds it exactly: k1 = 1 + 2 * output_offset. |h| <= |x| < 2^30, so no
 * step overflows. e1 = e - 1 = -shift - 1. Returns requant(x) + output_offset. */
static inline int32_t tk_requant_fast(int32_t x, int32_t m, int32_t e1, int32_t k1) {
    const int32_t x2 = (int32_t)((uint32_t)x << 1);
#if TK_NN_SIMD
    const int32_t h = tk_smmulr(x2, m);
#else
    const int64_t p = (int64_t)x2 * m + ((int64_t)1 << 31);
    const int32_t h = (int32_t)(p >> 32);
#endif
    const int32_t y = h - (h < 0 ? 1 : 0);
    return ((y >> e1) + k1) >> 1;
}

#if !TK_NN_SIMD
static inline int32_t tk_ssat8(int32_t x) { return x < -128 ? -128 : (x > 127 ? 127 : x); }
#endif

/* Output stage of the fast conv, depthwise and fully connected kernels, copied into locals
 * (int8 stores may alias the params struct, so reading it through a pointer after each store
 * would reload every field). rq holds two words per output channel: when rq_fast (the compiler
 * proved tk_requant_fast exact for every channel of the op) {multiplier, e1 = -shift - 1}, else
 * {multiplier, shift}. `wide`: the activation clamp is [-128, 127], one saturation. */
typedef struct {
    const int32_t *rq;
    int32_t out_off, lo, hi, k1, fast, wide;
} tk_out_stage;

static inline tk_out_stage tk_out_stage_make(const int32_t *rq, int32_t rq_fast, int32_t out_off,
                                             int32_t lo, int32_t hi) {
    tk_out_stage q;
    q.rq = rq;
    q.out_off = out_off;
    q.lo = lo;
    q.hi = hi;
    q.k1 = 1 + 2 * out_off;
    q.fast = rq_fast;
    q.wide = lo == -128 && hi == 127;
    return q;
}

/* acc (the complete TFLM accumulator, bias included) of output channel ch to int8 */
static inline int8_t tk_out_s8(const tk_out_stage *q, int32_t acc, int32_t ch) {
    const int32_t m = q->rq[2 * ch], sh = q->rq[2 * ch + 1];
    const int32_t r = q->fast ? tk_requant_fast(acc, m, sh, q->k1)
                              : tk_conv_requant(acc, m, sh) + q->out_off;
    return (int8_t)tk_clamp(r, q->lo, q->hi);
}

/* tk_out_s8 when q->fast && q->wide, with the channel's two rq words at hand */
static inline int8_t tk_out_fw_s8(int32_t acc, int32_t m, int32_t e1, int32_t k1) {
    return (int8_t)tk_ssat8(tk_requant_fast(acc, m, e1, k1));
}

#endif /* TK_NN_H */
