/* Real FFT, Q15: X[k] = FFT(x)[k] / n for k = 0..n/2, n a power of two in [64, 1024]. */
#ifndef TK_RFFT_Q15_H
#define TK_RFFT_Q15_H

#include "tk_dsp.h"

/* Tables from tinykiln.dsp.tables.rfft_q15_tables. The twiddles of a stage depend only on its
 * length, so the twiddle table of n is a suffix of the table of 4n (point into it to share); the
 * real-split table of a larger length serves this one with post_stride = (its n) / n. */
typedef struct {
    uint16_t n;
    uint16_t post_stride;
    const int16_t *twiddle;   /* Q14 (re, im) triples (W^2j, W^j, W^3j) per twiddled radix-4 stage */
    const uint16_t *perm;     /* n/2 entries: buffer position of Z[k] after the complex FFT */
    const int16_t *post;      /* Q15 rows (P.re, P.im, Q.re, Q.im), P = (1 - jW)/4, Q = (1 + jW)/4 */
} tk_rfft_q15_cfg;

/* buf: n real Q15 samples, used as work space (destroyed). out: n + 2 int16, (re, im) of
 * X[0..n/2]; X[0] and X[n/2] have im = 0. Every stage rounds once; a rotated intermediate whose
 * component would leave [-1, 1) (possible only for inputs near full scale) saturates. */
void tk_rfft_q15(const tk_rfft_q15_cfg *cfg, int16_t *buf, int16_t *out);

/* Block floating point: scales buf by 2^s first (s = tk_headroom_q15) and returns s, so that
 * out = FFT(x * 2^s) / n. Use for quiet signals (keeps ~60 dB SNR down to -40 dBFS). */
int tk_rfft_q15_bfp(const tk_rfft_q15_cfg *cfg, int16_t *buf, int16_t *out);

#endif /* TK_RFFT_Q15_H */
