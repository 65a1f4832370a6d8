/* BATCH_MATMUL int8 (TFLM reference_ops::BatchMatMul<int8_t, int32_t>): int32 sums, requantized
 * by TFLM's double rounding, plus the output zero point, clamped to int8. Four output columns per
 * pass share each lhs value; the rhs offset is applied once per output through the row's lhs sum:
 * sum (a + la)(b + rb) = sum (a + la) b + rb * sum (a + la). Bounds: |(a + la) b| <= 255 * 128 and
 * |rb * sum (a + la)| <= 128 * 255 * depth, each < 2^30 for depth <= 2^15; the exact total is at
 * most 255^2 * 2^15 < 2^31, so no partial sum overflows. On cores with the DSP extension, when
 * both operands have their depth contiguous (lhs without adj_x; rhs with adj_y, or constant),
 * matmul_simd computes the same bits with dual 16-bit multiply-accumulates (see there); a computed
 * rhs without adj_y is first copied into the scratch (depth x cols bytes) to get there. */
#include "batch_matmul_s8.h"
#include "tk_simd.h"

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

#if TK_NN_SIMD
/* sum (a + la)(b + rb) = sum a b + rb sum a + la sum b + depth la rb: the raw products by SMLAD on
 * four depth values at a time, the row sums of a alongside (SMLAD by ones), the column sums of b
 * once per group of four columns. Each term is below 2^30 in magnitude (|a b| <= 2^14, depth <=
 * 2^15, |la|, |rb| <= 128); they are added modulo 2^32, and the exact total fits int32, so the
 * result is that total. */
static void matmul_simd(const tk_batch_matmul_params *p, const int8_t *lhs, const int8_t *rhs,
                        int8_t *out) {
    const int32_t depth = p->depth, depth4 = p->depth & ~3, rcs = p->rhs_col_stride;
    const int32_t la = p->lhs_offset, rb = p->rhs_offset;
    const int32_t both = depth * la * rb;
    const uint32_t ones = 0x00010001u;
    int32_t n = 0;
    for (; n + 4 <= p->cols; n += 4) {
        const int8_t *b0 = rhs + n * rcs, *b1 = b0 + rcs, *b2 = b1 + rcs, *b3 = b2 + rcs;
        int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (int32_t k = 0; k < depth; ++k) {
            s0 += b0[k];
            s1 += b1[k];
            s2 += b2[k];
            s3 += b3[k];
        }
        const int32_t c0 = tk_add_wrap_s32(la * s0, both), c1 = tk_add_wrap_s32(la * s1, both);
        const int32_t c2 = tk_add_wrap_s32(la * s2, both), c3 = tk_add_wrap_s32(la * s3, both);
        for (int32_t m = 0; m < p->rows; ++m) {
            const int8_t *a = lhs + m * p->lhs_row_stride;
            int32_t acc0 = 0, acc1 = 0, acc2 = 0, acc3 = 0, asum = 0;
            int32_t k = 0;
            for (; k < depth4; k += 4) {
                const uint32_t wa = tk_ld4(a + k);
                const uint32_t a02 = tk_sxtb16(wa), a13 = tk_sxtb16_ror8(wa);
                asum = tk_smlad(a13, ones, tk_smlad(a02, ones, asum));
                uint32_t w = tk_ld4(b0 + k);
                acc0 = tk_smlad(a13, tk_sxtb16_ror8(w), tk_smlad(a02, tk_sxtb16(w), acc0));
                w = tk_ld4(b1 + k);
                acc1 = tk_smlad(a13, tk_sxtb16_ror8(w), tk_smlad(a02, tk_sxtb16(w), acc1));
                w = tk_ld4(b2 + k);
                acc2 = tk_smlad(a13, tk_sxtb16_ror8(w), tk_smlad(a02, tk_sxtb16(w), acc2));
                w = tk_ld4(b3 + k);
                acc3 = tk_smlad(a13, tk_sxtb16_ror8(w), tk_smlad(a02, tk_sxtb16(w), acc3));
            }
            for (; k < depth; ++k) {
                const int32_t av = a[k];
                asum += av;
                acc0 += av * b0[k];
                acc1 += av * b1[k];
                acc2 += av * b2[k];
                acc3 += av * b3[k];
            }
            const int32_t r = rb * asum;
            int8_t *o = out + m * p->cols + n;
            o[0] = out_s8(p, tk_add_wrap_s32(tk_add_wrap_s32(acc0, c0), r));
            o[1] = out_s8(p, tk_add_wrap_s32(tk_add_wrap_s32(acc1, c1), r));
            o[2] = out_s8(p, tk_add_wrap_s32(tk_add_wrap_s32(acc2, c2), r));
            o[3] = out_s8(p, tk_add_wrap_s32(tk_add_wrap_s32(acc3, c3), r));
        }
    }
    for (; n < p->cols; ++n) {          /* the last cols % 4 columns */
        const int8_t *b = rhs + n * rcs;
        for (int32_t m = 0; m < p->rows; ++m) {
            const int8_t *a = lhs + m * p->lhs_row_stride;
            int32_t acc = 0;
            for (int32_t k = 0; k < depth; ++k) {
                acc += (a[k] + la) * (b[k] + rb);
            }
            out[m * p->cols + n] = out_s8(p, acc);
        }
    }
}
#endif

/* One rhs matrix stored [depth][cols] copied [cols][depth], so that the DSP path reads it in
 * depth order too (TFLM also transposes such an rhs before its loops). */
static const int8_t *transpose(const tk_batch_matmul_params *p, const int8_t *rhs, int8_t *to) {
    for (int32_t n = 0; n < p->cols; ++n) {
        for (int32_t k = 0; k < p->depth; ++k) {
            to[n * p->depth + k] = rhs[k * p->rhs_depth_stride + n];
        }
    }
    return to;
}

void tk_batch_matmul_s8(const tk_batch_matmul_params *p, const int8_t *lhs, const int8_t *rhs,
                        int8_t *output, int8_t *scratch) {
    const int32_t plane = p->rows * p->cols;
    const tk_batch_matmul_params *q = p;
    void (*run)(const tk_batch_matmul_params *, const int8_t *, const int8_t *, int8_t *) = matmul;
    int copy = 0;
#if TK_NN_SIMD
    tk_batch_matmul_params t = *p;
    if (p->lhs_depth_stride == 1 && p->rhs_depth_stride == 1) {
        run = matmul_simd;
    } else if (p->lhs_depth_stride == 1 && p->rhs_col_stride == 1 && scratch != 0) {
        t.rhs_col_stride = p->depth;
        t.rhs_depth_stride = 1;
        q = &t;
        run = matmul_simd;
        copy = 1;
    }
#endif
    for (int32_t b0 = 0; b0 < p->batch_dims[0]; ++b0) {
        for (int32_t b1 = 0; b1 < p->batch_dims[1]; ++b1) {
            for (int32_t b2 = 0; b2 < p->batch_dims[2]; ++b2) {
                const int8_t *r = rhs + b0 * p->rhs_batch_stride[0]
                                + b1 * p->rhs_batch_stride[1] + b2 * p->rhs_batch_stride[2];
                run(q, lhs + b0 * p->lhs_batch_stride[0] + b1 * p->lhs_batch_stride[1]
                           + b2 * p->lhs_batch_stride[2],
                    copy ? transpose(p, r, scratch) : r, output);
                output += plane;
            }
        }
    }
}
