/* BATCH_MATMUL, int8 and int16: out[b][m][n] = sum_k (lhs[b][m][k] + lhs_offset) *
 * (rhs[b][k][n] + rhs_offset), requantized. The compiler resolves adj_x / adj_y and broadcasting
 * into strides (elements): lhs[b][m][k] is at lhs + batch offset + m * lhs_row_stride +
 * k * lhs_depth_stride, rhs[b][k][n] at rhs + batch offset + n * rhs_col_stride +
 * k * rhs_depth_stride; the output is contiguous [batch..., rows, cols]. */
#ifndef TK_BATCH_MATMUL_S8_H
#define TK_BATCH_MATMUL_S8_H
#include "tk_nn.h"

typedef struct {
    int32_t batch_dims[3];                  /* the output's batch dims, outermost first */
    int32_t lhs_batch_stride[3];            /* 0 along a dim the operand broadcasts */
    int32_t rhs_batch_stride[3];
    int32_t rows, cols, depth;              /* depth <= 2^15 (int8), 2^16 (int16) */
    int32_t lhs_row_stride, lhs_depth_stride;
    int32_t rhs_col_stride, rhs_depth_stride;
    int32_t lhs_offset, rhs_offset;         /* -zero point: [-127, 128] (int16: 0) */
    int32_t output_offset;                  /* output zero point (int16: 0) */
    int32_t multiplier, shift;              /* int8: TFLM's double rounding (shift in
                                             * [-31, 30]); int16: a 16-bit multiplier and a
                                             * right shift in [8, 46] (single rounding) */
} tk_batch_matmul_params;

/* scratch: depth * cols bytes for a computed rhs stored [depth][cols] (rhs_col_stride 1), or 0 */
void tk_batch_matmul_s8(const tk_batch_matmul_params *p, const int8_t *lhs, const int8_t *rhs,
                        int8_t *output, int8_t *scratch);
#endif
