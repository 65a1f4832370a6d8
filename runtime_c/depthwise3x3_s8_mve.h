/* DEPTHWISE_CONV_2D int8 3x3 on Helium (MVE): tk_dw3_mve runs tk_depthwise3x3_s8's work (same
 * params, filter words and folded bias, depthwise3x3_s8.h) on the M55, channel by channel.
 *
 * A band of up to TK_DWM_BAND output lines and a chunk of up to n outputs along them need
 * L = s (lines - 1) + 3 padded lines and np = s (n - 1) + 3 padded positions (s the stride),
 * n as large as the plane allows. One channel's values for them are
 * copied into a byte plane P, position-major: P[q L + l] holds padded line l at padded position
 * q (the zero point where that is padding; it is written once per chunk, the channels then fill
 * only the inside, eight positions of a line at a time: one VLDRB.S16 gather from the NHWC
 * tensor and one VSTRB.16 scatter). Output i of output line o reads the nine bytes at
 * P + (s i + k) L + s o + a: one VLDRB.8 gather with the constant offsets a + k L in lanes
 * 3 k + a (the other lanes read offset 0 and meet zero weights) and one VMLADAV.S8 with the
 * channel's weight vector. Four outputs go into a vector (VMOV) for TFLM's requantization: the
 * folded bias, the left shift, VQRDMULH (TFLM's SaturatingRoundingDoublingHighMul), the rounding
 * division by 2^e (VQADD of -1 for negative values, then VRSHL), the output offset, the clamp,
 * and a scatter store of the four bytes (two outputs per gather: lanes 3 k + a hold the taps of
 * outputs i and i + 1, k = 0 .. 2 + s, and two weight vectors pick them, gathered from the
 * filter words). With the folded bias a padding tap (the zero point) adds nothing, as TFLM's
 * skipped taps do; the nine-term sum fits int32 and the bias is added with wrap-around, as the
 * C kernel does. rq_fast's {m, e1} is TFLM's shift -e1 - 1. The fill and the channel's output
 * lines (rq_fast) are in assembly; the C intrinsics (and their C models on the host) otherwise.
 * Nothing is read outside the input (predicated gathers of positions inside the image) or
 * the params' arrays; every byte of P that a gather reads was written. */
#ifndef TK_DEPTHWISE3X3_S8_MVE_H
#define TK_DEPTHWISE3X3_S8_MVE_H
#include "depthwise3x3_s8.h"
#include "tk_mve.h"

#if TK_MVE

#define TK_DWM_PLANE 1024   /* bytes of P on the stack */
#define TK_DWM_BAND 20      /* output lines per band at stride 2; 40 at stride 1 */

/* one channel's constants, and the op's */
typedef struct {
    tk_s8x16 w0, w1;                /* w[a][k] in lane 3 k + a (w1: 3 (k + s) + a), else 0 */
    int32_t fb, m, left, e;
} tk_dwm_ch;
typedef struct {
    tk_s32x4 lo, hi;
    tk_u32x4 ob;                    /* output lane offsets 0, step, 2 step, 3 step */
    tk_u8x16 o;                     /* lane 3 k + a: a + k L, the taps of two outputs */
    int32_t off, step, sl;          /* sl = s L: P bytes between neighbouring outputs */
} tk_dwm_op;

/* four accumulators (folded bias not yet added) to outputs at out (the first n, 1 <= n), the
 * shift forms resolved by `general` (0: no left shift and e > 0) */
TK_MVE_INLINE void tk_dwm_out4(const tk_dwm_op *q, const tk_dwm_ch *k, int32_t a, int32_t b,
                               int32_t c, int32_t d, int8_t *out, int32_t n,
                               const int general) {
    tk_s32x4 v = tk_vaddq_n_s32(tk_vmov4_s32(a, b, c, d), k->fb);
    if (general && k->left) v = tk_vshlq_r_s32(v, k->left);
    v = tk_vqrdmulhq_n_s32(v, k->m);
    if (!general || k->e) v = tk_vrshlq_n_s32(tk_vqaddq_s32(v, tk_vshrq_n_s32(v, 31)), -k->e);
    v = tk_vminq_s32(tk_vmaxq_s32(tk_vaddq_n_s32(v, q->off), q->lo), q->hi);
    if (n >= 4) {
        tk_vstrbq_scatter_offset_s32(out, q->ob, v);
    } else {
        tk_vstrbq_scatter_offset_p_s32(out, q->ob, v, tk_vctp32q((uint32_t)n));
    }
}

/* n outputs of one output line from P + s o (base), written from out */
TK_MVE_INLINE void tk_dwm_line(const tk_dwm_op *qp, const tk_dwm_ch *kp, const int8_t *base,
                               int32_t n, int8_t *out, const int general) {
    const tk_dwm_op q = *qp;        /* in registers: the byte stores could alias *qp, *kp */
    const tk_dwm_ch k = *kp;
    const int32_t sl2 = 2 * q.sl, step4 = 4 * q.step;
    for (; n > 0; n -= 4, base += 2 * sl2, out += step4) {
        const tk_s8x16 x0 = tk_vldrbq_gather_offset_s8(base, q.o);
        const tk_s8x16 x2 = tk_vldrbq_gather_offset_s8(base + sl2, q.o);
        tk_dwm_out4(&q, &k, tk_vmladavq_s8(x0, k.w0), tk_vmladavq_s8(x0, k.w1),
                    tk_vmladavq_s8(x2, k.w0), tk_vmladavq_s8(x2, k.w1), out, n, general);
    }
}

#if !defined(TK_MVE_EMULATE)
/* Every output line of one channel in assembly (requantization with `general` 0): what it reads,
 * in order (byte offsets in the comments of the code). Per line: `groups` passes of four outputs,
 * then `tail` (0..3) more with a predicated store; P and out then move by dp and dout. Two
 * variants: tk_dwm_chan_mve clamps to [lo, hi] (VMAX, VMIN); tk_dwm_chanfr_mve, for the full
 * int8 range, saturates (VQMOVNB.S32, VQMOVNB.S16: the stored low byte of each lane is the
 * int8 saturation) and so has a Q register left for o2 = o + 2 s L (one add fewer a pass). */
typedef struct {
    tk_s8x16 w0, w1;
    tk_u8x16 o;
    tk_u32x4 ob;
    tk_s32x4 lo, hi;
    tk_u8x16 o2;
    int32_t fb, m, neg_e, off, sl2, step4, lines, groups, tail, dp, dout, pad;
} tk_dwm_blk;
void tk_dwm_chan_mve(const int8_t *P, int8_t *out, const tk_dwm_blk *b);
void tk_dwm_chanfr_mve(const int8_t *P, int8_t *out, const tk_dwm_blk *b);
/* four outputs from base r0 (outputs i, i + 1) and r0 + 2 s L (i + 2, i + 3) to out r2 */
#define TK_DWM_G4(GATHER2, CLAMP)             \
    "vldrb.u8 q0, [r0, q6]\n\t"               \
    "vmladav.s8 r4, q0, q7\n\t"               \
    "vmladav.s8 r6, q0, q5\n\t"               \
    GATHER2                                   \
    "vmladav.s8 r10, q1, q7\n\t"              \
    "vmladav.s8 r12, q1, q5\n\t"              \
    "vmov q0[2], q0[0], r4, r10\n\t"          \
    "vmov q0[3], q0[1], r6, r12\n\t"          \
    "vadd.i32 q0, q0, r5\n\t"                 \
    "vqrdmulh.s32 q0, q0, r7\n\t"             \
    "vshr.s32 q1, q0, #31\n\t"                \
    "vqadd.s32 q0, q0, q1\n\t"                \
    "vrshl.s32 q0, r9\n\t"                    \
    "vadd.i32 q0, q0, r11\n\t"                \
    CLAMP
#define TK_DWM_G2_ADD "add r3, r0, r8\n\tvldrb.u8 q1, [r3, q6]\n\t"
#define TK_DWM_G2_O2 "vldrb.u8 q1, [r0, q2]\n\t"
#define TK_DWM_CLAMP "vmax.s32 q0, q0, q3\n\tvmin.s32 q0, q0, q2\n\t"
#define TK_DWM_SAT "vqmovnb.s32 q0, q0\n\tvqmovnb.s16 q0, q0\n\t"
#define TK_DWM_CHAN(NAME, QLOADS, G4)                                               \
    __asm__(                                                                        \
        ".pushsection .text." NAME ", \"ax\", %progbits\n\t"                        \
        ".syntax unified\n\t"                                                       \
        ".thumb\n\t"                                                                \
        ".p2align 2\n\t"                                                            \
        ".global " NAME "\n\t"                                                      \
        ".type " NAME ", %function\n\t"                                             \
        ".thumb_func\n" NAME ":\n\t"                                                \
        "push {r4-r11, lr}\n\t"                                                     \
        "vpush {d8-d15}\n\t"                                                        \
        "sub sp, #24\n\t"               /* lines left, groups, tail, dp, dout */    \
        "vldrw.u32 q7, [r2]\n\t"                                                    \
        "vldrw.u32 q5, [r2, #16]\n\t"                                               \
        "vldrw.u32 q6, [r2, #32]\n\t"                                               \
        "vldrw.u32 q4, [r2, #48]\n\t" QLOADS                                        \
        "ldrd r5, r7, [r2, #112]\n\t"   /* fb, m */                                 \
        "ldrd r9, r11, [r2, #120]\n\t"  /* -e, off */                               \
        "ldrd r4, r6, [r2, #136]\n\t"   /* lines, groups */                         \
        "strd r4, r6, [sp]\n\t"                                                     \
        "ldrd r4, r6, [r2, #144]\n\t"   /* tail, dp */                              \
        "strd r4, r6, [sp, #8]\n\t"                                                 \
        "ldr r4, [r2, #152]\n\t"        /* dout */                                  \
        "str r4, [sp, #16]\n\t"                                                     \
        "ldr r8, [r2, #128]\n\t"        /* 2 s L */                                 \
        "ldr r4, [r2, #132]\n\t"        /* 4 step */                                \
        "mov r2, r1\n\t"                                                            \
        "mov r1, r4\n"                                                              \
        "2:\n\t"                                                                    \
        "ldr r3, [sp, #4]\n\t"                                                      \
        "wls lr, r3, 3f\n"                                                          \
        "1:\n\t" G4                                                                 \
        "vstrb.32 q0, [r2, q4]\n\t"                                                 \
        "add r0, r0, r8, lsl #1\n\t"                                                \
        "add r2, r2, r1\n\t"                                                        \
        "le lr, 1b\n"                                                               \
        "3:\n\t"                                                                    \
        "ldr r3, [sp, #8]\n\t"                                                      \
        "cbz r3, 4f\n\t"                                                            \
        "vctp.32 r3\n\t" G4                                                         \
        "vpst\n\t"                                                                  \
        "vstrbt.32 q0, [r2, q4]\n"                                                  \
        "4:\n\t"                                                                    \
        "ldrd r4, r6, [sp, #12]\n\t"                                                \
        "add r0, r0, r4\n\t"                                                        \
        "add r2, r2, r6\n\t"                                                        \
        "ldr r3, [sp]\n\t"                                                          \
        "subs r3, #1\n\t"                                                           \
        "str r3, [sp]\n\t"                                                          \
        "bne 2b\n\t"                                                                \
        "add sp, #24\n\t"                                                           \
        "vpop {d8-d15}\n\t"                                                         \
        "pop {r4-r11, pc}\n\t"                                                      \
        ".size " NAME ", . - " NAME "\n\t"                                          \
        ".popsection\n")
TK_DWM_CHAN("tk_dwm_chan_mve", "vldrw.u32 q3, [r2, #64]\n\tvldrw.u32 q2, [r2, #80]\n\t",
            TK_DWM_G4(TK_DWM_G2_ADD, TK_DWM_CLAMP));
TK_DWM_CHAN("tk_dwm_chanfr_mve", "vldrw.u32 q2, [r2, #96]\n\t",
            TK_DWM_G4(TK_DWM_G2_O2, TK_DWM_SAT));
#undef TK_DWM_CHAN
#undef TK_DWM_G4
#undef TK_DWM_G2_ADD
#undef TK_DWM_G2_O2
#undef TK_DWM_CLAMP
#undef TK_DWM_SAT

/* P's inside for one channel in assembly: what it reads, in order */
typedef struct {
    tk_u16x8 oin, opl;
    int32_t in8, pl8, groups, tail, lines, in_line;
} tk_dwm_fblk;
void tk_dwm_fill_mve(const int8_t *x, int8_t *d, const tk_dwm_fblk *f);
__asm__(
    ".pushsection .text.tk_dwm_fill_mve, \"ax\", %progbits\n\t"
    ".syntax unified\n\t"
    ".thumb\n\t"
    ".p2align 2\n\t"
    ".global tk_dwm_fill_mve\n\t"
    ".type tk_dwm_fill_mve, %function\n\t"
    ".thumb_func\n"
    "tk_dwm_fill_mve:\n\t"
    "push {r4-r8, lr}\n\t"
    "vldrw.u32 q0, [r2]\n\t"
    "vldrw.u32 q1, [r2, #16]\n\t"
    "ldrd r3, r4, [r2, #32]\n\t"        /* 8 in_pos, 8 L */
    "ldrd r5, r6, [r2, #40]\n\t"        /* groups of eight positions, the rest */
    "ldrd r7, r12, [r2, #48]\n\t"       /* lines, in_line */
    "vctp.16 r6\n"
    "1:\n\t"
    "mov r2, r0\n\t"
    "mov r8, r1\n\t"
    "wls lr, r5, 3f\n"
    "2:\n\t"
    "vldrb.s16 q2, [r2, q0]\n\t"
    "vstrb.16 q2, [r8, q1]\n\t"
    "add r2, r2, r3\n\t"
    "add r8, r8, r4\n\t"
    "le lr, 2b\n"
    "3:\n\t"
    "cbz r6, 4f\n\t"
    "vpstt\n\t"
    "vldrbt.s16 q2, [r2, q0]\n\t"
    "vstrbt.16 q2, [r8, q1]\n"
    "4:\n\t"
    "add r0, r0, r12\n\t"
    "adds r1, #1\n\t"
    "subs r7, #1\n\t"
    "bne 1b\n\t"
    "pop {r4-r8, pc}\n\t"
    ".size tk_dwm_fill_mve, . - tk_dwm_fill_mve\n\t"
    ".popsection\n");
#endif

/* channel c's constants; w[a][k] (a across the lines, k along them) from its filter words */
static void tk_dwm_ch_make(const tk_dw3_params *p, const int32_t *filter, const int32_t *fbias,
                           int32_t c, tk_dwm_ch *k) {
    int8_t t[32];
    memset(t, 0, sizeof t);
    const uint32_t *w = (const uint32_t *)filter + 6 * c;
    for (int32_t a = 0; a < 3; ++a) {
        t[8 + a] = (int8_t)(int16_t)(uint16_t)(w[2 * a] & 0xFFFFu);
        t[8 + 3 + a] = (int8_t)(int16_t)(uint16_t)(w[2 * a] >> 16);
        t[8 + 6 + a] = (int8_t)(int16_t)(uint16_t)(w[2 * a + 1] >> 16);
    }
    k->w0 = tk_vldrbq_s8(t + 8);
    k->w1 = tk_vldrbq_s8(t + 8 - 3 * p->stride);
    const int32_t r = p->rq[2 * c + 1], shift = p->rq_fast ? -r - 1 : r;
    k->m = p->rq[2 * c];
    k->left = shift > 0 ? shift : 0;
    k->e = shift < 0 ? -shift : 0;
    k->fb = fbias[c];
}

#if defined(TK_MVE_EMULATE)
/* P's inside for the channel at img (its first byte): input positions q0 + lo .. q0 + hi - 1
 * at padded positions lo .. hi - 1, of input lines la .. la + nl - 1 at band lines dl .. */
static void tk_dwm_fill(const tk_dw3_params *p, const int8_t *img, int32_t q0, int32_t lo,
                        int32_t hi, int32_t la, int32_t nl, int32_t dl, int32_t L, tk_u16x8 oin,
                        tk_u16x8 opl, int8_t *P) {
    const int32_t in8 = 8 * p->in_pos, pl8 = 8 * L;
    for (int32_t l = 0; l < nl; ++l) {
        const int8_t *x = img + (la + l) * p->in_line + (q0 + lo) * p->in_pos;
        int8_t *d = P + lo * L + dl + l;
        for (int32_t left = hi - lo; left > 0; left -= 8, x += in8, d += pl8) {
            const tk_pred m = tk_vctp16q((uint32_t)left);
            tk_vstrbq_scatter_offset_p_s16(d, opl, tk_vldrbq_gather_offset_z_s16(x, oin, m), m);
        }
    }
}
#endif

/* the band's constants (L <= 2 TK_DWM_BAND + 2: the tap offsets fit 8 bits, chunk >= 8) */
static void tk_dwm_op_make(const tk_dw3_params *p, int32_t L, int32_t *chunk, tk_dwm_op *q) {
    const int32_t s = p->stride;
    /* np + 3 s positions (the last pass's unstored outputs read up to 3 s past np) */
    *chunk = ((TK_DWM_PLANE / L - 3 - 3 * s) / s + 1) & ~3;   /* no tail but the last */
    uint8_t o[16];
    memset(o, 0, sizeof o);
    for (int32_t j = 0; j < 9 + 3 * s; ++j) o[j] = (uint8_t)((j % 3) + (j / 3) * L);
    q->o = tk_u8x16_of(o);
    q->off = p->output_offset;
    q->step = p->out_pos;
    q->sl = s * L;
    q->lo = tk_vdupq_n_s32(p->act_min);
    q->hi = tk_vdupq_n_s32(p->act_max);
    const uint32_t ob[4] = {0, (uint32_t)p->out_pos, 2u * (uint32_t)p->out_pos,
                            3u * (uint32_t)p->out_pos};
    q->ob = tk_u32x4_of(ob);
}

/* one chunk (outputs i0 .. i0 + n - 1 of output lines o0 .. o0 + lines - 1) of every channel
 * of one image */
static void tk_dwm_chunk(const tk_dw3_params *p, const tk_dwm_op *q, const int32_t *filter,
                         const int32_t *fbias, const int8_t *img, int32_t o0, int32_t lines,
                         int32_t i0, int32_t n, int8_t *P, int8_t *out) {
    const int32_t s = p->stride, np = s * (n - 1) + 3, q0 = s * i0 - p->pad_pos;
    const int32_t L = s * (lines - 1) + 3, lb = s * o0 - p->pad_line;   /* band line 0 */
    int32_t lo = -q0, hi = p->pos_in - q0;
    lo = lo < 0 ? 0 : (lo > np ? np : lo);
    hi = hi < lo ? lo : (hi > np ? np : hi);
    const int32_t la = lb > 0 ? lb : 0;                 /* input lines la .. la + nl - 1 */
    const int32_t nl = (lb + L < p->lines_in ? lb + L : p->lines_in) - la;
    const tk_s8x16 z = tk_vdupq_n_s8((int8_t)p->input_zp);
    for (int32_t j = 0; j < (np + 3 * s) * L; j += 16) tk_vstrbq_s8(P + j, z);
    uint16_t oi[8], op[8];
    for (int32_t j = 0; j < 8; ++j) {
        oi[j] = (uint16_t)(j * p->in_pos);
        op[j] = (uint16_t)(j * L);
    }
    const tk_u16x8 oin = tk_u16x8_of(oi), opl = tk_u16x8_of(op);
    const int general = !p->rq_fast;
    tk_dwm_ch k;
    out += o0 * p->out_line + i0 * p->out_pos;
#if !defined(TK_MVE_EMULATE)
    tk_dwm_fblk f;
    f.oin = oin, f.opl = opl, f.in8 = 8 * p->in_pos, f.pl8 = 8 * L;
    f.groups = (hi - lo) >> 3, f.tail = (hi - lo) & 7, f.lines = nl, f.in_line = p->in_line;
    tk_dwm_blk blk;
    blk.o = q->o, blk.ob = q->ob, blk.lo = q->lo, blk.hi = q->hi;
    blk.off = q->off, blk.sl2 = 2 * q->sl, blk.step4 = 4 * q->step;
    blk.lines = lines, blk.groups = n >> 2, blk.tail = n & 3;
    blk.dp = s - (n >> 2) * 4 * q->sl, blk.dout = p->out_line - (n >> 2) * 4 * q->step;
    blk.pad = 0;
    uint8_t o2[16];
    memcpy(o2, &q->o, 16);
    for (int32_t j = 0; j < 9 + 3 * s; ++j) o2[j] = (uint8_t)(o2[j] + 2 * q->sl);  /* if full */
    blk.o2 = tk_u8x16_of(o2);
    const int full = p->act_min == -128 && p->act_max == 127 &&
                     2 + (2 + s) * L + 2 * q->sl <= 255;      /* o2's largest offset */
    /* the weights straight from the filter words: w[a][k] is the low byte of halfword
     * 4 a + (0, 1, 3)[k]; lane 3 k + a of w0, 3 (k + s) + a of w1 */
    uint8_t ow[16], ow1[16];
    for (int32_t j = 0; j < 16; ++j) {
        const int32_t k0 = j / 3, k1 = (j - 3 * s) / 3, a = j % 3;
        ow[j] = (uint8_t)(j < 9 ? 8 * a + 2 * (k0 == 0 ? 0 : (k0 == 1 ? 1 : 3)) : 0);
        ow1[j] = (uint8_t)(j >= 3 * s && j < 9 + 3 * s
                               ? 8 * a + 2 * (k1 == 0 ? 0 : (k1 == 1 ? 1 : 3)) : 0);
    }
    const tk_u8x16 vw0 = tk_u8x16_of(ow), vw1 = tk_u8x16_of(ow1);
    const tk_pred pw0 = tk_vctp8q(9);
    const tk_pred pw1 = (tk_pred)(tk_vctp8q((uint32_t)(9 + 3 * s)) & ~tk_vctp8q((uint32_t)(3 * s)));
#endif
    for (int32_t c = 0; c < p->channels; ++c) {
#if !defined(TK_MVE_EMULATE)
        if (hi > lo && nl > 0) {
            tk_dwm_fill_mve(img + c + la * p->in_line + (q0 + lo) * p->in_pos,
                            P + lo * L + la - lb, &f);
        }
        if (!general) {             /* rq_fast: e = e1 + 1, -e = ~e1 */
            const int8_t *fw = (const int8_t *)(filter + 6 * c);
            blk.w0 = tk_vldrbq_gather_offset_z_s8(fw, vw0, pw0);
            blk.w1 = tk_vldrbq_gather_offset_z_s8(fw, vw1, pw1);
            blk.fb = fbias[c], blk.m = p->rq[2 * c], blk.neg_e = ~p->rq[2 * c + 1];
            if (full) {
                tk_dwm_chanfr_mve(P, out + c, &blk);
            } else {
                tk_dwm_chan_mve(P, out + c, &blk);
            }
            continue;
        }
        tk_dwm_ch_make(p, filter, fbias, c, &k);
#else
        tk_dwm_ch_make(p, filter, fbias, c, &k);
        tk_dwm_fill(p, img + c, q0, lo, hi, la, nl, la - lb, L, oin, opl, P);
#endif
        for (int32_t o = 0; o < lines; ++o) {
            int8_t *y = out + o * p->out_line + c;
            if (general) {
                tk_dwm_line(q, &k, P + s * o, n, y, 1);
            } else {
                tk_dwm_line(q, &k, P + s * o, n, y, 0);
            }
        }
    }
}

/* 1 when done; 0 when the input positions are too far apart for 16-bit gather offsets, in
 * place over more than one band or chunk, or the output over the input from before it (a lag:
 * the C line kernel's order, which the compiler proved) (the caller's path runs instead) */
static int tk_dw3_mve(const tk_dw3_params *p, const int8_t *input, const int32_t *filter,
                      const int32_t *fbias, int8_t *output) {
    if (7 * (int64_t)p->in_pos > 65535) return 0;
    if (output != input && output < input + p->batches * p->in_image &&
        input < output + p->batches * p->out_image) {
        return 0;
    }
    const int32_t s = p->stride, band = s == 1 ? 2 * TK_DWM_BAND : TK_DWM_BAND;
    if (input == output) {      /* in place: one band and one chunk, so that each channel's */
        int32_t chunk;          /* plane is copied whole before its outputs are written */
        tk_dwm_op q;
        tk_dwm_op_make(p, s * (p->lines_out - 1) + 3, &chunk, &q);
        if (p->lines_out > band || p->pos_out > chunk) return 0;
    }
    int8_t P[TK_DWM_PLANE] __attribute__((aligned(16)));
    for (int32_t b = 0; b < p->batches; ++b) {
        for (int32_t o0 = 0; o0 < p->lines_out; o0 += band) {
            const int32_t lines = p->lines_out - o0 < band ? p->lines_out - o0 : band;
            int32_t chunk;
            tk_dwm_op q;
            tk_dwm_op_make(p, s * (lines - 1) + 3, &chunk, &q);
            for (int32_t i0 = 0; i0 < p->pos_out; i0 += chunk) {
                const int32_t n = p->pos_out - i0 < chunk ? p->pos_out - i0 : chunk;
                tk_dwm_chunk(p, &q, filter, fbias, input + b * p->in_image, o0, lines, i0, n,
                             P, output + b * p->out_image);
            }
        }
    }
    return 1;
}

#endif /* TK_MVE */
#endif
