/* Table-driven copy (see remap.h): no arithmetic beyond adding four table entries. */
#include "remap.h"

void tk_remap(const tk_remap_params *p, const int8_t *input, int8_t *output) {
    const int32_t *t0 = p->offset[0], *t1 = p->offset[1], *t2 = p->offset[2];
    const int32_t *t3 = p->offset[3];
    const int32_t n = p->inner;
    for (int32_t i0 = 0; i0 < p->dims[0]; ++i0) {
        for (int32_t i1 = 0; i1 < p->dims[1]; ++i1) {
            const int32_t o1 = t0[i0] + t1[i1];
            for (int32_t i2 = 0; i2 < p->dims[2]; ++i2) {
                const int8_t *src = input + o1 + t2[i2];
                if (n == 1) {               /* single bytes: no call per element */
                    for (int32_t i3 = 0; i3 < p->dims[3]; ++i3) {
                        *output++ = src[t3[i3]];
                    }
                } else {
                    for (int32_t i3 = 0; i3 < p->dims[3]; ++i3) {
                        memcpy(output, src + t3[i3], (size_t)n);
                        output += n;
                    }
                }
            }
        }
    }
}
