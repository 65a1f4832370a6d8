/* DEPTHWISE_CONV_2D int8 3x3, strides 1 and 2, without SIMD (RISC-V rv32imac, Cortex-M0/M3, the host's
 * portable build): the output lines of tk_depthwise3x3_s8 (depthwise3x3_s8.c) with the fast
 * requantization, in RISC-V assembly on rv32 and in C elsewhere (the same steps). Included by
 * depthwise3x3_s8.c only, after tk_dw3_inside.
 *
 * The input lines of a group of up to four channels are copied into a byte ring of three slots
 * (four bytes a position, a channel a byte; the zero point outside the image), each once. Each
 * input column (three values, one per filter row) is loaded once and feeds the three outputs it
 * belongs to: three running accumulators, the oldest finished and requantized after each
 * column, so an output costs 3 loads and 9 multiplies and adds (31-34 instructions in all on
 * rv32); at stride 2, two accumulators and 6 loads. A filter row on padding (at most one per output line once the image has two lines) is
 * left out and its padding lines are not copied: the zero points' products are in the bias.
 * Weights and bias are doubled (the 2x of tk_requant_fast, mod 2^32 like the sum), and the
 * requantization folds its last two steps into one: ((y >> e1) + k1) >> 1 =
 * (y + k1 * 2^e1) >> (e1 + 1) (floor divisions compose), exact while |y| < 2^30 (the compiler's
 * proof) and |k1| * 2^e1 < 2^30, so for e1 <= TK_DW3_RV_E1_MAX; other ops keep the C line loop
 * of depthwise3x3_s8.c. */
#ifndef TK_DEPTHWISE3X3_S8_RV32_H
#define TK_DEPTHWISE3X3_S8_RV32_H
#if !TK_NN_SIMD

#define TK_DW3_RV_E1_MAX 22   /* |k1| <= 255: 255 * 2^22 < 2^30 */

/* One channel: its nine weights doubled, w[3 * a + k] for filter row a (across the lines) and
 * position k (along them); the folded bias doubled, alone and with the zero points' products of
 * filter row 0 or row 2 (that row on padding, left out); the requantization. */
typedef struct {
    uint32_t w[9];
    uint32_t fb[3];
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
    const uint32_t zp = (uint32_t)p->input_zp;
    r->fb[0] = (uint32_t)fb << 1;
    r->fb[1] = r->fb[0] + zp * (r->w[0] + r->w[1] + r->w[2]);
    r->fb[2] = r->fb[0] + zp * (r->w[6] + r->w[7] + r->w[8]);
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
        uint32_t *d = (uint32_t *)__builtin_assume_aligned(e, 4);
        const int32_t cnt = hi - lo;
        for (int32_t k = 0; k + 2 <= cnt; k += 2, x += 2 * step) {   /* two positions a pass */
            uint32_t v, u;
            memcpy(&v, __builtin_assume_aligned(x, 4), 4);
            memcpy(&u, __builtin_assume_aligned(x + step, 4), 4);
            d[k] = v;
            d[k + 1] = u;
        }
        if (cnt & 1) memcpy(d + cnt - 1, __builtin_assume_aligned(x, 4), 4);
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

/* One output line's plan, the same for the group's channels: the rows read, three (slots 0, 1,
 * 2 of the ring, whose rows' weights start at words ia, ib, ic) or, with a filter row on
 * padding, two (at byte offsets sa, sb; weights ia, ib; bias fb[f]) */
typedef struct {
    int32_t ia, ib, ic, sa, sb, rows, f;
    int32_t s, n;               /* stride, outputs */
    int32_t span, rem;          /* bytes of the blocks of outputs (3 at stride 1, 2 at 2), the
                                 * outputs after them */
    int32_t step, lo, hi;
} tk_dw3_rv_plan;

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
/* Stride 2: output i reads columns 2i .. 2i + 2; the odd column goes to A alone (position 1),
 * the even one ends A (position 2) and starts B (position 0) */
#define TK_DW3_RV_O1(A, LD, k1)                                                        \
    LD                                                                                  \
    "mul    %[x], %[x], %[" #k1 "]\n\t"                                                \
    "add    %[" #A "], %[" #A "], %[x]\n\t"
#define TK_DW3_RV_E1(A, B, LD, k0, k2, F)                                              \
    LD                                                                                  \
    F("mul    %[" #B "], %[x], %[" #k0 "]\n\t",                                        \
      "mul    %[t], %[x], %[" #k0 "]\n\tadd    %[" #B "], %[" #B "], %[t]\n\t")        \
    "mul    %[x], %[x], %[" #k2 "]\n\t"                                                \
    "add    %[" #A "], %[" #A "], %[x]\n\t"
#define TK_DW3_RV_ODD3(A, q)                                                           \
    TK_DW3_RV_O1(A, TK_DW3_RV_LD3(q, 0), u1)                                           \
    TK_DW3_RV_O1(A, TK_DW3_RV_LD3(q, 1), v1)                                           \
    TK_DW3_RV_O1(A, TK_DW3_RV_LD3(q, 2), t1)
#define TK_DW3_RV_EVEN3(A, B, q)                                                       \
    TK_DW3_RV_E1(A, B, TK_DW3_RV_LD3(q, 0), u0, u2, TK_DW3_RV_FIRST)                   \
    TK_DW3_RV_E1(A, B, TK_DW3_RV_LD3(q, 1), v0, v2, TK_DW3_RV_NEXT)                    \
    TK_DW3_RV_E1(A, B, TK_DW3_RV_LD3(q, 2), t0, t2, TK_DW3_RV_NEXT)                    \
    "add    %[" #B "], %[" #B "], %[fb]\n\t"
#define TK_DW3_RV_ODD2(A, q)                                                           \
    TK_DW3_RV_O1(A, TK_DW3_RV_LDA(q), u1)                                              \
    TK_DW3_RV_O1(A, TK_DW3_RV_LDB(q), v1)
#define TK_DW3_RV_EVEN2(A, B, q)                                                       \
    TK_DW3_RV_E1(A, B, TK_DW3_RV_LDA(q), u0, u2, TK_DW3_RV_FIRST)                      \
    TK_DW3_RV_E1(A, B, TK_DW3_RV_LDB(q), v0, v2, TK_DW3_RV_NEXT)                       \
    "add    %[" #B "], %[" #B "], %[fb]\n\t"
/* The stride-2 line: column 0 (PRIME), blocks of two outputs, then the last n % 2 (rem) */
#define TK_DW3_RV_BODY2(PRIME, ODD, EVEN, ADV)                                         \
    PRIME                                                                               \
    "beq    %[p], %[end], 8f\n\t"                                                      \
    "1:\n\t"                                                                           \
    ODD(A, 0) EVEN(A, B, 4) TK_DW3_RV_OUT(A)                                            \
    ODD(B, 8) EVEN(B, A, 12) TK_DW3_RV_OUT(B)                                           \
    ADV(16)                                                                             \
    "bne    %[p], %[end], 1b\n\t"                                                      \
    "8:\n\t"                                                                           \
    "beqz   %[rem], 9f\n\t"                                                            \
    ODD(A, 0) EVEN(A, B, 4) TK_DW3_RV_OUT(A)                                            \
    "9:\n\t"
#define TK_DW3_RV_PRIME3S2                                                             \
    TK_DW3_RV_P0(TK_DW3_RV_LD3(0, 0), u0, TK_DW3_RV_FIRST)                             \
    TK_DW3_RV_P0(TK_DW3_RV_LD3(0, 1), v0, TK_DW3_RV_NEXT)                              \
    TK_DW3_RV_P0(TK_DW3_RV_LD3(0, 2), t0, TK_DW3_RV_NEXT)                              \
    "add    %[A], %[A], %[fb]\n\t"                                                     \
    "addi   %[p], %[p], 4\n\t"
#define TK_DW3_RV_PRIME2S2                                                             \
    TK_DW3_RV_P0(TK_DW3_RV_LDA(0), u0, TK_DW3_RV_FIRST)                                \
    TK_DW3_RV_P0(TK_DW3_RV_LDB(0), v0, TK_DW3_RV_NEXT)                                 \
    "add    %[A], %[A], %[fb]\n\t"                                                     \
    "addi   %[p], %[p], 4\n\t"                                                         \
    "addi   %[pb], %[pb], 4\n\t"
#define TK_DW3_RV_ADV3(b) "addi   %[p], %[p], " #b "\n\t"
#define TK_DW3_RV_ADV2(b) "addi   %[p], %[p], " #b "\n\taddi   %[pb], %[pb], " #b "\n\t"
#define TK_DW3_RV_OPS                                                                  \
    [u0] "r"(wa[0]), [u1] "r"(wa[1]), [u2] "r"(wa[2]), [v0] "r"(wb[0]), [v1] "r"(wb[1]), \
    [v2] "r"(wb[2]), [fb] "r"(r->fb[P->f]), [m] "r"(r->m), [K] "r"(r->K), [s] "r"(r->s), \
    [lo] "r"(P->lo), [hi] "r"(P->hi), [step] "r"(P->step), [end] "r"(end)

/* tk_dw3_rv_line at stride 2 (columns 0 .. 2n of the rows read) */
static void tk_dw3_rv_line_s2(const tk_dw3_rv *r, const tk_dw3_rv_plan *P, const int8_t *b,
                              int8_t *out) {
    const uint32_t *wa = r->w + P->ia, *wb = r->w + P->ib;
    const int8_t *p = b + P->sa, *end = p + 4 + P->span;
    int32_t rem = P->rem;
    uint32_t A, B, x, t;
    if (P->rows == 3) {
        const uint32_t *wc = r->w + P->ic;
        __asm__ volatile(
            TK_DW3_RV_BODY2(TK_DW3_RV_PRIME3S2, TK_DW3_RV_ODD3, TK_DW3_RV_EVEN3, TK_DW3_RV_ADV3)
            : [A] "=&r"(A), [B] "=&r"(B), [p] "+r"(p), [out] "+r"(out), [rem] "+r"(rem),
              [x] "=&r"(x), [t] "=&r"(t)
            : TK_DW3_RV_OPS, [t0] "r"(wc[0]), [t1] "r"(wc[1]), [t2] "r"(wc[2])
            : "memory");
    } else {
        const int8_t *pb = b + P->sb;
        __asm__ volatile(
            TK_DW3_RV_BODY2(TK_DW3_RV_PRIME2S2, TK_DW3_RV_ODD2, TK_DW3_RV_EVEN2, TK_DW3_RV_ADV2)
            : [A] "=&r"(A), [B] "=&r"(B), [p] "+r"(p), [pb] "+r"(pb), [out] "+r"(out),
              [rem] "+r"(rem), [x] "=&r"(x), [t] "=&r"(t)
            : TK_DW3_RV_OPS
            : "memory");
    }
}

/* One channel's output line (plan P) from its ring b, `step` bytes apart from out, in assembly
 * (columns 0 .. n + 1 of the rows read) */
static void tk_dw3_rv_line(const tk_dw3_rv *r, const tk_dw3_rv_plan *P, const int8_t *b,
                           int8_t *out) {
    const uint32_t *wa = r->w + P->ia, *wb = r->w + P->ib;
    const int8_t *p = b + P->sa, *end = p + 8 + P->span;   /* past the first two columns */
    int32_t rem = P->rem;
    uint32_t A, B, C, x, t;
    if (P->rows == 3) {
        const uint32_t *wc = r->w + P->ic;
        __asm__ volatile(
            TK_DW3_RV_BODY(TK_DW3_RV_PRIME3, TK_DW3_RV_COL3, TK_DW3_RV_ADV3)
            : [A] "=&r"(A), [B] "=&r"(B), [C] "=&r"(C), [p] "+r"(p), [out] "+r"(out),
              [rem] "+r"(rem), [x] "=&r"(x), [t] "=&r"(t)
            : TK_DW3_RV_OPS, [t0] "r"(wc[0]), [t1] "r"(wc[1]), [t2] "r"(wc[2])
            : "memory");
    } else {
        const int8_t *pb = b + P->sb;
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

/* tk_dw3_rv_line in C: two rows read as three, the third being the first with zero weights */
static void tk_dw3_rv_line(const tk_dw3_rv *r, const tk_dw3_rv_plan *P, const int8_t *b,
                           int8_t *out) {
    static const uint32_t zero[3] = {0, 0, 0};
    const int32_t three = P->rows == 3, n = P->n, step = P->step, lo = P->lo;
    const uint32_t range = (uint32_t)(P->hi - lo);
    const int8_t *ra = b + P->sa, *rb = b + P->sb, *rc = three ? b + 2 * TK_DW3_RV_SLOT : ra;
    const uint32_t *wa = r->w + P->ia, *wb = r->w + P->ib, *wc = three ? r->w + P->ic : zero;
    const uint32_t u0 = wa[0], u1 = wa[1], u2 = wa[2], v0 = wb[0], v1 = wb[1], v2 = wb[2];
    const uint32_t t0 = wc[0], t1 = wc[1], t2 = wc[2], fb = r->fb[P->f];
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

/* tk_dw3_rv_line at stride 2 in C: output i from columns 2i (ended), 2i + 1 and 2i + 2 (which
 * also starts output i + 1) */
static void tk_dw3_rv_line_s2(const tk_dw3_rv *r, const tk_dw3_rv_plan *P, const int8_t *b,
                              int8_t *out) {
    static const uint32_t zero[3] = {0, 0, 0};
    const int32_t three = P->rows == 3, n = P->n, step = P->step, lo = P->lo;
    const uint32_t range = (uint32_t)(P->hi - lo);
    const int8_t *ra = b + P->sa, *rb = b + P->sb, *rc = three ? b + 2 * TK_DW3_RV_SLOT : ra;
    const uint32_t *wa = r->w + P->ia, *wb = r->w + P->ib, *wc = three ? r->w + P->ic : zero;
    const uint32_t u0 = wa[0], u1 = wa[1], u2 = wa[2], v0 = wb[0], v1 = wb[1], v2 = wb[2];
    const uint32_t t0 = wc[0], t1 = wc[1], t2 = wc[2], fb = r->fb[P->f];
    const int32_t m = r->m, K = r->K, s = r->s;
    uint32_t A = fb;
    A += (uint32_t)(int32_t)ra[0] * u0 + (uint32_t)(int32_t)rb[0] * v0 +
         (uint32_t)(int32_t)rc[0] * t0;
    for (int32_t i = 0; i < n; ++i, ra += 8, rb += 8, rc += 8) {
        const uint32_t y0 = (uint32_t)(int32_t)ra[4], y1 = (uint32_t)(int32_t)rb[4];
        const uint32_t y2 = (uint32_t)(int32_t)rc[4];
        const uint32_t x0 = (uint32_t)(int32_t)ra[8], x1 = (uint32_t)(int32_t)rb[8];
        const uint32_t x2 = (uint32_t)(int32_t)rc[8];
        A += y0 * u1 + y1 * v1 + y2 * t1 + x0 * u2 + x1 * v2 + x2 * t2;
        const uint32_t B = fb + x0 * u0 + x1 * v0 + x2 * t0;
        TK_DW3_RV_EMIT(A)
        A = B;
    }
}
#undef TK_DW3_RV_COL
#undef TK_DW3_RV_EMIT
#endif

/* Output line o of the g channels, n outputs: filter row a reads padded line s * o + a, in slot
 * (s * o + a) % 3 of the ring. With `skip` (the padding lines were not widened), a row on
 * padding is left out (its zero points' products are in the channel's fb[1] or fb[2]). */
static void tk_dw3_rv_lines(const tk_dw3_params *p, const tk_dw3_rv *rv, int32_t g, int32_t o,
                            int32_t skip, const int8_t *ring, int32_t n, int8_t *y) {
    tk_dw3_rv_plan P;
    const int32_t s = p->stride, u = s == 1 ? 3 : 2, so = s * o;
    P.s = s;
    P.n = n;
    P.span = 4 * s * (n - n % u);
    P.rem = n % u;
    P.step = p->out_pos;
    P.lo = p->act_min;
    P.hi = p->act_max;
    int32_t pad = -1;                   /* the filter row on padding, if left out */
    if (skip) {
        if (so - p->pad_line < 0) pad = 0;
        if (so + 2 - p->pad_line >= p->lines_in) pad = 2;
    }
    const int32_t ph = so % 3;          /* the slot of filter row 0 */
    if (pad < 0) {                      /* slot k holds filter row (k - ph) mod 3 */
        P.ia = 3 * (ph == 0 ? 0 : 3 - ph);
        P.ib = 3 * (ph == 1 ? 0 : (ph == 0 ? 1 : 2));
        P.ic = 3 * (ph == 2 ? 0 : (ph == 0 ? 2 : 1));
        P.sa = 0;
        P.sb = TK_DW3_RV_SLOT;
        P.rows = 3;
        P.f = 0;
    } else {                            /* rows 1, 2 or rows 0, 1 */
        const int32_t a = pad == 0 ? 1 : 0, ka = (ph + a) % 3, kb = (ph + a + 1) % 3;
        P.ia = 3 * a;
        P.ib = 3 * (a + 1);
        P.ic = P.ia;
        P.sa = ka * TK_DW3_RV_SLOT;
        P.sb = kb * TK_DW3_RV_SLOT;
        P.rows = 2;
        P.f = pad == 0 ? 1 : 2;
    }
    if (s == 1) {
        for (int32_t j = 0; j < g; ++j) tk_dw3_rv_line(&rv[j], &P, ring + j, y + j);
    } else {
        for (int32_t j = 0; j < g; ++j) tk_dw3_rv_line_s2(&rv[j], &P, ring + j, y + j);
    }
}

#endif /* !TK_NN_SIMD */
#endif /* TK_DEPTHWISE3X3_S8_RV32_H */
