/* MFCC (see mfcc_s8.h). |v + base| < 2^23 and |dct| <= 2^15, so a 64-bit sum over up to 2^9
 * filters cannot overflow, and the rounded Q16 coefficient y stays below 2^31. */
#include "mfcc_s8.h"

void tk_mfcc_s8(const tk_mfcc_s8_cfg *cfg, const int16_t *frame, int16_t prev, int32_t *scratch, int8_t *out) {
    const tk_logmel_cfg *fr = cfg->front;
    const int nf = fr->n_filters;
    int32_t *v = scratch + 2 * fr->fft->n + 2;
    tk_logmel(fr, frame, prev, scratch, v);
    TK_DSP_STEP();
    for (int f = 0; f < nf; f++) v[f] += cfg->base_q16;
    for (int k = 0; k < cfg->n_coefs; k++) {
        const int16_t *d = cfg->dct + k * nf;
        int64_t acc = 0;
        for (int f = 0; f < nf; f++) acc += (int64_t)d[f] * v[f];
        out[k] = tk_dsp_quantize((int32_t)tk_rshift_round64(acc, 15), &cfg->quant[k]);
    }
}

void tk_mfcc_s8_frames(const tk_mfcc_s8_cfg *cfg, const int16_t *signal, int n_frames, int32_t *scratch,
                       int8_t *out) {
    const tk_logmel_cfg *fr = cfg->front;
    for (int i = 0; i < n_frames; i++) {
        const int16_t *x = signal + (long)i * fr->frame_stride;
        tk_mfcc_s8(cfg, x, i ? x[-1] : 0, scratch, out + (long)i * cfg->n_coefs);
    }
}
