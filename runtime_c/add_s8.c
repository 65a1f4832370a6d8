/* ADD and SUB int8 (TFLM reference_integer_ops::AddFunc, reference_ops SUB): the two inputs'
 * rescaled values, looked up in the compiler's tables or computed, summed, requantized to the
 * output. Rows of
 * the innermost dim are walked with each input's stride a constant (1, or 0 for an input
 * broadcast along it) and the output stage's mode a constant, so the loops specialize. */
#include "add_s8.h"
#include "ew_s8_mve.h"

#define TK_AINLINE static inline __attribute__((always_inline))
#define TK_NOINLINE static __attribute__((noinline))

/* twice input 1's (IN2_1) or input 2's (IN2_2) rescaled value: table or computed (input 1 the
 * one at the larger scale, exact in one multiply-add) */
#define IN2_1(v) (table ? t1[v] : (v) * s1 + b1)
#define IN2_2(v) (table ? t2[v] : tk_ew_in2((v), sc2, bi2, m2, e2))

TK_AINLINE void add_row(const tk_add8_params *p, const int8_t *a, const int8_t *b, int32_t sa,
                        int32_t sb, int8_t *o, int32_t n, int mode, int table) {
    const int32_t *t1 = table ? p->table1 + 128 : 0, *t2 = table ? p->table2 + 128 : 0;
    const int32_t s1 = p->in1_scale, b1 = p->in1_bias;
    const int32_t sc2 = p->in2.scale, bi2 = p->in2.bias, m2 = p->in2.multiplier, e2 = p->in2.e1;
    const int32_t m = p->out.multiplier, sh = p->out.shift, zo = p->out.output_offset;
    const int32_t k1 = 1 + 2 * zo, lo = p->out.act_min, hi = p->out.act_max;
    const int32_t ca = sa ? 0 : IN2_1(a[0]), cb = sb ? 0 : IN2_2(b[0]);  /* broadcast input */
    int32_t i = 0;
    for (; table && i + 2 <= n; i += 2) {        /* the tables: two at a time */
        const int32_t x0 = (sa ? IN2_1(a[i]) : ca) + (sb ? IN2_2(b[i]) : cb);
        const int32_t x1 = (sa ? IN2_1(a[i + 1]) : ca) + (sb ? IN2_2(b[i + 1]) : cb);
        TK_EW_STORE(o[i], x0, mode, m, sh, k1, zo, lo, hi);
        TK_EW_STORE(o[i + 1], x1, mode, m, sh, k1, zo, lo, hi);
    }
    for (; i < n; ++i) {          /* computed (one at a time: fewer registers), or the last */
        const int32_t x0 = (sa ? IN2_1(a[i]) : ca) + (sb ? IN2_2(b[i]) : cb);
        TK_EW_STORE(o[i], x0, mode, m, sh, k1, zo, lo, hi);
    }
}

TK_AINLINE void add_rows(const tk_add8_params *p, const int8_t *in1, const int8_t *in2,
                         int8_t *out, int32_t sa, int32_t sb, int mode, int table) {
    const int32_t n = p->bcast.dims[5], rows = p->rows;
    if (rows == 1) {                 /* no broadcast beyond the innermost dim: most ops */
        add_row(p, in1, in2, sa, sb, out, n, mode, table);
        return;
    }
    int32_t idx[5] = {0, 0, 0, 0, 0}, o1 = 0, o2 = 0;
    for (int32_t r = 0; r < rows; ++r) {
        add_row(p, in1 + o1, in2 + o2, sa, sb, out, n, mode, table);
        out += n;
        tk_bcast_step(p->bcast.dims, p->bcast.stride1, p->bcast.stride2, idx, &o1, &o2);
    }
}

/* One function per common variant (innermost strides, fast output stage, input stage), each
 * with its own registers (noinline: one function holding every variant spills); the general
 * output stage (mode 0) and both inputs broadcast along the innermost dim share one. */
TK_NOINLINE void add_general(const tk_add8_params *p, const int8_t *a,
                             const int8_t *b, int8_t *o) {
    const int32_t v = p->variant % 10;
    add_rows(p, a, b, o, v < 6, v < 3 || (v >= 6 && v < 9), 0, p->variant < 10);
}
TK_NOINLINE void add_v1(const tk_add8_params *p, const int8_t *a,
                        const int8_t *b, int8_t *o) {
    add_rows(p, a, b, o, 1, 1, 1, 1);
}
TK_NOINLINE void add_v2(const tk_add8_params *p, const int8_t *a,
                        const int8_t *b, int8_t *o) {
    add_rows(p, a, b, o, 1, 1, 2, 1);
}
TK_NOINLINE void add_v4(const tk_add8_params *p, const int8_t *a,
                        const int8_t *b, int8_t *o) {
    add_rows(p, a, b, o, 1, 0, 1, 1);
}
TK_NOINLINE void add_v5(const tk_add8_params *p, const int8_t *a,
                        const int8_t *b, int8_t *o) {
    add_rows(p, a, b, o, 1, 0, 2, 1);
}
TK_NOINLINE void add_v7(const tk_add8_params *p, const int8_t *a,
                        const int8_t *b, int8_t *o) {
    add_rows(p, a, b, o, 0, 1, 1, 1);
}
TK_NOINLINE void add_v8(const tk_add8_params *p, const int8_t *a,
                        const int8_t *b, int8_t *o) {
    add_rows(p, a, b, o, 0, 1, 2, 1);
}
TK_NOINLINE void add_v11(const tk_add8_params *p, const int8_t *a,
                         const int8_t *b, int8_t *o) {
    add_rows(p, a, b, o, 1, 1, 1, 0);
}
TK_NOINLINE void add_v12(const tk_add8_params *p, const int8_t *a,
                         const int8_t *b, int8_t *o) {
    add_rows(p, a, b, o, 1, 1, 2, 0);
}
TK_NOINLINE void add_v14(const tk_add8_params *p, const int8_t *a,
                         const int8_t *b, int8_t *o) {
    add_rows(p, a, b, o, 1, 0, 1, 0);
}
TK_NOINLINE void add_v15(const tk_add8_params *p, const int8_t *a,
                         const int8_t *b, int8_t *o) {
    add_rows(p, a, b, o, 1, 0, 2, 0);
}
TK_NOINLINE void add_v17(const tk_add8_params *p, const int8_t *a,
                         const int8_t *b, int8_t *o) {
    add_rows(p, a, b, o, 0, 1, 1, 0);
}
TK_NOINLINE void add_v18(const tk_add8_params *p, const int8_t *a,
                         const int8_t *b, int8_t *o) {
    add_rows(p, a, b, o, 0, 1, 2, 0);
}

void tk_add_s8(const tk_add8_params *p, const int8_t *input1, const int8_t *input2,
               int8_t *output) {
#if TK_MVE
    int32_t sa, sb;
    if (p->rows > 0 && tk_ew8_strides(p->variant, &sa, &sb)) {
        tk_add8_mve(p, input1, input2, output, sa, sb);
        return;
    }
#endif
    switch (p->variant) {
    case 1: add_v1(p, input1, input2, output); break;
    case 2: add_v2(p, input1, input2, output); break;
    case 4: add_v4(p, input1, input2, output); break;
    case 5: add_v5(p, input1, input2, output); break;
    case 7: add_v7(p, input1, input2, output); break;
    case 8: add_v8(p, input1, input2, output); break;
    case 11: add_v11(p, input1, input2, output); break;
    case 12: add_v12(p, input1, input2, output); break;
    case 14: add_v14(p, input1, input2, output); break;
    case 15: add_v15(p, input1, input2, output); break;
    case 17: add_v17(p, input1, input2, output); break;
    case 18: add_v18(p, input1, input2, output); break;
    default: add_general(p, input1, input2, output); break;
    }
}
