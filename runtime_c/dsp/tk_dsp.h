/* tinykiln DSP front end: integer helpers shared by every block in runtime_c/dsp.
 *
 * Conventions: audio samples and spectra are Q15 in int16; complex values are (re, im) int16
 * pairs, re at the lower address, so one 32-bit word holds one complex value (the layout the
 * Cortex-M DSP extension's dual 16-bit instructions work on). All tables are computed by
 * tinykiln.dsp (Python) and passed as const arrays; blocks do integer arithmetic only.
 * Right shifts of signed values go through tk_asr (floor division by 2^s, defined for negative
 * values; gcc compiles it to one arithmetic shift). */
#ifndef TK_DSP_H
#define TK_DSP_H

#include <stdint.h>
#include <string.h>

/* Cortex-M DSP extension path (ARMv7E-M, ARMv8-M Mainline with DSP): bit-identical to the
 * portable path, tested against it. TK_DSP_EMULATE_SIMD compiles the same path on any host with
 * C versions of the intrinsics (for tests). */
#if (defined(__ARM_FEATURE_DSP) && defined(__ARM_FEATURE_SIMD32) && !defined(TK_DSP_PORTABLE)) || \
    defined(TK_DSP_EMULATE_SIMD)
#define TK_DSP_SIMD 1
#else
#define TK_DSP_SIMD 0
#endif

static inline int32_t tk_asr(int32_t x, int s) {
    return x >= 0 ? (x >> s) : -1 - ((-1 - x) >> s);
}

static inline int64_t tk_asr64(int64_t x, int s) {
    return x >= 0 ? (x >> s) : -1 - ((-1 - x) >> s);
}

static inline int32_t tk_sat16(int32_t x) {
    return x < -32768 ? -32768 : (x > 32767 ? 32767 : x);
}

/* x * 2^-s rounded to nearest, halves up; s in [1, 62]. */
static inline int64_t tk_rshift_round64(int64_t x, int s) {
    return tk_asr64(x + ((int64_t)1 << (s - 1)), s);
}

/* Left shift of a possibly negative value whose result is known to fit (no UB). */
static inline int32_t tk_lsl(int32_t x, int s) {
    return (int32_t)((uint32_t)x << s);
}

static inline uint32_t tk_ld32(const int16_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline void tk_st32(int16_t *p, uint32_t v) {
    memcpy(p, &v, 4);
}

/* floor(log2(v)) for v >= 1 */
static inline int tk_ilog2_64(uint64_t v) {
    int e = 0;
    if (v >> 32) { v >>= 32; e += 32; }
    if (v >> 16) { v >>= 16; e += 16; }
    if (v >> 8) { v >>= 8; e += 8; }
    if (v >> 4) { v >>= 4; e += 4; }
    if (v >> 2) { v >>= 2; e += 2; }
    if (v >> 1) { e += 1; }
    return e;
}

/* log2(v) in Q16 for v >= 1 (v = 0 is treated as 1): exponent from the leading one, mantissa by
 * linear interpolation in a 129-entry Q30 table (tinykiln.dsp.tables.log2_table); error below
 * 2e-5. Result <= 64 * 2^16. */
int32_t tk_log2_q16(uint64_t v, const uint32_t *table);

/* floor(sqrt(v)) */
uint32_t tk_isqrt64(uint64_t v);

/* Magnitude of a Q31 bin from its power p < 2^63: floor(sqrt(p >> 2k)) << k with the smallest k
 * that brings p >> 2k below 2^32 (32-bit arithmetic only; relative error < 2^-15). */
uint32_t tk_mag_from_power(uint64_t p);

/* Left shift s in [0, 15]: the largest with every x[i] * 2^s inside int16 (15 for silence). */
int tk_headroom_q15(const int16_t *x, int n);

/* x[i] *= 2^s, s from tk_headroom_q15 (no overflow by construction). */
void tk_shift_q15(int16_t *x, int n, int s);

/* Int8 quantisation of Q16 log-domain (or any int32) values: clamp(round((v + offset) * mult *
 * 2^-shift) + zero_point, lo, hi). mult/shift from tinykiln.dsp.tables.quantize_multiplier. */
typedef struct {
    int32_t offset;
    int32_t mult;
    int32_t shift;       /* 1..62 */
    int32_t zero_point;
    int32_t lo, hi;      /* clamp in the int8 domain */
} tk_dsp_quant;

static inline int8_t tk_dsp_quantize(int32_t v, const tk_dsp_quant *q) {
    int64_t y = tk_rshift_round64(((int64_t)v + q->offset) * q->mult, (int)q->shift) + q->zero_point;
    return (int8_t)(y < q->lo ? q->lo : (y > q->hi ? q->hi : y));
}

#endif /* TK_DSP_H */
