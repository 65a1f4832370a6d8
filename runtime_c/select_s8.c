/* SELECT_V2 int8 (TFLM reference_ops::Select / BroadcastSelect5DSlow): cond ? x : y. */
#include "select.h"

void tk_select_s8(const tk_select_params *p, const uint8_t *cond, const int8_t *x,
                  const int8_t *y, int8_t *output) {
    const int32_t *dims = p->bcast.dims;
    const int32_t *st1 = p->bcast.stride1, *st2 = p->bcast.stride2, *st3 = p->bcast.stride3;
    const int32_t n = dims[5], sc = st1[5], sx = st2[5], sy = st3[5];
    const int32_t rows = tk_bcast_rows(dims);
    int32_t idx[5] = {0, 0, 0, 0, 0}, off[3] = {0, 0, 0};
    for (int32_t r = 0; r < rows; ++r) {
        const uint8_t *c = cond + off[0];
        const int8_t *a = x + off[1], *b = y + off[2];
        for (int32_t i = 0; i < n; ++i) {
            *output++ = c[i * sc] ? a[i * sx] : b[i * sy];
        }
        tk_bcast3_step(dims, st1, st2, st3, idx, off);
    }
}
