/* Spectral analysis (see spectral_s8.h). The frame is x 2^15 - mean (mean in Q15-of-LSB units), Q31
 * at half scale, so removing the mean leaves no rounding residue at DC. Band
 * powers use the same split (hi, lo) 96-bit sums as logmel.c. */
#include "spectral_s8.h"

void tk_spectral_s8(const tk_spectral_s8_cfg *cfg, const int16_t *frame, int32_t *scratch, int8_t *out) {
    const int n = cfg->fft->n, L = cfg->frame_length;
    int32_t *buf = scratch, *X = scratch + n;
    uint64_t *P = (uint64_t *)(void *)X;
    int64_t sum = 0, sq = 0;                           /* |sum| <= 2^25, sq <= 2^40 */
    for (int i = 0; i < L; i++) {
        sum += frame[i];
        sq += (int32_t)frame[i] * frame[i];
    }
    /* mean in Q15 LSB units, rounded half up: floor((2^16 sum + L) / 2L) */
    int32_t mean = 0;
    if (cfg->remove_mean) {
        int64_t num = sum * 65536 + L;
        mean = (int32_t)(num >= 0 ? num / (2 * L) : -((-num + 2 * L - 1) / (2 * L)));
    }
    /* variance * L^2 = L sq - sum^2 (exact, <= 2^50); rms in LSB/64 units */
    int64_t var_l2 = cfg->remove_mean ? (int64_t)L * sq - sum * sum : (int64_t)L * sq;
    out[0] = tk_dsp_quantize((int32_t)tk_isqrt64(((uint64_t)var_l2 << 12) / ((uint64_t)L * L)), &cfg->q_rms);
    /* x 2^15 - mean: |x - mean| < 65535 (L - 1) / L LSB, so it fits int32 */
    for (int i = 0; i < L; i++) {
        int32_t y = tk_lsl(frame[i], 15) - mean;
        if (cfg->window) y = (int32_t)tk_asr64((int64_t)y * cfg->window[i] + ((int64_t)1 << 30), 31);
        buf[i] = y;
    }
    for (int i = L; i < n; i++) buf[i] = 0;
    /* peak at or below half scale (the first radix-4 stage must not saturate): s = -1 halves a
     * frame whose mean removal took it above */
    int s = tk_headroom_q31(buf, n) - 1;
    if (s > 0)
        for (int i = 0; i < n; i++) buf[i] = tk_lsl(buf[i], s);
    else if (s < 0)
        for (int i = 0; i < n; i++) buf[i] = tk_asr(buf[i], 1);
    tk_rfft_q31_hs(cfg->fft, buf, X);
    for (int k = 0; k <= n / 2; k++) {
        int64_t re = X[2 * k], im = X[2 * k + 1];
        P[k] = (uint64_t)(re * re) + (uint64_t)(im * im);
    }
    const int32_t shift_q16 = 2 * s * 65536;
    for (int b = 0; b < cfg->n_bands; b++) {
        uint64_t hi = 0, lo = 0;                       /* each < 2^41 for <= 513 bins */
        for (int k = cfg->band_lo[b]; k < cfg->band_hi[b]; k++) {
            hi += P[k] >> 32;
            lo += P[k] & 0xFFFFFFFFu;
        }
        int32_t v = tk_log2_96_q16(hi, lo, cfg->log2_table) - shift_q16;
        out[1 + b] = tk_dsp_quantize(v < cfg->floor_q16 ? cfg->floor_q16 : v, &cfg->q_band);
    }
    /* peaks: local maxima P[k-1] < P[k] >= P[k+1], strongest first, ties to the lower bin */
    int8_t *po = out + 1 + cfg->n_bands;
    int prev_k = -1;
    uint64_t prev_p = 0;
    for (int j = 0; j < cfg->n_peaks; j++) {
        int best = 0;
        uint64_t bp = 0;
        for (int k = 1; k < n / 2; k++) {
            uint64_t p = P[k];
            if (!(P[k - 1] < p && p >= P[k + 1])) continue;
            /* strictly weaker than the previous pick, or equal and at a higher bin */
            if (prev_k >= 0 && !(p < prev_p || (p == prev_p && k > prev_k))) continue;
            if (best == 0 || p > bp) { best = k; bp = p; }
        }
        int32_t v = best ? tk_log2_q16(bp, cfg->log2_table) - shift_q16 : cfg->floor_q16;
        if (v < cfg->floor_q16) v = cfg->floor_q16;
        po[2 * j] = tk_dsp_quantize(best, &cfg->q_freq);
        po[2 * j + 1] = tk_dsp_quantize(v, &cfg->q_peak);
        if (best) { prev_k = best; prev_p = bp; } else { prev_k = n; prev_p = 0; }
    }
}
