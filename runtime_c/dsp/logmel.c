/* One frame to log filterbank energies (see logmel.h). Ranges: the frame is x 2^15 (|y| <= 2^30)
 * or (x 2^15 - alpha x_prev) / 2 (|y| < 2^30) for any int16 pair; a Q31 bin's power is < 2^63 (uint64). A filter's energy is kept as hi * 2^32 + lo
 * with hi = sum w (P >> 32), lo = sum w (P mod 2^32): 16-bit weights and at most 2^9 bins keep both
 * sums below 2^58, so nothing of a 96-bit energy is lost before the log. */
#include "logmel.h"

static int prepare(const tk_logmel_cfg *cfg, const int16_t *x, int16_t prev, int32_t *buf) {
    const int L = cfg->frame_length, n = cfg->fft->n;
    for (int i = 0; i < L; i++) {
        int32_t y;
        if (cfg->preemph) {
            int32_t before = i ? x[i - 1] : prev;
            y = tk_asr(tk_lsl(x[i], 15) - cfg->preemph * before, 1);
        } else {
            y = tk_lsl(x[i], 15);
        }
        if (cfg->window) y = (int32_t)tk_asr64((int64_t)y * cfg->window[i] + ((int64_t)1 << 30), 31);
        buf[i] = y;
    }
    for (int i = L; i < n; i++) buf[i] = 0;
    /* |buf| <= 2^30, so s >= 0; the shift keeps the peak at or below half scale: the first
     * radix-4 stage rotates complex pairs of magnitude up to sqrt(2) times the peak, which must
     * not saturate */
    int s = tk_headroom_q31(buf, n) - 1;
    if (s > cfg->max_shift) s = cfg->max_shift;
    if (s)
        for (int i = 0; i < n; i++) buf[i] = tk_lsl(buf[i], s);
    return s;
}

/* log2 in Q16 of hi * 2^32 + lo (hi, lo < 2^59): the top 63 bits, then the shift back. */
static int32_t log2_96(uint64_t hi, uint64_t lo, const uint32_t *table) {
    if (hi == 0) return tk_log2_q16(lo, table);
    int top = tk_ilog2_64(hi) + 33;          /* hi * 2^32 < 2^top */
    if (top < 60) top = 60;                  /* lo < 2^59, so the sum is < 2^(top+1) */
    int sh = top + 1 - 63;                   /* 0..28 */
    if (sh < 0) sh = 0;
    uint64_t v = (hi << (32 - sh)) + (lo >> sh);
    return tk_log2_q16(v, table) + sh * 65536;
}

void tk_logmel(const tk_logmel_cfg *cfg, const int16_t *frame, int16_t prev, int32_t *scratch, int32_t *v) {
    const int n = cfg->fft->n;
    int32_t *buf = scratch;                          /* n int32 */
    int32_t *X = scratch + n;                        /* n + 2 int32, then the spectrum in place */
    uint64_t *S = (uint64_t *)(void *)X;
    int s = prepare(cfg, frame, prev, buf);
    tk_rfft_q31(cfg->fft, buf, X);
    for (int k = 0; k <= n / 2; k++) {
        int64_t re = X[2 * k], im = X[2 * k + 1];    /* read both before S[k] overwrites them */
        uint64_t p = (uint64_t)(re * re) + (uint64_t)(im * im);
        S[k] = cfg->magnitude ? tk_mag_from_power(p) : p;
    }
    const int32_t shift_q16 = cfg->log_shift_mult * s * 65536;
    for (int f = 0; f < cfg->n_filters; f++) {
        const uint64_t *sp = S + cfg->fb_start[f];
        const uint16_t *w = cfg->fb_weights + cfg->fb_offset[f];
        uint64_t hi = 0, lo = 0;
        for (int i = 0; i < cfg->fb_count[f]; i++) {
            hi += (uint64_t)w[i] * (uint32_t)(sp[i] >> 32);
            lo += (uint64_t)w[i] * (uint32_t)sp[i];
        }
        if (cfg->floor_is_add) {
            hi += cfg->floor_add[2 * s];
            lo += cfg->floor_add[2 * s + 1];
        }
        int32_t r = log2_96(hi, lo, cfg->log2_table) - shift_q16;
        if (!cfg->floor_is_add && r < cfg->floor_q16) r = cfg->floor_q16;
        v[f] = r;
    }
}
