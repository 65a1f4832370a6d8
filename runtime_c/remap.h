/* Data movement as a table walk (SPACE_TO_DEPTH, DEPTH_TO_SPACE, BATCH_TO_SPACE_ND, MIRROR_PAD,
 * RESIZE_NEAREST_NEIGHBOR): the output, seen as [dims[0]][dims[1]][dims[2]][dims[3]] runs of
 * `inner` bytes, takes run (i0, i1, i2, i3) from the input bytes at
 * offset[0][i0] + offset[1][i1] + offset[2][i2] + offset[3][i3]. The compiler builds the
 * tables (each op's index arithmetic, done once) and checks that every sum plus `inner` stays
 * within the input; the kernel only copies, so it serves any element type. */
#ifndef TK_REMAP_H
#define TK_REMAP_H
#include "tk_nn.h"

#define TK_REMAP_DIMS 4

typedef struct {
    int32_t dims[TK_REMAP_DIMS];                /* output runs per dim, outermost first */
    const int32_t *offset[TK_REMAP_DIMS];       /* byte offset into the input, per index */
    int32_t inner;                              /* bytes of one run, contiguous in both */
} tk_remap_params;

void tk_remap(const tk_remap_params *p, const int8_t *input, int8_t *output);
#endif
