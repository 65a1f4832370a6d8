/* Elementwise int16 requantization with a sign-dependent multiplier: QUANTIZE int16 -> int16 and
 * int16 -> int8, RELU and LEAKY_RELU on int16 (TFLM's Requantize, ReluQuantized and
 * QuantizeLeakyRelu). Per element, with v = x - input zero point:
 *   y = output_offset + (v >= 0 ? M(v, pos) : neg_sign * M(v, neg)), clamped to [act_min, act_max]
 * where M is TFLM's MultiplyByQuantizedMultiplier (tk_requant). tk_requant_s16 (int16 output) is
 * in requant_s16.c, tk_requant_s16_s8 (int8 output) in requant_s16_s8.c. */
#ifndef TK_REQUANT_S16_H
#define TK_REQUANT_S16_H
#include "tk_nn.h"

typedef struct {
    int32_t size;                    /* elements */
    int32_t input_offset;            /* -input zero point */
    int32_t output_offset;           /* output zero point */
    int32_t pos_multiplier, pos_shift;   /* for v >= 0; shift in [-31, 30] */
    int32_t neg_multiplier, neg_shift;   /* for v < 0; multiplier >= 0 */
    int32_t neg_sign;                /* 1, or -1 for a negative LEAKY_RELU alpha */
    int32_t act_min, act_max;        /* clamp, within the output type */
} tk_requant16_params;

void tk_requant_s16(const tk_requant16_params *p, const int16_t *input, int16_t *output);
void tk_requant_s16_s8(const tk_requant16_params *p, const int16_t *input, int8_t *output);

#ifdef TK_REQUANT_S16_KERNEL
/* |v| <= 65535, so the left shift (<= 30) wraps in uint32 exactly as TFLM's int32 multiply does
 * in practice; the negation of M(v, neg) <= 0 cannot overflow (M(v) >= INT32_MIN + 1 as |v| is
 * small and the multiplier below 2^31). */
static inline int32_t tk_requant16_one(const tk_requant16_params *p, int32_t x) {
    const int32_t v = x + p->input_offset;
    int32_t y;
    if (v >= 0) {
        y = tk_requant(v, p->pos_multiplier, p->pos_shift);
    } else {
        y = tk_requant(v, p->neg_multiplier, p->neg_shift);
        if (p->neg_sign < 0) y = (int32_t)(0u - (uint32_t)y);
    }
    return tk_clamp((int32_t)((uint32_t)y + (uint32_t)p->output_offset), p->act_min, p->act_max);
}
#endif
#endif
