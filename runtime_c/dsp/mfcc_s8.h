/* MFCC block: int16 audio frame -> DCT-II of the log mel energies, each coefficient quantised to
 * int8 with its own multiplier (which carries the DCT normalisation, the log unit, any lifter). */
#ifndef TK_MFCC_S8_H
#define TK_MFCC_S8_H

#include "logmel.h"

typedef struct {
    const tk_logmel_cfg *front;
    int32_t base_q16;            /* log2 offset of the energies (logmel.h) */
    uint16_t n_coefs;
    uint16_t reserved;
    const int16_t *dct;          /* n_coefs x n_filters, cos(pi k (2m+1) / 2M) in Q15 */
    const tk_dsp_quant *quant;   /* n_coefs */
} tk_mfcc_s8_cfg;

/* out: n_coefs int8. scratch: TK_LOGMEL_SCRATCH_WORDS(n, n_filters) int32 words, 8-byte aligned. */
void tk_mfcc_s8(const tk_mfcc_s8_cfg *cfg, const int16_t *frame, int16_t prev, int32_t *scratch, int8_t *out);

void tk_mfcc_s8_frames(const tk_mfcc_s8_cfg *cfg, const int16_t *signal, int n_frames, int32_t *scratch,
                       int8_t *out);

#endif /* TK_MFCC_S8_H */
