/* Parameters shared by the int8 pooling kernels (AVERAGE_POOL_2D, MAX_POOL_2D), NHWC layout.
 * The compiler has checked that every window overlaps the input (no empty window). */
#ifndef TK_POOL_S8_H
#define TK_POOL_S8_H
#include "tk_nn.h"

typedef struct {
    int32_t batches, depth;
    int32_t in_h, in_w, out_h, out_w;
    int32_t stride_h, stride_w;
    int32_t filter_h, filter_w;
    int32_t pad_h, pad_w;            /* top / left padding (TFLM ComputePaddingHeightWidth) */
    int32_t act_min, act_max;        /* fused activation clamp, within [-128, 127] */
} tk_pool_params;

/* The part [*start, *end) of the input axis of length `in` that the window of output index `o`
 * covers (TFLM clips the window to the input; padding is never read). */
static inline void tk_pool_span(int32_t o, int32_t stride, int32_t pad, int32_t filter, int32_t in,
                                int32_t *start, int32_t *end) {
    const int32_t first = o * stride - pad;
    *start = TK_MAX(first, 0);
    *end = TK_MIN(first + filter, in);
}

#endif
