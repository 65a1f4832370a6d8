/* UNIDIRECTIONAL_SEQUENCE_LSTM 16x8: int16 activations, int8 weights, int64 biases, int16 cell
 * state (TFLM's EvalLstm<int16_t, int8_t, int16_t, int64_t>). The same steps as lstm_s8.h, with
 * the gate FCs accumulated in int64 and requantized as TFLM's int64 MultiplyByQuantizedMultiplier
 * (a Q15 multiplier, one rounding), and an int16 output state. */
#ifndef TK_LSTM_S16_H
#define TK_LSTM_S16_H
#include "lstm_s8.h"

typedef struct {
    int32_t batches, steps, input_size, state_size;   /* B, T, I, S */
    int32_t time_major;              /* 1: input [T][B][I], output [T][B][S]; 0: [B][T][...] */
    const int8_t *w_in, *w_rec;      /* rows 4j+g, plain row-major [4S][I] and [4S][S] */
    /* bias_in[4j+g] = gate bias + input_offset * row sum of W_in; bias_rec[4j+g] =
     * hidden_offset * row sum of W_rec; the compiler bounds every |accumulator| below 2^47 */
    const int64_t *bias_in, *bias_rec;
    /* for gate g: rq[4g..4g+3] = {in Q15 multiplier, in total shift (15 - shift, 8..46), rec
     * Q15 multiplier, rec total shift} */
    const int32_t *rq;
    tk_lstm_cell cell;
} tk_lstm_s16_params;

void tk_lstm_s16(const tk_lstm_s16_params *p, const int16_t *input, int16_t *hidden,
                 int16_t *cell, int16_t *output);
#endif
