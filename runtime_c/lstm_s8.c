/* UNIDIRECTIONAL_SEQUENCE_LSTM int8 (lstm_s8.h): TFLM's integer LSTM step, one state element
 * (four weight rows: its input, forget, cell and output gates) per pass.
 *
 * Accumulators: acc = folded bias + sum_d v[d] * w[d] equals TFLM's bias + sum (v + offset) * w
 * modulo 2^32 (TFLM's int32 sum wraps alike); the compiler caps the depth at 2^16, so the raw sum
 * of int8 products stays below 2^30 and only the bias is added with wrap-around. Gate inputs are
 * Q3.12 int16, gate outputs Q0.15: sigmoid in [0, 32767], tanh in [-32767, 32767], so every
 * elementwise product is below 2^30 in magnitude (tk_requant_fast's range). */
#include "lstm_s8.h"
#include "lstm_gates.h"

/* Four accumulators: the four gate rows of one state element */
typedef struct {
    int32_t s0, s1, s2, s3;
} tk_lstm_acc;

#if TK_NN_SIMD && !defined(TK_DSP_EMULATE_SIMD)
/* one SXTB16 pair and two SMLADs: a row's four weights (u) against the input's even and odd lanes */
#define TK_LSTM_ROW(s, u)                           \
        "sxtb16 %[ue], %[" #u "]\n\t"               \
        "sxtb16 %[" #u "], %[" #u "], ror #8\n\t"   \
        "smlad  %[" #s "], %[xe], %[ue], %[" #s "]\n\t" \
        "smlad  %[" #s "], %[xv], %[" #u "], %[" #s "]\n\t"
#endif

/* bias[0..3] + the four rows of one weight block (4 * D bytes at *w, row-blocked) dotted with
 * v; *w is advanced past the block. The DSP path: per group of four inputs one input word split
 * into its even and odd lanes, four weight words, eight SXTB16, eight SMLAD (as
 * fully_connected_s8.c), its multiply-accumulates wrapping like TFLM's int32 sum. */
static inline __attribute__((always_inline)) tk_lstm_acc tk_lstm_dot4(
    const int8_t *v, const uint32_t *vx, int32_t D, const int8_t **w, const int32_t *bias) {
    const int32_t D4 = D & ~3;
    const int8_t *pw = *w;
#if TK_NN_SIMD
    int32_t s0 = bias[0], s1 = bias[1], s2 = bias[2], s3 = bias[3];
    const int8_t *px = v;
    int32_t n = D4 >> 2;
#if !defined(TK_DSP_EMULATE_SIMD)
    if (n > 0 && vx) {          /* the input's lanes already split, two words per group */
        uint32_t xv, xe, u0, u1, ue;
        int32_t pairs = n >> 1;
#define TK_LSTM_GROUP                                   \
            "ldrd   %[xe], %[xv], [%[px]], #8\n\t"     \
            "ldrd   %[u0], %[u1], [%[pw]], #8\n\t"     \
            TK_LSTM_ROW(s0, u0)                         \
            TK_LSTM_ROW(s1, u1)                         \
            "ldrd   %[u0], %[u1], [%[pw]], #8\n\t"     \
            TK_LSTM_ROW(s2, u0)                         \
            TK_LSTM_ROW(s3, u1)
        if (pairs > 0) {        /* two groups per pass */
            __asm__ volatile(
                "1:\n\t"
                TK_LSTM_GROUP
                TK_LSTM_GROUP
                "subs   %[n], %[n], #1\n\t"
                "bne    1b\n\t"
                : [px] "+r"(vx), [pw] "+r"(pw), [n] "+r"(pairs), [s0] "+r"(s0), [s1] "+r"(s1),
                  [s2] "+r"(s2), [s3] "+r"(s3), [xv] "=&r"(xv), [xe] "=&r"(xe), [u0] "=&r"(u0),
                  [u1] "=&r"(u1), [ue] "=&r"(ue)
                :
                : "cc", "memory");
        }
        if (n & 1) {            /* the odd group */
            __asm__ volatile(
                TK_LSTM_GROUP
                : [px] "+r"(vx), [pw] "+r"(pw), [s0] "+r"(s0), [s1] "+r"(s1),
                  [s2] "+r"(s2), [s3] "+r"(s3), [xv] "=&r"(xv), [xe] "=&r"(xe), [u0] "=&r"(u0),
                  [u1] "=&r"(u1), [ue] "=&r"(ue)
                :
                : "memory");
        }
#undef TK_LSTM_GROUP
    } else if (n > 0) {
        uint32_t xv, xe, u0, u1, ue;
        __asm__ volatile(
            "1:\n\t"
            "ldr    %[xv], [%[px]], #4\n\t"
            "ldrd   %[u0], %[u1], [%[pw]], #8\n\t"
            "sxtb16 %[xe], %[xv]\n\t"
            "sxtb16 %[xv], %[xv], ror #8\n\t"
            TK_LSTM_ROW(s0, u0)
            TK_LSTM_ROW(s1, u1)
            "ldrd   %[u0], %[u1], [%[pw]], #8\n\t"
            TK_LSTM_ROW(s2, u0)
            TK_LSTM_ROW(s3, u1)
            "subs   %[n], %[n], #1\n\t"
            "bne    1b\n\t"
            : [px] "+r"(px), [pw] "+r"(pw), [n] "+r"(n), [s0] "+r"(s0), [s1] "+r"(s1),
              [s2] "+r"(s2), [s3] "+r"(s3), [xv] "=&r"(xv), [xe] "=&r"(xe), [u0] "=&r"(u0),
              [u1] "=&r"(u1), [ue] "=&r"(ue)
            :
            : "cc", "memory");
    }
#else
    (void)vx;
    for (; n > 0; --n, px += 4, pw += 16) {
        const uint32_t xv = tk_ld4(px);
        const uint32_t xe = tk_sxtb16(xv), xo = tk_sxtb16_ror8(xv);
        const uint32_t u0 = tk_ld4(pw), u1 = tk_ld4(pw + 4), u2 = tk_ld4(pw + 8),
                       u3 = tk_ld4(pw + 12);
        s0 = tk_smlad(xo, tk_sxtb16_ror8(u0), tk_smlad(xe, tk_sxtb16(u0), s0));
        s1 = tk_smlad(xo, tk_sxtb16_ror8(u1), tk_smlad(xe, tk_sxtb16(u1), s1));
        s2 = tk_smlad(xo, tk_sxtb16_ror8(u2), tk_smlad(xe, tk_sxtb16(u2), s2));
        s3 = tk_smlad(xo, tk_sxtb16_ror8(u3), tk_smlad(xe, tk_sxtb16(u3), s3));
    }
#endif
    for (int32_t d = D4; d < D; ++d, pw += 4) {
        s0 = tk_add_wrap_s32(s0, v[d] * pw[0]);
        s1 = tk_add_wrap_s32(s1, v[d] * pw[1]);
        s2 = tk_add_wrap_s32(s2, v[d] * pw[2]);
        s3 = tk_add_wrap_s32(s3, v[d] * pw[3]);
    }
    const tk_lstm_acc a = {s0, s1, s2, s3};
#else
    (void)vx;
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;     /* raw sums, |sum| < 2^30 */
    int32_t d = 0;
    for (; d < D4; d += 4, pw += 16) {
        for (int32_t k = 0; k < 4; ++k) {
            const int32_t xv = v[d + k];
            s0 += xv * pw[k];
            s1 += xv * pw[4 + k];
            s2 += xv * pw[8 + k];
            s3 += xv * pw[12 + k];
        }
    }
    for (; d < D; ++d, pw += 4) {
        s0 += v[d] * pw[0];
        s1 += v[d] * pw[1];
        s2 += v[d] * pw[2];
        s3 += v[d] * pw[3];
    }
    const tk_lstm_acc a = {tk_add_wrap_s32(bias[0], s0), tk_add_wrap_s32(bias[1], s1),
                           tk_add_wrap_s32(bias[2], s2), tk_add_wrap_s32(bias[3], s3)};
#endif
    *w = pw;
    return a;
}

/* a gate's input: the input FC's part xg (already requantized to int16) plus the recurrent FC's
 * accumulator requantized to int16 ({multiplier, shift} at rq), added with saturation */
static inline int32_t tk_lstm_gate(int32_t xg, int32_t ah, const int32_t *rq, int32_t fast) {
    return tk_lstm_sat16(xg + tk_lstm_sat16(tk_lstm_rq(ah, rq[0], rq[1], fast, 1)));
}

/* One time step of one batch: x [I], h [S] (read), c [S] (updated), out [S] (new h). `fast`
 * (the gate FCs) and `mfast` (the products) are constants in each inlined copy. */
static inline __attribute__((always_inline)) void tk_lstm_step(
    const tk_lstm_params *p, const int8_t *x, const int8_t *h, int16_t *c, int8_t *out,
    const uint32_t *xx, const uint32_t *hx, const int32_t fast, const int32_t mfast) {
    const int32_t I = p->input_size, S = p->state_size;
    const int32_t *rq = p->rq, *bi = p->bias_in, *br = p->bias_rec;
    const int8_t *wi = p->w_in, *wr = p->w_rec;
    for (int32_t j = 0; j < S; ++j, bi += 4, br += 4) {
        /* the input FC's four int16 gate parts first, so that only they (not four
         * accumulators) stay live across the recurrent FC */
        const tk_lstm_acc ai = tk_lstm_dot4(x, xx, I, &wi, bi);
        const int32_t x0 = tk_lstm_sat16(tk_lstm_rq(ai.s0, rq[0], rq[1], fast, 1));
        const int32_t x1 = tk_lstm_sat16(tk_lstm_rq(ai.s1, rq[4], rq[5], fast, 1));
        const int32_t x2 = tk_lstm_sat16(tk_lstm_rq(ai.s2, rq[8], rq[9], fast, 1));
        const int32_t x3 = tk_lstm_sat16(tk_lstm_rq(ai.s3, rq[12], rq[13], fast, 1));
        const tk_lstm_acc ah = tk_lstm_dot4(h, hx, S, &wr, br);
        const int32_t ig = tk_lstm_sigmoid(tk_lstm_gate(x0, ah.s0, rq + 2, fast));
        const int32_t fg = tk_lstm_sigmoid(tk_lstm_gate(x1, ah.s1, rq + 6, fast));
        const int32_t zg = tk_lstm_tanh_scaled(3 * tk_lstm_gate(x2, ah.s2, rq + 10, fast));
        const int32_t og = tk_lstm_sigmoid(tk_lstm_gate(x3, ah.s3, rq + 14, fast));
        out[j] = (int8_t)tk_clamp(tk_lstm_cell_step(&p->cell, c + j, ig, fg, zg, og, mfast),
                                  -128, 127);
    }
}

#if TK_NN_SIMD && !defined(TK_DSP_EMULATE_SIMD)
/* Inputs up to this many groups of four are split into even and odd lanes once per step (on the
 * stack: 8 bytes a group), not once per state element */
#define TK_LSTM_SPLIT_MAX 32

/* v's first 4 * n values as n pairs {even lanes, odd lanes}; NULL when n is too large */
static const uint32_t *tk_lstm_split(const int8_t *v, int32_t n, uint32_t *buf) {
    if (n > TK_LSTM_SPLIT_MAX) return 0;
    for (int32_t g = 0; g < n; ++g) {
        const uint32_t xv = tk_ld4(v + 4 * g);
        buf[2 * g] = tk_sxtb16(xv);
        buf[2 * g + 1] = tk_sxtb16_ror8(xv);
    }
    return buf;
}
#endif

void tk_lstm_s8(const tk_lstm_params *p, const int8_t *input, int8_t *hidden, int16_t *cell,
                int8_t *output) {
    const int32_t B = p->batches, T = p->steps, I = p->input_size, S = p->state_size;
#if TK_NN_SIMD && !defined(TK_DSP_EMULATE_SIMD)
    uint32_t xbuf[2 * TK_LSTM_SPLIT_MAX], hbuf[2 * TK_LSTM_SPLIT_MAX];
#endif
    for (int32_t b = 0; b < B; ++b) {
        for (int32_t t = 0; t < T; ++t) {
            const int32_t row = p->time_major ? t * B + b : b * T + t;
            const int8_t *x = input + row * I;
            int8_t *h = hidden + b * S, *out = output + row * S;
            int16_t *c = cell + b * S;
#if TK_NN_SIMD && !defined(TK_DSP_EMULATE_SIMD)
            const uint32_t *xx = tk_lstm_split(x, I >> 2, xbuf);
            const uint32_t *hx = tk_lstm_split(h, S >> 2, hbuf);
#else
            const uint32_t *xx = 0, *hx = 0;
#endif
            if (p->rq_fast && p->cell.mul_fast) {
                tk_lstm_step(p, x, h, c, out, xx, hx, 1, 1);
            } else {
                tk_lstm_step(p, x, h, c, out, xx, hx, p->rq_fast, p->cell.mul_fast);
            }
            memcpy(h, out, (size_t)S);
        }
    }
}
