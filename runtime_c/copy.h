/* A plain byte copy: RESHAPE / SQUEEZE whose output cannot share its input's storage. */
#ifndef TK_COPY_H
#define TK_COPY_H
#include "tk_nn.h"

void tk_copy(const void *input, void *output, uint32_t nbytes);
#endif
