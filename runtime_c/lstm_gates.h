/* The integer elementwise steps of TFLM's LSTM that the int8 and the 16x8 kernel share
 * (lstm_s8.c, lstm_s16.c; included by those two files only): int16 saturation, the gates'
 * sigmoid and tanh (TFLM's interpolated int16 logistic and tanh), and the cell and output state
 * update of one state element from its four gate outputs. */
#ifndef TK_LSTM_GATES_H
#define TK_LSTM_GATES_H
#include "lstm_s8.h"

#if defined(__ARM_FEATURE_SAT)
#include <arm_acle.h>
#endif

/* TFLM's sigmoid_table_uint16 (sigmoid(k / 24) in 0.16 fixed point, on which its int16 logistic
 * and tanh interpolate), as base[k] = table[k] << 9 and delta[k] = table[k + 1] - table[k] */
static const uint32_t tk_lstm_base[256] = {
    16777216, 17126912, 17476096, 17824256, 18172416, 18518528, 18863616, 19206656,
    19548160, 19886592, 20222976, 20556288, 20886528, 21213184, 21536768, 21856256,
    22171648, 22482944, 22789632, 23092224, 23389696, 23682560, 23970304, 24252928,
    24530432, 24802816, 25069568, 25331200, 25587200, 25837568, 26082304, 26321408,
    26554880, 26783232, 27005440, 27222528, 27433472, 27639296, 27839488, 28034560,
    28224000, 28408320, 28587008, 28761088, 28929536, 29093376, 29252096, 29405696,
    29554688, 29699584, 29839360, 29974528, 30105600, 30232576, 30355456, 30473728,
    30588416, 30699008, 30806016, 30909440, 31009280, 31105536, 31198720, 31288320,
    31374848, 31457792, 31538688, 31616000, 31690752, 31762432, 31832064, 31898624,
    31963136, 32025088, 32084992, 32142336, 32197632, 32250880, 32302080, 32351232,
    32398848, 32444416, 32488448, 32530432, 32570880, 32609792, 32647680, 32683520,
    32718336, 32751616, 32783360, 32814080, 32843776, 32872448, 32899584, 32925696,
    32950784, 32975360, 32998400, 33020928, 33042432, 33062912, 33082368, 33101824,
    33119744, 33137152, 33154048, 33170432, 33185792, 33200640, 33214976, 33228800,
    33242112, 33254400, 33266688, 33278464, 33289728, 33299968, 33310720, 33320448,
    33329664, 33338880, 33347584, 33356288, 33363968, 33371648, 33379328, 33386496,
    33393152, 33399808, 33405952, 33412096, 33417728, 33423360, 33428992, 33434112,
    33438720, 33443328, 33447936, 33452544, 33456640, 33460224, 33464320, 33467904,
    33471488, 33475072, 33478144, 33481216, 33484288, 33486848, 33489920, 33492480,
    33495040, 33497600, 33499648, 33501696, 33504256, 33506304, 33507840, 33509888,
    33511936, 33513472, 33515008, 33516544, 33518080, 33519616, 33521152, 33522688,
    33523712, 33525248, 33526272, 33527296, 33528320, 33529856, 33530368, 33531392,
    33532416, 33533440, 33534464, 33534976, 33536000, 33536512, 33537536, 33538048,
    33538560, 33539584, 33540096, 33540608, 33541120, 33541632, 33542144, 33542656,
    33543168, 33543680, 33544192, 33544704, 33544704, 33545216, 33545728, 33546240,
    33546240, 33546752, 33547264, 33547264, 33547776, 33547776, 33548288, 33548288,
    33548800, 33548800, 33549312, 33549312, 33549312, 33549824, 33549824, 33550336,
    33550336, 33550336, 33550848, 33550848, 33550848, 33550848, 33551360, 33551360,
    33551360, 33551360, 33551872, 33551872, 33551872, 33551872, 33551872, 33552384,
    33552384, 33552384, 33552384, 33552384, 33552384, 33552896, 33552896, 33552896,
    33552896, 33552896, 33552896, 33552896, 33552896, 33553408, 33553408, 33553408,
    33553408, 33553408, 33553408, 33553408, 33553408, 33553408, 33553408, 33553920
};
static const uint16_t tk_lstm_delta[256] = {
    683, 682, 680, 680, 676, 674, 670, 667, 661, 657, 651, 645, 638, 632, 624, 616,
    608, 599, 591, 581, 572, 562, 552, 542, 532, 521, 511, 500, 489, 478, 467, 456,
    446, 434, 424, 412, 402, 391, 381, 370, 360, 349, 340, 329, 320, 310, 300, 291,
    283, 273, 264, 256, 248, 240, 231, 224, 216, 209, 202, 195, 188, 182, 175, 169,
    162, 158, 151, 146, 140, 136, 130, 126, 121, 117, 112, 108, 104, 100, 96, 93,
    89, 86, 82, 79, 76, 74, 70, 68, 65, 62, 60, 58, 56, 53, 51, 49,
    48, 45, 44, 42, 40, 38, 38, 35, 34, 33, 32, 30, 29, 28, 27, 26,
    24, 24, 23, 22, 20, 21, 19, 18, 18, 17, 17, 15, 15, 15, 14, 13,
    13, 12, 12, 11, 11, 11, 10, 9, 9, 9, 9, 8, 7, 8, 7, 7,
    7, 6, 6, 6, 5, 6, 5, 5, 5, 4, 4, 5, 4, 3, 4, 4,
    3, 3, 3, 3, 3, 3, 3, 2, 3, 2, 2, 2, 3, 1, 2, 2,
    2, 2, 1, 2, 1, 2, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1,
    0, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0,
    0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0
};

static inline int32_t tk_lstm_sat16(int32_t x) {
#if defined(__ARM_FEATURE_SAT)
    return __ssat(x, 16);
#else
    return x < -32768 ? -32768 : (x > 32767 ? 32767 : x);
#endif
}

/* TFLM's int16 logistic with a power-of-two input scale (input multiplier 3, no shift): x in
 * Q3.12, result Q0.15 in [0, 32767]. |3x| <= 98304, so the table index k stays <= 192. TFLM
 * rounds a negative input's result as ((1 << 25) - r + 511) >> 10, which is exactly
 * 32768 - ((r + 512) >> 10). */
static inline int32_t tk_lstm_sigmoid(int32_t x) {
    const int32_t v = 3 * x;
    const uint32_t a = (uint32_t)(v < 0 ? -v : v);
    const uint32_t k = a >> 9;
    const int32_t r = (int32_t)((tk_lstm_base[k] + (a & 0x1FFu) * tk_lstm_delta[k] + 512u) >> 10);
    return v >= 0 ? r : 32768 - r;
}

/* TFLM's int16 tanh on v, the input already scaled to 3 * Q3.12: result Q0.15. Its r =
 * (table[k] << 8) + (a & 255) * delta is taken twice (so base[] serves), and a negative input's
 * (-r + 2^23 + 127) >> 8 is exactly -((r - 2^23 + 128) >> 8). */
static inline int32_t tk_lstm_tanh_scaled(int32_t v) {
    const uint32_t a = (uint32_t)(v < 0 ? -v : v);
    const uint32_t k = a >> 8;
    if (k >= 255) return v >= 0 ? 32767 : -32767;
    const int32_t r2 = (int32_t)(tk_lstm_base[k] + ((a & 0xFFu) << 1) * tk_lstm_delta[k]);
    const int32_t t = (r2 - (1 << 24) + (1 << 8)) >> 9;
    return v >= 0 ? t : -t;
}

/* MultiplyByQuantizedMultiplier, or its fast form (shift held as -shift - 1); `fast` is a
 * constant where this is inlined */
static inline int32_t tk_lstm_rq(int32_t x, int32_t m, int32_t s, int32_t fast, int32_t k1) {
    return fast ? tk_requant_fast(x, m, s, k1) : tk_conv_requant(x, m, s) + (k1 >> 1);
}

/* One state element's cell update and new output state from its gate outputs i, f, z, o (Q0.15):
 * c = clamp(sat16(f * c) + sat16(i * z), cell_min, cell_max) ([cell_min, cell_max] lies within
 * int16, so one clamp does TFLM's saturation and its clip); returns requant(tanh(c) * o) + the
 * output state's zero point, to be clamped by the caller. `fast` is a constant where inlined. */
static inline __attribute__((always_inline)) int32_t tk_lstm_cell_step(
    const tk_lstm_cell *q, int16_t *c, int32_t ig, int32_t fg, int32_t zg, int32_t og,
    const int32_t fast) {
    const int32_t cj = tk_clamp(
        tk_lstm_sat16(tk_lstm_rq(fg * *c, q->forget_mult, q->forget_shift, fast, 1)) +
            tk_lstm_sat16(tk_lstm_rq(ig * zg, q->input_mult, q->input_shift, fast, 1)),
        q->cell_min, q->cell_max);
    *c = (int16_t)cj;
    const int32_t t = tk_lstm_tanh_scaled((cj * q->tanh_mult + q->tanh_round) >> q->tanh_shift);
    return tk_lstm_rq(t * og, q->hidden_mult, q->hidden_shift, fast, 1 + 2 * q->hidden_offset);
}
#endif
