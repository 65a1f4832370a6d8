/* CONV_2D, int8 activations (per tensor), int8 weights (per output channel; per tensor is
 * broadcast by the compiler), int32 bias. Two siblings, bit-exact with TFLM
 * reference_integer_ops::ConvPerChannel, in sibling files (conv2d_s8_ref.c, conv2d_s8.c) so that
 * an image copies only the one it calls:
 *   tk_conv2d_s8_ref: TFLM's loop nest (any groups, padding, dilation); `bias` is the model's or 0.
 *   tk_conv2d_s8:     2-pixel x 2-channel blocked multiply-accumulate, groups == 1; `bias` is the
 *                     compiler's folded bias (bias + input_offset * sum of the channel's weights,
 *                     mod 2^32); `filter` is pair-blocked by the compiler (below) and the
 *                     requantization comes from `rq`, not `multiplier`/`shift`. Where each output
 *                     pixel's K = filter.h * filter.w * input.c taps come from is `path`:
 *     TK_CONV_COLS   1x1 filters: the input itself.
 *     TK_CONV_LINES  input.c a multiple of 4: read in place, a kernel row (or, dilated in width,
 *                    a tap) at a time; pixels with taps in the padding go through two im2col
 *                    columns on the stack when they fit (2 K <= 288 bytes), else read the
 *                    padding taps from a small zero-point line (TK_CONV_ZROW bytes).
 *     TK_CONV_IM2COL two im2col columns of KP = K rounded up to a multiple of 4 bytes, in
 *                    `scratch` (arena, 2 * KP bytes) or, when scratch is 0, on the stack (then
 *                    2 * KP <= TK_CONV_STACK_BYTES, which the compiler checks).
 *                    Padding taps hold the input zero point (they add w * (zp + input_offset) = 0
 *                    like TFLM's skipped taps); the KP - K pad taps have weight 0.
 *   Only TK_CONV_IM2COL beyond the stack buffer needs `scratch`; the others take 0. On cores
 *   with the DSP extension the channel pairs of two pixels run in one assembly loop (the fast
 *   requantization, conv2d_s8_core.h), on columns widened to int16 pairs first where the
 *   stack buffer holds them (1x1 up to 256 input channels, stack im2col up to 40 taps). Stack:
 *   at most about 820 bytes on any path (Cortex-M4, gcc -O2).
 * Pair-blocked filter (KW taps per channel: K, or KP for TK_CONV_IM2COL, the pad weights 0; KW4 =
 * KW rounded down to a multiple of 4): output channels 2j and 2j+1 occupy the 2 KW bytes at
 * filter + 2j KW, first for each group of four taps k = 4g..4g+3 < KW4 the four weights of
 * channel 2j then those of channel 2j+1, then for each remaining tap k >= KW4 the weight of 2j
 * then that of 2j+1; an odd last channel keeps its KW weights in order. One 8-byte read gives
 * both channels' weights for four taps.
 * Widened filter (TK_CONV_W16: cores with the DSP extension but not Helium): the same layout with
 * int16 weights (tk_cw), except that each channel's group of four taps k = 4g..4g+3 is stored in
 * the order 4g, 4g+2, 4g+1, 4g+3, the lanes SXTB16 gives an input word: two word reads give a
 * group's two dual multiply-accumulate operands, with no widening of weights in the inner loop.
 * The compiler emits both forms of the table, the build keeps the one this macro picks (a
 * build defines TK_CONV_NARROW where the widened form would not fit the flash). */
#ifndef TK_CONV2D_S8_H
#define TK_CONV2D_S8_H
#include "tk_nn.h"
#include "tk_mve.h"

#if TK_NN_SIMD && !TK_MVE && !defined(TK_CONV_NARROW)
#define TK_CONV_W16 1
typedef int16_t tk_cw;
#else
#define TK_CONV_W16 0
typedef int8_t tk_cw;
#endif

enum { TK_CONV_COLS = 0, TK_CONV_LINES = 1, TK_CONV_IM2COL = 2 };
#define TK_CONV_STACK_BYTES 256     /* the largest stack im2col buffer (two columns) */
#define TK_CONV_1X1_WIDE_MAX 256    /* input channels up to which 1x1 columns are widened */
#define TK_CONV_LINES_WIDE_MAX 2304 /* bytes of the two widened windows of TK_CONV_LINES (K <= 576) */
#define TK_CONV_ZROW 64             /* the zero-point line of TK_CONV_LINES, a multiple of 4 */

typedef struct {
    tk_dims input;                    /* n, h, w, c */
    tk_dims output;                   /* h, w, c (n is input.n) */
    tk_dims filter;                   /* [output.c][h][w][c]; groups = input.c / filter.c */
    tk_conv_geom geom;
    tk_quant_io quant;
    const int32_t *multiplier;        /* output.c entries, Q31 */
    const int32_t *shift;             /* output.c entries, in [-31, 30]; > 0 is a left shift */
    const int32_t *rq;                /* tk_conv2d_s8: {multiplier, shift} per channel */
    int32_t rq_fast;                  /* tk_conv2d_s8: tk_requant_fast is exact (tk_nn.h) */
    int32_t path;                     /* tk_conv2d_s8: TK_CONV_COLS, _LINES or _IM2COL */
} tk_conv2d_params;

void tk_conv2d_s8_ref(const tk_conv2d_params *p, const int8_t *input, const int8_t *filter,
                      const int32_t *bias, int8_t *output);

/* tk_conv2d_s8 is one of three entries, one per path (p->path), each linked only when called.
 * tk_conv2d_s8_cols may run in place (output == input) when the filter is 1x1, the stride 1 and
 * out_c <= input.c <= TK_CONV_1X1_WIDE_MAX: it reads every block of one to three pixels whole
 * before writing their outputs, blocks in order (the compiler's in-place pass checks this
 * order, compiler/passes/in_place.py). */
void tk_conv2d_s8_cols(const tk_conv2d_params *p, const int8_t *input, const tk_cw *filter,
                       const int32_t *folded_bias, int8_t *output, int8_t *scratch);
void tk_conv2d_s8_lines(const tk_conv2d_params *p, const int8_t *input, const tk_cw *filter,
                        const int32_t *folded_bias, int8_t *output, int8_t *scratch);
void tk_conv2d_s8_im2col(const tk_conv2d_params *p, const int8_t *input, const tk_cw *filter,
                         const int32_t *folded_bias, int8_t *output, int8_t *scratch);
#endif
