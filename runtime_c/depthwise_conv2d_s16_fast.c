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

/* The taps of output (oy, ox) inside the image: input pixel offsets (elements) and tap
 * indices; returns their count. */
static int32_t tk_dw16_taps(const tk_conv_s16_params *p, int32_t b, int32_t oy, int32_t ox,
                            int32_t *xo, int32_t *tap) {
    const int32_t iy0 = oy * p->geom.stride_h - p->geom.pad_h;
    const int32_t ix0 = ox * p->geom.stride_w - p->geom.pad_w;
    int32_t n = 0;
    for (int32_t ky = 0; ky < p->filter.h; ++ky) {
        const int32_t iy = iy0 + p->geom.dil_h * ky;
        if (iy < 0 || iy >= p->input.h) continue;
        for (int32_t kx = 0; kx < p->filter.w; ++kx) {
            const int32_t ix = ix0 + p->geom.dil_w * kx;
            if (ix < 0 || ix >= p->input.w) continue;
            xo[n] = ((b * p->input.h + iy) * p->input.w + ix) * p->input.c;
            tap[n++] = ky * p->filter.w + kx;
        }
    }
    return n;
}

/* Channels c .. c + 3 (c even) of one pixel. */
static void tk_dw16_quad(const tk_conv_s16_params *p, const int16_t *input, const int32_t *wx,
                         const int32_t *xo, const int32_t *tap, int32_t n,
                         const int64_t *bias, int32_t c, int16_t *out) {
    const int32_t words = (p->output.c + 1) / 2;
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (int32_t t = 0; t < n; ++t) {
        const int16_t *x = input + xo[t] + c;
        const uint32_t *w = (const uint32_t *)wx + tap[t] * words + c / 2;
        TK_DW16_MAC2(a0, a1, x, w[0]);
        TK_DW16_MAC2(a2, a3, x + 2, w[1]);
    }
    tk_dw16_out(p, a0, bias, c, out);
    tk_dw16_out(p, a1, bias, c + 1, out);
    tk_dw16_out(p, a2, bias, c + 2, out);
    tk_dw16_out(p, a3, bias, c + 3, out);
}

/* The last output.c % 4 channels of one pixel (from c, even): a pair, then an odd one. */
static void tk_dw16_rest(const tk_conv_s16_params *p, const int16_t *input, const int32_t *wx,
                         const int32_t *xo, const int32_t *tap, int32_t n,
                         const int64_t *bias, int32_t c, int16_t *out) {
    const int32_t words = (p->output.c + 1) / 2, ch = p->output.c;
    if (c + 2 <= ch) {
        int32_t a0 = 0, a1 = 0;
        for (int32_t t = 0; t < n; ++t) {
            const uint32_t *w = (const uint32_t *)wx + tap[t] * words + c / 2;
            TK_DW16_MAC2(a0, a1, input + xo[t] + c, w[0]);
        }
        tk_dw16_out(p, a0, bias, c, out);
        tk_dw16_out(p, a1, bias, c + 1, out);
        c += 2;
    }
    if (c < ch) {
        int32_t a = 0;
        for (int32_t t = 0; t < n; ++t) {
            a += input[xo[t] + c] * tk_dw16_lo((uint32_t)wx[tap[t] * words + c / 2]);
        }
        tk_dw16_out(p, a, bias, c, out);
    }
}

void tk_depthwise_conv2d_s16_fast(const tk_conv_s16_params *p, const int16_t *input,
                                  const int32_t *wx, const int64_t *bias, int16_t *output) {
    const int32_t ch = p->output.c, ch4 = ch & ~3;
    int32_t xo[TK_DW16_FAST_TAPS], tap[TK_DW16_FAST_TAPS];
    for (int32_t b = 0; b < p->input.n; ++b) {
        for (int32_t oy = 0; oy < p->output.h; ++oy) {
            for (int32_t ox = 0; ox < p->output.w; ++ox) {
                int16_t *out = output + ((b * p->output.h + oy) * p->output.w + ox) * ch;
                const int32_t n = tk_dw16_taps(p, b, oy, ox, xo, tap);
                for (int32_t c = 0; c < ch4; c += 4) {
                    tk_dw16_quad(p, input, wx, xo, tap, n, bias, c, out);
                }
                if (ch4 < ch) tk_dw16_rest(p, input, wx, xo, tap, n, bias, ch4, out);
            }
        }
    }
}
