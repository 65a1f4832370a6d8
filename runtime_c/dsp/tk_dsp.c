/* Shared helpers of the DSP blocks: block-floating-point headroom, log2 and integer square root. */
#include "tk_dsp.h"

/* Two samples per 32-bit word (n is even). The OR of |x| XOR-folded (x >= 0 ? x : ~x) over both
 * lanes has the same leading one as the largest magnitude. */
int tk_headroom_q15(const int16_t *x, int n) {
    uint32_t acc = 0;
    for (int i = 0; i < n; i += 2) {
        uint32_t w = tk_ld32(x + i);
        uint32_t spread = ((w >> 15) & 0x00010001u) * 0xFFFFu;   /* each lane's sign, spread */
        acc |= w ^ spread;
    }
    uint32_t mag = (acc | (acc >> 16)) & 0x7FFFu;
    int s = 0;
    while (s < 15 && mag < (1u << (14 - s))) s++;
    return s;
}

/* x[i] *= 2^s for a pair per word; s comes from tk_headroom_q15, so no lane overflows and the
 * low lane's shifted-out bits are only copies of its sign (masked off). */
void tk_shift_q15(int16_t *x, int n, int s) {
    if (s == 0) return;
    for (int i = 0; i < n; i += 2) {
        uint32_t w = tk_ld32(x + i);
        tk_st32(x + i, ((w & 0xFFFF0000u) << s) | ((w << s) & 0xFFFFu));
    }
}

int32_t tk_log2_q16(uint64_t v, const uint32_t *table) {
    if (v == 0) v = 1;
    int e = tk_ilog2_64(v);
    uint32_t mant = e >= 31 ? (uint32_t)(v >> (e - 31)) : (uint32_t)(v << (31 - e));  /* [2^31, 2^32) */
    uint32_t idx = (mant >> 24) & 127u;
    uint32_t frac = (mant >> 8) & 0xFFFFu;
    uint32_t t0 = table[idx];
    /* table step < 2^24, frac < 2^16: the product fits 40 bits */
    uint32_t interp = t0 + (uint32_t)(((uint64_t)(table[idx + 1] - t0) * frac) >> 16);  /* Q30 < 2^30 */
    return (int32_t)((uint32_t)e << 16) + (int32_t)((interp + (1u << 13)) >> 14);
}

uint32_t tk_isqrt64(uint64_t v) {
    uint64_t res = 0, bit = (uint64_t)1 << 62;
    while (bit > v) bit >>= 2;
    while (bit) {
        if (v >= res + bit) {
            v -= res + bit;
            res = (res >> 1) + bit;
        } else {
            res >>= 1;
        }
        bit >>= 2;
    }
    return (uint32_t)res;
}

#if !defined(TK_DSP_PORTABLE) && ((defined(__ARM_FP) && (__ARM_FP & 4) && defined(__thumb2__)) || \
                                  defined(TK_DSP_EMULATE_SIMD))
#define TK_DSP_HW_SQRT 1
#endif

#if !defined(TK_DSP_HW_SQRT) || defined(TK_DSP_EMULATE_SIMD)
/* floor(sqrt(v)) for v < 2^32 by the digit-by-digit method. */
static uint32_t isqrt32_loop(uint32_t v) {
    uint32_t res = 0, bit = 1u << 30;
    while (bit > v) bit >>= 2;
    while (bit) {
        if (v >= res + bit) {
            v -= res + bit;
            res = (res >> 1) + bit;
        } else {
            res >>= 1;
        }
        bit >>= 2;
    }
    return res;
}
#endif

#if defined(TK_DSP_HW_SQRT)
/* With a single-precision FPU, VSQRT gives an estimate within one of floor(sqrt(v)) (v rounded
 * to 24 bits, then a correctly rounded root), and two integer checks make it exact: the same
 * bits as the loop. TK_DSP_EMULATE_SIMD tests the checks on a host with estimates off by one. */
static uint32_t isqrt32(uint32_t v) {
#if defined(TK_DSP_EMULATE_SIMD)
    uint32_t r = isqrt32_loop(v);
    r = r + (v & 1u) - (r && (v & 2u));            /* an estimate one above or below */
#else
    float f = (float)v, root;
    __asm__("vsqrt.f32 %0, %1" : "=t"(root) : "t"(f));
    uint32_t r = (uint32_t)root;                   /* <= 65536 */
#endif
    if (r > 65535u) r = 65535u;
    if (r * r > v) r--;
    else if (r < 65535u && (r + 1) * (r + 1) <= v) r++;
    return r;
}
#else
#define isqrt32 isqrt32_loop
#endif

uint32_t tk_mag_from_power(uint64_t p) {
    int k = 0;
    if (p >> 32) k = (tk_ilog2_64(p) - 30) >> 1;     /* 1..16 */
    return isqrt32((uint32_t)(p >> (2 * k))) << k;
}
