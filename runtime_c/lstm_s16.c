/* UNIDIRECTIONAL_SEQUENCE_LSTM 16x8 (lstm_s16.h): the reference loop, one state element's four
 * gate rows at a time. |x + offset| <= 65535 and |w| <= 128, so a product stays below 2^23 and
 * the int64 sum of at most 2^16 of them (plus the folded bias) below 2^47 as the compiler
 * checked: x * multiplier (< 2^15) cannot overflow int64. */
#include "lstm_s16.h"
#include "lstm_gates.h"

/* TFLM's MultiplyByQuantizedMultiplier(int64_t x, ...) with its Q15 multiplier m and total
 * shift ts = 15 - shift already derived; the result is narrowed to int32 as TFLM's is */
static inline int32_t tk_lstm_rq64(int64_t x, int32_t m, int32_t ts) {
    return (int32_t)((x * m + ((int64_t)1 << (ts - 1))) >> ts);
}

static void tk_lstm_s16_step(const tk_lstm_s16_params *p, const int16_t *x, const int16_t *h,
                             int16_t *c, int16_t *out) {
    const int32_t I = p->input_size, S = p->state_size;
    const int32_t *rq = p->rq;
    for (int32_t j = 0; j < S; ++j) {
        int32_t gate[4];
        for (int32_t g = 0; g < 4; ++g) {
            const int32_t r = 4 * j + g;
            const int8_t *wi = p->w_in + r * I, *wr = p->w_rec + r * S;
            int64_t ai = p->bias_in[r], ah = p->bias_rec[r];
            for (int32_t d = 0; d < I; ++d) ai += (int32_t)x[d] * wi[d];
            for (int32_t d = 0; d < S; ++d) ah += (int32_t)h[d] * wr[d];
            gate[g] = tk_lstm_sat16(tk_lstm_sat16(tk_lstm_rq64(ai, rq[4 * g], rq[4 * g + 1])) +
                                    tk_lstm_sat16(tk_lstm_rq64(ah, rq[4 * g + 2], rq[4 * g + 3])));
        }
        const int32_t ig = tk_lstm_sigmoid(gate[0]), fg = tk_lstm_sigmoid(gate[1]);
        const int32_t zg = tk_lstm_tanh_scaled(3 * gate[2]), og = tk_lstm_sigmoid(gate[3]);
        out[j] = (int16_t)tk_lstm_sat16(
            tk_lstm_cell_step(&p->cell, c + j, ig, fg, zg, og, p->cell.mul_fast));
    }
}

void tk_lstm_s16(const tk_lstm_s16_params *p, const int16_t *input, int16_t *hidden,
                 int16_t *cell, int16_t *output) {
    const int32_t B = p->batches, T = p->steps, I = p->input_size, S = p->state_size;
    for (int32_t b = 0; b < B; ++b) {
        for (int32_t t = 0; t < T; ++t) {
            const int32_t row = p->time_major ? t * B + b : b * T + t;
            int16_t *h = hidden + b * S, *out = output + row * S;
            tk_lstm_s16_step(p, input + row * I, h, cell + b * S, out);
            memcpy(h, out, (size_t)S * sizeof(int16_t));
        }
    }
}
