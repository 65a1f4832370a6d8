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

uint32_t tk_mag_from_power(uint64_t p) {
    int k = 0;
    if (p >> 32) k = (tk_ilog2_64(p) - 30) >> 1;     /* 1..16 */
    uint32_t v = (uint32_t)(p >> (2 * k));
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
    return res << k;
}
