/* Elementwise int8 table lookup; input and output may be the same buffer. On the DSP-extension
 * cores (unaligned word access) four values per pass: one word loaded, its bytes flipped by 0x80
 * into the table's indices x + 128, the four results stored as one word. */
#include "lut_s8.h"

void tk_lut_s8(const tk_lut_params *p, const int8_t *input, int8_t *output) {
    const int8_t *t = p->table + 128;      /* t[x] for x in [-128, 127] */
    const int32_t n = p->size;
    int32_t i = 0;
#if TK_NN_SIMD
    const uint8_t *u = (const uint8_t *)p->table;   /* u[x + 128] */
    for (; i + 4 <= n; i += 4) {
        uint32_t w;
        memcpy(&w, input + i, 4);
        w ^= 0x80808080u;
        const uint32_t r = (uint32_t)u[w & 0xFFu] | (uint32_t)u[(w >> 8) & 0xFFu] << 8 |
                           (uint32_t)u[(w >> 16) & 0xFFu] << 16 | (uint32_t)u[w >> 24] << 24;
        memcpy(output + i, &r, 4);
    }
#endif
    for (; i < n; ++i) output[i] = t[input[i]];
}
