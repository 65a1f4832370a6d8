/* Spectral analysis of one axis of motion/vibration data (accelerometer-like int16 frames):
 * RMS after mean removal, log power in frequency bands, and the strongest spectral peaks,
 * quantised to int8. Constants from tinykiln.dsp.spectral.build. */
#ifndef TK_SPECTRAL_S8_H
#define TK_SPECTRAL_S8_H

#include "tk_dsp.h"
#include "rfft_q31.h"

typedef struct {
    const tk_rfft_q31_cfg *fft;
    uint16_t frame_length;        /* <= fft->n, zero-padded */
    uint16_t remove_mean;         /* 1: subtract the rounded frame mean first */
    const int32_t *window;        /* frame_length Q31 values, NULL: rectangular */
    uint16_t n_bands;
    uint16_t n_peaks;
    const uint16_t *band_lo;      /* band b covers bins [band_lo[b], band_hi[b]) */
    const uint16_t *band_hi;
    const uint32_t *log2_table;
    int32_t floor_q16;            /* lower bound of the log powers (v domain) */
    tk_dsp_quant q_rms;           /* on the RMS in LSB/64 units (after mean removal) */
    tk_dsp_quant q_band;          /* on v = log2(band power) - 2 s in Q16 */
    tk_dsp_quant q_freq;          /* on the peak's bin index */
    tk_dsp_quant q_peak;          /* on the peak's v */
} tk_spectral_s8_cfg;

#define TK_SPECTRAL_SCRATCH_WORDS(n) (2 * (n) + 2)

/* out: 1 + n_bands + 2 * n_peaks int8: rms, band powers, then (frequency, power) per peak,
 * strongest first (missing peaks: bin 0 at the floor). scratch: 8-byte aligned. */
void tk_spectral_s8(const tk_spectral_s8_cfg *cfg, const int16_t *frame, int32_t *scratch, int8_t *out);

#endif /* TK_SPECTRAL_S8_H */
