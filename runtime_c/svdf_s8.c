#include "svdf_s8.h"

/* One feature: sum over the input of w * (x - zp), |each| <= 128 * 255, at most 2^16 of them
 * (the compiler's limit), so the int32 sum cannot overflow; then rescaled to the state's scale. */
static int32_t feature(const tk_svdf_params *p, const int8_t *x, const int8_t *w) {
    int32_t acc = 0;
    for (int32_t c = 0; c < p->input_size; ++c)
        acc += (int32_t)w[c] * ((int32_t)x[c] + p->input_offset);
    return tk_requant(acc, p->m1, p->s1);
}

/* Bias, rank reduction and rescale, from the time dots in scratch[0 .. batches*filters). TFLM's
 * int32 sums wrap (done in uint32 here); its integer path applies no fused activation, only the
 * int8 clamp. */
static void finish(const tk_svdf_params *p, const int32_t *bias, int32_t *scratch,
                   int8_t *output) {
    int32_t *sums = scratch + p->batches * p->filters;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int32_t *dots = scratch + b * p->filters;
        for (int32_t u = 0; u < p->units; ++u) {
            int32_t acc = bias[u];
            for (int32_t r = 0; r < p->rank; ++r)
                acc = tk_add_wrap_s32(acc, dots[u * p->rank + r]);
            sums[b * p->units + u] = acc;
        }
    }
    for (int32_t i = 0; i < p->batches * p->units; ++i) {
        int32_t y = tk_add_wrap_s32(tk_requant(sums[i], p->m2, p->s2), p->output_zp);
        output[i] = (int8_t)tk_clamp(y, -128, 127);
    }
}

/* The state walk for element type T (int16_t or int8_t), range [lo, hi]. The newest column gets
 * zp + clamp(feature): like TFLM, the sum is stored into T as it is (wrapping if zp pushes it out
 * of range). A time product |w * (s - zp)| <= 32768 * 65535 fits int32; the sums over the memory
 * wrap like TFLM's (done in uint32). */
#define TK_SVDF_BODY(T, lo, hi)                                                                  \
    int32_t total = p->batches * p->filters * p->memory;                                       \
    memmove(state, state + 1, (size_t)(total - 1) * sizeof(T));                                \
    for (int32_t b = 0; b < p->batches; ++b) {                                                 \
        for (int32_t f = 0; f < p->filters; ++f) {                                             \
            int32_t v = tk_clamp(feature(p, input + b * p->input_size,                          \
                                         weights_feature + f * p->input_size), lo, hi);         \
            state[(b * p->filters + f) * p->memory + p->memory - 1] = (T)(p->state_zp + v);     \
        }                                                                                       \
    }                                                                                           \
    for (int32_t b = 0; b < p->batches; ++b) {                                                 \
        for (int32_t f = 0; f < p->filters; ++f) {                                             \
            const T *s = state + (b * p->filters + f) * p->memory;                             \
            const T *w = weights_time + f * p->memory;                                         \
            uint32_t acc = 0;                                                                   \
            for (int32_t j = 0; j < p->memory; ++j)                                            \
                acc += (uint32_t)((int32_t)w[j] * ((int32_t)s[j] - p->state_zp));               \
            scratch[b * p->filters + f] = (int32_t)acc;                                         \
        }                                                                                       \
    }                                                                                           \
    finish(p, bias, scratch, output)

void tk_svdf_s8_s16(const tk_svdf_params *p, const int8_t *input, const int8_t *weights_feature,
                    const int16_t *weights_time, const int32_t *bias, int16_t *state,
                    int32_t *scratch, int8_t *output) {
    TK_SVDF_BODY(int16_t, -32768, 32767);
}

void tk_svdf_s8_s8(const tk_svdf_params *p, const int8_t *input, const int8_t *weights_feature,
                   const int8_t *weights_time, const int32_t *bias, int8_t *state,
                   int32_t *scratch, int8_t *output) {
    TK_SVDF_BODY(int8_t, -128, 127);
}
