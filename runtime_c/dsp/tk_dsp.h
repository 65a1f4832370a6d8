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

/* Step boundaries for instruction counts per sub-step (benchmarks/dsp_bench.py builds with
 * -DTK_DSP_PROFILE and a marker function tk_dsp_mark; otherwise nothing). */
#if defined(TK_DSP_PROFILE)
void tk_dsp_mark(void);
#define TK_DSP_STEP() tk_dsp_mark()
#else
#define TK_DSP_STEP() ((void)0)
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

/* Leading zero bits of v (32 for 0): one CLZ on Arm cores that have it (gcc folds the test). */
static inline int tk_clz32(uint32_t v) {
#if defined(__GNUC__)
    return v ? __builtin_clz(v) : 32;
#else
    int z = 0;
    if (!v) return 32;
    while (!(v & 0x80000000u)) { v <<= 1; z++; }
    return z;
#endif
}

/* floor(log2(v)) for v >= 1 */
static inline int tk_ilog2_64(uint64_t v) {
    uint32_t hi = (uint32_t)(v >> 32);
    return hi ? 63 - tk_clz32(hi) : 31 - tk_clz32((uint32_t)v);
}

/* Long multiplies on Thumb-2 (Armv7-M and later, not Armv6-M): SMULL/SMLAL/UMLAL exist, and on
 * DSP cores SMMULR. The portable C gives the same bits. */
#if !defined(TK_DSP_PORTABLE) && !defined(TK_DSP_NO_ASM) && !defined(TK_DSP_EMULATE_SIMD) && \
    defined(__ARM_FEATURE_DSP) && defined(__thumb2__)
#define TK_DSP_SMMULR 1
#endif

/* acc + a b in 64 bits: one UMLAL on Thumb-2 (gcc splits a second accumulator in the same
 * loop into UMULL, ADDS, ADC). */
#if !defined(TK_DSP_PORTABLE) && !defined(TK_DSP_NO_ASM) && defined(__GNUC__) && defined(__arm__) && \
    (defined(__thumb2__) || !defined(__thumb__))
#define TK_DSP_UMLAL 1
#endif

static inline uint64_t tk_umlal(uint64_t acc, uint32_t a, uint32_t b) {
#if defined(TK_DSP_UMLAL)
    __asm__("umlal %Q0, %R0, %1, %2" : "+r"(acc) : "r"(a), "r"(b));
    return acc;
#else
    return acc + (uint64_t)a * b;
#endif
}

/* (a b + 2^31) >> 32: the product's high word rounded, halves up (SMMULR). */
static inline int32_t tk_mulhr(int32_t a, int32_t b) {
#if defined(TK_DSP_SMMULR)
    int32_t r;
    __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
#else
    return (int32_t)tk_asr64((int64_t)a * b + ((int64_t)1 << 31), 32);
#endif
}

/* floor(sqrt(v)) for v < 2^32. Three implementations with the same bits:
 *  - double-precision FPU (Cortex-M7): VSQRT.F64 of the exact v is correctly rounded, and no
 *    root of an integer below 2^32 lies within 2^-17 below an integer, so truncation is exact;
 *  - single-precision FPU (Cortex-M4/M33): VSQRT.F32 of v rounded to 24 bits, truncated, is
 *    floor(sqrt(v)) or one more (never less: checked for every v < 2^32, see tests/test_dsp.py),
 *    and one multiply-subtract corrects it: v - r^2 < 0 exactly when r is one too many (the
 *    32-bit difference is exact, |v - r^2| < 2^18, also for r = 65536 where r^2 wraps to 0);
 *  - elsewhere the digit-by-digit method. TK_DSP_EMULATE_SIMD runs the correction on hosts with
 *    estimates one too many for odd v. */
#if !defined(TK_DSP_PORTABLE) && defined(__ARM_FP) && defined(__thumb2__) && (__ARM_FP & 8) && \
    !defined(TK_DSP_EMULATE_SIMD)
#define TK_DSP_SQRT 2
#elif !defined(TK_DSP_PORTABLE) && ((defined(__ARM_FP) && (__ARM_FP & 4) && defined(__thumb2__)) || \
                                    defined(TK_DSP_EMULATE_SIMD))
#define TK_DSP_SQRT 1
#else
#define TK_DSP_SQRT 0
#endif

uint32_t tk_isqrt32_loop(uint32_t v);

static inline uint32_t tk_isqrt32(uint32_t v) {
#if TK_DSP_SQRT == 2
    double d = (double)v, root;
    __asm__("vsqrt.f64 %P0, %P1" : "=w"(root) : "w"(d));
    return (uint32_t)root;
#elif TK_DSP_SQRT == 1
#if defined(TK_DSP_EMULATE_SIMD)
    uint32_t r = tk_isqrt32_loop(v) + (v & 1u);     /* an estimate one too many */
#else
    float f = (float)v, root;
    __asm__("vsqrt.f32 %0, %1" : "=t"(root) : "t"(f));
    uint32_t r = (uint32_t)root;                   /* floor(sqrt(v)) or one more, <= 65536 */
#endif
    return r - ((v - r * r) >> 31);                /* 1 when v - r^2 (exact in int32) < 0 */
#else
    return tk_isqrt32_loop(v);
#endif
}

/* Magnitude of a Q31 bin: with p = re^2 + im^2 < 2^63, floor(sqrt(p >> 2k)) << k with the
 * smallest k that brings p >> 2k below 2^32 (k = 0 for p < 2^32, else (floor(log2 p) - 30) / 2);
 * relative error < 2^-15, result < 2^31.5. */
static inline uint32_t tk_mag_q31(int32_t re, int32_t im) {
    uint64_t p = (uint64_t)((int64_t)re * re) + (uint64_t)((int64_t)im * im);
    uint32_t hi = (uint32_t)(p >> 32), lo = (uint32_t)p, v;
    int t = 33 - tk_clz32(hi), k = t >> 1;                    /* k = 0 for p < 2^32, else 1..16 */
#if defined(TK_DSP_UMLAL)
    /* p >> 2k in four instructions: register shifts by 32 give 0 on Arm */
    uint32_t u;
    t &= ~1;
    __asm__("lsr %0, %2, %4\n\trsb %1, %4, #32\n\tlsl %1, %3, %1\n\torr %0, %0, %1"
            : "=&r"(v), "=&r"(u) : "r"(lo), "r"(hi), "r"(t));
#else
    v = (uint32_t)(p >> (2 * k));
    (void)lo;
#endif
    return tk_isqrt32(v) << k;
}

/* log2(v) in Q16 for v >= 1 (v = 0 is treated as 1): exponent from the leading one, mantissa by
 * linear interpolation in a 129-entry Q30 table (tinykiln.dsp.tables.log2_table); error below
 * 2e-5. Result <= 64 * 2^16. */
int32_t tk_log2_q16(uint64_t v, const uint32_t *table);

/* log2(hi 2^32 + lo) in Q16 for hi, lo < 2^59 (a 96-bit energy kept as two sums): the top 63
 * bits through tk_log2_q16, then the shift back. */
int32_t tk_log2_96_q16(uint64_t hi, uint64_t lo, const uint32_t *table);

/* floor(sqrt(v)) */
uint32_t tk_isqrt64(uint64_t v);

/* tk_mag_q31 of a bin's power p < 2^63. */
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
    int64_t a = (int64_t)v + q->offset;
    if (q->shift >= 33 && a == (int32_t)a) {
        /* floor((a m + 2^(shift-1)) / 2^shift) = floor((floor(a m / 2^32) + 2^(shift-33)) /
         * 2^(shift-32)): the low word of a m cannot carry into the result. |a m| < 2^62 and
         * shift <= 62, so the 32-bit sums cannot overflow. */
        int32_t h = (int32_t)tk_asr64((int64_t)(int32_t)a * q->mult, 32);
        int32_t y = tk_asr(h + (1 << (q->shift - 33)), (int)q->shift - 32) + q->zero_point;
        return (int8_t)(y < q->lo ? q->lo : (y > q->hi ? q->hi : y));
    }
    int64_t y = tk_rshift_round64(a * q->mult, (int)q->shift) + q->zero_point;
    return (int8_t)(y < q->lo ? q->lo : (y > q->hi ? q->hi : y));
}

/* out[i] = tk_dsp_quantize(v[i], q) for i < n, with the constants hoisted out of the loop. */
void tk_dsp_quantize_n(const int32_t *v, int n, const tk_dsp_quant *q, int8_t *out);

#endif /* TK_DSP_H */
