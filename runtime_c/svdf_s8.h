/* SVDF, int8 input and output, int16 (tk_svdf_s8_s16) or int8 (tk_svdf_s8_s8) time weights and
 * activation state, as TFLM's EvalIntegerSvdfReference. The state is a variable tensor
 * [batches][filters][memory] (kept across invokes): each call shifts it left by one element,
 * writes the newest column from the feature matmul, then reads it against the time weights. */
#ifndef TK_SVDF_S8_H
#define TK_SVDF_S8_H
#include "tk_nn.h"

typedef struct {
    int32_t batches, input_size, filters, units, rank, memory;   /* filters = units * rank */
    int32_t input_offset;           /* -input zero point */
    int32_t state_zp, output_zp;
    int32_t m1, s1;                 /* feature dot -> state scale (shift in [-31, 30]) */
    int32_t m2, s2;                 /* time dot + bias -> output scale */
} tk_svdf_params;

/* scratch: batches * (filters + units) int32 */
void tk_svdf_s8_s16(const tk_svdf_params *p, const int8_t *input, const int8_t *weights_feature,
                    const int16_t *weights_time, const int32_t *bias, int16_t *state,
                    int32_t *scratch, int8_t *output);
void tk_svdf_s8_s8(const tk_svdf_params *p, const int8_t *input, const int8_t *weights_feature,
                   const int8_t *weights_time, const int32_t *bias, int8_t *state,
                   int32_t *scratch, int8_t *output);
#endif
