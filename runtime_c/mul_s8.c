/* MUL int8 (TFLM reference_integer_ops::MulElementwise): the product of the zero-point-corrected
 * inputs requantized by s1 * s2 / s_out. Rows walked as add_s8.c walks them; the doubling the
 * output stage wants is folded into input 2's correction, 2 * b + 2 * offset. */
#include "mul_s8.h"
#include "ew_s8_mve.h"

#define TK_AINLINE static inline __attribute__((always_inline))
#define TK_NOINLINE static __attribute__((noinline))

TK_AINLINE void mul_row(const tk_mul8_params *p, const int8_t *a, const int8_t *b, int32_t sa,
                        int32_t sb, int8_t *o, int32_t n, int mode) {
    const int32_t off1 = p->input1_offset, off2 = 2 * p->input2_offset;
    const int32_t m = p->out.multiplier, sh = p->out.shift, zo = p->out.output_offset;
    const int32_t k1 = 1 + 2 * zo, lo = p->out.act_min, hi = p->out.act_max;
    const int32_t ca = a[0] + off1, cb = 2 * b[0] + off2;   /* a broadcast input's one value */
    int32_t i = 0;
    for (; i + 2 <= n; i += 2) {
        const int32_t x0 = (sa ? a[i] + off1 : ca) * (sb ? 2 * b[i] + off2 : cb);
        const int32_t x1 = (sa ? a[i + 1] + off1 : ca) * (sb ? 2 * b[i + 1] + off2 : cb);
        TK_EW_STORE(o[i], x0, mode, m, sh, k1, zo, lo, hi);
        TK_EW_STORE(o[i + 1], x1, mode, m, sh, k1, zo, lo, hi);
    }
    if (i < n) {
        const int32_t x0 = (sa ? a[i] + off1 : ca) * (sb ? 2 * b[i] + off2 : cb);
        TK_EW_STORE(o[i], x0, mode, m, sh, k1, zo, lo, hi);
    }
}

TK_AINLINE void mul_rows(const tk_mul8_params *p, const int8_t *in1, const int8_t *in2,
                         int8_t *out, int32_t sa, int32_t sb, int mode) {
    const int32_t n = p->bcast.dims[5], rows = p->rows;
    if (rows == 1) {                 /* no broadcast beyond the innermost dim: most ops */
        mul_row(p, in1, in2, sa, sb, out, n, mode);
        return;
    }
    int32_t idx[5] = {0, 0, 0, 0, 0}, o1 = 0, o2 = 0;
    for (int32_t r = 0; r < rows; ++r) {
        mul_row(p, in1 + o1, in2 + o2, sa, sb, out, n, mode);
        out += n;
        tk_bcast_step(p->bcast.dims, p->bcast.stride1, p->bcast.stride2, idx, &o1, &o2);
    }
}

/* One function per common variant (innermost strides, fast output stage), each
 * with its own registers (noinline: one function holding every variant spills); the general
 * output stage (mode 0) and both inputs broadcast along the innermost dim share one. */
TK_NOINLINE void mul_general(const tk_mul8_params *p, const int8_t *a,
                             const int8_t *b, int8_t *o) {
    const int32_t v = p->variant % 10;
    mul_rows(p, a, b, o, v < 6, v < 3 || (v >= 6 && v < 9), 0);
}
TK_NOINLINE void mul_v1(const tk_mul8_params *p, const int8_t *a,
                        const int8_t *b, int8_t *o) {
    mul_rows(p, a, b, o, 1, 1, 1);
}
TK_NOINLINE void mul_v2(const tk_mul8_params *p, const int8_t *a,
                        const int8_t *b, int8_t *o) {
    mul_rows(p, a, b, o, 1, 1, 2);
}
TK_NOINLINE void mul_v4(const tk_mul8_params *p, const int8_t *a,
                        const int8_t *b, int8_t *o) {
    mul_rows(p, a, b, o, 1, 0, 1);
}
TK_NOINLINE void mul_v5(const tk_mul8_params *p, const int8_t *a,
                        const int8_t *b, int8_t *o) {
    mul_rows(p, a, b, o, 1, 0, 2);
}
TK_NOINLINE void mul_v7(const tk_mul8_params *p, const int8_t *a,
                        const int8_t *b, int8_t *o) {
    mul_rows(p, a, b, o, 0, 1, 1);
}
TK_NOINLINE void mul_v8(const tk_mul8_params *p, const int8_t *a,
                        const int8_t *b, int8_t *o) {
    mul_rows(p, a, b, o, 0, 1, 2);
}

void tk_mul_s8(const tk_mul8_params *p, const int8_t *input1, const int8_t *input2,
               int8_t *output) {
#if TK_MVE
    int32_t sa, sb;
    if (p->rows > 0 && tk_ew8_strides(p->variant, &sa, &sb)) {
        tk_mul8_mve(p, input1, input2, output, sa, sb);
        return;
    }
#endif
    switch (p->variant) {
    case 1: mul_v1(p, input1, input2, output); break;
    case 2: mul_v2(p, input1, input2, output); break;
    case 4: mul_v4(p, input1, input2, output); break;
    case 5: mul_v5(p, input1, input2, output); break;
    case 7: mul_v7(p, input1, input2, output); break;
    case 8: mul_v8(p, input1, input2, output); break;
    default: mul_general(p, input1, input2, output); break;
    }
}
