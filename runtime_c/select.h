/* SELECT_V2, int8 and int16 values with a bool condition (one byte), with numpy-style broadcasting
 * of all three inputs collapsed by the compiler to 6 dims (TFLM select.cc). */
#ifndef TK_SELECT_H
#define TK_SELECT_H
#include "bin_walk.h"

typedef struct {
    tk_bcast3 bcast;                 /* the walk over the output: condition, x, y strides */
} tk_select_params;

void tk_select_s8(const tk_select_params *p, const uint8_t *cond, const int8_t *x,
                  const int8_t *y, int8_t *output);
void tk_select_s16(const tk_select_params *p, const uint8_t *cond, const int16_t *x,
                   const int16_t *y, int16_t *output);
#endif
