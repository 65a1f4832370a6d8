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

/* The line loops' ring: per slot TK_DW3_LEN positions of four bytes, the group's channels */
#define TK_DW3_RV_SLOT (4 * TK_DW3_LEN)

/* Positions p0 .. p0 + n - 1 of input line `line` into the slot at buf (n <= TK_DW3_LEN), channel
 * j of the g (1 or 4) at byte j of each position, the zero point outside the image: four
 * channels a word per position when the input's words are aligned */
static void tk_dw3_rv_fill8(const tk_dw3_params *p, const int8_t *img, int32_t line, int32_t p0,
                            int32_t n, int32_t g, int8_t *buf) {
    const uint32_t zp = (uint8_t)p->input_zp, zw = zp * 0x01010101u;
    const int32_t step = p->in_pos;
    int32_t lo, hi;
    tk_dw3_inside(p, line, p0, n, &lo, &hi);
    uint32_t *d = (uint32_t *)__builtin_assume_aligned(buf, 4);
    for (int32_t k = 0; k < lo; ++k) d[k] = zw;
    for (int32_t k = hi; k < n; ++k) d[k] = zw;
    if (lo >= hi) return;
    const int8_t *x = img + line * p->in_line + (p0 + lo) * step;
    int8_t *e = buf + 4 * lo, *end = buf + 4 * hi;
    if (g == 4 && (((uintptr_t)x | (uint32_t)step) & 3u) == 0) {
        for (; e != end; e += 4, x += step) {
            uint32_t v;
            memcpy(&v, __builtin_assume_aligned(x, 4), 4);
            memcpy(__builtin_assume_aligned(e, 4), &v, 4);
        }
    } else if (g == 4) {
        for (; e != end; e += 4, x += step) {
            const int8_t a = x[0], b = x[1], c = x[2], f = x[3];
            e[0] = a;
            e[1] = b;
            e[2] = c;
            e[3] = f;
        }
    } else {
        for (; e != end; e += 4, x += step) e[0] = x[0];
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

/* One output line's work for one channel: the rows it reads (ra, rb, rc: 3) or, when one filter
 * row lies on padding, the other two (ra, rb: 2, its zero points' products in fb); w: the rows'
 * nine doubled weights in that order */
typedef struct {
    const int8_t *ra, *rb, *rc;
    const uint32_t *wa, *wb, *wc;
    uint32_t fb;
    int32_t rows;
} tk_dw3_rv_rows;

#if defined(__riscv) && __riscv_xlen == 32
#define TK_DW3_RV_S(x) #x
#define TK_DW3_RV_XS(x) TK_DW3_RV_S(x)
/* the load of column q (a byte offset) of slot k from p, or of row pa / pb */
#define TK_DW3_RV_LD3(q, k) \
    "lb     %[x], (" #k " * 4 * " TK_DW3_RV_XS(TK_DW3_LEN) " + " #q ")(%[p])\n\t"
#define TK_DW3_RV_LDA(q) "lb     %[x], " #q "(%[p])\n\t"
#define TK_DW3_RV_LDB(q) "lb     %[x], " #q "(%[pb])\n\t"
/* one row's value x into the three accumulators (C starting, or adding, at position 0) */
#define TK_DW3_RV_MACF(A, B, C, LD, k0, k1, k2)                                        \
    LD                                                                                  \
    "mul    %[" #C "], %[x], %[" #k0 "]\n\t"                                           \
    "mul    %[t], %[x], %[" #k1 "]\n\t"                                                \
    "add    %[" #B "], %[" #B "], %[t]\n\t"                                            \
    "mul    %[x], %[x], %[" #k2 "]\n\t"                                                \
    "add    %[" #A "], %[" #A "], %[x]\n\t"
#define TK_DW3_RV_MAC(A, B, C, LD, k0, k1, k2)                                         \
    LD                                                                                  \
    "mul    %[t], %[x], %[" #k0 "]\n\t"                                                \
    "add    %[" #C "], %[" #C "], %[t]\n\t"                                            \
    "mul    %[t], %[x], %[" #k1 "]\n\t"                                                \
    "add    %[" #B "], %[" #B "], %[t]\n\t"                                            \
    "mul    %[x], %[x], %[" #k2 "]\n\t"                                                \
    "add    %[" #A "], %[" #A "], %[x]\n\t"
/* TK_DW3_RV_COL of three slots at fixed offsets from p, or of the two rows pa, pb */
#define TK_DW3_RV_COL3(A, B, C, q)                                                     \
    TK_DW3_RV_MACF(A, B, C, TK_DW3_RV_LD3(q, 0), u0, u1, u2)                           \
    TK_DW3_RV_MAC(A, B, C, TK_DW3_RV_LD3(q, 1), v0, v1, v2)                            \
    TK_DW3_RV_MAC(A, B, C, TK_DW3_RV_LD3(q, 2), t0, t1, t2)                            \
    "add    %[" #C "], %[" #C "], %[fb]\n\t"
#define TK_DW3_RV_COL2(A, B, C, q)                                                     \
    TK_DW3_RV_MACF(A, B, C, TK_DW3_RV_LDA(q), u0, u1, u2)                              \
    TK_DW3_RV_MAC(A, B, C, TK_DW3_RV_LDB(q), v0, v1, v2)                               \
    "add    %[" #C "], %[" #C "], %[fb]\n\t"
/* columns 0 and 1: output 0 (A) starts and takes position 1, output 1 (B) starts */
#define TK_DW3_RV_P0(LD, k0, F)                                                        \
    LD                                                                                  \
    F("mul    %[A], %[x], %[" #k0 "]\n\t",                                             \
      "mul    %[t], %[x], %[" #k0 "]\n\tadd    %[A], %[A], %[t]\n\t")
#define TK_DW3_RV_P1(LD, k0, k1, F)                                                    \
    LD                                                                                  \
    F("mul    %[B], %[x], %[" #k0 "]\n\t",                                             \
      "mul    %[t], %[x], %[" #k0 "]\n\tadd    %[B], %[B], %[t]\n\t")                  \
    "mul    %[x], %[x], %[" #k1 "]\n\t"                                                \
    "add    %[A], %[A], %[x]\n\t"
#define TK_DW3_RV_FIRST(a, b) a
#define TK_DW3_RV_NEXT(a, b) b
/* tk_dw3_rv_out of the complete accumulator A (overwritten), stored at out, out += step; the
 * clamp two branches (three instructions when it clamps: half the outputs after a RELU) */
#define TK_DW3_RV_OUT(A)                                                               \
    "mul    %[t], %[" #A "], %[m]\n\t"                                                 \
    "mulh   %[" #A "], %[" #A "], %[m]\n\t"                                            \
    "srli   %[t], %[t], 31\n\t"                                                        \
    "add    %[" #A "], %[" #A "], %[t]\n\t"                                            \
    "srai   %[t], %[" #A "], 31\n\t"                                                   \
    "add    %[" #A "], %[" #A "], %[t]\n\t"                                            \
    "add    %[" #A "], %[" #A "], %[K]\n\t"                                            \
    "sra    %[" #A "], %[" #A "], %[s]\n\t"                                            \
    "bge    %[" #A "], %[lo], 2f\n\t"                                                  \
    "mv     %[" #A "], %[lo]\n\t"                                                      \
    "2:\n\t"                                                                           \
    "ble    %[" #A "], %[hi], 3f\n\t"                                                  \
    "mv     %[" #A "], %[hi]\n\t"                                                      \
    "3:\n\t"                                                                           \
    "sb     %[" #A "], 0(%[out])\n\t"                                                  \
    "add    %[out], %[out], %[step]\n\t"
/* The line: columns 0 and 1 (PRIME), blocks of three outputs, then the last n % 3 (rem) */
#define TK_DW3_RV_BODY(PRIME, COL, ADV)                                                \
    PRIME                                                                               \
    "beq    %[p], %[end], 8f\n\t"                                                      \
    "1:\n\t"                                                                           \
    COL(A, B, C, 0) TK_DW3_RV_OUT(A)                                                    \
    COL(B, C, A, 4) TK_DW3_RV_OUT(B)                                                    \
    COL(C, A, B, 8) TK_DW3_RV_OUT(C)                                                    \
    ADV(12)                                                                             \
    "bne    %[p], %[end], 1b\n\t"                                                      \
    "8:\n\t"                                                                           \
    "beqz   %[rem], 9f\n\t"                                                            \
    COL(A, B, C, 0) TK_DW3_RV_OUT(A)                                                    \
    "addi   %[rem], %[rem], -1\n\t"                                                    \
    "beqz   %[rem], 9f\n\t"                                                            \
    COL(B, C, A, 4) TK_DW3_RV_OUT(B)                                                    \
    "9:\n\t"
#define TK_DW3_RV_PRIME3                                                               \
    TK_DW3_RV_P0(TK_DW3_RV_LD3(0, 0), u0, TK_DW3_RV_FIRST)                             \
    TK_DW3_RV_P0(TK_DW3_RV_LD3(0, 1), v0, TK_DW3_RV_NEXT)                              \
    TK_DW3_RV_P0(TK_DW3_RV_LD3(0, 2), t0, TK_DW3_RV_NEXT)                              \
    "add    %[A], %[A], %[fb]\n\t"                                                     \
    TK_DW3_RV_P1(TK_DW3_RV_LD3(4, 0), u0, u1, TK_DW3_RV_FIRST)                         \
    TK_DW3_RV_P1(TK_DW3_RV_LD3(4, 1), v0, v1, TK_DW3_RV_NEXT)                          \
    TK_DW3_RV_P1(TK_DW3_RV_LD3(4, 2), t0, t1, TK_DW3_RV_NEXT)                          \
    "add    %[B], %[B], %[fb]\n\t"                                                     \
    "addi   %[p], %[p], 8\n\t"
#define TK_DW3_RV_PRIME2                                                               \
    TK_DW3_RV_P0(TK_DW3_RV_LDA(0), u0, TK_DW3_RV_FIRST)                                \
    TK_DW3_RV_P0(TK_DW3_RV_LDB(0), v0, TK_DW3_RV_NEXT)                                 \
    "add    %[A], %[A], %[fb]\n\t"                                                     \
    TK_DW3_RV_P1(TK_DW3_RV_LDA(4), u0, u1, TK_DW3_RV_FIRST)                            \
    TK_DW3_RV_P1(TK_DW3_RV_LDB(4), v0, v1, TK_DW3_RV_NEXT)                             \
    "add    %[B], %[B], %[fb]\n\t"                                                     \
    "addi   %[p], %[p], 8\n\t"                                                         \
    "addi   %[pb], %[pb], 8\n\t"
#define TK_DW3_RV_ADV3(b) "addi   %[p], %[p], " #b "\n\t"
#define TK_DW3_RV_ADV2(b) "addi   %[p], %[p], " #b "\n\taddi   %[pb], %[pb], " #b "\n\t"
#define TK_DW3_RV_OPS                                                                  \
    [u0] "r"(L->wa[0]), [u1] "r"(L->wa[1]), [u2] "r"(L->wa[2]), [v0] "r"(L->wb[0]),    \
    [v1] "r"(L->wb[1]), [v2] "r"(L->wb[2]), [fb] "r"(L->fb), [m] "r"(r->m),            \
    [K] "r"(r->K), [s] "r"(r->s), [lo] "r"(lo), [hi] "r"(lo + (int32_t)range),        \
    [step] "r"(step),                                                                   \
    [end] "r"(end)

/* n >= 1 outputs of one channel's output line, `step` bytes apart from out (columns 0 .. n + 1
 * of the rows read), in assembly: the three rows are slots 0, 1, 2 of one ring (ra) */
static void tk_dw3_rv_line(const tk_dw3_rv *r, const tk_dw3_rv_rows *L, int32_t n, int8_t *out,
                           int32_t step, int32_t lo, uint32_t range) {
    const int8_t *p = L->ra, *end = p + 4 * (2 + n - n % 3);
    int32_t rem = n % 3;
    uint32_t A, B, C, x, t;
    if (L->rows == 3) {
        __asm__ volatile(
            TK_DW3_RV_BODY(TK_DW3_RV_PRIME3, TK_DW3_RV_COL3, TK_DW3_RV_ADV3)
            : [A] "=&r"(A), [B] "=&r"(B), [C] "=&r"(C), [p] "+r"(p), [out] "+r"(out),
              [rem] "+r"(rem), [x] "=&r"(x), [t] "=&r"(t)
            : TK_DW3_RV_OPS, [t0] "r"(L->wc[0]), [t1] "r"(L->wc[1]), [t2] "r"(L->wc[2])
            : "memory");
    } else {
        const int8_t *pb = L->rb;
        __asm__ volatile(
            TK_DW3_RV_BODY(TK_DW3_RV_PRIME2, TK_DW3_RV_COL2, TK_DW3_RV_ADV2)
            : [A] "=&r"(A), [B] "=&r"(B), [C] "=&r"(C), [p] "+r"(p), [pb] "+r"(pb),
              [out] "+r"(out), [rem] "+r"(rem), [x] "=&r"(x), [t] "=&r"(t)
            : TK_DW3_RV_OPS
            : "memory");
    }
}
#else
/* Column q of rows ra, rb, rc: the accumulator C starts on it (weights' position 0), B takes
 * position 1 and A position 2, A then being complete */
#define TK_DW3_RV_COL(A, B, C, q)                                                       \
    {                                                                                   \
        const uint32_t x0 = (uint32_t)(int32_t)ra[4 * (q)];                            \
        const uint32_t x1 = (uint32_t)(int32_t)rb[4 * (q)];                            \
        const uint32_t x2 = (uint32_t)(int32_t)rc[4 * (q)];                            \
        C = fb + x0 * u0 + x1 * v0 + x2 * t0;                                           \
        B += x0 * u1 + x1 * v1 + x2 * t1;                                               \
        A += x0 * u2 + x1 * v2 + x2 * t2;                                               \
    }
#define TK_DW3_RV_EMIT(A)                                                               \
    {                                                                                   \
        *out = tk_dw3_rv_out(A, m, K, s, lo, range);                                    \
        out += step;                                                                    \
    }

/* n >= 1 outputs of one channel's output line, `step` bytes apart from out (columns 0 .. n + 1
 * of the rows read); a padding row's weights read as zero, on row a's values */
static void tk_dw3_rv_line(const tk_dw3_rv *r, const tk_dw3_rv_rows *L, int32_t n, int8_t *out,
                           int32_t step, int32_t lo, uint32_t range) {
    const int8_t *ra = L->ra, *rb = L->rb, *rc = L->rows == 3 ? L->rc : L->ra;
    static const uint32_t zero[3] = {0, 0, 0};
    const uint32_t *wc = L->rows == 3 ? L->wc : zero;
    const uint32_t u0 = L->wa[0], u1 = L->wa[1], u2 = L->wa[2];
    const uint32_t v0 = L->wb[0], v1 = L->wb[1], v2 = L->wb[2];
    const uint32_t t0 = wc[0], t1 = wc[1], t2 = wc[2], fb = L->fb;
    const int32_t m = r->m, K = r->K, s = r->s;
    uint32_t A = fb, B = 0, C = 0;
    {                                   /* column 0: output 0 starts */
        const uint32_t x0 = (uint32_t)(int32_t)ra[0], x1 = (uint32_t)(int32_t)rb[0];
        const uint32_t x2 = (uint32_t)(int32_t)rc[0];
        A += x0 * u0 + x1 * v0 + x2 * t0;
    }
    {                                   /* column 1: output 0's position 1, output 1 starts */
        const uint32_t x0 = (uint32_t)(int32_t)ra[4], x1 = (uint32_t)(int32_t)rb[4];
        const uint32_t x2 = (uint32_t)(int32_t)rc[4];
        A += x0 * u1 + x1 * v1 + x2 * t1;
        B = fb + x0 * u0 + x1 * v0 + x2 * t0;
    }
    int32_t i = 2;
    for (; i + 3 <= n + 2; i += 3) {
        TK_DW3_RV_COL(A, B, C, i)
        TK_DW3_RV_EMIT(A)
        TK_DW3_RV_COL(B, C, A, i + 1)
        TK_DW3_RV_EMIT(B)
        TK_DW3_RV_COL(C, A, B, i + 2)
        TK_DW3_RV_EMIT(C)
    }
    if (n % 3) {
        TK_DW3_RV_COL(A, B, C, i)
        TK_DW3_RV_EMIT(A)
        if (n % 3 == 2) {
            TK_DW3_RV_COL(B, C, A, i + 1)
            TK_DW3_RV_EMIT(B)
        }
    }
}
#undef TK_DW3_RV_COL
#undef TK_DW3_RV_EMIT
#endif

/* Output line o (stride 1) of the g channels: filter row a reads padded line o + a, in slot
 * (o + a) % 3 of each channel's ring. With `skip` (the padding lines were not widened), a row
 * on padding is left out and its zero points' products go to the bias. */
static void tk_dw3_rv_lines(const tk_dw3_params *p, const tk_dw3_rv *rv, int32_t g, int32_t o,
                            int32_t skip, const int8_t *ring, int32_t n, int8_t *y) {
    const int32_t lo = p->act_min, step = p->out_pos;
    const uint32_t range = (uint32_t)(p->act_max - lo);
    int32_t pad = -1;                   /* the filter row on padding, if left out */
    if (skip) {
        if (o - p->pad_line < 0) pad = 0;
        if (o + 2 - p->pad_line >= p->lines_in) pad = 2;
    }
    int32_t sl[3];                      /* the slot of each filter row */
    for (int32_t a = 0, k = o % 3; a < 3; ++a, k = k == 2 ? 0 : k + 1) sl[a] = k;
    for (int32_t j = 0; j < g; ++j) {
        const tk_dw3_rv *r = &rv[j];
        const int8_t *b = ring + j;
        tk_dw3_rv_rows L;
        if (pad < 0) {                  /* in slot order: the assembly's fixed offsets */
            const int32_t k0 = (3 - sl[0]) % 3;     /* the row in slot 0 */
            L.ra = b;
            L.rb = b + TK_DW3_RV_SLOT;
            L.rc = b + 2 * TK_DW3_RV_SLOT;
            L.wa = r->w + 3 * k0;
            L.wb = r->w + 3 * (k0 == 2 ? 0 : k0 + 1);
            L.wc = r->w + 3 * (k0 == 0 ? 2 : k0 - 1);
            L.fb = r->fb2;
            L.rows = 3;
        } else {
            const int32_t a0 = pad == 0 ? 1 : 0, a1 = pad == 2 ? 1 : 2;
            const uint32_t *wp = r->w + 3 * pad;
            L.ra = b + sl[a0] * TK_DW3_RV_SLOT;
            L.rb = b + sl[a1] * TK_DW3_RV_SLOT;
            L.rc = L.ra;
            L.wa = r->w + 3 * a0;
            L.wb = r->w + 3 * a1;
            L.wc = L.wa;
            L.fb = r->fb2 + (uint32_t)(int32_t)p->input_zp * (wp[0] + wp[1] + wp[2]);
            L.rows = 2;
        }
        tk_dw3_rv_line(r, &L, n, y + j, step, lo, range);
    }
}

#endif /* !TK_NN_SIMD */
#endif /* TK_DEPTHWISE3X3_S8_RV32_H */
