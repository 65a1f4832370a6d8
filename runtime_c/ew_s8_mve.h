/* ADD / SUB and MUL int8 on Helium (MVE): tk_add8_mve and tk_mul8_mve run tk_add_s8's and
 * tk_mul_s8's work (same params and variants, add_s8.h, mul_s8.h, ew_s8.h) on the M55, four
 * elements per vector: the inputs widened by VLDRB.S32 (predicated for a row's last one to
 * three), each input's doubled rescaled value (ADD: the compiler's table read by a VLDRW gather
 * at x + 128, or computed: input 1 as x * scale + bias, input 2 as tk_ew_in2 does, VRMULH with
 * its rounding; MUL: the doubled product of the zero-point-corrected inputs), then the fast
 * output stage lane by lane (tk_ew_fast: VRMULH, minus one if negative, the right shift, k1,
 * halved, clamped) and a VSTRB.32. A broadcast input's one value is a duplicated vector. ADD on
 * tables with both inputs along the row runs its groups of four in assembly (tk_ewm_add_t_mve,
 * 14 instructions per four outputs). The general output stage (mode 0) keeps the C kernels. */
#ifndef TK_EW_S8_MVE_H
#define TK_EW_S8_MVE_H
#include "add_s8.h"
#include "mul_s8.h"
#include "tk_mve.h"

#if TK_MVE

typedef struct {
    tk_s32x4 m, lo, hi;
    int32_t neg_e1, k1;
    const tk_ew_out *o;
} tk_ewm_out;

static inline tk_ewm_out tk_ewm_out_make(const tk_ew_out *o) {
    tk_ewm_out q;
    q.m = tk_vdupq_n_s32(o->multiplier);
    q.lo = tk_vdupq_n_s32(o->act_min);
    q.hi = tk_vdupq_n_s32(o->act_max);
    q.neg_e1 = -o->shift;
    q.k1 = 1 + 2 * o->output_offset;
    q.o = o;
    return q;
}

#if !defined(TK_MVE_EMULATE)
/* ADD on tables, both inputs along the row, in assembly (r0 a, r1 b, r2 out, r3 groups of four
 * >= 1, [sp] k): per four outputs two VLDRB.S32 and two VLDRW gathers at the tables' entry 128
 * (the signed inputs as offsets: the 32-bit address wraps to the entry below), then tk_ew_fast's
 * stage as VRMULH, minus one if negative, ((h >> e1) + k1) >> 1 as a rounding right shift by
 * e1 + 1 plus the zero point, the clamp, and a VSTRB.32: 14 instructions per four outputs (a
 * local symbol: add_s8.c and mul_s8.c both include this header) */
typedef struct {
    const int32_t *t1, *t2;         /* at entry 128 (input value 0) */
    int32_t m, sh, zp, lo, hi;      /* sh: -(e1 + 1) */
} tk_ewm_tblk;
void tk_ewm_add_t_mve(const int8_t *a, const int8_t *b, int8_t *o, int32_t groups,
                      const tk_ewm_tblk *k);
__asm__(
    ".pushsection .text.tk_ewm_add_t_mve, \"ax\", %progbits\n\t"
    ".syntax unified\n\t"
    ".thumb\n\t"
    ".p2align 2\n\t"
    ".type tk_ewm_add_t_mve, %function\n\t"
    ".thumb_func\n"
    "tk_ewm_add_t_mve:\n\t"
    "push {r4-r7, lr}\n\t"
    "vpush {d8-d15}\n\t"
    "ldr r12, [sp, #84]\n\t"
    "ldrd r4, r5, [r12]\n\t"
    "ldrd r6, r7, [r12, #8]\n\t"
    "vdup.32 q4, r6\n\t"
    "vdup.32 q5, r7\n\t"
    "ldr r6, [r12, #16]\n\t"
    "ldrd r7, r12, [r12, #20]\n\t"
    "vdup.32 q6, r7\n\t"
    "vdup.32 q7, r12\n\t"
    "dls lr, r3\n"
    "1:\n\t"
    "vldrb.s32 q0, [r0], #4\n\t"
    "vldrb.s32 q1, [r1], #4\n\t"
    "vldrw.u32 q2, [r4, q0, uxtw #2]\n\t"
    "vldrw.u32 q3, [r5, q1, uxtw #2]\n\t"
    "vadd.i32 q2, q2, q3\n\t"
    "vrmulh.s32 q2, q2, q4\n\t"
    "vshr.s32 q3, q2, #31\n\t"
    "vadd.i32 q2, q2, q3\n\t"
    "vrshl.s32 q2, q2, q5\n\t"
    "vadd.i32 q2, q2, r6\n\t"
    "vmax.s32 q2, q2, q6\n\t"
    "vmin.s32 q2, q2, q7\n\t"
    "vstrb.32 q2, [r2], #4\n\t"
    "le lr, 1b\n\t"
    "vpop {d8-d15}\n\t"
    "pop {r4-r7, pc}\n\t"
    ".size tk_ewm_add_t_mve, . - tk_ewm_add_t_mve\n\t"
    ".popsection\n");
#endif

/* the first n (1..4) values at p as int32 lanes, nothing past them read */
TK_MVE_INLINE tk_s32x4 tk_ewm_load(const int8_t *p, int32_t n, const int full) {
    return full ? tk_vldrbq_s32(p) : tk_vldrbq_z_s32(p, tk_vctp32q((uint32_t)n));
}

/* ADD's input stages, copied out of the params (the byte stores could alias them) */
typedef struct {
    const int32_t *t1, *t2;
    tk_s32x4 m2, even;
    int32_t s1, b1, sc2, bi2, neg_e2;
} tk_ewm_in;

/* ADD: twice input 1's (k 0) or input 2's (k 1) rescaled values of the lanes v */
TK_MVE_INLINE tk_s32x4 tk_ewm_in2(const tk_ewm_in *c, tk_s32x4 v, const int k,
                                  const int table) {
    if (table) {
        return tk_vldrwq_gather_shifted_offset_s32(k ? c->t2 : c->t1, tk_vaddq_n_s32(v, 128));
    }
    if (!k) return tk_vaddq_n_s32(tk_vmulq_n_s32(v, c->s1), c->b1);
    tk_s32x4 h = tk_vaddq_n_s32(tk_vmulq_n_s32(v, c->sc2), c->bi2);
    h = tk_vrmulhq_s32(h, c->m2);
    h = tk_vaddq_s32(h, tk_vshrq_n_s32(h, 31));
    return tk_vandq_s32(tk_vaddq_n_s32(tk_vshlq_r_s32(h, c->neg_e2), 1), c->even);
}

/* one group of four (the first n: `full` 0) outputs of a row: the kind's (0 ADD tables, 1 ADD
 * computed, 2 MUL) sum or product of the inputs at a and b (or the broadcast ca, cb) */
TK_MVE_INLINE void tk_ewm_group(const tk_ewm_in *c, const tk_ewm_out *q, int32_t off1,
                                int32_t off2, const int8_t *a, const int8_t *b, tk_s32x4 ca,
                                tk_s32x4 cb, int32_t sa, int32_t sb, int8_t *o, int32_t n,
                                const int kind, const int full) {
    tk_s32x4 x1 = ca, x2 = cb, x;
    if (kind == 2) {
        if (sa) x1 = tk_vaddq_n_s32(tk_ewm_load(a, n, full), off1);
        if (sb) {
            const tk_s32x4 v = tk_ewm_load(b, n, full);
            x2 = tk_vaddq_n_s32(tk_vaddq_s32(v, v), off2);
        }
        x = tk_vmulq_s32(x1, x2);
    } else {
        if (sa) x1 = tk_ewm_in2(c, tk_ewm_load(a, n, full), 0, kind == 0);
        if (sb) x2 = tk_ewm_in2(c, tk_ewm_load(b, n, full), 1, kind == 0);
        x = tk_vaddq_s32(x1, x2);
    }
    tk_s32x4 h = tk_vrmulhq_s32(x, q->m);
    h = tk_vaddq_s32(h, tk_vshrq_n_s32(h, 31));
    h = tk_vshrq_n_s32(tk_vaddq_n_s32(tk_vshlq_r_s32(h, q->neg_e1), q->k1), 1);
    h = tk_vminq_s32(tk_vmaxq_s32(h, q->lo), q->hi);
    if (full) {
        tk_vstrbq_s32(o, h);
    } else {
        tk_vstrbq_p_s32(o, h, tk_vctp32q((uint32_t)n));
    }
}

/* one row of n outputs; sa, sb: the inputs' strides along it (0: broadcast) */
TK_MVE_INLINE void tk_ewm_row(const tk_ewm_in *cp, const tk_ewm_out *qp, int32_t off1,
                              int32_t off2, const int8_t *a, const int8_t *b, int32_t sa,
                              int32_t sb, int8_t *o, int32_t n, const int kind) {
    const tk_ewm_in c = *cp;
    const tk_ewm_out q = *qp;
    tk_s32x4 ca = tk_vdupq_n_s32(a[0]), cb = tk_vdupq_n_s32(b[0]);
    if (kind == 2) {
        ca = tk_vaddq_n_s32(ca, off1);
        cb = tk_vaddq_n_s32(tk_vaddq_s32(cb, cb), off2);
    } else {
        ca = tk_ewm_in2(&c, ca, 0, kind == 0);
        cb = tk_ewm_in2(&c, cb, 1, kind == 0);
    }
    int32_t i = 0;
#if !defined(TK_MVE_EMULATE)
    if (kind == 0 && sa && sb && n >= 4 && q.neg_e1 <= 0) {
        tk_ewm_tblk k;
        k.t1 = c.t1 + 128, k.t2 = c.t2 + 128, k.m = q.o->multiplier, k.sh = q.neg_e1 - 1;
        k.zp = q.o->output_offset, k.lo = q.o->act_min, k.hi = q.o->act_max;
        tk_ewm_add_t_mve(a, b, o, n >> 2, &k);
        i = n & ~3;
    }
#endif
    for (; i + 4 <= n; i += 4) {
        tk_ewm_group(&c, &q, off1, off2, a + i, b + i, ca, cb, sa, sb, o + i, 4, kind, 1);
    }
    if (i < n) {
        tk_ewm_group(&c, &q, off1, off2, a + i, b + i, ca, cb, sa, sb, o + i, n - i, kind, 0);
    }
}

/* the rows of an op (tk_bcast_step's walk), `kind` (0 ADD tables, 1 ADD computed, 2 MUL):
 * both inputs along the rows (the common case, strides constant) or one broadcast */
TK_MVE_INLINE void tk_ewm_rows(const tk_ewm_in *c, const tk_ewm_out *q, int32_t off1,
                               int32_t off2, const tk_bcast *bc, int32_t rows,
                               const int8_t *in1, const int8_t *in2, int8_t *o, int32_t sa,
                               int32_t sb, const int kind) {
    const int32_t n = bc->dims[5];
    int32_t idx[5] = {0, 0, 0, 0, 0}, o1 = 0, o2 = 0;
    for (int32_t r = 0; r < rows; ++r, o += n) {
        if (sa && sb) {
            tk_ewm_row(c, q, off1, off2, in1 + o1, in2 + o2, 1, 1, o, n, kind);
        } else {
            tk_ewm_row(c, q, off1, off2, in1 + o1, in2 + o2, sa, sb, o, n, kind);
        }
        if (r + 1 < rows) tk_bcast_step(bc->dims, bc->stride1, bc->stride2, idx, &o1, &o2);
    }
}

static inline void tk_add8_mve(const tk_add8_params *p, const int8_t *in1,
                               const int8_t *in2, int8_t *out, int32_t sa, int32_t sb) {
    const tk_ewm_out q = tk_ewm_out_make(&p->out);
    tk_ewm_in c;
    c.t1 = p->table1, c.t2 = p->table2;
    c.s1 = p->in1_scale, c.b1 = p->in1_bias, c.sc2 = p->in2.scale, c.bi2 = p->in2.bias;
    c.neg_e2 = -p->in2.e1, c.m2 = tk_vdupq_n_s32(p->in2.multiplier);
    c.even = tk_vdupq_n_s32(-2);
    if (p->variant < 10) {
        tk_ewm_rows(&c, &q, 0, 0, &p->bcast, p->rows, in1, in2, out, sa, sb, 0);
    } else {
        tk_ewm_rows(&c, &q, 0, 0, &p->bcast, p->rows, in1, in2, out, sa, sb, 1);
    }
}

static inline void tk_mul8_mve(const tk_mul8_params *p, const int8_t *in1,
                               const int8_t *in2, int8_t *out, int32_t sa, int32_t sb) {
    const tk_ewm_out q = tk_ewm_out_make(&p->out);
    tk_ewm_in c;
    memset(&c, 0, sizeof c);
    tk_ewm_rows(&c, &q, p->input1_offset, 2 * p->input2_offset, &p->bcast, p->rows, in1, in2,
                out, sa, sb, 2);
}

/* the variant's strides (add_s8.h); 0 for the general output stage (the C kernel runs) */
static inline int tk_ew8_strides(int32_t variant, int32_t *sa, int32_t *sb) {
    const int32_t v = variant % 10;
    if (v % 3 == 0) return 0;
    *sa = v < 6;
    *sb = v < 3 || v >= 6;
    return 1;
}

#endif /* TK_MVE */
#endif
