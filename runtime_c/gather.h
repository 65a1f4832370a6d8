/* GATHER, any element size (TFLM Gather): output block (b, o, c) = input block
 * (b, o, indices[b][c]) of inner_bytes, for batch b, outer index o and coordinate c. */
#ifndef TK_GATHER_H
#define TK_GATHER_H
#include "tk_nn.h"

typedef struct {
    int32_t batch;              /* product of the first batch_dims dims */
    int32_t outer;              /* product of the input's dims from batch_dims to the axis */
    int32_t coords;             /* indices per batch */
    int32_t axis_size;          /* the input's dim at the axis */
    int32_t inner_bytes;        /* bytes of one gathered block (the dims after the axis) */
    int32_t index_bytes;        /* 4: int32 indices, 8: int64 */
} tk_gather_params;

/* An index outside [0, axis_size) is clamped into it (TFLM fails the invoke or reads outside the
 * input: tinykiln never reads outside its buffers). */
void tk_gather(const tk_gather_params *p, const void *input, const void *indices, void *output);
#endif
