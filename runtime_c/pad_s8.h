/* PAD / PADV2, int8 and int16: constant padding, up to 4 dims after the compiler merged unpadded
 * inner dims into their outer neighbour (dims[3] is the innermost). Dims count elements. */
#ifndef TK_PAD_S8_H
#define TK_PAD_S8_H
#include "tk_nn.h"

typedef struct {
    int32_t in_dims[4];
    int32_t out_dims[4];
    int32_t before[4];      /* padding before each dim; after = out - in - before, all >= 0 */
    int32_t pad_value;      /* int8: output zero point (PAD) or the constant value (PADV2);
                               int16: 0 (PAD, as TFLM) or the constant value (PADV2) */
} tk_pad_params;

void tk_pad_s8(const tk_pad_params *p, const int8_t *input, int8_t *output);
void tk_pad_s16(const tk_pad_params *p, const int16_t *input, int16_t *output);     /* pad_s16.c */
#endif
