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
    uint32_t hi = (uint32_t)(v >> 32), lo = (uint32_t)v;
    int e;
    uint32_t mant;                                           /* v >> (e - 31) or v << (31 - e) */
    if (hi) {
        int z = tk_clz32(hi);
        e = 63 - z;
        mant = z ? (hi << z) | (lo >> (32 - z)) : hi;
    } else {
        int z = tk_clz32(lo | 1u);                           /* v = 0 is treated as 1 */
        e = 31 - z;
        mant = (lo | (lo == 0)) << z;
    }
    uint32_t idx = (mant >> 24) & 127u;                      /* mant in [2^31, 2^32) */
    uint32_t frac = (mant >> 8) & 0xFFFFu;
    uint32_t t0 = table[idx];
    /* table step < 2^24, frac < 2^16: the product fits 40 bits */
    uint32_t interp = t0 + (uint32_t)(((uint64_t)(table[idx + 1] - t0) * frac) >> 16);  /* Q30 < 2^30 */
    return (int32_t)((uint32_t)e << 16) + (int32_t)((interp + (1u << 13)) >> 14);
}

int32_t tk_log2_96_q16(uint64_t hi, uint64_t lo, const uint32_t *table) {
    if (hi == 0) return tk_log2_q16(lo, table);
    int top = tk_ilog2_64(hi) + 33;          /* hi * 2^32 < 2^top */
    if (top < 60) top = 60;                  /* lo < 2^59, so the sum is < 2^(top+1) */
    int sh = top + 1 - 63;                   /* 0..28 */
    if (sh < 0) sh = 0;
    uint64_t v = (hi << (32 - sh)) + (lo >> sh);
    return tk_log2_q16(v, table) + sh * 65536;
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

/* floor(sqrt(v)) for v < 2^32 by the digit-by-digit method (the portable tk_isqrt32). */
uint32_t tk_isqrt32_loop(uint32_t v) {
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

uint32_t tk_mag_from_power(uint64_t p) {
    int k = (33 - tk_clz32((uint32_t)(p >> 32))) >> 1;
    return tk_isqrt32((uint32_t)(p >> (2 * k))) << k;
}

void tk_dsp_quantize_n(const int32_t *v, int n, const tk_dsp_quant *q, int8_t *out) {
    const int32_t off = q->offset, mult = q->mult, zp = q->zero_point, lo = q->lo, hi = q->hi;
    const int shift = (int)q->shift;
    int i = 0;
    if (shift >= 33) {                       /* the 32-bit form of tk_dsp_quantize */
        const int32_t round = (int32_t)1 << (shift - 33);
        for (; i < n; i++) {
            int32_t a;
#if defined(__GNUC__)
            if (__builtin_add_overflow(v[i], off, &a)) break;
#else
            int64_t a64 = (int64_t)v[i] + off;
            if (a64 != (int32_t)a64) break;
            a = (int32_t)a64;
#endif
            int32_t h = (int32_t)tk_asr64((int64_t)a * mult, 32);
            int32_t y = tk_asr(h + round, shift - 32) + zp;
            out[i] = (int8_t)(y < lo ? lo : (y > hi ? hi : y));
        }
    }
    for (; i < n; i++) out[i] = tk_dsp_quantize(v[i], q);
}
