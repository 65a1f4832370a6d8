/* UNIDIRECTIONAL_SEQUENCE_LSTM int8 (lstm_s8.h): TFLM's integer LSTM step, one state element
 * (four weight rows: its input, forget, cell and output gates) per pass.
 *
 * Accumulators: acc = folded bias + sum_d v[d] * w[d] equals TFLM's bias + sum (v + offset) * w
 * modulo 2^32 (TFLM's int32 sum wraps alike); the compiler caps the depth at 2^16, so the raw sum
 * of int8 products stays below 2^30 and only the bias is added with wrap-around. Gate inputs are
 * Q3.12 int16, gate outputs Q0.15: sigmoid in [0, 32767], tanh in [-32767, 32767], so every
 * elementwise product is below 2^30 in magnitude (tk_requant_fast's range). */
#include "lstm_s8.h"

/* TFLM's sigmoid_table_uint16: sigmoid(k / 24) in 0.16 fixed point, k = 0..255 (the values of
 * its table, on which its int16 logistic and tanh interpolate) */
static const uint16_t tk_lstm_sigmoid_tab[256] = {
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498,
    40149, 40794, 41432, 42064, 42688, 43304, 43912, 44511, 45102, 45683, 46255,
    46817, 47369, 47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409, 51865,
    52311, 52745, 53169, 53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174,
    56503, 56823, 57133, 57433, 57724, 58007, 58280, 58544, 58800, 59048, 59288,
    59519, 59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110, 61279, 61441,
    61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666, 62778, 62886,
    62990, 63090, 63186, 63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835,
    63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308, 64357, 64405, 64450,
    64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786, 64816, 64845,
    64873, 64900, 64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079, 65097,
    65115, 65132, 65149, 65164, 65179, 65194, 65208, 65221, 65234, 65246, 65258,
    65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360,
    65367, 65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425,
    65429, 65433, 65438, 65442, 65445, 65449, 65453, 65456, 65459, 65462, 65465,
    65468, 65471, 65474, 65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491,
    65493, 65495, 65497, 65498, 65500, 65501, 65503, 65504, 65505, 65507, 65508,
    65509, 65510, 65511, 65512, 65513, 65514, 65515, 65516, 65517, 65517, 65518,
    65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524, 65525,
    65525, 65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529,
    65529, 65529, 65530, 65530, 65530, 65530, 65531, 65531, 65531, 65531, 65531,
    65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533, 65533, 65533,
    65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534,
    65534, 65534, 65535
};

static inline int32_t tk_lstm_sat16(int32_t x) {
    return x < -32768 ? -32768 : (x > 32767 ? 32767 : x);
}

/* TFLM's int16 logistic with a power-of-two input scale (input multiplier 3, no shift): x in
 * Q3.12, result Q0.15 in [0, 32767]. |3x| <= 98304, so the table index k stays <= 192. */
static inline int32_t tk_lstm_sigmoid(int32_t x) {
    const int32_t v = 3 * x;
    const uint32_t a = (uint32_t)(v < 0 ? -v : v);
    const uint32_t k = a >> 9;
    const uint32_t ua = tk_lstm_sigmoid_tab[k], ub = tk_lstm_sigmoid_tab[k + 1];
    uint32_t r = (ua << 9) + (a & 0x1FFu) * (ub - ua);
    r = v >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1u;
    return (int32_t)(r >> 10);
}

/* TFLM's int16 tanh on v, the input already scaled to 3 * Q3.12: result Q0.15 */
static inline int32_t tk_lstm_tanh_scaled(int32_t v) {
    const uint32_t a = (uint32_t)(v < 0 ? -v : v);
    const uint32_t k = a >> 8;
    int32_t r;
    if (k >= 255) {
        r = 0xFFFF << 8;
    } else {
        const uint32_t ua = tk_lstm_sigmoid_tab[k], ub = tk_lstm_sigmoid_tab[k + 1];
        r = (int32_t)((ua << 8) + (a & 0xFFu) * (ub - ua));
    }
    r = v >= 0 ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1;
    return r >> 8;
}

/* MultiplyByQuantizedMultiplier, or its fast form (shift held as -shift - 1) */
static inline int32_t tk_lstm_rq(int32_t x, int32_t m, int32_t s, int32_t fast) {
    return fast ? tk_requant_fast(x, m, s, 1) : tk_conv_requant(x, m, s);
}

/* acc[0..3] += the four rows of one weight block (4 * D bytes, row-blocked) dotted with v */
static inline void tk_lstm_dot4(const int8_t *v, int32_t D, const int8_t *w, int32_t *acc) {
    const int32_t D4 = D & ~3;
    int32_t d = 0;
#if TK_NN_SIMD
    int32_t s0 = acc[0], s1 = acc[1], s2 = acc[2], s3 = acc[3];
    for (; d < D4; d += 4, w += 16) {
        const uint32_t xv = tk_ld4(v + d);
        const uint32_t xe = tk_sxtb16(xv), xo = tk_sxtb16_ror8(xv);
        const uint32_t u0 = tk_ld4(w), u1 = tk_ld4(w + 4), u2 = tk_ld4(w + 8), u3 = tk_ld4(w + 12);
        s0 = tk_smlad(xo, tk_sxtb16_ror8(u0), tk_smlad(xe, tk_sxtb16(u0), s0));
        s1 = tk_smlad(xo, tk_sxtb16_ror8(u1), tk_smlad(xe, tk_sxtb16(u1), s1));
        s2 = tk_smlad(xo, tk_sxtb16_ror8(u2), tk_smlad(xe, tk_sxtb16(u2), s2));
        s3 = tk_smlad(xo, tk_sxtb16_ror8(u3), tk_smlad(xe, tk_sxtb16(u3), s3));
    }
    for (; d < D; ++d, w += 4) {
        s0 = tk_add_wrap_s32(s0, v[d] * w[0]);
        s1 = tk_add_wrap_s32(s1, v[d] * w[1]);
        s2 = tk_add_wrap_s32(s2, v[d] * w[2]);
        s3 = tk_add_wrap_s32(s3, v[d] * w[3]);
    }
    acc[0] = s0, acc[1] = s1, acc[2] = s2, acc[3] = s3;
#else
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;     /* raw sums, |sum| < 2^30 */
    for (; d < D4; d += 4, w += 16) {
        for (int32_t k = 0; k < 4; ++k) {
            const int32_t xv = v[d + k];
            s0 += xv * w[k];
            s1 += xv * w[4 + k];
            s2 += xv * w[8 + k];
            s3 += xv * w[12 + k];
        }
    }
    for (; d < D; ++d, w += 4) {
        s0 += v[d] * w[0];
        s1 += v[d] * w[1];
        s2 += v[d] * w[2];
        s3 += v[d] * w[3];
    }
    acc[0] = tk_add_wrap_s32(acc[0], s0);
    acc[1] = tk_add_wrap_s32(acc[1], s1);
    acc[2] = tk_add_wrap_s32(acc[2], s2);
    acc[3] = tk_add_wrap_s32(acc[3], s3);
#endif
}

/* One time step of one batch: x [I], h [S] (read), c [S] (updated), out [S] (new h) */
static void tk_lstm_step(const tk_lstm_params *p, const int8_t *x, const int8_t *h, int16_t *c,
                         int8_t *out) {
    const int32_t I = p->input_size, S = p->state_size;
    const int32_t *rq = p->rq;
    const int32_t fast = p->rq_fast, mfast = p->mul_fast;
    const int32_t k1 = 1 + 2 * p->hidden_offset;
    for (int32_t j = 0; j < S; ++j) {
        int32_t ai[4], ah[4], g[4];
        for (int32_t k = 0; k < 4; ++k) {
            ai[k] = p->bias_in[4 * j + k];
            ah[k] = p->bias_rec[4 * j + k];
        }
        tk_lstm_dot4(x, I, p->w_in + 4 * j * I, ai);
        tk_lstm_dot4(h, S, p->w_rec + 4 * j * S, ah);
        for (int32_t k = 0; k < 4; ++k) {
            g[k] = tk_lstm_sat16(tk_lstm_sat16(tk_lstm_rq(ai[k], rq[4 * k], rq[4 * k + 1], fast)) +
                                 tk_lstm_sat16(tk_lstm_rq(ah[k], rq[4 * k + 2], rq[4 * k + 3], fast)));
        }
        const int32_t ig = tk_lstm_sigmoid(g[0]), fg = tk_lstm_sigmoid(g[1]);
        const int32_t zg = tk_lstm_tanh_scaled(3 * g[2]), og = tk_lstm_sigmoid(g[3]);
        int32_t cj;
        if (mfast) {
            cj = tk_lstm_sat16(tk_requant_fast(fg * c[j], p->forget_mult, p->forget_shift, 1)) +
                 tk_lstm_sat16(tk_requant_fast(ig * zg, p->input_mult, p->input_shift, 1));
        } else {
            cj = tk_lstm_sat16(tk_conv_requant(fg * c[j], p->forget_mult, p->forget_shift)) +
                 tk_lstm_sat16(tk_conv_requant(ig * zg, p->input_mult, p->input_shift));
        }
        cj = tk_lstm_sat16(cj);
        if (p->cell_clip >= 0) cj = tk_clamp(cj, -p->cell_clip, p->cell_clip);
        c[j] = (int16_t)cj;
        const int32_t t = tk_lstm_tanh_scaled((cj * p->tanh_mult + p->tanh_round) >> p->tanh_shift);
        const int32_t hv = mfast ? tk_requant_fast(t * og, p->hidden_mult, p->hidden_shift, k1)
                                 : tk_conv_requant(t * og, p->hidden_mult, p->hidden_shift) +
                                       p->hidden_offset;
        out[j] = (int8_t)tk_clamp(hv, -128, 127);
    }
}

void tk_lstm_s8(const tk_lstm_params *p, const int8_t *input, int8_t *hidden, int16_t *cell,
                int8_t *output) {
    const int32_t B = p->batches, T = p->steps, I = p->input_size, S = p->state_size;
    for (int32_t b = 0; b < B; ++b) {
        for (int32_t t = 0; t < T; ++t) {
            const int32_t row = p->time_major ? t * B + b : b * T + t;
            int8_t *out = output + row * S;
            tk_lstm_step(p, input + row * I, hidden + b * S, cell + b * S, out);
            memcpy(hidden + b * S, out, (size_t)S);
        }
    }
}
