/* DEPTHWISE_CONV_2D 16x8 fast kernel, declared in depthwise_conv2d_s16_fast.h. Per output pixel
 * the taps inside the image are listed once (input pixel, weight row); then channels four at a
 * time (then two, then one) sum them: on the DSP extension one word of the input holds two
 * channels, and SMLABB / SMLATT multiply each by its own weight lane (tk_simd.h); plain C
 * elsewhere. int32 sums (exact, see the header), widened, plus the bias: the reference's bits. */
#include "depthwise_conv2d_s16_fast.h"
#include "tk_simd.h"

static inline int32_t tk_dw16_lo(uint32_t w) { return (int16_t)(uint16_t)(w & 0xFFFFu); }
static inline int32_t tk_dw16_hi(uint32_t w) { return (int16_t)(uint16_t)(w >> 16); }

#if TK_NN_SIMD
/* a += x lane 0 * w lane 0, b += x lane 1 * w lane 1; x: two int16 at any 2-byte alignment */
#define TK_DW16_MAC2(a, b, xp, w)                          \
    do {                                                   \
        uint32_t v_;                                       \
        memcpy(&v_, (xp), 4);                              \
        a = tk_smlabb(v_, (w), a);                         \
        b = tk_smlatt(v_, (w), b);                         \
    } while (0)
#else
#define TK_DW16_MAC2(a, b, xp, w)                          \
    do {                                                   \
        a += (xp)[0] * tk_dw16_lo(w);                      \
        b += (xp)[1] * tk_dw16_hi(w);                      \
    } while (0)
#endif

static void tk_dw16_out(const tk_conv_s16_params *p, int32_t acc, const int64_t *bias,
                        int32_t c, int16_t *out) {
    int64_t a = acc;
    if (bias) a += bias[c];
    out[c] = tk_out_s16(a, p->rq + 2 * c, p->acc64, &p->quant);
}

/* The filter window of one output pixel: the rows [ky0, ky1) and columns [kx0, kx1) that fall
 * inside the image (contiguous ranges: iy = iy0 + dil_h * ky grows with ky), the input element
 * of tap (ky0, kx0) and the element steps of one row and one column. */
typedef struct {
    int32_t ky0, ky1, kx0, kx1, x0, row, col;
} tk_dw16_win;

static tk_dw16_win tk_dw16_window(const tk_conv_s16_params *p, int32_t b, int32_t oy,
                                  int32_t ox) {
    const int32_t iy0 = oy * p->geom.stride_h - p->geom.pad_h;
    const int32_t ix0 = ox * p->geom.stride_w - p->geom.pad_w;
    const int32_t dh = p->geom.dil_h, dw = p->geom.dil_w;
    tk_dw16_win v;
    v.ky0 = 0;
    while (v.ky0 < p->filter.h && iy0 + dh * v.ky0 < 0) ++v.ky0;
    v.ky1 = v.ky0;
    while (v.ky1 < p->filter.h && iy0 + dh * v.ky1 < p->input.h) ++v.ky1;
    v.kx0 = 0;
    while (v.kx0 < p->filter.w && ix0 + dw * v.kx0 < 0) ++v.kx0;
    v.kx1 = v.kx0;
    while (v.kx1 < p->filter.w && ix0 + dw * v.kx1 < p->input.w) ++v.kx1;
    v.col = dw * p->input.c;
    v.row = dh * p->input.w * p->input.c;
    if (v.ky0 == v.ky1 || v.kx0 == v.kx1) {      /* no tap inside: nothing is read */
        v.ky1 = v.ky0;
        v.x0 = 0;
    } else {
        v.x0 = ((b * p->input.h + iy0 + dh * v.ky0) * p->input.w + ix0 + dw * v.kx0) *
               p->input.c;
    }
    return v;
}

/* Channels c .. c + 3 (c even) of one pixel. */
static void tk_dw16_quad(const tk_conv_s16_params *p, const int16_t *input, const int32_t *wx,
                         const tk_dw16_win *v, const int64_t *bias, int32_t c, int16_t *out) {
    const int32_t words = (p->output.c + 1) / 2;
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    int32_t xr = v->x0 + c;     /* element offsets: no pointer moves past an array's end */
    for (int32_t ky = v->ky0; ky < v->ky1; ++ky, xr += v->row) {
        int32_t xi = xr, wi = (ky * p->filter.w + v->kx0) * words + c / 2;
        for (int32_t kx = v->kx0; kx < v->kx1; ++kx, xi += v->col, wi += words) {
            const int16_t *x = input + xi;
            const uint32_t *w = (const uint32_t *)wx + wi;
            TK_DW16_MAC2(a0, a1, x, w[0]);
            TK_DW16_MAC2(a2, a3, x + 2, w[1]);
        }
    }
    tk_dw16_out(p, a0, bias, c, out);
    tk_dw16_out(p, a1, bias, c + 1, out);
    tk_dw16_out(p, a2, bias, c + 2, out);
    tk_dw16_out(p, a3, bias, c + 3, out);
}

/* The last output.c % 4 channels of one pixel (from c, even): a pair, then an odd one. */
static void tk_dw16_rest(const tk_conv_s16_params *p, const int16_t *input, const int32_t *wx,
                         const tk_dw16_win *v, const int64_t *bias, int32_t c, int16_t *out) {
    const int32_t words = (p->output.c + 1) / 2, ch = p->output.c, pair = c + 2 <= ch;
    int32_t a0 = 0, a1 = 0;
    int32_t xr = v->x0 + c;     /* element offsets: no pointer moves past an array's end */
    for (int32_t ky = v->ky0; ky < v->ky1; ++ky, xr += v->row) {
        int32_t xi = xr, wi = (ky * p->filter.w + v->kx0) * words + c / 2;
        for (int32_t kx = v->kx0; kx < v->kx1; ++kx, xi += v->col, wi += words) {
            const int16_t *x = input + xi;
            const uint32_t *w = (const uint32_t *)wx + wi;
            if (pair) {
                TK_DW16_MAC2(a0, a1, x, w[0]);
            } else {
                a0 += x[0] * tk_dw16_lo(w[0]);
            }
        }
    }
    tk_dw16_out(p, a0, bias, c, out);
    if (pair) tk_dw16_out(p, a1, bias, c + 1, out);
    if (pair && c + 2 < ch) tk_dw16_rest(p, input, wx, v, bias, c + 2, out);
}

void tk_depthwise_conv2d_s16_fast(const tk_conv_s16_params *p, const int16_t *input,
                                  const int32_t *wx, const int64_t *bias, int16_t *output) {
    const int32_t ch = p->output.c, ch4 = ch & ~3;
    for (int32_t b = 0; b < p->input.n; ++b) {
        for (int32_t oy = 0; oy < p->output.h; ++oy) {
            for (int32_t ox = 0; ox < p->output.w; ++ox) {
                int16_t *out = output + ((b * p->output.h + oy) * p->output.w + ox) * ch;
                const tk_dw16_win v = tk_dw16_window(p, b, oy, ox);
                for (int32_t c = 0; c < ch4; c += 4) {
                    tk_dw16_quad(p, input, wx, &v, bias, c, out);
                }
                if (ch4 < ch) tk_dw16_rest(p, input, wx, &v, bias, ch4, out);
            }
        }
    }
}
