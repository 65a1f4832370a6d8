/* FULLY_CONNECTED int8 on Helium (MVE): tk_fc_pairs_mve runs tk_fully_connected_s8_pairs's
 * work (same params, fully_connected_s8_pairs.h) on the M55 from the weight table's Helium form,
 * which model.c holds where TK_MVE is 1 (the compiler emits both forms; each build keeps one):
 * plain int8 rows, zero-padded to R4 = output_depth rounded up to a multiple of 4 rows and
 * D16 = accum_depth rounded up to a multiple of 16 inputs, in blocks of four rows; in a block,
 * per group g of 16 inputs, the four rows' 16 weights in turn: row 4 b + r's weight d at byte
 *     64 * (b * G + g) + 16 * r + (d - 16 g)      (G = D16 / 16, g = d / 16),
 * stored as int16 values of two bytes each (little-endian) so that model.c passes the pointer
 * type of the DSP form. Per group one VLDRB of 16 inputs, then per row one VLDRB of its 16
 * weights and one VMLADAVA.S8: 9 instructions per 64 multiply-accumulates, x . w exact in int32
 * (|x . w| <= 1024 * 128 * 128). The output stage, four rows per vector, is tk_fcp_out's
 * (fully_connected_s8_pairs.c) lane by lane: twice x . w plus the doubled folded bias, VRMULH by
 * the multiplier (SMMULR), minus one if negative, then ((h >> e1) + k1) >> 1 as a rounding
 * right shift by e1 + 1 (VRSHL by ~e1) plus the output zero point (the floors compose), clamped:
 * exact for the value ranges the compiler proved for the pairs kernel. Nothing is read past the
 * input's accum_depth values (an input whose depth is not a multiple of 16 is copied into a
 * zero-padded buffer first), the table, or the rq and bias arrays (the last block of fewer than
 * four rows through predicated loads and stores). */
#ifndef TK_FULLY_CONNECTED_S8_MVE_H
#define TK_FULLY_CONNECTED_S8_MVE_H
#include "fully_connected_s8_pairs.h"
#include "tk_mve.h"

#if TK_MVE

/* the output stage's constants, copied out of the params (int8 stores may alias them) */
typedef struct {
    const int32_t *rq, *bias;       /* rq: {m, e1} per row, or one pair for all */
    int32_t per_channel;
    tk_s32x4 zp, lo, hi;
} tk_fcr_stage;

/* rows 4 b .. 4 b + n - 1 (1 <= n <= 4) from their x . w, s */
TK_MVE_INLINE void tk_fcr_out(const tk_fcr_stage *q, int32_t b, int32_t n, tk_s32x4 s,
                              int8_t *out) {
    static const uint32_t pc_l[4] = {0, 2, 4, 6}, pt_l[4] = {0, 0, 0, 0};
    const tk_pred in = tk_vctp32q((uint32_t)n);
    const tk_u32x4 o = tk_u32x4_of(q->per_channel ? pc_l : pt_l);
    const int32_t *rq = q->rq + (q->per_channel ? 8 * b : 0);
    const tk_s32x4 m = tk_vldrwq_gather_shifted_offset_z_s32(rq, o, in);
    const tk_s32x4 e1 = tk_vldrwq_gather_shifted_offset_z_s32(rq + 1, o, in);
    const tk_s32x4 acc = tk_vaddq_s32(tk_vaddq_s32(s, s), tk_vldrwq_z_s32(q->bias + 4 * b, in));
    tk_s32x4 h = tk_vrmulhq_s32(acc, m);
    h = tk_vaddq_s32(h, tk_vshrq_n_s32(h, 31));                 /* h - [h < 0] */
    h = tk_vrshlq_s32(h, tk_vaddq_n_s32(tk_vnegq_s32(e1), -1)); /* by ~e1 = -(e1 + 1) */
    h = tk_vminq_s32(tk_vmaxq_s32(tk_vaddq_s32(h, q->zp), q->lo), q->hi);
    tk_vstrbq_p_s32(out + 4 * b, h, in);
}

/* x . w of the four rows of the block whose weights start at w, over G groups of 16 */
static tk_s32x4 tk_fcr_dot4(const int8_t *x, const int8_t *w, int32_t G) {
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (; G > 0; --G, x += 16, w += 64) {
        const tk_s8x16 xv = tk_vldrbq_s8(x);
        s0 = tk_vmladavaq_s8(s0, xv, tk_vldrbq_s8(w));
        s1 = tk_vmladavaq_s8(s1, xv, tk_vldrbq_s8(w + 16));
        s2 = tk_vmladavaq_s8(s2, xv, tk_vldrbq_s8(w + 32));
        s3 = tk_vmladavaq_s8(s3, xv, tk_vldrbq_s8(w + 48));
    }
    return tk_vmov4_s32(s0, s1, s2, s3);
}

#if !defined(TK_MVE_EMULATE)
/* Blocks of four rows that all exist, dot and output stage, in assembly (AAPCS: r0 x, r1 the
 * table at the first block, r2 the group-pair loop count, r3 the block count >= 1, [sp] out at
 * the first block's row, [sp + 4] a): accumulators in the even registers VMLADAV needs; per
 * block the first group (tk_fcr_odd_*: G odd) or two (tk_fcr_even_*: G even) start them, then
 * (G - 1) / 2 or (G - 2) / 2 >= 1 passes of two groups; VMOV moves the four sums into a vector.
 * Per channel (*_pc_mve) VLD2 splits the block's four rq pairs into multipliers and shifts; per
 * tensor (*_pt_mve) the one pair stays in q3, q4 throughout. */
typedef struct {
    const int32_t *rq, *bias;       /* at the first block */
    int32_t zp, lo, hi;
} tk_fcr_ablk;
typedef void tk_fcr_fn(const int8_t *x, const int8_t *w, int32_t passes, int32_t blocks,
                       int8_t *out, const tk_fcr_ablk *a);
tk_fcr_fn tk_fcr_odd_pc_mve, tk_fcr_even_pc_mve, tk_fcr_odd_pt_mve, tk_fcr_even_pt_mve;
#define TK_FCR_G(op)                            \
    "vldrb.8 q0, [r12], #16\n\t"               \
    "vldrb.8 q1, [r1], #16\n\t"                \
    op " r4, q0, q1\n\t"                       \
    "vldrb.8 q2, [r1], #16\n\t"                \
    op " r6, q0, q2\n\t"                       \
    "vldrb.8 q1, [r1], #16\n\t"                \
    op " r8, q0, q1\n\t"                       \
    "vldrb.8 q2, [r1], #16\n\t"                \
    op " r10, q0, q2\n\t"
/* the rq pair(s): per channel read per block (q3 multipliers, q4 ~e1), per tensor once */
#define TK_FCR_PC_INIT ""
#define TK_FCR_PC_BLOCK                         \
    "vld20.32 {q3, q4}, [r2]\n\t"              \
    "vld21.32 {q3, q4}, [r2]!\n\t"             \
    "vmvn q4, q4\n\t"
#define TK_FCR_PT_INIT                          \
    "ldrd r4, r6, [r2]\n\t"                    \
    "vdup.32 q3, r4\n\t"                       \
    "mvns r6, r6\n\t"                          \
    "vdup.32 q4, r6\n\t"
#define TK_FCR_PT_BLOCK ""
#define TK_FCR_FUNC(name, START, INIT, BLOCK)                                           \
    __asm__(                                                                            \
        ".pushsection .text." name ", \"ax\", %progbits\n\t"                            \
        ".syntax unified\n\t"                                                           \
        ".thumb\n\t"                                                                    \
        ".p2align 2\n\t"                                                                \
        ".global " name "\n\t"                                                          \
        ".type " name ", %function\n\t"                                                 \
        ".thumb_func\n" name ":\n\t"                                                    \
        "push {r4-r11, lr}\n\t"                                                         \
        "vpush {d8-d15}\n\t"                                                            \
        "ldr r7, [sp, #100]\n\t"                                                        \
        "ldr r12, [sp, #104]\n\t"                                                       \
        "mov r9, r2\n\t"                                                                \
        "ldrd r2, r5, [r12]\n\t"                                                        \
        "ldrd r4, r6, [r12, #8]\n\t"                                                    \
        "vdup.32 q5, r4\n\t"                                                            \
        "vdup.32 q6, r6\n\t"                                                            \
        "ldr r4, [r12, #16]\n\t"                                                        \
        "vdup.32 q7, r4\n\t"                                                            \
        INIT                                                                            \
        "1:\n\t"                                                                        \
        "mov r12, r0\n\t"                                                               \
        START                                                                           \
        "dls lr, r9\n"                                                                  \
        "2:\n\t"                                                                        \
        TK_FCR_G("vmladava.s8") TK_FCR_G("vmladava.s8")                                 \
        "le lr, 2b\n\t"                                                                 \
        "vmov q0[2], q0[0], r4, r8\n\t"                                                 \
        "vmov q0[3], q0[1], r6, r10\n\t"                                                \
        "vldrw.32 q1, [r5], #16\n\t"                                                    \
        "vadd.i32 q0, q0, q0\n\t"                                                       \
        "vadd.i32 q0, q0, q1\n\t"                                                       \
        BLOCK                                                                           \
        "vrmulh.s32 q0, q0, q3\n\t"                                                     \
        "vshr.s32 q1, q0, #31\n\t"                                                      \
        "vadd.i32 q0, q0, q1\n\t"                                                       \
        "vrshl.s32 q0, q0, q4\n\t"                                                      \
        "vadd.i32 q0, q0, q5\n\t"                                                       \
        "vmax.s32 q0, q0, q6\n\t"                                                       \
        "vmin.s32 q0, q0, q7\n\t"                                                       \
        "vstrb.32 q0, [r7], #4\n\t"                                                     \
        "subs r3, #1\n\t"                                                               \
        "bne 1b\n\t"                                                                    \
        "vpop {d8-d15}\n\t"                                                             \
        "pop {r4-r11, pc}\n\t"                                                          \
        ".size " name ", . - " name "\n\t"                                              \
        ".popsection\n")
#define TK_FCR_ODD TK_FCR_G("vmladav.s8")
#define TK_FCR_EVEN TK_FCR_G("vmladav.s8") TK_FCR_G("vmladava.s8")
TK_FCR_FUNC("tk_fcr_odd_pc_mve", TK_FCR_ODD, TK_FCR_PC_INIT, TK_FCR_PC_BLOCK);
TK_FCR_FUNC("tk_fcr_even_pc_mve", TK_FCR_EVEN, TK_FCR_PC_INIT, TK_FCR_PC_BLOCK);
TK_FCR_FUNC("tk_fcr_odd_pt_mve", TK_FCR_ODD, TK_FCR_PT_INIT, TK_FCR_PT_BLOCK);
TK_FCR_FUNC("tk_fcr_even_pt_mve", TK_FCR_EVEN, TK_FCR_PT_INIT, TK_FCR_PT_BLOCK);
#undef TK_FCR_FUNC
#undef TK_FCR_G
#undef TK_FCR_ODD
#undef TK_FCR_EVEN
#undef TK_FCR_PC_INIT
#undef TK_FCR_PC_BLOCK
#undef TK_FCR_PT_INIT
#undef TK_FCR_PT_BLOCK

/* the blocks 0 .. full - 1 (all four rows exist) of one batch */
static void tk_fcr_full(const tk_fc_pairs_params *p, const int8_t *x, const int8_t *w,
                        int32_t G, int32_t full, int8_t *out) {
    tk_fcr_ablk a;
    a.rq = p->rq, a.bias = p->folded_bias;
    a.zp = (p->k1 - 1) >> 1, a.lo = p->act_min, a.hi = p->act_max;
    const int32_t passes = (G - 2 + (G & 1)) >> 1;
    /* direct calls, not a table of pointers: the image's stack analysis follows them */
    switch (2 * (p->per_channel != 0) + (G & 1)) {
    case 0: tk_fcr_even_pt_mve(x, w, passes, full, out, &a); break;
    case 1: tk_fcr_odd_pt_mve(x, w, passes, full, out, &a); break;
    case 2: tk_fcr_even_pc_mve(x, w, passes, full, out, &a); break;
    default: tk_fcr_odd_pc_mve(x, w, passes, full, out, &a); break;
    }
}
#endif

/* one batch: x holds D16 values (zero past accum_depth) */
static void tk_fcr_batch(const tk_fc_pairs_params *p, const tk_fcr_stage *q, const int8_t *x,
                         const int8_t *w, int8_t *out) {
    const int32_t G = (p->accum_depth + 15) >> 4, rows = p->output_depth;
    int32_t b = 0;
#if !defined(TK_MVE_EMULATE)
    if (rows >= 4 && G >= 3) {
        tk_fcr_full(p, x, w, G, rows >> 2, out);
        b = rows >> 2;
    }
#endif
    for (; 4 * b < rows; ++b) {
        const int32_t n = rows - 4 * b;
        tk_fcr_out(q, b, n < 4 ? n : 4, tk_fcr_dot4(x, w + 64 * G * b, G), out);
    }
}

static void tk_fc_pairs_mve(const tk_fc_pairs_params *p, const int8_t *input,
                            const int16_t *weights, int8_t *output) {
    const int32_t D = p->accum_depth, D16 = (D + 15) & ~15, rows = p->output_depth;
    const int8_t *const w = (const int8_t *)weights;    /* the Helium form: bytes */
    tk_fcr_stage q;
    q.rq = p->rq, q.bias = p->folded_bias, q.per_channel = p->per_channel;
    q.zp = tk_vdupq_n_s32((p->k1 - 1) >> 1);
    q.lo = tk_vdupq_n_s32(p->act_min), q.hi = tk_vdupq_n_s32(p->act_max);
    int8_t xs[D == D16 ? 1 : D16];     /* a depth not a multiple of 16: the input zero-padded */
    if (D != D16) memset(xs + D, 0, (size_t)(D16 - D));
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *x = input + b * D;
        if (D != D16) {
            memcpy(xs, x, (size_t)D);
            x = xs;
        }
        tk_fcr_batch(p, &q, x, w, output + b * rows);
    }
}

#endif /* TK_MVE */
#endif
