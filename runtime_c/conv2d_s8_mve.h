/* CONV_2D int8 on Helium (MVE): tk_conv2d_mve runs tk_conv2d_s8's work (same params, the same
 * pair-blocked filter, folded bias and rq table, conv2d_s8.h) on the M55. Included by
 * conv2d_s8.c only, after the pixel walk and tk_conv_patch it uses.
 *
 * Output channels go in blocks, as many as TK_CMV_BUF holds besides two columns (a multiple of
 * four, at most TK_CMV_CAP). A block is decoded once per layer from the pair-blocked table into
 * plain rows on the stack: each channel's K taps in 16-byte chunks, zero past K (KR = K rounded
 * up to 16), the rows of four channels interleaved chunk by chunk (one 16-lane VLDRB gather and
 * one VSTRB per 16 taps of a channel), and a table per group of four channels: their folded
 * biases, multipliers and shifts. Then for every pair of output pixels their columns of K taps
 * (1x1 filters: the input pixels themselves, or copies zero-padded to KR; others: im2col columns
 * on the stack, padding taps at the input zero point; windows inside the input of at most
 * TK_CMV_GATHER taps gathered at a per-layer offset table, 16 or 8 taps per gather) are built a
 * batch at a time (as many as the buffer holds past the rows) and dotted with each group of rows
 * in one call (tk_cmv_px2; after a column's first vector a loop of four entered at its last
 * (n16 - 4) mod 4, then three written out, entered by a load to pc). Layers whose kernel rows
 * are whole vectors (kw C a multiple of 16, K over TK_CMV_GATHER) build no column for windows
 * inside the input: each output row's run of such pixel pairs is dotted in the input itself
 * (tk_cmv_seg: per kernel row a load to pc into twelve written-out vectors at the row's last
 * nr = kw C / 16, then the step to the next row), the other pixels' columns (C a multiple of
 * 16: whole vectors of the zero point or the input, tk_cmv_border16) two by two:
 * per 16 taps two VLDRB of the columns, four VLDRB of the rows and eight VMLADAVA.S8 into eight
 * accumulators (128 multiply-accumulates in 14 instructions, tk_cmv_px2_mve in assembly). The
 * four sums of a pixel are consecutive output channels: one vector through TFLM's per-channel
 * requantization (the fast stage of tk_requant_fast as VQRDMULH, the sign fix-up, VRSHL by
 * -(e1 + 1), plus the zero point), clamped and stored with one VSTRB.32 (predicated for a
 * block's last one to three channels). 1x1 stride-1 layers run all their pixel pairs in one
 * call. Where the compiler could not prove the fast stage exact, one pixel at a time through
 * TFLM's MultiplyByQuantizedMultiplier lane by lane (C intrinsics).
 *
 * Raw sums: K <= TK_CMV_KMAX taps, |x * w| <= 2^14, so no VMLADAVA sum overflows; the folded bias
 * is added with wrap-around (VADD), TFLM's int32 accumulator bit for bit. Nothing is read past
 * the input (columns copied with predicated loads), the filter (predicated gathers for the last
 * chunk) or the rq and bias arrays (predicated loads for the last group). Stack: about 5 KB
 * (the buffer, the table, the frame). Layers with K over TK_CMV_KMAX keep the DSP path. */
#ifndef TK_CONV2D_S8_MVE_H
#define TK_CONV2D_S8_MVE_H
#include "tk_mve.h"

#if TK_MVE

#define TK_CMV_BUF 4224         /* bytes on the stack for the decoded rows and two columns (64
                                 * rows of 64 taps: a 1x1 layer of 64 channels in one block) */
#define TK_CMV_KMAX 576         /* taps per output pixel on this path (two columns on the stack) */
#define TK_CMV_GATHER 128       /* windows of at most this many taps (rounded up) gathered */
#define TK_CMV_CAP 64           /* output channels per block at most (the stage table) */

/* A block's output stage, per group of four channels g: t[12 g ..] = their folded biases, their
 * multipliers, their shifts (fast: the VRSHL amount -(e1 + 1), else TFLM's shift); zeros past
 * the block's channels. The group loop's state: */
typedef struct {
    const int8_t *w;            /* 0: the block's rows, four by four: group g's 16 taps v at
                                 * w + 64 (g n16 + v), one channel after the other */
    const int32_t *t;           /* 4: the stage table */
    int8_t *o0, *o1;            /* 8, 12: the two pixels' outputs at the block's first channel */
    int32_t rem;                /* 16: channels of the block (stored: min(rem, 4) per group) */
    int32_t off;                /* 20: output zero point */
    int32_t n16;                /* 24: 16-tap vectors per column, >= 1 */
    int32_t lo, hi;             /* 28, 32: activation clamp */
    int32_t pairs;              /* 36: pixel pairs, >= 1: then x0, x1 step by xstep */
    int32_t xstep, ostep;       /* 40, 44: bytes; o0, o1 step by ostep */
    int32_t gap, kh, nr;        /* 48, 52, 56: tk_cmv_seg's windows: kh kernel rows of nr
                                 * vectors, gap bytes from one row's end to the next's start */
} tk_cmv_blk;

/* the in-order weights of an odd last channel at src (K of them) as 16-byte chunks at row + 64 v
 * (the bytes past K zeroed) */
static void tk_cmv_decode1(const int8_t *src, int32_t K, int8_t *row) {
    for (int32_t k = 0; k < K; k += 16) {
        const int32_t n = K - k < 16 ? K - k : 16;
        tk_vstrbq_s8(row + 4 * k, tk_vldrbq_z_s8(src + k, tk_vctp8q((uint32_t)n)));
    }
}

/* the channel pair at src (pair-blocked, KW taps each) as 16-byte chunks: the first channel's at
 * row + 64 v, the second's 16 bytes after them; taps 0 .. K - 1, zeros past K (KW4 = KW rounded
 * down to 4: then the remaining taps come interleaved). offs: the gather offsets of 16 taps of
 * the first channel (the second's: + 4) */
static void tk_cmv_decode2(const int8_t *src, int32_t KW, int32_t K, tk_u8x16 offs,
                           int8_t *row) {
    const int32_t KW4 = KW & ~3, K4 = K < KW4 ? K : KW4;
    const int8_t *s1 = src + 4;
    int32_t k = 0;
    for (; k + 16 <= K4; k += 16, row += 64) {
        tk_vstrbq_s8(row, tk_vldrbq_gather_offset_s8(src + 2 * k, offs));
        tk_vstrbq_s8(row + 16, tk_vldrbq_gather_offset_s8(s1 + 2 * k, offs));
    }
    const int32_t KR = (K + 15) & ~15;
    if (k < KR) {       /* the last chunk: predicated gathers, then the interleaved taps */
        const tk_pred m = tk_vctp8q((uint32_t)(K4 - k));
        tk_vstrbq_s8(row, tk_vldrbq_gather_offset_z_s8(src + 2 * k, offs, m));
        tk_vstrbq_s8(row + 16, tk_vldrbq_gather_offset_z_s8(s1 + 2 * k, offs, m));
        for (int32_t j = K4; j < K; ++j) {
            row[j - k] = src[2 * KW4 + 2 * (j - KW4)];
            row[16 + j - k] = src[2 * KW4 + 2 * (j - KW4) + 1];
        }
    }
}

/* channels c0 .. c0 + nb - 1 into the block: rows (n16 vectors per channel, zero rows up to a
 * multiple of four) and stage table t (a group's lanes past nb: zeros) */
static void tk_cmv_fill(const tk_conv2d_params *p, const int8_t *filter, const int32_t *fbias,
                        int32_t K, int32_t n16, int32_t c0, int32_t nb, int8_t *rows,
                        int32_t *t) {
    static const uint8_t o[16] = {0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27};
    static const uint32_t orq[4] = {0, 2, 4, 6};
    const int32_t KW = p->path == TK_CONV_IM2COL ? (K + 3) & ~3 : K, out_c = p->output.c;
    const tk_u8x16 offs = tk_u8x16_of(o);
    const tk_u32x4 oq = tk_u32x4_of(orq);
    const tk_s32x4 m1 = tk_vdupq_n_s32(-1);
    for (int32_t i = 0; i < nb; i += 2) {       /* c0 is even: pairs stay pairs */
        int8_t *row = rows + (i >> 2) * n16 * 64 + 16 * (i & 3);
        const int8_t *src = filter + (c0 + i) * KW;
        if (c0 + i == out_c - 1) {
            tk_cmv_decode1(src, K, row);
        } else {
            tk_cmv_decode2(src, KW, K, offs, row);
        }
    }
    const tk_s8x16 z = tk_vdupq_n_s8(0);
    for (int32_t i = nb; i & 3; ++i) {          /* the last group's missing channels: zeros */
        int8_t *row = rows + (i >> 2) * n16 * 64 + 16 * (i & 3);
        for (int32_t v = 0; v < n16; ++v) tk_vstrbq_s8(row + 64 * v, z);
    }
    for (int32_t g = 0; g < nb; g += 4, t += 12) {
        const tk_pred in = tk_vctp32q((uint32_t)(nb - g));
        const int32_t *rq = p->rq + 2 * (c0 + g);
        tk_vstrwq_s32(t, tk_vldrwq_z_s32(fbias + c0 + g, in));
        tk_vstrwq_s32(t + 4, tk_vldrwq_gather_shifted_offset_z_s32(rq, oq, in));
        const tk_s32x4 sh = tk_vldrwq_gather_shifted_offset_z_s32(rq + 1, oq, in);
        tk_vstrwq_s32(t + 8, p->rq_fast ? tk_vsubq_s32(m1, sh) : sh);
    }
}

/* the four sums of column x with group w's four channels (n16 vectors) */
TK_MVE_INLINE tk_s32x4 tk_cmv_dot4(const int8_t *x, const int8_t *w, int32_t n16) {
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (int32_t v = 0; v < n16; ++v, x += 16, w += 64) {
        const tk_s8x16 xv = tk_vldrbq_s8(x);
        a0 = tk_vmladavaq_s8(a0, xv, tk_vldrbq_s8(w));
        a1 = tk_vmladavaq_s8(a1, xv, tk_vldrbq_s8(w + 16));
        a2 = tk_vmladavaq_s8(a2, xv, tk_vldrbq_s8(w + 32));
        a3 = tk_vmladavaq_s8(a3, xv, tk_vldrbq_s8(w + 48));
    }
    return tk_vmov4_s32(a0, a1, a2, a3);
}

/* the fast stage (tk_requant_fast) of four channels' raw sums v with table entry t, clamped:
 * |x| < 2^30, so SMMULR(2x, m) is VQRDMULH(x, m) (2x m never reaches the saturation) */
TK_MVE_INLINE tk_s32x4 tk_cmv_fast4(const tk_cmv_blk *b, const int32_t *t, tk_s32x4 v) {
    const tk_s32x4 x = tk_vaddq_s32(v, tk_vldrwq_s32(t));
    tk_s32x4 h = tk_vqrdmulhq_s32(x, tk_vldrwq_s32(t + 4));
    h = tk_vaddq_s32(h, tk_vshrq_n_s32(h, 31));
    h = tk_vaddq_n_s32(tk_vrshlq_s32(h, tk_vldrwq_s32(t + 8)), b->off);
    return tk_vminq_s32(tk_vmaxq_s32(h, tk_vdupq_n_s32(b->lo)), tk_vdupq_n_s32(b->hi));
}

/* the exact stage (TFLM's MultiplyByQuantizedMultiplier, any shift), clamped */
TK_MVE_INLINE tk_s32x4 tk_cmv_exact4(const tk_cmv_blk *b, const int32_t *t, tk_s32x4 v) {
    const tk_s32x4 zero = tk_vdupq_n_s32(0), s = tk_vldrwq_s32(t + 8), r = tk_vminq_s32(s, zero);
    tk_s32x4 x = tk_vaddq_s32(v, tk_vldrwq_s32(t));
    x = tk_vqrdmulhq_s32(tk_vshlq_s32(x, tk_vmaxq_s32(s, zero)), tk_vldrwq_s32(t + 4));
    x = tk_vqaddq_s32(x, tk_vandq_s32(tk_vshrq_n_s32(x, 31), tk_vshrq_n_s32(r, 31)));
    x = tk_vaddq_n_s32(tk_vrshlq_s32(x, r), b->off);
    return tk_vminq_s32(tk_vmaxq_s32(x, tk_vdupq_n_s32(b->lo)), tk_vdupq_n_s32(b->hi));
}

/* the four sums of the window at x (kh rows of nr vectors, gap bytes between them) with group
 * w's four channels */
TK_MVE_INLINE tk_s32x4 tk_cmv_dot4s(const int8_t *x, const int8_t *w, const tk_cmv_blk *b) {
    tk_s32x4 s = tk_vdupq_n_s32(0);
    for (int32_t r = 0; r < b->kh; ++r, x += 16 * b->nr + b->gap, w += 64 * b->nr) {
        s = tk_vaddq_s32(s, tk_cmv_dot4(x, w, b->nr));
    }
    return s;
}

/* every group of the block for two pixels' columns x0, x1 (o1 may equal o0), fast stage */
#if defined(TK_MVE_EMULATE)
/* tk_cmv_px2 for windows read in the input (tk_cmv_dot4s) */
static void tk_cmv_seg(const int8_t *x0, const int8_t *x1, const tk_cmv_blk *b) {
    for (int32_t i = 0; i < b->pairs; ++i, x0 += b->xstep, x1 += b->xstep) {
        const int8_t *w = b->w;
        const int32_t *t = b->t;
        int8_t *o0 = b->o0 + i * b->ostep, *o1 = b->o1 + i * b->ostep;
        for (int32_t rem = b->rem; rem > 0;
             rem -= 4, t += 12, o0 += 4, o1 += 4, w += 64 * b->n16) {
            const tk_pred in = tk_vctp32q((uint32_t)rem);
            tk_vstrbq_p_s32(o0, tk_cmv_fast4(b, t, tk_cmv_dot4s(x0, w, b)), in);
            tk_vstrbq_p_s32(o1, tk_cmv_fast4(b, t, tk_cmv_dot4s(x1, w, b)), in);
        }
    }
}

static void tk_cmv_px2(const int8_t *x0, const int8_t *x1, const tk_cmv_blk *b) {
    for (int32_t i = 0; i < b->pairs; ++i, x0 += b->xstep, x1 += b->xstep) {
        const int8_t *w = b->w;
        const int32_t *t = b->t;
        int8_t *o0 = b->o0 + i * b->ostep, *o1 = b->o1 + i * b->ostep;
        for (int32_t rem = b->rem; rem > 0;
             rem -= 4, t += 12, o0 += 4, o1 += 4, w += 64 * b->n16) {
            const tk_pred in = tk_vctp32q((uint32_t)rem);
            const tk_s32x4 y0 = tk_cmv_fast4(b, t, tk_cmv_dot4(x0, w, b->n16));
            const tk_s32x4 y1 = tk_cmv_fast4(b, t, tk_cmv_dot4(x1, w, b->n16));
            tk_vstrbq_p_s32(o0, y0, in);
            tk_vstrbq_p_s32(o1, y1, in);
        }
    }
}
#else
/* the same in assembly (r0 x0, r1 x1, r2 b): per group, eight accumulators in the even
 * registers (r0 r2 r4 r6: pixel 0's channels, r8 r10 r12 lr: pixel 1's), the first vector
 * without accumulating; per 16 taps two column loads, four row loads, eight VMLADAVA */
void tk_cmv_px2_mve(const int8_t *x0, const int8_t *x1, const tk_cmv_blk *b);
void tk_cmv_px2s_mve(const int8_t *x0, const int8_t *x1, const tk_cmv_blk *b);
void tk_cmv_px2f_mve(const int8_t *x0, const int8_t *x1, const tk_cmv_blk *b);
void tk_cmv_px2sf_mve(const int8_t *x0, const int8_t *x1, const tk_cmv_blk *b);
#define TK_CMV_V(op)                        \
    "vldrb.8 q0, [r1], #16\n\t"             \
    "vldrb.8 q1, [r3], #16\n\t"             \
    "vldrb.8 q2, [r5], #16\n\t"             \
    "vldrb.8 q3, [r5], #16\n\t"             \
    op " r0, q0, q2\n\t"                    \
    op " r8, q1, q2\n\t"                    \
    "vldrb.8 q4, [r5], #16\n\t"             \
    op " r2, q0, q3\n\t"                    \
    op " r10, q1, q3\n\t"                   \
    "vldrb.8 q5, [r5], #16\n\t"             \
    op " r4, q0, q4\n\t"                    \
    op " r12, q1, q4\n\t"                   \
    op " r6, q0, q5\n\t"                    \
    op " lr, q1, q5\n\t"
#define TK_CMV_FAST(q)                      \
    "vadd.i32 " q ", " q ", q2\n\t"         \
    "vqrdmulh.s32 " q ", " q ", q3\n\t"     \
    "vshr.s32 q5, " q ", #31\n\t"           \
    "vadd.i32 " q ", " q ", q5\n\t"         \
    "vrshl.s32 " q ", " q ", q4\n\t"        \
    "vadd.i32 " q ", " q ", r6\n\t"         \
    "vmax.s32 " q ", " q ", q6\n\t"         \
    "vmin.s32 " q ", " q ", q7\n\t"
/* the stores of a group's two pixels and the group loop: P the block's last group predicated
 * (rem: channels left), F every group full (the loop runs to the table's end, r4) */
#define TK_CMV_STORE_P                          \
    "vctp.32 r4\n\t"                           \
    "vpstt\n\t"                                \
    "vstrbt.32 q0, [r0], #4\n\t"               \
    "vstrbt.32 q1, [r2], #4\n\t"               \
    "strd r0, r2, [sp, #8]\n\t"                \
    "subs r4, #4\n\t"                          \
    "str r4, [sp, #16]\n\t"                    \
    "bgt 1b\n\t"
#define TK_CMV_STORE_F                          \
    "vstrb.32 q0, [r0], #4\n\t"                \
    "vstrb.32 q1, [r2], #4\n\t"                \
    "strd r0, r2, [sp, #8]\n\t"                \
    "cmp r9, r4\n\t"                           \
    "bne 1b\n\t"
#define TK_CMV_RESET_P "ldr r4, [sp, #36]\n\tstr r4, [sp, #16]\n\t"
#define TK_CMV_RESET_F ""
/* F: the table's end (t + 12 rem0 bytes: three words a channel) in place of rem */
#define TK_CMV_TEND_P ""
#define TK_CMV_TEND_F                           \
    "ldr r3, [r2, #16]\n\t"                    \
    "add r3, r3, r3, lsl #1\n\t"               \
    "add r3, r9, r3, lsl #2\n\t"               \
    "str r3, [sp, #16]\n\t"
/* a group's output stage and the pair loop, then the return (frame: bytes of the stack frame;
 * next: one more step to the next pair, r3 = xstep; full: P or F) */
#define TK_CMV_TAIL(frame, next, full) \
    "3:\n\t" \
    "vmov q0[2], q0[0], r0, r4\n\t" \
    "vmov q0[3], q0[1], r2, r6\n\t" \
    "vmov q1[2], q1[0], r8, r12\n\t" \
    "vmov q1[3], q1[1], r10, lr\n\t" \
    "vldrw.32 q2, [r9], #16\n\t" \
    "vldrw.32 q3, [r9], #16\n\t" \
    "vldrw.32 q4, [r9], #16\n\t" \
    "ldrd r4, r6, [sp, #16]\n\t"        /* rem (full: the table's end), off */ \
    TK_CMV_FAST("q0") \
    TK_CMV_FAST("q1") \
    "ldrd r0, r2, [sp, #8]\n\t" \
    TK_CMV_STORE_##full \
    "ldrd r0, r1, [sp]\n\t"             /* the next pair */ \
    "ldrd r2, r3, [sp, #24]\n\t"        /* pairs, xstep */ \
    "add r0, r3\n\t" \
    "add r1, r3\n\t" \
    next \
    "strd r0, r1, [sp]\n\t" \
    "ldrd r0, r1, [sp, #8]\n\t" \
    "ldr r3, [sp, #32]\n\t" \
    "add r0, r3\n\t" \
    "add r1, r3\n\t" \
    "strd r0, r1, [sp, #8]\n\t" \
    TK_CMV_RESET_##full \
    "ldrd r5, r9, [sp, #40]\n\t" \
    "subs r2, #1\n\t" \
    "str r2, [sp, #24]\n\t" \
    "bgt 1b\n\t" \
    "add sp, #" frame "\n\t"             \
    "vpop {d8-d15}\n\t"                    \
    "pop {r4-r11, pc}\n\t"
#define TK_CMV_PX2(name, next, full)                                                              \
__asm__(                                                                                        \
    ".pushsection .text." name ", \"ax\", %progbits\n\t"                                        \
    ".syntax unified\n\t"                                                                       \
    ".thumb\n\t"                                                                                \
    ".p2align 2\n\t"                                                                            \
    ".global " name "\n\t"                                                                      \
    ".type " name ", %function\n\t"                                                             \
    ".thumb_func\n"                                                                             \
    name ":\n\t"                                                                                \
    "push {r4-r11, lr}\n\t"                                                                     \
    "vpush {d8-d15}\n\t"                                                                        \
    "sub sp, #56\n\t"   /* x0, x1, o0, o1, rem, off, pairs, xstep, ostep - 4 groups, rem0, w, t, \
                          * the dot's entry after its first vector */                           \
    "strd r0, r1, [sp]\n\t"                                                                     \
    "ldrd r3, r4, [r2, #8]\n\t"                                                                 \
    "strd r3, r4, [sp, #8]\n\t"                                                                 \
    "ldrd r3, r4, [r2, #16]\n\t"                                                                \
    "strd r3, r4, [sp, #16]\n\t"                                                                \
    "str r3, [sp, #36]\n\t"                                                                     \
    "adds r3, #3\n\t"                                                                           \
    "bic r3, r3, #3\n\t"                /* 4 groups */                                          \
    "ldrd r4, r5, [r2, #36]\n\t"        /* pairs, xstep */                                      \
    "strd r4, r5, [sp, #24]\n\t"                                                                \
    "ldr r4, [r2, #44]\n\t"                                                                     \
    "subs r4, r4, r3\n\t"                                                                       \
    "str r4, [sp, #32]\n\t"                                                                     \
    "ldrd r5, r9, [r2]\n\t"             /* w, t */                                              \
    "strd r5, r9, [sp, #40]\n\t"                                                                \
    TK_CMV_TEND_##full                                                                \
    "ldr r11, [r2, #24]\n\t"            /* n16 */                                               \
    "ldrd r3, r4, [r2, #28]\n\t"                                                                \
    "vdup.32 q6, r3\n\t"                                                                        \
    "vdup.32 q7, r4\n\t"                                                                        \
    /* m = n16 - 1 more vectors after the first: m < 3: the last m of the three written out     \
     * after the loop; else m - 3 = 4 a + s: the loop of four entered at its last s vectors (s  \
     * = 0: at its head; a = 0 too: the three alone), run until the column pointer r1 reaches r11 \
     * (the pair's x0 + 16 (n16 - 3), stepped with the pairs) */                                \
    "subs r11, #1\n\t"                                                                          \
    "subs r4, r11, #3\n\t"                                                                      \
    "bge 7f\n\t"                                                                                \
    "rsb r4, r11, #3\n\t"                                                                       \
    "movs r3, #56\n\t"                 /* bytes per vector's 14 instructions */                 \
    "adr r5, 25f\n\t"                                                                           \
    "mla r4, r4, r3, r5\n\t"                                                                    \
    "b 6f\n"                                                                                    \
    "7:\n\t"                                                                                    \
    "ands r3, r4, #3\n\t"                                                                       \
    "beq 8f\n\t"                                                                                \
    "rsb r3, r3, #4\n\t"                                                                        \
    "movs r4, #56\n\t"                                                                          \
    "muls r3, r4, r3\n\t"                                                                       \
    "adr r4, 21f\n\t"                                                                           \
    "add r4, r3\n\t"                                                                            \
    "b 6f\n"                                                                                    \
    "8:\n\t"                                                                                    \
    "adr r4, 21f\n\t"                                                                           \
    "cmp r11, #3\n\t"                                                                           \
    "bne 6f\n\t"                                                                                \
    "adr r4, 25f\n"                                                                             \
    "6:\n\t"                                                                                    \
    "orr r4, r4, #1\n\t"                /* Thumb */                                             \
    "str r4, [sp, #48]\n\t"                                                                     \
    "subs r11, #2\n\t"                                                                          \
    "add r11, r0, r11, lsl #4\n\t"                                                              \
    "ldr r5, [sp, #40]\n"              /* w again */                                            \
    "1:\n\t"                                                                                    \
    "ldrd r1, r3, [sp]\n\t"                                                                     \
    TK_CMV_V("vmladav.s8")                                                                      \
    "ldr pc, [sp, #48]\n\t"                                                                     \
    ".p2align 2\n"                                                                              \
    "21:\n\t"                                                                                   \
    TK_CMV_V("vmladava.s8")                                                                     \
    TK_CMV_V("vmladava.s8")                                                                     \
    TK_CMV_V("vmladava.s8")                                                                     \
    TK_CMV_V("vmladava.s8")                                                                     \
    "cmp r1, r11\n\t"                                                                           \
    "bne 21b\n"                                                                                 \
    "25:\n\t"                                                                                   \
    TK_CMV_V("vmladava.s8")                                                                     \
    TK_CMV_V("vmladava.s8")                                                                     \
    TK_CMV_V("vmladava.s8")                                                                     \
    TK_CMV_TAIL("56", next, full)                                                                 \
    ".size " name ", . - " name "\n\t"                                                          \
    ".popsection\n")
/* with the loop (n16 > 4: r11, the loop's end, steps with the pairs) and without */
TK_CMV_PX2("tk_cmv_px2_mve", "add r11, r3\n\t", P);
TK_CMV_PX2("tk_cmv_px2s_mve", "", P);
TK_CMV_PX2("tk_cmv_px2f_mve", "add r11, r3\n\t", F);
TK_CMV_PX2("tk_cmv_px2sf_mve", "", F);
#undef TK_CMV_PX2
/* tk_cmv_seg in assembly (r0 x0, r1 x1, r2 b): tk_cmv_px2_mve's groups and pairs over windows
 * read in the input, kh <= TK_CMV_KH kernel rows of nr <= TK_CMV_NR vectors, r11 the gap between
 * rows: per kernel row a load to pc (r7 walks a list of entries on the frame) enters TK_CMV_NR
 * vectors written out at the row's nr last ones (the first row after its first vector, which
 * starts the accumulators); after the last row the list's last entry, the output stage */
void tk_cmv_seg_mve(const int8_t *x0, const int8_t *x1, const tk_cmv_blk *b);
void tk_cmv_segf_mve(const int8_t *x0, const int8_t *x1, const tk_cmv_blk *b);
#define TK_CMV_SEG(name, full) \
__asm__(                                                                                        \
    ".pushsection .text." name ", \"ax\", %progbits\n\t"                                        \
    ".syntax unified\n\t"                                                                       \
    ".thumb\n\t"                                                                                \
    ".p2align 2\n\t"                                                                            \
    ".global " name "\n\t"                                                                      \
    ".type " name ", %function\n\t"                                                             \
    ".thumb_func\n"                                                                             \
    name ":\n\t"                                                                                \
    "push {r4-r11, lr}\n\t"                                                                     \
    "vpush {d8-d15}\n\t"                                                                        \
    "sub sp, #96\n\t"   /* tk_cmv_px2_mve's frame; 56: the entries of the rows, then of the     \
                           * output stage (kh <= TK_CMV_KH) */                                  \
    "strd r0, r1, [sp]\n\t"                                                                     \
    "ldrd r3, r4, [r2, #8]\n\t"                                                                 \
    "strd r3, r4, [sp, #8]\n\t"                                                                 \
    "ldrd r3, r4, [r2, #16]\n\t"                                                                \
    "strd r3, r4, [sp, #16]\n\t"                                                                \
    "str r3, [sp, #36]\n\t"                                                                     \
    "adds r3, #3\n\t"                                                                           \
    "bic r3, r3, #3\n\t"                /* 4 groups */                                          \
    "ldrd r4, r5, [r2, #36]\n\t"        /* pairs, xstep */                                      \
    "strd r4, r5, [sp, #24]\n\t"                                                                \
    "ldr r4, [r2, #44]\n\t"                                                                     \
    "subs r4, r4, r3\n\t"                                                                       \
    "str r4, [sp, #32]\n\t"                                                                     \
    "ldrd r5, r9, [r2]\n\t"             /* w, t */                                              \
    "strd r5, r9, [sp, #40]\n\t"                                                                \
    TK_CMV_TEND_##full                                                                          \
    "ldrd r3, r4, [r2, #28]\n\t"                                                                \
    "vdup.32 q6, r3\n\t"                                                                        \
    "vdup.32 q7, r4\n\t"                                                                        \
    "ldrd r11, r3, [r2, #48]\n\t"       /* gap, kh */                                           \
    "ldr r6, [r2, #56]\n\t"             /* nr */                                                \
    "adr r4, 9f\n\t"                                                                            \
    "movs r5, #56\n\t"                  /* bytes per vector's 14 instructions */                \
    "mls r4, r6, r5, r4\n\t"                                                                    \
    "orr r4, r4, #1\n\t"                /* Thumb: a row's entry */                              \
    "adds r6, r4, #56\n\t"                                                                      \
    "str r6, [sp, #56]\n\t"             /* the first row's */                                   \
    "add r6, sp, #60\n\t"                                                                       \
    "subs r3, #1\n\t"                                                                           \
    "beq 5f\n"                                                                                  \
    "4:\n\t"                                                                                    \
    "str r4, [r6], #4\n\t"                                                                      \
    "subs r3, #1\n\t"                                                                           \
    "bne 4b\n"                                                                                  \
    "5:\n\t"                                                                                    \
    "adr r4, 3f\n\t"                                                                            \
    "orr r4, r4, #1\n\t"                                                                        \
    "str r4, [r6]\n\t"                  /* after the last row: the output stage */              \
    "ldr r5, [sp, #40]\n"              /* w again */                                            \
    "1:\n\t"                                                                                    \
    "ldrd r1, r3, [sp]\n\t"                                                                     \
    TK_CMV_V("vmladav.s8")                                                                      \
    "add r7, sp, #56\n\t"                                                                       \
    "ldr pc, [r7], #4\n\t"                                                                      \
    ".p2align 2\n\t"                                                                            \
    TK_CMV_V("vmladava.s8") TK_CMV_V("vmladava.s8") TK_CMV_V("vmladava.s8")                     \
    TK_CMV_V("vmladava.s8") TK_CMV_V("vmladava.s8") TK_CMV_V("vmladava.s8")                     \
    TK_CMV_V("vmladava.s8") TK_CMV_V("vmladava.s8") TK_CMV_V("vmladava.s8")                     \
    TK_CMV_V("vmladava.s8") TK_CMV_V("vmladava.s8") TK_CMV_V("vmladava.s8")                     \
    "9:\n\t"                                                                                    \
    "add r1, r11\n\t"                                                                           \
    "add r3, r11\n\t"                                                                           \
    "ldr pc, [r7], #4\n"                                                                        \
    TK_CMV_TAIL("96", "", full)                                                                 \
    ".size " name ", . - " name "\n\t"                                                          \
    ".popsection\n")
TK_CMV_SEG("tk_cmv_seg_mve", P);
TK_CMV_SEG("tk_cmv_segf_mve", F);
#undef TK_CMV_SEG
#undef TK_CMV_V
#undef TK_CMV_FAST
#undef TK_CMV_TAIL
#undef TK_CMV_STORE_P
#undef TK_CMV_STORE_F
#undef TK_CMV_RESET_P
#undef TK_CMV_RESET_F
#undef TK_CMV_TEND_P
#undef TK_CMV_TEND_F
/* the variant for the block: the loop (more than 64 taps) or none; every group full (F) or the
 * last one predicated (direct calls, which the image's stack analysis follows) */
TK_MVE_INLINE void tk_cmv_px2(const int8_t *x0, const int8_t *x1, const tk_cmv_blk *b) {
    if (b->rem & 3) {
        if (b->n16 > 4) {
            tk_cmv_px2_mve(x0, x1, b);
        } else {
            tk_cmv_px2s_mve(x0, x1, b);
        }
    } else if (b->n16 > 4) {
        tk_cmv_px2f_mve(x0, x1, b);
    } else {
        tk_cmv_px2sf_mve(x0, x1, b);
    }
}
TK_MVE_INLINE void tk_cmv_seg(const int8_t *x0, const int8_t *x1, const tk_cmv_blk *b) {
    if (b->rem & 3) {
        tk_cmv_seg_mve(x0, x1, b);
    } else {
        tk_cmv_segf_mve(x0, x1, b);
    }
}
#endif

/* one pixel's column x against every group of the block, exact stage */
static void tk_cmv_px1_exact(const int8_t *x, const tk_cmv_blk *b, int8_t *o) {
    const int8_t *w = b->w;
    const int32_t *t = b->t;
    for (int32_t rem = b->rem; rem > 0; rem -= 4, t += 12, o += 4, w += 64 * b->n16) {
        tk_vstrbq_p_s32(o, tk_cmv_exact4(b, t, tk_cmv_dot4(x, w, b->n16)),
                        tk_vctp32q((uint32_t)rem));
    }
}

#if defined(TK_MVE_EMULATE)
TK_MVE_INLINE void tk_cmv_vstrbq_p_s8(int8_t *p, tk_s8x16 v, tk_pred m) {
    for (int i = 0; i < 16; ++i) {
        if (tk_pred_on(m, i)) p[i] = v.v[i];
    }
}
#else
TK_MVE_INLINE void tk_cmv_vstrbq_p_s8(int8_t *p, tk_s8x16 v, tk_pred m) { vstrbq_p_s8(p, v, m); }
#endif

/* n bytes from src to d (n >= 1; 16-byte pieces, the last one predicated) */
TK_MVE_INLINE void tk_cmv_copy(int8_t *d, const int8_t *src, int32_t n) {
    for (; n > 16; n -= 16, d += 16, src += 16) tk_vstrbq_s8(d, tk_vldrbq_s8(src));
    const tk_pred m = tk_vctp8q((uint32_t)n);
    tk_cmv_vstrbq_p_s8(d, tk_vldrbq_z_s8(src, m), m);
}

/* `rows` spans of n bytes from src (src_step apart) to d (d_step apart) */
TK_MVE_INLINE void tk_cmv_rows(int8_t *d, const int8_t *src, int32_t n, int32_t rows,
                               int32_t d_step, int32_t src_step) {
    if (n <= 16) {
        const tk_pred m = tk_vctp8q((uint32_t)n);
        for (; rows > 0; --rows, d += d_step, src += src_step) {
            tk_cmv_vstrbq_p_s8(d, tk_vldrbq_z_s8(src, m), m);
        }
        return;
    }
    for (; rows > 0; --rows, d += d_step, src += src_step) tk_cmv_copy(d, src, n);
}

/* tk_conv_patch for filters not dilated in width: the zero point where the window has taps in
 * the padding (the whole column, KR bytes: the bytes past K meet zero weights), then the inside
 * span of each kernel row inside the input, one predicated copy when it is at most 16 bytes */
static void tk_cmv_patch(const tk_conv_geo *g, const tk_conv_px *px, int8_t zp, int32_t KR,
                         int8_t *d) {
    const int32_t C = g->C, R = g->kw * C, dh = g->dil_h, iy0 = px->iy0;
    if (iy0 >= 0 && px->ix0 >= 0 && px->ix0 + g->kw <= g->W &&
        iy0 + (g->kh - 1) * dh < g->H) {        /* the window inside: kh spans of R bytes */
        tk_cmv_rows(d, px->img + (iy0 * g->W + px->ix0) * C, R, g->kh, R, g->row_step);
        return;
    }
    const int32_t kx0 = TK_MIN(px->ix0 < 0 ? -px->ix0 : 0, g->kw);
    const int32_t kx1 = TK_MAX(TK_MIN(g->kw, g->W - px->ix0), kx0);
    const int32_t ky0 = TK_MIN(iy0 < 0 ? (-iy0 + dh - 1) / dh : 0, g->kh);
    const int32_t ky1 = TK_MAX(TK_MIN(g->kh, (g->H - iy0 + dh - 1) / dh), ky0);
    if (kx0 > 0 || kx1 < g->kw || ky0 > 0 || ky1 < g->kh) {
        const tk_s8x16 z = tk_vdupq_n_s8(zp);
        for (int32_t k = 0; k < KR; k += 16) tk_vstrbq_s8(d + k, z);
    }
    if (kx1 == kx0) return;
    const int32_t n = (kx1 - kx0) * C, step = g->row_step;
    const int8_t *src = px->img + ((iy0 + ky0 * dh) * g->W + px->ix0 + kx0) * C;
    tk_cmv_rows(d + ky0 * R + kx0 * C, src, n, ky1 - ky0, R, step);
}

/* pixel px's column into col (KR bytes: the 1x1 pixel's K bytes, or the im2col column; bytes
 * past K are 0 or stale, and meet zero weights) */
TK_MVE_INLINE void tk_cmv_col(const tk_conv2d_params *p, const tk_conv_geo *g,
                              const tk_conv_px *px, int32_t K, int32_t KR, int8_t zp,
                              int8_t *col) {
    if (p->filter.h == 1 && p->filter.w == 1) {
        tk_cmv_copy(col, tk_conv_at(p, px), K);
    } else if (g->dil_w == 1) {
        tk_cmv_patch(g, px, zp, KR, col);
    } else {
        tk_conv_patch(g, px, zp, col);
    }
}

/* m >= 1 columns at cols (KR bytes apart) of consecutive output pixels from o: in pairs, the
 * last one alone when m is odd */
static void tk_cmv_run(tk_cmv_blk *b, const int8_t *cols, int32_t m, int32_t KR, int8_t *o,
                       int32_t out_c) {
    if (m >= 2) {
        b->pairs = m >> 1, b->o0 = o, b->o1 = o + out_c;
        tk_cmv_px2(cols, cols + KR, b);
    }
    if (m & 1) {
        const int8_t *x = cols + (m - 1) * KR;
        b->pairs = 1, b->o0 = b->o1 = o + (m - 1) * out_c;
        tk_cmv_px2(x, x, b);
    }
}

/* the tap offsets of a window inside the input (from its first tap), KR of them (0 past K) into
 * offs: 1 as bytes (all below 256), 2 as halfwords, 0 when one is over 16 bits */
static int tk_cmv_offsets(const tk_conv_geo *g, int32_t K, int32_t KR, void *offs) {
    const int32_t R = g->kw * g->C, last = K - 1;
    const int32_t omax = last / R * g->row_step + last % R / g->C * g->col_step + g->C - 1;
    if (omax > 65535) return 0;
    for (int32_t j = 0; j < KR; ++j) {
        const int32_t ky = j / R, kx = (j % R) / g->C, c = j % g->C;
        const int32_t o = j < K ? ky * g->row_step + kx * g->col_step + c : 0;
        if (omax < 256) {
            ((uint8_t *)offs)[j] = (uint8_t)o;
        } else {
            ((uint16_t *)offs)[j] = (uint16_t)o;
        }
    }
    return omax < 256 ? 1 : 2;
}

/* the column of a window inside the input at base into col: KR taps gathered at offs (bytes:
 * sixteen per VLDRB.U8 gather; else halfwords: eight per VLDRB.S16 gather) */
TK_MVE_INLINE void tk_cmv_gather(const int8_t *base, const void *offs, int bytes, int32_t KR,
                                 int8_t *col) {
    if (bytes) {
        const uint8_t *o = (const uint8_t *)offs;
        for (int32_t j = 0; j < KR; j += 16) {
            tk_vstrbq_s8(col + j, tk_vldrbq_gather_offset_s8(base, tk_u8x16_of(o + j)));
        }
        return;
    }
    const uint16_t *o = (const uint16_t *)offs;
    for (int32_t j = 0; j < KR; j += 8) {
        tk_vstrbq_p_s16(col + j, tk_vldrbq_gather_offset_s16(base, tk_u16x8_of(o + j)), 0xFFFF);
    }
}

/* the column of a window inside the input at src whose kernel rows are nr 16-byte vectors (R =
 * kw C a multiple of 16, nr <= TK_CMV_NR): kh rows, step bytes apart in the input, copied one
 * after the other into col (KR = K bytes) */
#define TK_CMV_NR 12
#define TK_CMV_KH 9             /* kernel rows at most (the entries on tk_cmv_seg_mve's frame) */
#if defined(TK_MVE_EMULATE)
static void tk_cmv_rows16(int8_t *col, const int8_t *src, int32_t nr, int32_t kh, int32_t step) {
    for (; kh > 0; --kh, src += step) {
        for (int32_t v = 0; v < nr; ++v, col += 16) tk_vstrbq_s8(col, tk_vldrbq_s8(src + 16 * v));
    }
}
#else
/* in assembly (r0 col, r1 src, r2 nr, r3 kh, [sp] step - 16 nr): per kernel row, a branch into
 * TK_CMV_NR written-out pairs of VLDRB and VSTRB at the row's nr last ones */
void tk_cmv_rows16_mve(int8_t *col, const int8_t *src, int32_t nr, int32_t kh, int32_t gap);
#define TK_CMV_CP "vldrb.8 q0, [r1], #16\n\tvstrb.8 q0, [r0], #16\n\t"
__asm__(
    ".pushsection .text.tk_cmv_rows16_mve, \"ax\", %progbits\n\t"
    ".syntax unified\n\t"
    ".thumb\n\t"
    ".p2align 2\n\t"
    ".global tk_cmv_rows16_mve\n\t"
    ".type tk_cmv_rows16_mve, %function\n\t"
    ".thumb_func\n"
    "tk_cmv_rows16_mve:\n\t"
    "push {r4, r5, r6, lr}\n\t"
    "ldr r4, [sp, #16]\n\t"
    "adr r5, 9f\n\t"
    "sub r5, r5, r2, lsl #3\n\t"
    "orr r5, r5, #1\n"
    "1:\n\t"
    "bx r5\n\t"
    ".p2align 2\n\t"
    TK_CMV_CP TK_CMV_CP TK_CMV_CP TK_CMV_CP TK_CMV_CP TK_CMV_CP
    TK_CMV_CP TK_CMV_CP TK_CMV_CP TK_CMV_CP TK_CMV_CP TK_CMV_CP
    "9:\n\t"
    "add r1, r4\n\t"
    "subs r3, #1\n\t"
    "bne 1b\n\t"
    "pop {r4, r5, r6, pc}\n\t"
    ".size tk_cmv_rows16_mve, . - tk_cmv_rows16_mve\n\t"
    ".popsection\n");
#undef TK_CMV_CP
TK_MVE_INLINE void tk_cmv_rows16(int8_t *col, const int8_t *src, int32_t nr, int32_t kh,
                                 int32_t step) {
    tk_cmv_rows16_mve(col, src, nr, kh, step - 16 * nr);
}
#endif

/* tk_cmv_block's walk for the fast stage, columns of windows inside the input gathered (eight
 * taps per gather at offs, tk_cmv_gather), the others by tk_cmv_col; batches of ncol columns */
static void tk_cmv_walk_gather(const tk_conv2d_params *p, tk_cmv_blk *b, const int8_t *input,
                               int32_t K, int32_t KR, int8_t *cols, int32_t ncol,
                               const void *offs, int bytes) {
    const tk_conv_geo g = tk_conv_geo_make(p);
    const int8_t zp = (int8_t)(-p->quant.input_offset);
    const int32_t out_c = p->output.c, C = p->input.c, W = p->input.w;
    const int32_t sh = p->geom.stride_h, sw = p->geom.stride_w;
    const int32_t ymax = p->input.h - 1 - (g.kh - 1) * g.dil_h;
    const int32_t xmax = W - 1 - (g.kw - 1) * g.dil_w;
    const int32_t img_bytes = p->input.h * W * C;
    int8_t *out = b->o0;
    int32_t m = 0;
    for (int32_t n = 0; n < p->input.n; ++n, input += img_bytes) {
        for (int32_t oy = 0, iy0 = -p->geom.pad_h; oy < p->output.h; ++oy, iy0 += sh) {
            const int row_in = iy0 >= 0 && iy0 <= ymax;
            for (int32_t ox = 0, ix0 = -p->geom.pad_w; ox < p->output.w; ++ox, ix0 += sw) {
                int8_t *col = cols + m * KR;
                if (row_in && ix0 >= 0 && ix0 <= xmax) {
                    tk_cmv_gather(input + (iy0 * W + ix0) * C, offs, bytes, KR, col);
                } else {
                    const tk_conv_px px = {input, iy0, ix0};
                    tk_cmv_col(p, &g, &px, K, KR, zp, col);
                }
                if (++m == ncol) {
                    tk_cmv_run(b, cols, m, KR, out, out_c);
                    out += m * out_c;
                    m = 0;
                }
            }
        }
    }
    if (m) tk_cmv_run(b, cols, m, KR, out, out_c);
}

/* the column of a window with taps in the padding, C a multiple of 16 and kw C at most
 * 16 TK_CMV_NR: per kernel row, 16-byte vectors of the zero point outside the input, copies of
 * the input inside */
#if defined(TK_MVE_EMULATE)
static void tk_cmv_border16(const tk_conv_geo *g, const tk_conv_px *px, int8_t zp,
                            int8_t *col) {
    const tk_s8x16 z = tk_vdupq_n_s8(zp);
    const int32_t C = g->C, R = g->kw * C;
    const int32_t kx0 = TK_MIN(px->ix0 < 0 ? -px->ix0 : 0, g->kw);
    const int32_t kx1 = TK_MAX(TK_MIN(g->kw, g->W - px->ix0), kx0);
    const int32_t na = kx0 * C >> 4, nc = (kx1 - kx0) * C >> 4, nr = R >> 4;
    for (int32_t ky = 0; ky < g->kh; ++ky) {
        const int32_t iy = px->iy0 + ky * g->dil_h;
        int32_t v = nr;
        if (iy >= 0 && iy < g->H) {
            const int8_t *src = px->img + (iy * g->W + px->ix0 + kx0) * C;
            for (int32_t k = na; k > 0; --k, col += 16) tk_vstrbq_s8(col, z);
            for (int32_t k = nc; k > 0; --k, col += 16, src += 16) {
                tk_vstrbq_s8(col, tk_vldrbq_s8(src));
            }
            v = nr - na - nc;
        }
        for (; v > 0; --v, col += 16) tk_vstrbq_s8(col, z);
    }
}
#else
/* in assembly (r0 col, r1 the first inside kernel row's first copied byte, r2 q): kernel rows
 * above the input, then inside it, then below; a row outside enters TK_CMV_NR written-out
 * VSTRB of the zero point at its nr last, a row inside the same at its na last, then written-out
 * VLDRB/VSTRB pairs at the nc last, then VSTRB at the nb last (entries once per column) */
typedef struct {
    int32_t before, in, after;      /* kernel rows above the input, in it, below it */
    int32_t na, nc, nb;             /* a row inside: vectors of zero point, copied, zero point */
    int32_t gap;                    /* bytes from a row's last copied byte to the next row's */
    int32_t zp;
} tk_cmv_bq;
void tk_cmv_border_mve(int8_t *col, const int8_t *src, const tk_cmv_bq *q);
#define TK_CMV_Z "vstrb.8 q0, [r0], #16\n\t"
#define TK_CMV_C "vldrb.8 q1, [r1], #16\n\tvstrb.8 q1, [r0], #16\n\t"
__asm__(
    ".pushsection .text.tk_cmv_border_mve, \"ax\", %progbits\n\t"
    ".syntax unified\n\t"
    ".thumb\n\t"
    ".p2align 2\n\t"
    ".global tk_cmv_border_mve\n\t"
    ".type tk_cmv_border_mve, %function\n\t"
    ".thumb_func\n"
    "tk_cmv_border_mve:\n\t"
    "push {r4-r9, lr}\n\t"
    "ldm r2, {r3, r4, r5, r6, r7, r8, r9, r12}\n\t"
    "vdup.8 q0, r12\n\t"
    "add r12, r6, r7\n\t"
    "add r12, r8\n\t"                   /* nr */
    "adr r2, 1f\n\t"
    "sub r6, r2, r6, lsl #2\n\t"
    "sub r12, r2, r12, lsl #2\n\t"
    "adr r2, 2f\n\t"
    "sub r7, r2, r7, lsl #3\n\t"
    "adr r2, 3f\n\t"
    "sub r8, r2, r8, lsl #2\n\t"
    "orr r6, r6, #1\n\t"                /* Thumb */
    "orr r7, r7, #1\n\t"
    "orr r8, r8, #1\n\t"
    "orr r12, r12, #1\n\t"
    "adr lr, 11f\n\t"
    "orr lr, lr, #1\n\t"
    "cbz r3, 20f\n"
    "10:\n\t"
    "bx r12\n"
    "11:\n\t"
    "subs r3, #1\n\t"
    "bne 10b\n"
    "20:\n\t"
    "cbz r4, 30f\n\t"
    "mov lr, r7\n"
    "21:\n\t"
    "bx r6\n"
    "30:\n\t"
    "cbz r5, 40f\n\t"
    "adr lr, 31f\n\t"
    "orr lr, lr, #1\n"
    "32:\n\t"
    "bx r12\n"
    "31:\n\t"
    "subs r5, #1\n\t"
    "bne 32b\n"
    "40:\n\t"
    "pop {r4-r9, pc}\n\t"
    ".p2align 2\n\t"
    TK_CMV_Z TK_CMV_Z TK_CMV_Z TK_CMV_Z TK_CMV_Z TK_CMV_Z
    TK_CMV_Z TK_CMV_Z TK_CMV_Z TK_CMV_Z TK_CMV_Z TK_CMV_Z
    "1:\n\t"
    "bx lr\n\t"
    ".p2align 2\n\t"
    TK_CMV_C TK_CMV_C TK_CMV_C TK_CMV_C TK_CMV_C TK_CMV_C
    TK_CMV_C TK_CMV_C TK_CMV_C TK_CMV_C TK_CMV_C TK_CMV_C
    "2:\n\t"
    "bx r8\n\t"
    ".p2align 2\n\t"
    TK_CMV_Z TK_CMV_Z TK_CMV_Z TK_CMV_Z TK_CMV_Z TK_CMV_Z
    TK_CMV_Z TK_CMV_Z TK_CMV_Z TK_CMV_Z TK_CMV_Z TK_CMV_Z
    "3:\n\t"
    "add r1, r9\n\t"
    "subs r4, #1\n\t"
    "bne 21b\n\t"
    "b 30b\n\t"
    ".size tk_cmv_border_mve, . - tk_cmv_border_mve\n\t"
    ".popsection\n");
#undef TK_CMV_Z
#undef TK_CMV_C
__attribute__((noinline))
static void tk_cmv_border16(const tk_conv_geo *g, const tk_conv_px *px, int8_t zp,
                            int8_t *col) {
    const int32_t C16 = g->C >> 4, kw = g->kw, kh = g->kh, dh = g->dil_h;
    const int32_t ix0 = px->ix0, iy0 = px->iy0;
    int32_t kx0 = ix0 < 0 ? -ix0 : 0, kx1 = g->W - ix0, ky0, ky1;
    if (dh == 1) {
        ky0 = iy0 < 0 ? -iy0 : 0, ky1 = g->H - iy0;
    } else {
        ky0 = iy0 < 0 ? (dh - 1 - iy0) / dh : 0, ky1 = (g->H - iy0 + dh - 1) / dh;
    }
    kx0 = TK_MIN(kx0, kw), kx1 = TK_MAX(TK_MIN(kx1, kw), kx0);
    ky0 = TK_MIN(ky0, kh), ky1 = TK_MAX(TK_MIN(ky1, kh), ky0);
    if (kx1 == kx0) ky0 = ky1 = kh;     /* no tap inside: every row outside */
    const int32_t nc = (kx1 - kx0) * C16;
    const int8_t *src = px->img;
    if (ky1 > ky0) src += ((iy0 + ky0 * dh) * g->W + ix0 + kx0) * g->C;
    const tk_cmv_bq q = {ky0, ky1 - ky0, kh - ky1, kx0 * C16, nc, (kw - kx1) * C16,
                         g->row_step - 16 * nc, zp};
    tk_cmv_border_mve(col, src, &q);
}
#endif

/* kind 3's walk (kernel rows of whole vectors, fast stage; b: rows, table, channels, o0): the
 * pixels whose windows lie inside the input read there, a run of pairs per output row in one
 * tk_cmv_seg call; the others' columns (an odd run's last one too) built in cols and taken two by
 * two, whatever their outputs */
static void tk_cmv_walk_rows(const tk_conv2d_params *p, tk_cmv_blk *b, const int8_t *input,
                             int32_t K, int32_t KR, int8_t *cols) {
    const tk_conv_geo g = tk_conv_geo_make(p);
    const int8_t zp = (int8_t)(-p->quant.input_offset);
    const int32_t out_c = p->output.c, C = p->input.c, W = p->input.w, OW = p->output.w;
    const int32_t sh = p->geom.stride_h, sw = p->geom.stride_w, pw = p->geom.pad_w;
    const int32_t ymax = p->input.h - 1 - (g.kh - 1) * g.dil_h, xmax = W - g.kw;
    const int32_t nr = g.kw * C >> 4, img_bytes = p->input.h * W * C;
    /* the output columns whose windows lie inside the input across: [oxa, oxb) */
    const int32_t oxa = (pw + sw - 1) / sw;
    const int32_t oxb = xmax + pw < 0 ? oxa : TK_MAX(TK_MIN((xmax + pw) / sw + 1, OW), oxa);
    int8_t *const out0 = b->o0, *pend = 0;      /* the output of a column waiting in cols */
    int8_t *o = out0;
    for (int32_t n = 0; n < p->input.n; ++n, input += img_bytes) {
        for (int32_t oy = 0, iy0 = -p->geom.pad_h; oy < p->output.h; ++oy, iy0 += sh) {
            const int row_in = iy0 >= 0 && iy0 <= ymax;
            for (int32_t ox = 0; ox < OW; ++ox, o += out_c) {
                const int32_t ix0 = ox * sw - pw, run = oxb - ox;
                if (row_in && ox >= oxa && run >= 2) {      /* pairs read in the input */
                    const int8_t *x0 = input + (iy0 * W + ix0) * C;
                    b->gap = g.row_step - g.kw * C, b->kh = g.kh, b->nr = nr;
                    b->pairs = run >> 1, b->o0 = o, b->o1 = o + out_c;
                    b->xstep = 2 * sw * C, b->ostep = 2 * out_c;
                    tk_cmv_seg(x0, x0 + sw * C, b);
                    ox += 2 * b->pairs - 1, o += (2 * b->pairs - 1) * out_c;
                    continue;
                }
                int8_t *col = cols + (pend ? KR : 0);
                if (row_in && ox >= oxa && run == 1) {
                    tk_cmv_rows16(col, input + (iy0 * W + ix0) * C, nr, g.kh, g.row_step);
                } else if (!(C & 15)) {
                    const tk_conv_px px = {input, iy0, ix0};
                    tk_cmv_border16(&g, &px, zp, col);
                } else {
                    const tk_conv_px px = {input, iy0, ix0};
                    tk_cmv_col(p, &g, &px, K, KR, zp, col);
                }
                if (!pend) {
                    pend = o;
                    continue;
                }
                b->pairs = 1, b->o0 = pend, b->o1 = o;
                tk_cmv_px2(cols, cols + KR, b);
                pend = 0;
            }
        }
    }
    if (pend) {
        b->pairs = 1, b->o0 = b->o1 = pend;
        tk_cmv_px2(cols, cols, b);
    }
}

/* every output pixel against the block (b: its rows, table, channel count; o0 at its first
 * channel of the first pixel); cols: room for ncol >= 2 columns of KR bytes (zeroed); kind: the
 * tk_cmv_offsets table in the last two (1: bytes, 2: halfwords), or 0 */
static void tk_cmv_block(const tk_conv2d_params *p, const int8_t *input, tk_cmv_blk *b,
                         int32_t K, int32_t KR, int8_t *cols, int32_t ncol, int kind) {
    const tk_conv_geo g = tk_conv_geo_make(p);
    const int8_t zp = (int8_t)(-p->quant.input_offset);
    const int32_t out_c = p->output.c;
    int8_t *out = b->o0;
    tk_walk it;
    tk_conv_px px[2];
    tk_walk_init(&it, p, input);
    if (!p->rq_fast) {
        for (int32_t n; (n = tk_conv_next2(&it, px)) > 0;) {
            for (int32_t i = 0; i < n; ++i, out += out_c) {
                tk_cmv_col(p, &g, &px[i], K, KR, zp, cols);
                tk_cmv_px1_exact(cols, b, out);
            }
        }
        return;
    }
    b->xstep = 2 * KR, b->ostep = 2 * out_c;
    if (p->filter.h == 1 && p->filter.w == 1 && !(K & 15) && p->geom.stride_h == 1 &&
        p->geom.stride_w == 1) {
        /* the pixels follow each other in the input: the columns are the input */
        b->xstep = 2 * K;
        tk_cmv_run(b, input, it.left, K, out, out_c);
        return;
    }
    if (p->filter.h == 1 && p->filter.w == 1 && p->geom.stride_h == 1 &&
        p->geom.stride_w == 1) {                /* consecutive pixels: batches of columns */
        for (int32_t left = it.left; left > 0; input += ncol * K, out += ncol * out_c) {
            const int32_t m = left < ncol ? left : ncol;
            tk_cmv_rows(cols, input, K, m, KR, K);
            tk_cmv_run(b, cols, m, KR, out, out_c);
            left -= m;
        }
        return;
    }
    if (kind == 3) {        /* kernel rows of whole vectors read in the input */
        tk_cmv_walk_rows(p, b, input, K, KR, cols);
        return;
    }
    if (kind) {             /* the offsets in the last two columns */
        tk_cmv_walk_gather(p, b, input, K, KR, cols, ncol - 2, cols + (ncol - 2) * KR,
                           kind == 1);
        return;
    }
    int32_t m = 0;
    for (int32_t n; (n = tk_conv_next2(&it, px)) > 0;) {
        for (int32_t i = 0; i < n; ++i, ++m) tk_cmv_col(p, &g, &px[i], K, KR, zp, cols + m * KR);
        if (m + 2 > ncol || it.left == 0) {     /* a batch of columns, all pairs in one call */
            tk_cmv_run(b, cols, m, KR, out, out_c);
            out += m * out_c;
            m = 0;
        }
    }
}

/* a 1x1 stride-1 layer whose output overlaps its input: in place (out == in, out_c <= C) or
 * written over it with a lag (out before in, by at least the bytes the output outgrows the input:
 * passes/in_place.py), so that a batch's outputs land on its own copied pixels or earlier ones:
 * batches of ncol pixels copied into cols, then every block of cap channels over them, its rows
 * decoded again per batch */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void tk_cmv_inplace(const tk_conv2d_params *p, const int8_t *filter, const int32_t *fbias,
                           const int8_t *in, int8_t *out, int32_t cap, int8_t *rows,
                           int8_t *cols, int32_t ncol, int32_t *t) {
    const int32_t K = p->input.c, KR = (K + 15) & ~15, out_c = p->output.c;
    const int32_t P = p->input.n * p->input.h * p->input.w;
    tk_cmv_blk b;
    b.w = rows, b.t = t, b.n16 = KR >> 4, b.xstep = 2 * KR, b.ostep = 2 * out_c;
    b.off = p->quant.output_offset, b.lo = p->quant.act_min, b.hi = p->quant.act_max;
    for (int32_t i = 0; i < P; i += ncol) {
        const int32_t m = P - i < ncol ? P - i : ncol;
        if (K == KR && K <= 16 * TK_CMV_NR) {       /* whole vectors: the columns in one copy */
            tk_cmv_rows16(cols, in + i * K, K >> 4, m, K);
        } else {
            tk_cmv_rows(cols, in + i * K, K, m, KR, K);
        }
        for (int32_t c0 = 0; c0 < out_c; c0 += cap) {
            b.rem = out_c - c0 < cap ? out_c - c0 : cap;
            tk_cmv_fill(p, filter, fbias, K, b.n16, c0, b.rem, rows, t);
            tk_cmv_run(&b, cols, m, KR, out + i * out_c + c0, out_c);
        }
    }
}

/* 1 when done; 0 when K is over TK_CMV_KMAX, or the output overlaps the input other than as a
 * layer whose output channels make one block, written from before its input, or a 1x1 stride-1
 * layer with the fast stage (in place with out_c <= C, or with a lag: tk_cmv_inplace)
 * (tk_conv2d_s8's DSP path runs instead) */
static int tk_conv2d_mve(const tk_conv2d_params *p, const int8_t *input, const int8_t *filter,
                         const int32_t *fbias, int8_t *output) {
    const int32_t K = p->filter.h * p->filter.w * p->input.c, out_c = p->output.c;
    if (K > TK_CMV_KMAX || K < 1) return 0;
    const int32_t KR = (K + 15) & ~15, n16 = KR >> 4;
    int32_t cap = ((TK_CMV_BUF - 2 * KR) / KR) & ~3;      /* >= 4: KR <= TK_CMV_KMAX */
    cap = cap < TK_CMV_CAP ? cap : TK_CMV_CAP;
    cap = cap < ((out_c + 3) & ~3) ? cap : (out_c + 3) & ~3;
    /* the output over the input: in place, or from before it with a lag */
    const int32_t in_bytes = p->input.n * p->input.h * p->input.w * p->input.c;
    const int32_t out_bytes = p->input.n * p->output.h * p->output.w * out_c;   /* (batches: input.n) */
    const int overlap = output < input + in_bytes && input < output + out_bytes;
    /* one block of output channels from before the input walks the output pixels in order, each
     * written after its window is read (a pair's, or a batch's of columns): the order
     * passes/in_place.py's lag is proved for (conv_steps); more blocks read every pixel again */
    const int in_place = overlap && !(output < input && out_c <= cap);
    if (in_place && (p->filter.h != 1 || p->filter.w != 1 || p->geom.stride_h != 1 ||
                     p->geom.stride_w != 1 || !p->rq_fast || output > input ||
                     (output == input && out_c > p->input.c) ||
                     input - output < out_bytes - in_bytes)) {
        return 0;
    }
    if (in_place) cap = TK_MIN(cap, TK_MAX(4, (TK_CMV_BUF / 3 / KR) & ~3));   /* more columns */
    int8_t rows[TK_CMV_BUF] __attribute__((aligned(16)));      /* the columns after the rows */
    int8_t *cols = rows + cap * KR;
    const int32_t ncol = ((TK_CMV_BUF - cap * KR) / KR) & ~1;
    int32_t t[3 * TK_CMV_CAP] __attribute__((aligned(16)));
    for (int32_t k = 0; k < ncol * KR; k += 16) tk_vstrbq_s8(cols + k, tk_vdupq_n_s8(0));
    if (in_place) {
        tk_cmv_inplace(p, filter, fbias, input, output, cap, rows, cols, ncol, t);
        return 1;
    }
    int kind = 0;           /* inside windows gathered: the offsets once per layer */
    const int32_t R = p->filter.w * p->input.c;
    if (p->rq_fast && (p->filter.h > 1 || p->filter.w > 1) && KR > TK_CMV_GATHER &&
        p->geom.dil_w == 1 && !(R & 15) && R <= 16 * TK_CMV_NR && p->filter.h <= TK_CMV_KH) {
        kind = 3;           /* or kernel rows of whole vectors read in the input */
    } else if (p->rq_fast && (p->filter.h > 1 || p->filter.w > 1) && KR <= TK_CMV_GATHER &&
               ncol >= 4) {
        const tk_conv_geo g = tk_conv_geo_make(p);
        kind = tk_cmv_offsets(&g, K, KR, cols + (ncol - 2) * KR);
    }
    for (int32_t c0 = 0; c0 < out_c; c0 += cap) {
        const int32_t nb = out_c - c0 < cap ? out_c - c0 : cap;
        tk_cmv_fill(p, filter, fbias, K, n16, c0, nb, rows, t);
        tk_cmv_blk b;
        b.w = rows, b.t = t, b.o0 = output + c0, b.o1 = 0, b.rem = nb, b.n16 = n16;
        b.off = p->quant.output_offset, b.lo = p->quant.act_min, b.hi = p->quant.act_max;
        tk_cmv_block(p, input, &b, K, KR, cols, ncol, kind);
    }
    return 1;
}

#endif /* TK_MVE */
#endif
