/* tinykiln runtime: the Cortex-M DSP-extension (ARMv7E-M / ARMv8-M Mainline with DSP) operations
 * used by the int8 kernels' SIMD path, and C models of them for host tests.
 *
 * TK_NN_SIMD is 1 when the kernels take their SIMD path: on cores with the DSP extension (M4, M7,
 * M33, M55), unless TK_DSP_PORTABLE is defined, and on any host compiler when TK_DSP_EMULATE_SIMD
 * is defined (then every operation below is its C model, so that the host tests run the same
 * integer algorithm under ASan/UBSan). Both paths compute the same bits as the portable one.
 *
 * Lanes: a 32-bit word holds two int16 lanes, lane 0 in bits 0..15. tk_sxtb16(x) takes bytes 0
 * and 2 of x sign-extended into lanes 0 and 1; tk_sxtb16_ror8(x) takes bytes 1 and 3. So a word
 * of four int8 values [a0 a1 a2 a3] becomes (a0, a2) and (a1, a3), and two such words expanded
 * alike give, through tk_smlad, a0*b0 + a2*b2 and a1*b1 + a3*b3: a 4-term dot product in four
 * expansions and two dual multiply-accumulates, with no reordering of either operand. */
#ifndef TK_SIMD_H
#define TK_SIMD_H

#include <stdint.h>
#include <string.h>

#if (defined(__ARM_FEATURE_DSP) && !defined(TK_DSP_PORTABLE)) || defined(TK_DSP_EMULATE_SIMD)
#define TK_NN_SIMD 1
#else
#define TK_NN_SIMD 0
#endif

#if TK_NN_SIMD

/* Four int8 values as one word, any alignment (the DSP cores load unaligned words). */
static inline uint32_t tk_ld4(const int8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

#if defined(TK_DSP_EMULATE_SIMD)
static inline int32_t tk_lane0(uint32_t x) { return (int16_t)(uint16_t)(x & 0xFFFFu); }
static inline int32_t tk_lane1(uint32_t x) { return (int16_t)(uint16_t)(x >> 16); }
static inline uint32_t tk_sxtb16(uint32_t x) {
    return (uint32_t)(uint16_t)(int16_t)(int8_t)(uint8_t)(x & 0xFFu) |
           ((uint32_t)(uint16_t)(int16_t)(int8_t)(uint8_t)((x >> 16) & 0xFFu) << 16);
}
static inline uint32_t tk_sxtb16_ror8(uint32_t x) { return tk_sxtb16(x >> 8); }
/* acc + lane0(a) * lane0(b) + lane1(a) * lane1(b), wrapping like the instruction */
static inline int32_t tk_smlad(uint32_t a, uint32_t b, int32_t acc) {
    return (int32_t)((uint32_t)acc + (uint32_t)(tk_lane0(a) * tk_lane0(b)) +
                     (uint32_t)(tk_lane1(a) * tk_lane1(b)));
}
static inline int32_t tk_smlabb(uint32_t a, uint32_t b, int32_t acc) {
    return (int32_t)((uint32_t)acc + (uint32_t)(tk_lane0(a) * tk_lane0(b)));
}
static inline int32_t tk_smlatt(uint32_t a, uint32_t b, int32_t acc) {
    return (int32_t)((uint32_t)acc + (uint32_t)(tk_lane1(a) * tk_lane1(b)));
}
/* (a * b + 2^31) >> 32, the high word of the product rounded (SMMULR) */
static inline int32_t tk_smmulr(int32_t a, int32_t b) {
    const int64_t p = (int64_t)a * b + ((int64_t)1 << 31);
    return (int32_t)(p >= 0 ? p / ((int64_t)1 << 32) : -1 - (-1 - p) / ((int64_t)1 << 32));
}
static inline int32_t tk_ssat8(int32_t x) { return x < -128 ? -128 : (x > 127 ? 127 : x); }
#else
#include <arm_acle.h>
static inline uint32_t tk_sxtb16(uint32_t x) { return __sxtb16(x); }
static inline uint32_t tk_sxtb16_ror8(uint32_t x) {
    uint32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}
static inline int32_t tk_smlad(uint32_t a, uint32_t b, int32_t acc) {
    return __smlad(a, b, acc);
}
static inline int32_t tk_smlabb(uint32_t a, uint32_t b, int32_t acc) {
    return __smlabb((int32_t)a, (int32_t)b, acc);
}
static inline int32_t tk_smlatt(uint32_t a, uint32_t b, int32_t acc) {
    return __smlatt((int32_t)a, (int32_t)b, acc);
}
static inline int32_t tk_smmulr(int32_t a, int32_t b) {
    int32_t r;
    __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
}
static inline int32_t tk_ssat8(int32_t x) { return __ssat(x, 8); }
#endif

#endif /* TK_NN_SIMD */
#endif /* TK_SIMD_H */
