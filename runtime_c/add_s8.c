/* ADD and SUB int8 (TFLM reference_integer_ops::AddFunc, reference_ops SUB): the two inputs'
 * rescaled values looked up in the compiler's tables, summed, requantized to the output. Rows of
 * the innermost dim are walked with each input's stride a constant (1, or 0 for an input
 * broadcast along it) and the output stage's mode a constant, so the loops specialize. */
#include "add_s8.h"

#define TK_AINLINE static inline __attribute__((always_inline))
#define TK_NOINLINE static __attribute__((noinline))

TK_AINLINE void add_row(const tk_add8_params *p, const int8_t *a, const int8_t *b, int32_t sa,
                        int32_t sb, int8_t *o, int32_t n, int mode) {
    const int32_t *t1 = p->table1 + 128, *t2 = p->table2 + 128;
    const int32_t m = p->out.multiplier, sh = p->out.shift, zo = p->out.output_offset;
    const int32_t k1 = 1 + 2 * zo, lo = p->out.act_min, hi = p->out.act_max;
    const int32_t ca = t1[a[0]], cb = t2[b[0]];   /* a broadcast input's one value */
    int32_t i = 0;
    for (; i + 2 <= n; i += 2) {
        const int32_t x0 = (sa ? t1[a[i]] : ca) + (sb ? t2[b[i]] : cb);
        const int32_t x1 = (sa ? t1[a[i + 1]] : ca) + (sb ? t2[b[i + 1]] : cb);
        TK_EW_STORE(o[i], x0, mode, m, sh, k1, zo, lo, hi);
        TK_EW_STORE(o[i + 1], x1, mode, m, sh, k1, zo, lo, hi);
    }
    if (i < n) {
        const int32_t x0 = (sa ? t1[a[i]] : ca) + (sb ? t2[b[i]] : cb);
        TK_EW_STORE(o[i], x0, mode, m, sh, k1, zo, lo, hi);
    }
}

TK_AINLINE void add_rows(const tk_add8_params *p, const int8_t *in1, const int8_t *in2,
                         int8_t *out, int32_t sa, int32_t sb, int mode) {
    const int32_t n = p->bcast.dims[5], rows = p->rows;
    if (rows == 1) {                 /* no broadcast beyond the innermost dim */
        add_row(p, in1, in2, sa, sb, out, n, mode);
        return;
    }
    int32_t idx[5] = {0, 0, 0, 0, 0}, o1 = 0, o2 = 0;
    for (int32_t r = 0; r < rows; ++r) {
        add_row(p, in1 + o1, in2 + o2, sa, sb, out, n, mode);
        out += n;
        tk_bcast_step(p->bcast.dims, p->bcast.stride1, p->bcast.stride2, idx, &o1, &o2);
    }
}

/* one function per variant (innermost strides, output stage), each with its own registers
 * (noinline: one function holding every variant spills) */
TK_NOINLINE void add_v0(const tk_add8_params *p, const int8_t *a,
                        const int8_t *b, int8_t *o) {
    add_rows(p, a, b, o, 1, 1, 0);
}
TK_NOINLINE void add_v1(const tk_add8_params *p, const int8_t *a,
                        const int8_t *b, int8_t *o) {
    add_rows(p, a, b, o, 1, 1, 1);
}
TK_NOINLINE void add_v2(const tk_add8_params *p, const int8_t *a,
                        const int8_t *b, int8_t *o) {
    add_rows(p, a, b, o, 1, 1, 2);
}
TK_NOINLINE void add_v3(const tk_add8_params *p, const int8_t *a,
                        const int8_t *b, int8_t *o) {
    add_rows(p, a, b, o, 1, 0, 0);
}
TK_NOINLINE void add_v4(const tk_add8_params *p, const int8_t *a,
                        const int8_t *b, int8_t *o) {
    add_rows(p, a, b, o, 1, 0, 1);
}
TK_NOINLINE void add_v5(const tk_add8_params *p, const int8_t *a,
                        const int8_t *b, int8_t *o) {
    add_rows(p, a, b, o, 1, 0, 2);
}
TK_NOINLINE void add_v6(const tk_add8_params *p, const int8_t *a,
                        const int8_t *b, int8_t *o) {
    add_rows(p, a, b, o, 0, 1, 0);
}
TK_NOINLINE void add_v7(const tk_add8_params *p, const int8_t *a,
                        const int8_t *b, int8_t *o) {
    add_rows(p, a, b, o, 0, 1, 1);
}
TK_NOINLINE void add_v8(const tk_add8_params *p, const int8_t *a,
                        const int8_t *b, int8_t *o) {
    add_rows(p, a, b, o, 0, 1, 2);
}
TK_NOINLINE void add_v9(const tk_add8_params *p, const int8_t *a,
                        const int8_t *b, int8_t *o) {
    add_rows(p, a, b, o, 0, 0, 0);
}

void tk_add_s8(const tk_add8_params *p, const int8_t *input1, const int8_t *input2,
               int8_t *output) {
    switch (p->variant) {
    case 0: add_v0(p, input1, input2, output); break;
    case 1: add_v1(p, input1, input2, output); break;
    case 2: add_v2(p, input1, input2, output); break;
    case 3: add_v3(p, input1, input2, output); break;
    case 4: add_v4(p, input1, input2, output); break;
    case 5: add_v5(p, input1, input2, output); break;
    case 6: add_v6(p, input1, input2, output); break;
    case 7: add_v7(p, input1, input2, output); break;
    case 8: add_v8(p, input1, input2, output); break;
    default: add_v9(p, input1, input2, output); break;
    }
}
