/* BATCH_MATMUL int8 (TFLM reference_ops::BatchMatMul<int8_t, int32_t>): int32 sums, requantized
 * by TFLM's double rounding, plus the output zero point, clamped to int8. Four output columns per
 * pass share each lhs value; the rhs offset is applied once per output through the row's lhs sum:
 * sum (a + la)(b + rb) = sum (a + la) b + rb * sum (a + la). Bounds: |(a + la) b| <= 255 * 128 and
 * |rb * sum (a + la)| <= 128 * 255 * depth, each < 2^30 for depth <= 2^15; the exact total is at
 * most 255^2 * 2^15 < 2^31, so no partial sum overflows. */
#include "batch_matmul_s8.h"

static inline int8_t out_s8(const tk_batch_matmul_params *p, int32_t acc) {
    const int32_t v = tk_requant(acc, p->multiplier, p->shift);
    return (int8_t)tk_clamp(tk_add_wrap_s32(v, p->output_offset), -128, 127);
}

static void matmul(const tk_batch_matmul_params *p, const int8_t *lhs, const int8_t *rhs,
                   int8_t *out) {
    const int32_t depth = p->depth, lks = p->lhs_depth_stride;
    const int32_t rks = p->rhs_depth_stride, rcs = p->rhs_col_stride;
    const int32_t la = p->lhs_offset, rb = p->rhs_offset;
    for (int32_t m = 0; m < p->rows; ++m) {
        const int8_t *a = lhs + m * p->lhs_row_stride;
        int32_t asum = 0;
        for (int32_t k = 0; k < depth; ++k) {
            asum += a[k * lks] + la;
        }
        const int32_t row_offset = rb * asum;
        int32_t n = 0;
        for (; n + 4 <= p->cols; n += 4) {
            const int8_t *b = rhs + n * rcs;
            int32_t acc0 = 0, acc1 = 0, acc2 = 0, acc3 = 0;
            for (int32_t k = 0; k < depth; ++k) {
                const int32_t av = a[k * lks] + la;
                const int8_t *bk = b + k * rks;
                acc0 += av * bk[0];
                acc1 += av * bk[rcs];
                acc2 += av * bk[2 * rcs];
                acc3 += av * bk[3 * rcs];
            }
            out[n] = out_s8(p, acc0 + row_offset);
            out[n + 1] = out_s8(p, acc1 + row_offset);
            out[n + 2] = out_s8(p, acc2 + row_offset);
            out[n + 3] = out_s8(p, acc3 + row_offset);
        }
        for (; n < p->cols; ++n) {
            const int8_t *b = rhs + n * rcs;
            int32_t acc = 0;
            for (int32_t k = 0; k < depth; ++k) {
                acc += (a[k * lks] + la) * b[k * rks];
            }
            out[n] = out_s8(p, acc + row_offset);
        }
        out += p->cols;
    }
}

void tk_batch_matmul_s8(const tk_batch_matmul_params *p, const int8_t *lhs, const int8_t *rhs,
                        int8_t *output) {
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
