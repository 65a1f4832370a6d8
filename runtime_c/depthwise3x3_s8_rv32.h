/* DEPTHWISE_CONV_2D int8 3x3 stride 1 without SIMD (RISC-V rv32imac, Cortex-M0/M3, the host's
 * portable build): the output lines of tk_depthwise3x3_s8 (depthwise3x3_s8.c) from its widened
 * ring, in C written so that gcc keeps everything in registers. Included by depthwise3x3_s8.c
 * only, after TK_DW3_LEN.
 *
 * Each input column (three values, one per filter row) is loaded once and feeds the three
 * outputs it belongs to: three running accumulators, the oldest finished and requantized after
 * each column, so an output costs 3 loads and 9 multiplies and adds. Weights and bias are
 * doubled (the 2x of tk_requant_fast, mod 2^32 like the sum), and the requantization folds its
 * last two steps into one: ((y >> e1) + k1) >> 1 = (y + k1 * 2^e1) >> (e1 + 1) (floor divisions
 * compose), exact while |y| < 2^30 (the compiler's proof) and |k1| * 2^e1 < 2^30, so for
 * e1 <= TK_DW3_RV_E1_MAX; other ops keep the C line loop. */
#ifndef TK_DEPTHWISE3X3_S8_RV32_H
#define TK_DEPTHWISE3X3_S8_RV32_H
#if !TK_NN_SIMD

#define TK_DW3_RV_E1_MAX 22   /* |k1| <= 255: 255 * 2^22 < 2^30 */

/* One channel: its nine weights doubled, w[3 * a + k] for filter row a (across the lines) and
 * position k (along them); the folded bias doubled; the requantization. */
typedef struct {
    uint32_t w[9];
    uint32_t fb2;
    int32_t m, K, s;        /* multiplier, k1 * 2^e1, e1 + 1 */
} tk_dw3_rv;

/* Channel c's record from its six filter words (tk_dw3_params' layout); 0 when its shift is
 * outside the fast form's range */
static inline int tk_dw3_rv_make(const tk_dw3_params *p, const uint32_t *w, int32_t fb,
                                 int32_t c, tk_dw3_rv *r) {
    const int32_t e1 = p->rq[2 * c + 1];
    if (!p->rq_fast || e1 < 0 || e1 > TK_DW3_RV_E1_MAX) return 0;
    for (int32_t a = 0; a < 3; ++a) {
        const uint32_t u = w[2 * a], v = w[2 * a + 1];
        r->w[3 * a] = (uint32_t)(int32_t)(int16_t)(uint16_t)(u & 0xFFFFu) << 1;
        r->w[3 * a + 1] = (uint32_t)(int32_t)(int16_t)(uint16_t)(u >> 16) << 1;
        r->w[3 * a + 2] = (uint32_t)(int32_t)(int16_t)(uint16_t)(v >> 16) << 1;
    }
    r->fb2 = (uint32_t)fb << 1;
    r->m = p->rq[2 * c];
    r->K = (1 + 2 * p->output_offset) * (int32_t)(1u << e1);
    r->s = e1 + 1;
    return 1;
}

/* tk_dw3_fill without SIMD: one int16 store per value (no word packing, which costs byte
 * copies where unaligned stores are not allowed) */
static void tk_dw3_rv_fill(const tk_dw3_params *p, const int8_t *img, int32_t line, int32_t p0,
                           int32_t n, int32_t g, int16_t *buf) {
    const int16_t zp = (int16_t)p->input_zp;
    const int32_t step = p->in_pos;
    int32_t lo, hi;
    tk_dw3_inside(p, line, p0, n, &lo, &hi);
    for (int32_t j = 0; j < g; ++j) {
        int16_t *d = buf + j * TK_DW3_RING;
        for (int32_t k = 0; k < lo; ++k) d[k] = zp;
        for (int32_t k = hi; k < n; ++k) d[k] = zp;
    }
    if (lo >= hi) return;
    const int8_t *x = img + line * p->in_line + (p0 + lo) * step;
    int16_t *d = buf + lo, *end = buf + hi;
    if (g == 4) {
        for (; d != end; ++d, x += step) {
            const int16_t a = x[0], b = x[1], c = x[2], e = x[3];
            d[0] = a;
            d[TK_DW3_RING] = b;
            d[2 * TK_DW3_RING] = c;
            d[3 * TK_DW3_RING] = e;
        }
    } else {
        for (; d != end; ++d, x += step) *d = x[0];
    }
}

/* tk_requant_fast of the doubled accumulator a, plus the output offset, clamped to
 * [lo, lo + range] */
static inline __attribute__((always_inline)) int8_t tk_dw3_rv_out(uint32_t a, int32_t m,
                                                                  int32_t K, int32_t s,
                                                                  int32_t lo, uint32_t range) {
    const uint32_t low = a * (uint32_t)m;
    int32_t h = (int32_t)(((int64_t)(int32_t)a * m) >> 32) + (int32_t)(low >> 31);
    h += h >> 31;                                   /* h - (h < 0) */
    int32_t z = (h + K) >> s;
    if ((uint32_t)(z - lo) > range) z = z < lo ? lo : lo + (int32_t)range;
    return (int8_t)z;
}

/* Column q of the three slots at p (TK_DW3_LEN apart): the accumulator C starts on it (weights'
 * position 0), B takes position 1 and A position 2, A then being complete */
#define TK_DW3_RV_COL(A, B, C, q)                                                       \
    {                                                                                   \
        const uint32_t x0 = (uint32_t)(int32_t)p[q];                                    \
        const uint32_t x1 = (uint32_t)(int32_t)p[TK_DW3_LEN + (q)];                     \
        const uint32_t x2 = (uint32_t)(int32_t)p[2 * TK_DW3_LEN + (q)];                 \
        C = fb + x0 * u0 + x1 * v0 + x2 * t0;                                           \
        B += x0 * u1 + x1 * v1 + x2 * t1;                                               \
        A += x0 * u2 + x1 * v2 + x2 * t2;                                               \
    }
#define TK_DW3_RV_EMIT(A)                                                               \
    {                                                                                   \
        *out = tk_dw3_rv_out(A, m, K, s, lo, range);                                    \
        out += step;                                                                    \
    }

#if defined(__riscv) && __riscv_xlen == 32
#define TK_DW3_RV_ASM 1
#define TK_DW3_RV_S(x) #x
#define TK_DW3_RV_XS(x) TK_DW3_RV_S(x)
/* TK_DW3_RV_COL in assembly: column at byte offset q of the three slots at p (the second and
 * third TK_DW3_LEN int16 on), through the scratch registers x and t */
#define TK_DW3_RV_ACOL(A, B, C, q)                                                      \
    "lh     %[x], " #q "(%[p])\n\t"                                                      \
    "mul    %[" #C "], %[x], %[u0]\n\t"                                                 \
    "mul    %[t], %[x], %[u1]\n\t"                                                      \
    "add    %[" #B "], %[" #B "], %[t]\n\t"                                              \
    "mul    %[x], %[x], %[u2]\n\t"                                                      \
    "add    %[" #A "], %[" #A "], %[x]\n\t"                                              \
    "lh     %[x], (2 * " TK_DW3_RV_XS(TK_DW3_LEN) " + " #q ")(%[p])\n\t"                \
    "mul    %[t], %[x], %[v0]\n\t"                                                      \
    "add    %[" #C "], %[" #C "], %[t]\n\t"                                              \
    "mul    %[t], %[x], %[v1]\n\t"                                                      \
    "add    %[" #B "], %[" #B "], %[t]\n\t"                                              \
    "mul    %[x], %[x], %[v2]\n\t"                                                      \
    "add    %[" #A "], %[" #A "], %[x]\n\t"                                              \
    "lh     %[x], (4 * " TK_DW3_RV_XS(TK_DW3_LEN) " + " #q ")(%[p])\n\t"                \
    "mul    %[t], %[x], %[t0]\n\t"                                                      \
    "add    %[" #C "], %[" #C "], %[t]\n\t"                                              \
    "mul    %[t], %[x], %[t1]\n\t"                                                      \
    "add    %[" #B "], %[" #B "], %[t]\n\t"                                              \
    "mul    %[x], %[x], %[t2]\n\t"                                                      \
    "add    %[" #A "], %[" #A "], %[x]\n\t"                                              \
    "add    %[" #C "], %[" #C "], %[fb]\n\t"
/* tk_dw3_rv_out of the complete accumulator A (overwritten), stored at out, out += step; the
 * clamp's rare side (t = A - lo above range: lo when negative, else lo + range) inline */
#define TK_DW3_RV_AOUT(A)                                                               \
    "mul    %[t], %[" #A "], %[m]\n\t"                                                  \
    "mulh   %[" #A "], %[" #A "], %[m]\n\t"                                              \
    "srli   %[t], %[t], 31\n\t"                                                         \
    "add    %[" #A "], %[" #A "], %[t]\n\t"                                              \
    "srai   %[t], %[" #A "], 31\n\t"                                                    \
    "add    %[" #A "], %[" #A "], %[t]\n\t"                                              \
    "add    %[" #A "], %[" #A "], %[K]\n\t"                                              \
    "sra    %[" #A "], %[" #A "], %[s]\n\t"                                              \
    "sub    %[t], %[" #A "], %[lo]\n\t"                                                  \
    "bleu   %[t], %[range], 2f\n\t"                                                     \
    "srai   %[t], %[t], 31\n\t"                                                         \
    "and    %[t], %[t], %[range]\n\t"                                                   \
    "add    %[" #A "], %[lo], %[range]\n\t"                                              \
    "sub    %[" #A "], %[" #A "], %[t]\n\t"                                              \
    "2:\n\t"                                                                            \
    "sb     %[" #A "], 0(%[out])\n\t"                                                    \
    "add    %[out], %[out], %[step]\n\t"
#else
#define TK_DW3_RV_ASM 0
#endif

/* n >= 1 outputs of one channel's output line, `step` bytes apart from out, from its ring p
 * whose slot k holds the input line of filter row (k - ph) mod 3 (columns 0 .. n + 1 filled) */
static void tk_dw3_rv_line(const tk_dw3_rv *r, int32_t ph, const int16_t *p, int32_t n,
                           int8_t *out, int32_t step, int32_t lo, uint32_t range) {
    const uint32_t *w0 = r->w + 3 * (ph == 0 ? 0 : 3 - ph);      /* slot 0's filter row */
    const uint32_t *w1 = r->w + 3 * (ph == 1 ? 0 : (ph == 0 ? 1 : 2));
    const uint32_t *w2 = r->w + 3 * (ph == 2 ? 0 : (ph == 0 ? 2 : 1));
    const uint32_t u0 = w0[0], u1 = w0[1], u2 = w0[2], v0 = w1[0], v1 = w1[1], v2 = w1[2];
    const uint32_t t0 = w2[0], t1 = w2[1], t2 = w2[2], fb = r->fb2;
    const int32_t m = r->m, K = r->K, s = r->s;
    uint32_t A, B, C;
    {                                   /* output 0 starts on column 0 */
        const uint32_t x0 = (uint32_t)(int32_t)p[0], x1 = (uint32_t)(int32_t)p[TK_DW3_LEN],
                       x2 = (uint32_t)(int32_t)p[2 * TK_DW3_LEN];
        A = fb + x0 * u0 + x1 * v0 + x2 * t0;
    }
    {                                   /* column 1: output 0's position 1, output 1 starts */
        const uint32_t x0 = (uint32_t)(int32_t)p[1], x1 = (uint32_t)(int32_t)p[TK_DW3_LEN + 1],
                       x2 = (uint32_t)(int32_t)p[2 * TK_DW3_LEN + 1];
        A += x0 * u1 + x1 * v1 + x2 * t1;
        B = fb + x0 * u0 + x1 * v0 + x2 * t0;
    }
    p += 2;
    const int16_t *end = p + (n - n % 3);
#if TK_DW3_RV_ASM
    if (p != end) {
        uint32_t x, t;
        __asm__ volatile(
            "1:\n\t"
            TK_DW3_RV_ACOL(A, B, C, 0)
            TK_DW3_RV_AOUT(A)
            TK_DW3_RV_ACOL(B, C, A, 2)
            TK_DW3_RV_AOUT(B)
            TK_DW3_RV_ACOL(C, A, B, 4)
            TK_DW3_RV_AOUT(C)
            "addi   %[p], %[p], 6\n\t"
            "bne    %[p], %[end], 1b\n\t"
            : [A] "+r"(A), [B] "+r"(B), [C] "=&r"(C), [p] "+r"(p), [out] "+r"(out),
              [x] "=&r"(x), [t] "=&r"(t)
            : [u0] "r"(u0), [u1] "r"(u1), [u2] "r"(u2), [v0] "r"(v0), [v1] "r"(v1),
              [v2] "r"(v2), [t0] "r"(t0), [t1] "r"(t1), [t2] "r"(t2), [fb] "r"(fb), [m] "r"(m),
              [K] "r"(K), [s] "r"(s), [lo] "r"(lo), [range] "r"(range), [step] "r"(step),
              [end] "r"(end)
            : "memory");
    }
#else
    for (; p != end; p += 3) {
        TK_DW3_RV_COL(A, B, C, 0)
        TK_DW3_RV_EMIT(A)
        TK_DW3_RV_COL(B, C, A, 1)
        TK_DW3_RV_EMIT(B)
        TK_DW3_RV_COL(C, A, B, 2)
        TK_DW3_RV_EMIT(C)
    }
#endif
    if (n % 3) {
        TK_DW3_RV_COL(A, B, C, 0)
        TK_DW3_RV_EMIT(A)
        if (n % 3 == 2) {
            TK_DW3_RV_COL(B, C, A, 1)
            TK_DW3_RV_EMIT(B)
        }
    }
}
#undef TK_DW3_RV_COL
#undef TK_DW3_RV_EMIT

#endif /* !TK_NN_SIMD */
#endif /* TK_DEPTHWISE3X3_S8_RV32_H */
