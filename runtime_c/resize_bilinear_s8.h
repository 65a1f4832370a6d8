/* RESIZE_BILINEAR, int8 (TFLM reference_ops::ResizeBilinearInteger): source rows/columns and
 * their weights in 1/1024 steps come from the compiler, one (lo, hi, frac) triple per output
 * row (y) and column (x); output = round(sum of the four neighbours times their weights
 * / 2^20), rounded half away from zero. */
#ifndef TK_RESIZE_BILINEAR_S8_H
#define TK_RESIZE_BILINEAR_S8_H
#include "tk_nn.h"

typedef struct {
    int32_t batches, in_h, in_w, depth, out_h, out_w;
    const int32_t *y;       /* out_h triples: y0, y1 in [0, in_h), frac_y in [-512, 1024) */
    const int32_t *x;       /* out_w triples: x0, x1 in [0, in_w), frac_x in [-512, 1024) */
} tk_resize_bilinear_params;

void tk_resize_bilinear_s8(const tk_resize_bilinear_params *p, const int8_t *input,
                           int8_t *output);
#endif
