/* Data movement without arithmetic, any element size: TRANSPOSE, STRIDED_SLICE, SLICE and
 * BROADCAST_TO are one walk over up to 6 dims that writes the output in order and reads the input
 * at computed byte steps (negative to walk backwards, 0 to repeat: broadcast). The compiler merges
 * dims that walk contiguously, so a plain slice is a few long memcpy runs. */
#ifndef TK_SLICE_COPY_H
#define TK_SLICE_COPY_H
#include "tk_nn.h"

#define TK_SLICE_DIMS 6

typedef struct {
    int32_t count[TK_SLICE_DIMS];     /* elements per dim, outer first, each >= 1 */
    int32_t in_step[TK_SLICE_DIMS];   /* input bytes between consecutive indices of each dim */
    int32_t in_start;                 /* byte offset of the first element read */
    int32_t elem;                     /* bytes per element: 1, 2, 4 or 8 */
} tk_slice_copy_params;

/* The compiler checks that every offset the walk reads lies inside the input, and that
 * in_start + sum |in_step[d]| * count[d] fits int32 (no intermediate offset overflows). */
void tk_slice_copy(const tk_slice_copy_params *p, const void *input, void *output);
#endif
