/* REDUCE_MAX and REDUCE_MIN int8 (TFLM reference_ops::ReduceGeneric with a max / min reducer):
 * no arithmetic, the output is one of the inputs. */
#include "reduce_minmax_s8.h"

static void reduce(const tk_reduce_params *p, const int8_t *input, int8_t *output, int is_max) {
    for (int32_t k0 = 0; k0 < p->keep_dims[0]; ++k0) {
        for (int32_t k1 = 0; k1 < p->keep_dims[1]; ++k1) {
            for (int32_t k2 = 0; k2 < p->keep_dims[2]; ++k2) {
                const int8_t *base = input + k0 * p->keep_stride[0] + k1 * p->keep_stride[1]
                                   + k2 * p->keep_stride[2];
                int32_t best = is_max ? -128 : 127;
                for (int32_t r0 = 0; r0 < p->red_dims[0]; ++r0) {
                    for (int32_t r1 = 0; r1 < p->red_dims[1]; ++r1) {
                        const int8_t *in = base + r0 * p->red_stride[0] + r1 * p->red_stride[1];
                        for (int32_t r2 = 0; r2 < p->red_dims[2]; ++r2) {
                            const int32_t v = in[r2 * p->red_stride[2]];
                            best = is_max ? TK_MAX(best, v) : TK_MIN(best, v);
                        }
                    }
                }
                *output++ = (int8_t)best;
            }
        }
    }
}

void tk_reduce_max_s8(const tk_reduce_params *p, const int8_t *input, int8_t *output) {
    reduce(p, input, output, 1);
}

void tk_reduce_min_s8(const tk_reduce_params *p, const int8_t *input, int8_t *output) {
    reduce(p, input, output, 0);
}
