/* Broadcast walks of the elementwise kernels beyond ADD and MUL (SUB, MINIMUM, MAXIMUM,
 * SQUARED_DIFFERENCE, the comparisons, SELECT_V2) and the requantized add/subtract they share with
 * ADD (TFLM's AddFunc and its SUB twin). The walk over two inputs is tk_nn.h's tk_bcast;
 * SELECT_V2's three-input walk is tk_bcast3 below. The compiler has merged the output shape to 6 dims and
 * checked that every input read stays within its tensor. */
#ifndef TK_BIN_WALK_H
#define TK_BIN_WALK_H
#include "tk_nn.h"

/* Walk the output of a tk_bcast (its dims and two stride arrays) row by row: for each output
 * element, `a` and `b` (int32_t) hold the two input elements and BODY, an expression of a and b,
 * is stored (cast to TO). The kernels pass p->bcast.dims, p->bcast.stride1, p->bcast.stride2. */
#define TK_BIN_WALK(dims, st1, st2, TA, in1, TB, in2, TO, out, BODY)                         \
    do {                                                                                     \
        const int32_t n_ = (dims)[5], s1_ = (st1)[5], s2_ = (st2)[5];                        \
        const int32_t rows_ = tk_bcast_rows(dims);                                           \
        int32_t idx_[5] = {0, 0, 0, 0, 0}, o1_ = 0, o2_ = 0;                                 \
        TO *dst_ = (out);                                                                    \
        for (int32_t r_ = 0; r_ < rows_; ++r_) {                                             \
            const TA *ra_ = (in1) + o1_;                                                     \
            const TB *rb_ = (in2) + o2_;                                                     \
            for (int32_t i_ = 0; i_ < n_; ++i_) {                                            \
                const int32_t a = ra_[i_ * s1_], b = rb_[i_ * s2_];                          \
                *dst_++ = (TO)(BODY);                                                        \
            }                                                                                \
            tk_bcast_step(dims, st1, st2, idx_, &o1_, &o2_);                                 \
        }                                                                                    \
    } while (0)

/* A broadcast walk over three inputs (SELECT_V2's condition, x and y): 6 output dims, innermost
 * last, and each input's element strides, 0 along the dims it broadcasts. */
typedef struct {
    int32_t dims[6];
    int32_t stride1[6], stride2[6], stride3[6];
} tk_bcast3;

/* Advance the odometer idx over the 5 outer dims and the three row offsets with it. */
static inline void tk_bcast3_step(const int32_t dims[6], const int32_t st1[6],
                                  const int32_t st2[6], const int32_t st3[6], int32_t idx[5],
                                  int32_t off[3]) {
    for (int d = 4; d >= 0; --d) {
        if (++idx[d] < dims[d]) {
            off[0] += st1[d];
            off[1] += st2[d];
            off[2] += st3[d];
            return;
        }
        idx[d] = 0;
        off[0] -= (dims[d] - 1) * st1[d];
        off[1] -= (dims[d] - 1) * st2[d];
        off[2] -= (dims[d] - 1) * st3[d];
    }
}

/* The requantized sum (sign +1) or difference (sign -1) of ADD and SUB before the output stage:
 * both inputs, zero-point corrected (|a + offset| <= 65535), shifted left by left_shift (20 for
 * int8, 15 for int16: at most 65535 * 2^15 < 2^31) and scaled by multipliers below 1/2 (shifts
 * <= 0), so each term is below 2^30 in magnitude and their sum or difference fits int32. */
static inline int32_t tk_addsub_raw(int32_t a, int32_t b, int32_t off1, int32_t off2,
                                    int32_t left_shift, int32_t m1, int32_t sh1, int32_t m2,
                                    int32_t sh2, int32_t sign) {
    const int32_t x = tk_requant((a + off1) * (1 << left_shift), m1, sh1);
    const int32_t y = tk_requant((b + off2) * (1 << left_shift), m2, sh2);
    return sign > 0 ? x + y : x - y;
}

#endif /* TK_BIN_WALK_H */
