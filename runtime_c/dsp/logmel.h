/* Log filterbank energies of one int16 frame: pre-emphasis, window, block-floating-point Q31 real
 * FFT, power or magnitude spectrum, a sparse filterbank, log2. Shared by the MFE, MFCC and
 * spectrogram blocks; all constants come from tinykiln.dsp.frontend.build. The Q31 FFT (about
 * 150 dB SNR) keeps bands 100 dB below the loudest one accurate to a few thousandths of a dB,
 * which the int8 features need to match a float reference. */
#ifndef TK_LOGMEL_H
#define TK_LOGMEL_H

#include "tk_dsp.h"
#include "rfft_q31.h"

typedef struct {
    const tk_rfft_q31_cfg *fft;
    uint16_t frame_length;       /* <= fft->n, zero-padded */
    uint16_t frame_stride;       /* for the *_frames entry points */
    int16_t preemph;             /* Q15 alpha: y = (x 2^15 - alpha x_prev) / 2 (Q31 at quarter scale); 0: off, y = x 2^15 */
    uint16_t magnitude;          /* 0: P = re^2 + im^2 (uint64); 1: tk_mag_q31 = tk_mag_from_power(P) (uint32) */
    const int32_t *window;       /* frame_length Q31 values, NULL: rectangular */
    uint16_t n_filters;
    uint16_t floor_is_add;       /* 1: log(E + floor_add[s]); 0: max(log E, floor_q16) */
    int32_t log_shift_mult;      /* 2 for power, 1 for magnitude */
    int32_t floor_q16;           /* max mode: lower bound of v */
    int32_t max_shift;           /* block-floating-point shift limit (keeps floor_add below 2^88) */
    const uint16_t *fb_start;    /* first bin of each filter */
    const uint16_t *fb_count;    /* bins per filter */
    const uint16_t *fb_offset;   /* index of the filter's first weight */
    const uint16_t *fb_weights;  /* unsigned, 2^wbits = 1.0 */
    const uint64_t *floor_add;   /* add mode: [32][2] = (hi, lo) of the float eps in integer units per shift */
    const uint32_t *log2_table;  /* 129 entries, tables.log2_table */
} tk_logmel_cfg;

/* int32 words of scratch (8-byte aligned) for the blocks built on tk_logmel */
#define TK_LOGMEL_SCRATCH_WORDS(n, n_filters) (2 * (n) + 2 + (n_filters))

/* frame: frame_length samples; prev: the sample before it (pre-emphasis history; 0 at the start).
 * v (n_filters): log2(E_int) - log_shift_mult * s in Q16, so the float log2 energy of the filter is
 * (v + base_q16) / 2^16 with base_q16 from the Python build (|v + base_q16| < 2^23).
 * scratch: 2n + 2 int32 words, 8-byte aligned; v must not overlap it. */
void tk_logmel(const tk_logmel_cfg *cfg, const int16_t *frame, int16_t prev, int32_t *scratch, int32_t *v);

#endif /* TK_LOGMEL_H */
