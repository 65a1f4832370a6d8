/* The output stage and table reads that tk_fully_connected_s8_pairs (fully_connected_s8_pairs.c)
 * and tk_fully_connected_s8_quads (fully_connected_s8_quads.c) share: both accumulate, per row
 * pair (a, b), e = x . a and f = 256 * (x . b) + x . a mod 2^32 from the int16 values
 * h = 256 * b + a of fully_connected_s8_pairs.h, and both take twice TFLM's accumulator into
 * tk_requant_fast's steps. */
#ifndef TK_FULLY_CONNECTED_S8_ROWS_H
#define TK_FULLY_CONNECTED_S8_ROWS_H
#include "tk_nn.h"

#if defined(__GNUC__)
#define TK_FCP_INLINE static inline __attribute__((always_inline))
#else
#define TK_FCP_INLINE static inline
#endif

/* acc2 is twice TFLM's accumulator, wrapped: tk_requant_fast from its x2 on, then the clamp */
TK_FCP_INLINE int8_t tk_fcp_out(uint32_t acc2, const int32_t *rq, int32_t k1, int32_t lo,
                                int32_t hi, int wide) {
#if TK_NN_SIMD
    const int32_t h = tk_smmulr((int32_t)acc2, rq[0]);
#else
    const int32_t h = (int32_t)(((int64_t)(int32_t)acc2 * rq[0] + ((int64_t)1 << 31)) >> 32);
#endif
    const int32_t r = ((h - (h < 0 ? 1 : 0)) >> rq[1]) + k1;
    return (int8_t)(wide ? tk_ssat8(r >> 1) : tk_clamp(r >> 1, lo, hi));
}

/* twice x . b from the pair's two sums (f - e = 256 * x . b, exact) */
TK_FCP_INLINE uint32_t tk_fcp_hi2(int32_t e, int32_t f) {
    return (uint32_t)((int32_t)((uint32_t)f - (uint32_t)e) >> 7);
}

/* portable reads of the table: the int16 value h = 256 b + a whose first byte w is (at an even
 * offset into the int16 table), and a, its low byte */
TK_FCP_INLINE int32_t tk_fcp_half(const int8_t *w) {
    return *(const int16_t *)(const void *)w;
}

TK_FCP_INLINE int32_t tk_fcp_low(const int8_t *w) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return (int8_t)(uint8_t)((uint16_t)tk_fcp_half(w) & 0xFFu);
#else
    return w[0];                        /* the first byte of a little-endian int16 */
#endif
}
#endif
