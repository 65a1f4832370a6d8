/* BATCH_MATMUL int16 (TFLM reference_ops::BatchMatMul<int16_t, int64_t>): int64 sums of products
 * (each |a b| <= 2^30, depth <= 2^16: |sum| < 2^47), requantized as TFLM's
 * MultiplyByQuantizedMultiplier(int64_t, ...) does: sum * m16, rounded, shifted right by
 * p->shift, cast to int32 (wrapping, as TFLM's static_cast does), clamped to int16. Four output
 * columns per pass share each lhs value. */
#include "batch_matmul_s16.h"

static inline int16_t out_s16(const tk_batch_matmul_params *p, int64_t acc) {
    /* |acc * m16| < 2^62; gcc shifts a negative int64 arithmetically, as TFLM relies on */
    const int64_t r = (acc * p->multiplier + ((int64_t)1 << (p->shift - 1))) >> p->shift;
    const int32_t v = (int32_t)(uint32_t)(uint64_t)r;
    return (int16_t)tk_clamp(v, -32768, 32767);
}

static void matmul(const tk_batch_matmul_params *p, const int16_t *lhs, const int16_t *rhs,
                   int16_t *out) {
    const int32_t depth = p->depth, lks = p->lhs_depth_stride;
    const int32_t rks = p->rhs_depth_stride, rcs = p->rhs_col_stride;
    for (int32_t m = 0; m < p->rows; ++m) {
        const int16_t *a = lhs + m * p->lhs_row_stride;
        int32_t n = 0;
        for (; n + 4 <= p->cols; n += 4) {
            const int16_t *b = rhs + n * rcs;
            int64_t acc0 = 0, acc1 = 0, acc2 = 0, acc3 = 0;
            for (int32_t k = 0; k < depth; ++k) {
                const int32_t av = a[k * lks];
                const int16_t *bk = b + k * rks;
                acc0 += av * bk[0];
                acc1 += av * bk[rcs];
                acc2 += av * bk[2 * rcs];
                acc3 += av * bk[3 * rcs];
            }
            out[n] = out_s16(p, acc0);
            out[n + 1] = out_s16(p, acc1);
            out[n + 2] = out_s16(p, acc2);
            out[n + 3] = out_s16(p, acc3);
        }
        for (; n < p->cols; ++n) {
            const int16_t *b = rhs + n * rcs;
            int64_t acc = 0;
            for (int32_t k = 0; k < depth; ++k) {
                acc += (int32_t)a[k * lks] * b[k * rks];
            }
            out[n] = out_s16(p, acc);
        }
        out += p->cols;
    }
}

void tk_batch_matmul_s16(const tk_batch_matmul_params *p, const int16_t *lhs,
                         const int16_t *rhs, int16_t *output) {
    const int32_t plane = p->rows * p->cols;
    for (int32_t b0 = 0; b0 < p->batch_dims[0]; ++b0) {
        for (int32_t b1 = 0; b1 < p->batch_dims[1]; ++b1) {
            for (int32_t b2 = 0; b2 < p->batch_dims[2]; ++b2) {
                matmul(p, lhs + b0 * p->lhs_batch_stride[0] + b1 * p->lhs_batch_stride[1]
                              + b2 * p->lhs_batch_stride[2],
                       rhs + b0 * p->rhs_batch_stride[0] + b1 * p->rhs_batch_stride[1]
                           + b2 * p->rhs_batch_stride[2], output);
                output += plane;
            }
        }
    }
}
