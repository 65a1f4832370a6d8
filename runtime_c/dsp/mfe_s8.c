/* MFE: int8 log filterbank energies (see mfe_s8.h). */
#include "mfe_s8.h"

void tk_mfe_s8(const tk_mfe_s8_cfg *cfg, const int16_t *frame, int16_t prev, int32_t *scratch, int8_t *out) {
    const tk_logmel_cfg *fr = cfg->front;
    int32_t *v = scratch + 2 * fr->fft->n + 2;
    tk_logmel(fr, frame, prev, scratch, v);
    tk_dsp_quantize_n(v, fr->n_filters, &cfg->quant, out);
}

void tk_mfe_s8_frames(const tk_mfe_s8_cfg *cfg, const int16_t *signal, int n_frames, int32_t *scratch,
                      int8_t *out) {
    const tk_logmel_cfg *fr = cfg->front;
    for (int i = 0; i < n_frames; i++) {
        const int16_t *x = signal + (long)i * fr->frame_stride;
        tk_mfe_s8(cfg, x, i ? x[-1] : 0, scratch, out + (long)i * fr->n_filters);
    }
}
