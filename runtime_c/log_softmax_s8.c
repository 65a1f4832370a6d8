/* LOG_SOFTMAX int8 (see log_softmax_s8.h), bit-exact with TFLM. */
#include "log_softmax_s8.h"
#define TK_SOFTMAX_RECIPROCAL
#include "softmax_s8.h"

static int tk_ls_clz(uint32_t x) {
#if defined(__GNUC__)
    return x ? __builtin_clz(x) : 32;
#else
    int n = 0;
    while (n < 32 && !(x & 0x80000000u)) { x <<= 1; ++n; }
    return n;
#endif
}

static int32_t tk_ls_sat_add(int32_t a, int32_t b) {
    const int64_t s = (int64_t)a + b;
    return (int32_t)(s > INT32_MAX ? INT32_MAX : (s < INT32_MIN ? INT32_MIN : s));
}

static int32_t tk_ls_sat_sub(int32_t a, int32_t b) {
    const int64_t s = (int64_t)a - b;
    return (int32_t)(s > INT32_MAX ? INT32_MAX : (s < INT32_MIN ? INT32_MIN : s));
}

static int32_t tk_ls_sub_wrap(int32_t a, int32_t b) {
    return (int32_t)((uint32_t)a - (uint32_t)b);
}

/* gemmlowp's log(x) for x >= 1 given in Q12.19, result in Q5.26: x = 2^k * r with r near 1 (the
 * better of two normalizations, one premultiplied by sqrt(1/2)), then a rational approximation of
 * log(r) around 2^(-1/4). z >= 2^19 here (the row maximum contributes exp(0)), so both shifts
 * below are in [0, 12]. */
static int32_t tk_log_q12_to_q5(int32_t z) {
    const int32_t log_2 = 1488522236, sqrt_sqrt_half = 1805811301, sqrt_half = 1518500250;
    const int32_t alpha_n = 117049297, alpha_d = 127690142;
    const int32_t alpha_i = 1057819769, alpha_f = 638450708;
    const int32_t shifted_quarter = 1 << 23;           /* 1/4 in Q6.25 */
    const int hp1 = tk_ls_clz((uint32_t)z);
    const int32_t r_a = tk_softmax_sat_shl(
        tk_srdhm(tk_softmax_sat_shl(z, hp1 - 1), sqrt_half), 1);
    const int32_t pow_a = tk_ls_sat_add(tk_softmax_sat_shl(12 - hp1, 25), shifted_quarter);
    const int zb_headroom = tk_ls_clz((uint32_t)tk_srdhm(z, sqrt_half)) - 1;
    const int32_t r_b = tk_softmax_sat_shl(z, zb_headroom);
    const int32_t pow_b = tk_ls_sat_sub(tk_softmax_sat_shl(12 - zb_headroom, 25), shifted_quarter);
    const int32_t r = TK_MIN(r_a, r_b);
    const int32_t pow2 = TK_MAX(pow_a, pow_b);
    /* RoundingHalfSum(r, 2^(-1/4)) */
    const int64_t hs = (int64_t)r + sqrt_sqrt_half;
    const int32_t p = (int32_t)((hs + (hs >= 0 ? 1 : -1)) / 2);
    int32_t q = tk_ls_sub_wrap(r, sqrt_sqrt_half);
    q = tk_add_wrap_s32(q, q);
    const int32_t sq = tk_srdhm(q, q);
    const int32_t num = tk_add_wrap_s32(tk_srdhm(q, r), tk_srdhm(tk_srdhm(q, sq), alpha_n));
    const int32_t inner = tk_add_wrap_s32(tk_add_wrap_s32(alpha_i, q), tk_srdhm(alpha_d, sq));
    const int32_t denom_minus_one = tk_add_wrap_s32(tk_srdhm(p, inner), tk_srdhm(alpha_f, q));
    const int32_t recip = tk_softmax_one_over_one_plus_x(denom_minus_one);
    const int32_t log_q6 = tk_add_wrap_s32(tk_srdhm(pow2, log_2),
                                           tk_srdhm(tk_rdbpot(num, 6), recip));
    return tk_softmax_sat_shl(log_q6, 1);               /* Q6.25 -> Q5.26 */
}

void tk_log_softmax_s8(const tk_log_softmax_params *p, const int8_t *input, int8_t *output) {
    for (int32_t r = 0; r < p->outer; ++r) {
        const int8_t *in = input + r * p->depth;
        int8_t *out = output + r * p->depth;
        int32_t max_in_row = -128;
        for (int32_t c = 0; c < p->depth; ++c) max_in_row = TK_MAX(max_in_row, (int32_t)in[c]);
        int32_t sum = 0;                                 /* < 4096 * 2^19 */
        for (int32_t c = 0; c < p->depth; ++c) sum += p->exp_table[max_in_row - in[c]];
        const int32_t log_sum = tk_log_q12_to_q5(sum);
        /* differences at or below this give the lowest output */
        const int32_t adjusted = TK_MAX(p->diff_min - 1,
            tk_requant(tk_add_wrap_s32(log_sum, INT32_MIN), p->reverse_multiplier,
                       p->reverse_shift));
        for (int32_t c = 0; c < p->depth; ++c) {
            const int32_t diff = in[c] - max_in_row;
            int32_t v = -128;
            if (diff > adjusted) {
                v = tk_rdbpot(tk_ls_sub_wrap(p->diff_table[-diff], log_sum), 22) + 127;
                v = tk_clamp(v, -128, 127);
            }
            out[c] = (int8_t)v;
        }
    }
}
