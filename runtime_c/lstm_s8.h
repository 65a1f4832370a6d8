/* UNIDIRECTIONAL_SEQUENCE_LSTM, int8 activations and weights, int16 cell state: TFLM's integer
 * LSTM (lstm_eval.h, EvalLstm<int8_t, int8_t, int16_t, int32_t>), bit for bit.
 *
 * Per batch b and time step t, for every state element j:
 *   pre[g] = sat16(sat16(rq_in_g(bias_in + W_in[g] . x)) + sat16(rq_rec_g(bias_rec + W_rec[g] . h)))
 *   i = sigmoid(pre[0]), f = sigmoid(pre[1]), z = tanh(pre[2]), o = sigmoid(pre[3])  (Q0.15)
 *   c = sat16(f * c (forget_*) + i * z (input_*)), clipped to [cell_min, cell_max]
 *   h = tanh_cell(c) * o (hidden_*), int8 with the hidden state's zero point
 * where gate g is 0 input, 1 forget, 2 cell, 3 output. The four rows of one state element form
 * one block of four weight rows (row 4j+g), so a single pass gives all four gates of j, and the
 * kernel needs no scratch: h of step t is written to the output at (b, t), then copied into the
 * hidden state once every element has read the old one; the cell state is updated in place. */
#ifndef TK_LSTM_S8_H
#define TK_LSTM_S8_H
#include "tk_nn.h"

/* The elementwise part (the int8 and 16x8 kernels share it, lstm_gates.h): three requantized
 * int16 x int16 products (shifts held as -shift - 1 when mul_fast), the cell state's tanh input
 * scaling and clamp. */
typedef struct {
    int32_t forget_mult, forget_shift;   /* forget gate x cell state -> cell state */
    int32_t input_mult, input_shift;     /* input gate x cell gate -> cell state */
    int32_t hidden_mult, hidden_shift, hidden_offset;   /* tanh(cell) x output gate -> hidden */
    int32_t mul_fast;
    /* tanh of the cell state: its input is (c * tanh_mult + tanh_round) >> tanh_shift */
    int32_t tanh_mult, tanh_round, tanh_shift;
    /* the cell state's clamp: TFLM's cell clip +-q when cell_clip > 0, else int16's range */
    int32_t cell_min, cell_max;
} tk_lstm_cell;

typedef struct {
    int32_t batches, steps, input_size, state_size;   /* B, T, I, S */
    int32_t time_major;              /* 1: input [T][B][I], output [T][B][S]; 0: [B][T][...] */
    /* weights, rows 4j+g, row-blocked by four (fully_connected_s8.h): W_in [4S][I],
     * W_rec [4S][S] */
    const int8_t *w_in, *w_rec;
    /* bias_in[4j+g] = gate bias + input_offset * row sum of W_in; bias_rec[4j+g] =
     * hidden_offset * row sum of W_rec (TFLM's recurrent FC has no bias), both wrapped to int32 */
    const int32_t *bias_in, *bias_rec;
    /* for gate g: rq[4g..4g+3] = {in multiplier, in shift, rec multiplier, rec shift} of the two
     * FCs to the gates' Q3.12 (scale 2^-12); when rq_fast, shifts are held as -shift - 1 */
    const int32_t *rq;
    int32_t rq_fast;
    tk_lstm_cell cell;
} tk_lstm_params;

void tk_lstm_s8(const tk_lstm_params *p, const int8_t *input, int8_t *hidden, int16_t *cell,
                int8_t *output);
#endif
