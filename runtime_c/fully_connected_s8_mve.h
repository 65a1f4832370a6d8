/* FULLY_CONNECTED int8 on Helium (MVE): tk_fc_pairs_mve runs tk_fully_connected_s8_pairs's
 * work (same params, same int16 row-pair weight table, fully_connected_s8_pairs.h) on the M55.
 * Per group of eight inputs: one gather (VLDRB.S16 with the offsets 0 2 1 3 4 6 5 7) gives the
 * inputs as int16 lanes in the table's order, X; X with its high bytes cleared, read as 16 int8
 * lanes, is X8 = (x0, 0, x2, 0, ...). Per row pair (a, b), one VLDRH of the eight halfwords
 * h = 256 b + a, then VMLADAVA.S16 (X, h) accumulates f = 256 (x . b) + x . a and VMLADAVA.S8
 * (X8, h read as bytes: the low byte of h is a) accumulates e = x . a. Four row pairs share X and
 * X8: 15 instructions per 64 multiply-accumulates. The output stage, four rows per vector, is
 * tk_fcp_out's (fully_connected_s8_pairs.c) lane by lane: twice the accumulator (2 e and
 * (f - e) >> 7, plus the doubled folded bias), VRMULH by the multiplier (SMMULR), minus one if
 * negative, arithmetic right shift by e1, plus k1, halved, clamped; all of it exact for the
 * value ranges the compiler proved for the pairs kernel. Nothing is read past the input's
 * accum_depth values (the last partial group is gathered from a zero-padded copy), the table's
 * rows or the rq and bias arrays (predicated loads). */
#ifndef TK_FULLY_CONNECTED_S8_MVE_H
#define TK_FULLY_CONNECTED_S8_MVE_H
#include "fully_connected_s8_pairs.h"
#include "tk_mve.h"

#if TK_MVE

#define TK_FCM_PAIR(k)                                                          \
    do {                                                                        \
        const tk_s16x8 h = tk_vldrhq_s16(w##k);                                 \
        w##k += 8;                                                              \
        f##k = tk_vmladavaq_s16(f##k, xv, h);                                    \
        e##k = tk_vmladavaq_s8(e##k, xb, tk_vreinterpretq_s8_s16(h));           \
    } while (0)
#define TK_FCM_GROUP(xp, PAIRS)                                                 \
    do {                                                                        \
        const tk_s16x8 xv = tk_vldrbq_gather_offset_s16((xp), offs);            \
        const tk_s8x16 xb = tk_vreinterpretq_s8_s16(tk_vandq_s16(xv, low));    \
        PAIRS                                                                   \
    } while (0)
#define TK_FCM_THREE TK_FCM_PAIR(0); TK_FCM_PAIR(1); TK_FCM_PAIR(2);
#define TK_FCM_ONE TK_FCM_PAIR(0);

static const uint16_t tk_fcm_offs[8] = {0, 2, 1, 3, 4, 6, 5, 7};

#if defined(TK_MVE_EMULATE)
/* For T triples of row pairs t (tables at w0 + 3 t D8, + D8, + 2 D8 halfwords), sums[6t ..
 * 6t + 5] += their (e, f) over G >= 1 full groups of eight inputs at x */
static void tk_fcm3_dot(const int8_t *x, const int16_t *wt, int32_t D8, int32_t G,
                        int32_t *sums, int32_t T) {
    const tk_u16x8 offs = tk_u16x8_of(tk_fcm_offs);
    const tk_s16x8 low = tk_vdupq_n_s16(0xFF);
    for (; T > 0; --T, sums += 6, wt += 3 * D8) {
        const int8_t *xp = x;
        const int16_t *w0 = wt, *w1 = wt + D8, *w2 = w1 + D8;
        int32_t e0 = sums[0], f0 = sums[1], e1 = sums[2], f1 = sums[3], e2 = sums[4],
                f2 = sums[5];
        for (int32_t g = G; g > 0; --g, xp += 8) TK_FCM_GROUP(xp, TK_FCM_THREE);
        sums[0] = e0, sums[1] = f0, sums[2] = e1, sums[3] = f1, sums[4] = e2, sums[5] = f2;
    }
}
#else
/* The same in assembly (AAPCS: r0 x, r1 w0, r2 the pair stride in bytes, r3 G >= 1, [sp] sums):
 * accumulators in the even registers VMLADAVA needs, the group loop unrolled four times with
 * four gather offset vectors (q3..q6: offsets + 0, 8, 16, 24), G mod 4 single groups first. */
void tk_fcm3_dot_mve(const int8_t *x, const int16_t *w0, int32_t stride, int32_t G,
                     int32_t *sums, int32_t T);
#define TK_FCM_G(q)                                     \
    "vldrb.s16 q0, [r1, " q "]\n\t"                    \
    "vldrb.u16 q1, [r1, " q "]\n\t"                    \
    "vldrh.16 q2, [r3], #16\n\t"                       \
    "vmladava.s16 r2, q0, q2\n\t"                      \
    "vmladava.s8 r0, q1, q2\n\t"                       \
    "vldrh.16 q2, [r5], #16\n\t"                       \
    "vmladava.s16 r6, q0, q2\n\t"                      \
    "vmladava.s8 r4, q1, q2\n\t"                       \
    "vldrh.16 q2, [r7], #16\n\t"                       \
    "vmladava.s16 r10, q0, q2\n\t"                     \
    "vmladava.s8 r8, q1, q2\n\t"
__asm__(
    ".pushsection .text.tk_fcm3_dot_mve, \"ax\", %progbits\n\t"
    ".syntax unified\n\t"
    ".thumb\n\t"
    ".p2align 2\n\t"
    ".global tk_fcm3_dot_mve\n\t"
    ".type tk_fcm3_dot_mve, %function\n\t"
    ".thumb_func\n"
    "tk_fcm3_dot_mve:\n\t"
    "push {r4-r11, lr}\n\t"
    "vpush {d8-d13}\n\t"
    "sub sp, #24\n\t"                   /* x, w0 of the triple, stride, 3 stride, triples left */
    "ldr r12, [sp, #108]\n\t"
    "ldr r11, [sp, #112]\n\t"
    "str r11, [sp, #16]\n\t"
    "strd r0, r1, [sp]\n\t"
    "add r11, r2, r2, lsl #1\n\t"
    "strd r2, r11, [sp, #8]\n\t"
    "mov r9, r3\n\t"
    "mov r3, r1\n\t"
    "add r5, r3, r2\n\t"
    "add r7, r5, r2\n\t"
    "mov r1, r0\n\t"
    "adr r0, 8f\n\t"
    "vldrh.u16 q3, [r0]\n\t"
    "vmov.i16 q6, #8\n\t"
    "vadd.i16 q4, q3, q6\n\t"
    "vadd.i16 q5, q4, q6\n\t"
    "vadd.i16 q6, q5, q6\n"
    "5:\n\t"
    "ldm r12, {r0, r2, r4, r6, r8, r10}\n\t"
    "ands r11, r9, #3\n\t"
    "beq 2f\n"
    "1:\n\t" TK_FCM_G("q3")
    "adds r1, #8\n\t"
    "subs r11, #1\n\t"
    "bne 1b\n"
    "2:\n\t"
    "lsrs r11, r9, #2\n\t"
    "wls lr, r11, 4f\n"
    "3:\n\t" TK_FCM_G("q3") TK_FCM_G("q4") TK_FCM_G("q5") TK_FCM_G("q6")
    "adds r1, #32\n\t"
    "le lr, 3b\n"
    "4:\n\t"
    "stm r12!, {r0, r2, r4, r6, r8, r10}\n\t"
    "ldrd r1, r3, [sp]\n\t"
    "ldrd r11, lr, [sp, #8]\n\t"
    "add r3, r3, lr\n\t"
    "str r3, [sp, #4]\n\t"
    "add r5, r3, r11\n\t"
    "add r7, r5, r11\n\t"
    "ldr r11, [sp, #16]\n\t"
    "subs r11, #1\n\t"
    "str r11, [sp, #16]\n\t"
    "bne 5b\n\t"
    "add sp, #24\n\t"
    "vpop {d8-d13}\n\t"
    "pop {r4-r11, pc}\n\t"
    ".p2align 2\n"
    "8:\n\t"
    ".short 0, 2, 1, 3, 4, 6, 5, 7\n\t"
    ".size tk_fcm3_dot_mve, . - tk_fcm3_dot_mve\n\t"
    ".popsection\n");
/* The same for contiguous triples (G a multiple of 4 and D8 = 8 G: a row pair's table ends
 * where the next begins): r3 G / 4, the rows' pointers run on from triple to triple, and the
 * triples end at w0 + 3 T stride */
void tk_fcm3c_dot_mve(const int8_t *x, const int16_t *w0, int32_t stride, int32_t G4,
                      int32_t *sums, int32_t T);
__asm__(
    ".pushsection .text.tk_fcm3c_dot_mve, \"ax\", %progbits\n\t"
    ".syntax unified\n\t"
    ".thumb\n\t"
    ".p2align 2\n\t"
    ".global tk_fcm3c_dot_mve\n\t"
    ".type tk_fcm3c_dot_mve, %function\n\t"
    ".thumb_func\n"
    "tk_fcm3c_dot_mve:\n\t"
    "push {r4-r11, lr}\n\t"
    "vpush {d8-d13}\n\t"
    "sub sp, #8\n\t"                    /* x, the end of the triples */
    "ldr r12, [sp, #92]\n\t"
    "ldr r9, [sp, #96]\n\t"
    "str r0, [sp]\n\t"
    "mov r11, r2\n\t"
    "add r9, r9, r9, lsl #1\n\t"
    "mla r9, r9, r11, r1\n\t"
    "str r9, [sp, #4]\n\t"
    "mov r9, r3\n\t"
    "mov r3, r1\n\t"
    "add r5, r3, r11\n\t"
    "add r7, r5, r11\n\t"
    "mov r1, r0\n\t"
    "adr r0, 8f\n\t"
    "vldrh.u16 q3, [r0]\n\t"
    "vmov.i16 q6, #8\n\t"
    "vadd.i16 q4, q3, q6\n\t"
    "vadd.i16 q5, q4, q6\n\t"
    "vadd.i16 q6, q5, q6\n"
    "5:\n\t"
    "ldm r12, {r0, r2, r4, r6, r8, r10}\n\t"
    "dls lr, r9\n"
    "3:\n\t" TK_FCM_G("q3") TK_FCM_G("q4") TK_FCM_G("q5") TK_FCM_G("q6")
    "adds r1, #32\n\t"
    "le lr, 3b\n\t"
    "stm r12!, {r0, r2, r4, r6, r8, r10}\n\t"
    "ldr r1, [sp]\n\t"
    "mov r3, r7\n\t"
    "add r5, r3, r11\n\t"
    "add r7, r5, r11\n\t"
    "ldr r0, [sp, #4]\n\t"
    "cmp r3, r0\n\t"
    "bne 5b\n\t"
    "add sp, #8\n\t"
    "vpop {d8-d13}\n\t"
    "pop {r4-r11, pc}\n\t"
    ".p2align 2\n"
    "8:\n\t"
    ".short 0, 2, 1, 3, 4, 6, 5, 7\n\t"
    ".size tk_fcm3c_dot_mve, . - tk_fcm3c_dot_mve\n\t"
    ".popsection\n");
#undef TK_FCM_G
static inline void tk_fcm3_dot(const int8_t *x, const int16_t *w0, int32_t D8, int32_t G,
                               int32_t *sums, int32_t T) {
    if ((G & 3) == 0 && D8 == 8 * G) {
        tk_fcm3c_dot_mve(x, w0, 2 * D8, G >> 2, sums, T);
        return;
    }
    tk_fcm3_dot_mve(x, w0, 2 * D8, G, sums, T);
}
#endif

/* sums[0..1] += (e, f) of one row pair over G full groups (the last one to three pairs) */
#if defined(TK_MVE_EMULATE)
static void tk_fcm1_dot(const int8_t *x, const int16_t *w0, int32_t G, int32_t *sums) {
    const tk_u16x8 offs = tk_u16x8_of(tk_fcm_offs);
    const tk_s16x8 low = tk_vdupq_n_s16(0xFF);
    int32_t e0 = sums[0], f0 = sums[1];
    for (; G > 0; --G, x += 8) TK_FCM_GROUP(x, TK_FCM_PAIR(0););
    sums[0] = e0, sums[1] = f0;
}
#else
/* the same in assembly (r0 x, r1 w0, r2 G, r3 sums) */
void tk_fcm1_dot(const int8_t *x, const int16_t *w0, int32_t G, int32_t *sums);
__asm__(
    ".pushsection .text.tk_fcm1_dot, \"ax\", %progbits\n\t"
    ".syntax unified\n\t"
    ".thumb\n\t"
    ".p2align 2\n\t"
    ".type tk_fcm1_dot, %function\n\t"
    ".thumb_func\n"
    "tk_fcm1_dot:\n\t"
    "push {r4-r6, lr}\n\t"
    "ldrd r4, r6, [r3]\n\t"
    "adr r5, 8f\n\t"
    "vldrh.u16 q3, [r5]\n\t"
    "wls lr, r2, 2f\n"
    "1:\n\t"
    "vldrb.s16 q0, [r0, q3]\n\t"
    "vldrb.u16 q1, [r0, q3]\n\t"
    "adds r0, #8\n\t"
    "vldrh.16 q2, [r1], #16\n\t"
    "vmladava.s16 r6, q0, q2\n\t"
    "vmladava.s8 r4, q1, q2\n\t"
    "le lr, 1b\n"
    "2:\n\t"
    "strd r4, r6, [r3]\n\t"
    "pop {r4-r6, pc}\n\t"
    ".p2align 2\n"
    "8:\n\t"
    ".short 0, 2, 1, 3, 4, 6, 5, 7\n\t"
    ".size tk_fcm1_dot, . - tk_fcm1_dot\n\t"
    ".popsection\n");
#endif

/* (e, f) of n pairs from the table at w (pair stride D8 halfwords) into sums[2n] */
static void tk_fcm_sums(const int8_t *x, int32_t D, const int16_t *w, int32_t n,
                        int32_t *sums) {
    const int32_t D8 = (D + 7) & ~7, G = D >> 3;
    int8_t t[8] = {0, 0, 0, 0, 0, 0, 0, 0};     /* the last partial group, zero-padded */
    memcpy(t, x + 8 * G, (size_t)(D & 7));
    const tk_s32x4 zero = tk_vdupq_n_s32(0);
    for (int32_t k = 0; k < 2 * ((n + 3) & ~3); k += 4) tk_vstrwq_s32(sums + k, zero);
    const int32_t T = n / 3;
    if (T && G) tk_fcm3_dot(x, w, D8, G, sums, T);
    for (int32_t i = 0; (D & 7) && i < T; ++i) {
        tk_fcm3_dot(t, w + 3 * i * D8 + 8 * G, D8, 1, sums + 6 * i, 1);
    }
    int32_t i = 3 * T;
    sums += 6 * T, w += 3 * T * D8;
    for (; i < n; ++i, sums += 2, w += D8) {
        tk_fcm1_dot(x, w, G, sums);
        if (D & 7) tk_fcm1_dot(t, w + 8 * G, 1, sums);
    }
}

/* the output stage's constants, copied out of the params (int8 stores may alias them) */
typedef struct {
    const int32_t *rq, *bias;
    int32_t per_channel, k1, lo_s, hi_s;
    tk_s32x4 lo, hi;
    tk_u32x4 ob, orq;       /* lane offsets: bias and output 0 2 4 6, rq 0 4 8 12 (or 0) */
} tk_fcm_stage;

/* four rows r0, r0 + 2, r0 + 4, r0 + 6 (or r0 + 1, ...: r0 odd), the first n of them below
 * output_depth, from their twice-accumulators less the doubled bias, v */
TK_MVE_INLINE void tk_fcm_out(const tk_fcm_stage *q, int32_t r0, int32_t n, tk_s32x4 v,
                              int8_t *out) {
    const tk_pred in = tk_vctp32q((uint32_t)n);
    const int32_t *rq = q->rq + (q->per_channel ? 2 * r0 : 0);
    const tk_s32x4 m = tk_vldrwq_gather_shifted_offset_z_s32(rq, q->orq, in);
    const tk_s32x4 e1 = tk_vldrwq_gather_shifted_offset_z_s32(rq + 1, q->orq, in);
    const tk_s32x4 acc =
        tk_vaddq_s32(v, tk_vldrwq_gather_shifted_offset_z_s32(q->bias + r0, q->ob, in));
    tk_s32x4 h = tk_vrmulhq_s32(acc, m);
    h = tk_vaddq_s32(h, tk_vshrq_n_s32(h, 31));                 /* h - [h < 0] */
    h = tk_vshlq_s32(h, tk_vnegq_s32(e1));
    h = tk_vshrq_n_s32(tk_vaddq_n_s32(h, q->k1), 1);
    h = tk_vminq_s32(tk_vmaxq_s32(h, q->lo), q->hi);
    tk_vstrbq_scatter_offset_p_s32(out + r0, q->ob, h, in);
}

#if !defined(TK_MVE_EMULATE)
/* tk_fcm_out for eight rows r0 .. r0 + 7 (four pairs) at a time in assembly, `groups` >= 1 of
 * them from the chunk's sums: VLD2 of (e, f), VLD2 of the doubled biases (even rows, odd rows),
 * VLD4 of the rq pairs (m and e1 of the even rows, of the odd rows; per-tensor: duplicated),
 * both halves through the output stage (((h >> e1) + k1) >> 1 as VRSHL by ~e1 = -(e1 + 1) plus
 * the zero point: the floors compose), VMOVNT interleaving them as int16 lanes, and one
 * VSTRB.16 of the eight bytes. What it reads, in order: */
typedef struct {
    const int32_t *rq, *bias;       /* at row r0 (rq: at 0 per-tensor) */
    int32_t per_channel, k1, lo, hi;
} tk_fcm_oblk;
void tk_fcm_out8_mve(const int32_t *sums, int32_t groups, int8_t *out, const tk_fcm_oblk *b);
#define TK_FCM_HALF(acc, m, e, t)                \
    "vrmulh.s32 " acc ", " acc ", " m "\n\t"    \
    "vshr.s32 " t ", " acc ", #31\n\t"           \
    "vadd.i32 " acc ", " acc ", " t "\n\t"      \
    "vmvn " t ", " e "\n\t"                     \
    "vrshl.s32 " acc ", " acc ", " t "\n\t"     \
    "vadd.i32 " acc ", " acc ", r7\n\t"         \
    "vmax.s32 " acc ", " acc ", q6\n\t"         \
    "vmin.s32 " acc ", " acc ", q7\n\t"
__asm__(
    ".pushsection .text.tk_fcm_out8_mve, \"ax\", %progbits\n\t"
    ".syntax unified\n\t"
    ".thumb\n\t"
    ".p2align 2\n\t"
    ".global tk_fcm_out8_mve\n\t"
    ".type tk_fcm_out8_mve, %function\n\t"
    ".thumb_func\n"
    "tk_fcm_out8_mve:\n\t"
    "push {r4-r9, lr}\n\t"
    "vpush {d8-d15}\n\t"
    "ldrd r4, r5, [r3]\n\t"             /* rq, bias */
    "ldrd r6, r7, [r3, #8]\n\t"         /* per_channel, k1 */
    "subs r7, #1\n\t"
    "asrs r7, r7, #1\n\t"               /* the output zero point */
    "ldrd r8, r9, [r3, #16]\n\t"        /* lo, hi */
    "vdup.32 q6, r8\n\t"
    "vdup.32 q7, r9\n\t"
    "ldrd r8, r9, [r4]\n\t"             /* per-tensor m, e1 */
    "dls lr, r1\n"
    "1:\n\t"
    "vld20.32 {q0, q1}, [r0]\n\t"
    "vld21.32 {q0, q1}, [r0]!\n\t"
    "vsub.i32 q1, q1, q0\n\t"
    "vshr.s32 q1, q1, #7\n\t"
    "vadd.i32 q0, q0, q0\n\t"
    "vld20.32 {q2, q3}, [r5]\n\t"
    "vld21.32 {q2, q3}, [r5]!\n\t"
    "vadd.i32 q0, q0, q2\n\t"
    "vadd.i32 q1, q1, q3\n\t"
    "cbz r6, 2f\n\t"
    "vld40.32 {q2, q3, q4, q5}, [r4]\n\t"
    "vld41.32 {q2, q3, q4, q5}, [r4]\n\t"
    "vld42.32 {q2, q3, q4, q5}, [r4]\n\t"
    "vld43.32 {q2, q3, q4, q5}, [r4]!\n\t"
    "b 3f\n"
    "2:\n\t"
    "vdup.32 q2, r8\n\t"
    "vdup.32 q3, r9\n\t"
    "vmov q4, q2\n\t"
    "vmov q5, q3\n"
    "3:\n\t"
    TK_FCM_HALF("q0", "q2", "q3", "q2")
    TK_FCM_HALF("q1", "q4", "q5", "q4")
    "vmovnt.i32 q0, q1\n\t"
    "vstrb.16 q0, [r2], #8\n\t"
    "le lr, 1b\n\t"
    "vpop {d8-d15}\n\t"
    "pop {r4-r9, pc}\n\t"
    ".size tk_fcm_out8_mve, . - tk_fcm_out8_mve\n\t"
    ".popsection\n");
#undef TK_FCM_HALF
#endif

#define TK_FCM_CHUNK 96     /* row pairs per chunk of sums on the stack (768 bytes) */

/* rows 2 i .. 2 (i + n) - 1 from the chunk's sums (four pairs at a time) */
static void tk_fcm_rows(const tk_fcm_stage *q, const int32_t *sums, int32_t i, int32_t n,
                        int32_t rows, int8_t *out) {
    int32_t k = 0;
#if !defined(TK_MVE_EMULATE)
    int32_t full = (rows - 2 * i) >> 3;         /* groups of eight rows that all exist */
    full = full < (n >> 2) ? full : n >> 2;
    if (full > 0) {
        tk_fcm_oblk b;
        b.rq = q->rq + (q->per_channel ? 4 * i : 0), b.bias = q->bias + 2 * i;
        b.per_channel = q->per_channel, b.k1 = q->k1, b.lo = q->lo_s, b.hi = q->hi_s;
        tk_fcm_out8_mve(sums, full, out + 2 * i, &b);
        k = 4 * full;
        sums += 8 * full;
    }
#endif
    for (; k < n; k += 4, sums += 8) {
        tk_s32x4 e, f;
        tk_vld2q_s32(sums, &e, &f);
        const int32_t r0 = 2 * (i + k), left = rows - r0;
        const tk_s32x4 hi = tk_vshrq_n_s32(tk_vsubq_s32(f, e), 7);
        const int32_t ne = (left + 1) >> 1, no = left >> 1;
        tk_fcm_out(q, r0, ne < 4 ? ne : 4, tk_vaddq_s32(e, e), out);
        tk_fcm_out(q, r0 + 1, no < 4 ? no : 4, hi, out);
    }
}

static void tk_fc_pairs_mve(const tk_fc_pairs_params *p, const int8_t *input,
                            const int16_t *weights, int8_t *output) {
    static const uint32_t ob_l[4] = {0, 2, 4, 6}, rq_l[4] = {0, 4, 8, 12}, z_l[4] = {0, 0, 0, 0};
    const int32_t D = p->accum_depth, D8 = (D + 7) & ~7, rows = p->output_depth;
    const int32_t P = (rows + 1) >> 1;
    tk_fcm_stage q;
    q.rq = p->rq, q.bias = p->folded_bias, q.per_channel = p->per_channel, q.k1 = p->k1;
    q.lo = tk_vdupq_n_s32(p->act_min), q.hi = tk_vdupq_n_s32(p->act_max);
    q.lo_s = p->act_min, q.hi_s = p->act_max;
    q.ob = tk_u32x4_of(ob_l), q.orq = tk_u32x4_of(p->per_channel ? rq_l : z_l);
    int32_t sums[2 * TK_FCM_CHUNK];   /* zeroed per chunk up to a multiple of four pairs */
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *x = input + b * D;
        int8_t *out = output + b * rows;
        for (int32_t i = 0; i < P; i += TK_FCM_CHUNK) {
            const int32_t n = P - i < TK_FCM_CHUNK ? P - i : TK_FCM_CHUNK;
            tk_fcm_sums(x, D, weights + i * D8, n, sums);
            tk_fcm_rows(&q, sums, i, n, rows, out);
        }
    }
}

#undef TK_FCM_PAIR
#undef TK_FCM_GROUP
#undef TK_FCM_THREE
#undef TK_FCM_ONE
#endif /* TK_MVE */
#endif
