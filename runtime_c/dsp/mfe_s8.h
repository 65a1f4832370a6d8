/* MFE block: int16 audio frame -> int8 log mel (or any filterbank) energies. The spectrogram block
 * is an MFE whose filterbank has one bin per filter (tinykiln.dsp.frontend preset "spectrogram"). */
#ifndef TK_MFE_S8_H
#define TK_MFE_S8_H

#include "logmel.h"

typedef struct {
    const tk_logmel_cfg *front;
    tk_dsp_quant quant;          /* applied to v; quant.offset includes base_q16 */
} tk_mfe_s8_cfg;

/* out: n_filters int8. scratch: TK_LOGMEL_SCRATCH_WORDS(n, n_filters) int32 words, 8-byte aligned. */
void tk_mfe_s8(const tk_mfe_s8_cfg *cfg, const int16_t *frame, int16_t prev, int32_t *scratch, int8_t *out);

/* n_frames frames of signal at frame_stride (the sample before frame i is its pre-emphasis
 * history, 0 for the first); out: n_frames * n_filters int8, frame-major. */
void tk_mfe_s8_frames(const tk_mfe_s8_cfg *cfg, const int16_t *signal, int n_frames, int32_t *scratch,
                      int8_t *out);

#endif /* TK_MFE_S8_H */
