/* Real FFT, Q31: X[k] = FFT(x)[k] / n for k = 0..n/2, n a power of two in [64, 1024]. Same
 * schedule and rounding as rfft_q15 with 64-bit products; about 150 dB SNR. */
#ifndef TK_RFFT_Q31_H
#define TK_RFFT_Q31_H

#include "tk_dsp.h"

typedef struct {
    uint16_t n;
    uint16_t tw_stride;
    uint16_t post_stride;
    uint16_t reserved;
    const int32_t *twiddle;   /* Q30 (re, im) of exp(-2 pi i k / m_table), k < 3 m_table / 4 */
    const uint16_t *perm;     /* n/2 entries, the same table as rfft_q15's */
    const int32_t *post;      /* Q31 rows (P.re, P.im, Q.re, Q.im) */
} tk_rfft_q31_cfg;

/* buf: n real Q31 samples (destroyed); out: n + 2 int32, (re, im) of X[0..n/2]. */
void tk_rfft_q31(const tk_rfft_q31_cfg *cfg, int32_t *buf, int32_t *out);

/* The same for half-scale input, |buf[i]| <= 2^30 (what the feature blocks feed it): every
 * butterfly and real-split value then stays below sqrt(2) 2^30 plus a few LSB in magnitude, so
 * nothing can saturate and the long-multiply path leaves its saturation tests out. Same bits as
 * tk_rfft_q31 on such input. */
void tk_rfft_q31_hs(const tk_rfft_q31_cfg *cfg, int32_t *buf, int32_t *out);

/* Left shift s in [0, 31]: the largest with every x[i] * 2^s inside int32 (31 for silence). */
int tk_headroom_q31(const int32_t *x, int n);

#endif /* TK_RFFT_Q31_H */
