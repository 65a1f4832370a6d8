/* tinykiln runtime: the Helium (M-profile Vector Extension, MVE) operations the int8 kernels'
 * Helium paths use (*_mve.h), as thin wrappers over arm_mve.h, and exact C models of each for
 * host tests.
 *
 * TK_MVE is 1 on cores with integer MVE (Cortex-M55: gcc defines __ARM_FEATURE_MVE, bit 0 for
 * integer), unless TK_MVE_PORTABLE is defined, and on any host compiler when TK_MVE_EMULATE is
 * defined: then every operation below is its C model, so that host builds under ASan/UBSan run
 * the same integer algorithm as the M55. A vector is 128 bits: 16 int8, 8 int16 or 4 int32
 * lanes, lane 0 at the lowest address; a predicate has one bit per byte (tk_vctp32q: four bits
 * per int32 lane). Every model wraps where the instruction wraps and saturates where it
 * saturates. */
#ifndef TK_MVE_H
#define TK_MVE_H

#include <stdint.h>
#include <string.h>

#if (defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1) && !defined(TK_MVE_PORTABLE)) || \
    defined(TK_MVE_EMULATE)
#define TK_MVE 1
#else
#define TK_MVE 0
#endif

#if TK_MVE
#if !defined(TK_MVE_EMULATE)
#include <arm_mve.h>

typedef int8x16_t tk_s8x16;
typedef int16x8_t tk_s16x8;
typedef uint16x8_t tk_u16x8;
typedef int32x4_t tk_s32x4;
typedef uint8x16_t tk_u8x16;
typedef uint32x4_t tk_u32x4;
typedef mve_pred16_t tk_pred;

#define TK_MVE_INLINE static inline __attribute__((always_inline))
TK_MVE_INLINE tk_s8x16 tk_vldrbq_s8(const int8_t *p) { return vldrbq_s8(p); }
TK_MVE_INLINE tk_s16x8 tk_vldrhq_s16(const int16_t *p) { return vldrhq_s16(p); }
TK_MVE_INLINE tk_s32x4 tk_vldrwq_s32(const int32_t *p) { return vldrwq_s32(p); }
TK_MVE_INLINE tk_s32x4 tk_vldrbq_s32(const int8_t *p) { return vldrbq_s32(p); }
TK_MVE_INLINE tk_s16x8 tk_vldrbq_s16(const int8_t *p) { return vldrbq_s16(p); }
TK_MVE_INLINE tk_s16x8 tk_vldrbq_gather_offset_s16(const int8_t *p, tk_u16x8 o) {
    return vldrbq_gather_offset_s16(p, o);
}
TK_MVE_INLINE tk_s8x16 tk_vldrbq_gather_offset_s8(const int8_t *p, tk_u8x16 o) {
    return vldrbq_gather_offset_s8(p, o);
}
TK_MVE_INLINE tk_s8x16 tk_vldrbq_z_s8(const int8_t *p, tk_pred m) { return vldrbq_z_s8(p, m); }
TK_MVE_INLINE tk_s32x4 tk_vldrwq_z_s32(const int32_t *p, tk_pred m) { return vldrwq_z_s32(p, m); }
TK_MVE_INLINE tk_s32x4 tk_vldrwq_gather_shifted_offset_z_s32(const int32_t *p, tk_u32x4 o,
                                                             tk_pred m) {
    return vldrwq_gather_shifted_offset_z_s32(p, o, m);
}
TK_MVE_INLINE void tk_vstrbq_p_s32(int8_t *p, tk_s32x4 v, tk_pred m) { vstrbq_p_s32(p, v, m); }
TK_MVE_INLINE void tk_vstrbq_s32(int8_t *p, tk_s32x4 v) { vstrbq_s32(p, v); }
TK_MVE_INLINE void tk_vstrbq_scatter_offset_p_s32(int8_t *p, tk_u32x4 o, tk_s32x4 v, tk_pred m) {
    vstrbq_scatter_offset_p_s32(p, o, v, m);
}
TK_MVE_INLINE void tk_vstrwq_s32(int32_t *p, tk_s32x4 v) { vstrwq_s32(p, v); }
TK_MVE_INLINE tk_pred tk_vctp8q(uint32_t n) { return vctp8q(n); }
TK_MVE_INLINE tk_pred tk_vctp32q(uint32_t n) { return vctp32q(n); }
TK_MVE_INLINE tk_s32x4 tk_vdupq_n_s32(int32_t a) { return vdupq_n_s32(a); }
TK_MVE_INLINE tk_s16x8 tk_vdupq_n_s16(int16_t a) { return vdupq_n_s16(a); }
TK_MVE_INLINE tk_s8x16 tk_vreinterpretq_s8_s16(tk_s16x8 a) { return vreinterpretq_s8_s16(a); }
TK_MVE_INLINE tk_s16x8 tk_vandq_s16(tk_s16x8 a, tk_s16x8 b) { return vandq_s16(a, b); }
TK_MVE_INLINE tk_s32x4 tk_vaddq_s32(tk_s32x4 a, tk_s32x4 b) { return vaddq_s32(a, b); }
TK_MVE_INLINE tk_s32x4 tk_vsubq_s32(tk_s32x4 a, tk_s32x4 b) { return vsubq_s32(a, b); }
TK_MVE_INLINE tk_s32x4 tk_vaddq_n_s32(tk_s32x4 a, int32_t b) { return vaddq_n_s32(a, b); }
TK_MVE_INLINE tk_s32x4 tk_vmaxq_s32(tk_s32x4 a, tk_s32x4 b) { return vmaxq_s32(a, b); }
TK_MVE_INLINE tk_s32x4 tk_vminq_s32(tk_s32x4 a, tk_s32x4 b) { return vminq_s32(a, b); }
TK_MVE_INLINE tk_s32x4 tk_vnegq_s32(tk_s32x4 a) { return vnegq_s32(a); }
TK_MVE_INLINE tk_s32x4 tk_vshlq_s32(tk_s32x4 a, tk_s32x4 b) { return vshlq_s32(a, b); }
TK_MVE_INLINE tk_s32x4 tk_vrshlq_s32(tk_s32x4 a, tk_s32x4 b) { return vrshlq_s32(a, b); }
#define tk_vshrq_n_s32(a, n) vshrq_n_s32((a), (n))
#define tk_vsetq_lane_s32(x, v, i) vsetq_lane_s32((x), (v), (i))
TK_MVE_INLINE tk_s32x4 tk_vrmulhq_s32(tk_s32x4 a, tk_s32x4 b) { return vrmulhq_s32(a, b); }
TK_MVE_INLINE tk_s32x4 tk_vqrdmulhq_s32(tk_s32x4 a, tk_s32x4 b) { return vqrdmulhq_s32(a, b); }
TK_MVE_INLINE tk_s32x4 tk_vqrdmulhq_n_s32(tk_s32x4 a, int32_t b) { return vqrdmulhq_n_s32(a, b); }
TK_MVE_INLINE tk_s32x4 tk_vandq_s32(tk_s32x4 a, tk_s32x4 b) { return vandq_s32(a, b); }
TK_MVE_INLINE int32_t tk_vmladavaq_s8(int32_t acc, tk_s8x16 a, tk_s8x16 b) {
    return vmladavaq_s8(acc, a, b);
}
TK_MVE_INLINE int32_t tk_vmladavaq_s16(int32_t acc, tk_s16x8 a, tk_s16x8 b) {
    return vmladavaq_s16(acc, a, b);
}
TK_MVE_INLINE int32_t tk_vmladavaq_p_s8(int32_t acc, tk_s8x16 a, tk_s8x16 b, tk_pred m) {
    return vmladavaq_p_s8(acc, a, b, m);
}
TK_MVE_INLINE tk_s16x8 tk_vldrbq_gather_offset_z_s16(const int8_t *p, tk_u16x8 o, tk_pred m) {
    return vldrbq_gather_offset_z_s16(p, o, m);
}
TK_MVE_INLINE void tk_vstrbq_p_s16(int8_t *p, tk_s16x8 v, tk_pred m) { vstrbq_p_s16(p, v, m); }
TK_MVE_INLINE void tk_vstrbq_scatter_offset_s16(int8_t *p, tk_u16x8 o, tk_s16x8 v) {
    vstrbq_scatter_offset_s16(p, o, v);
}
TK_MVE_INLINE void tk_vstrbq_scatter_offset_s32(int8_t *p, tk_u32x4 o, tk_s32x4 v) {
    vstrbq_scatter_offset_s32(p, o, v);
}
TK_MVE_INLINE tk_pred tk_vctp16q(uint32_t n) { return vctp16q(n); }
TK_MVE_INLINE tk_u32x4 tk_u32x4_of_s32(tk_s32x4 a) { return vreinterpretq_u32_s32(a); }
TK_MVE_INLINE int8_t tk_vmaxvq_p_s8(int8_t a, tk_s8x16 v, tk_pred m) {
    return vmaxvq_p_s8(a, v, m);
}
TK_MVE_INLINE int32_t tk_vaddvaq_p_s32(int32_t a, tk_s32x4 v, tk_pred m) {
    return vaddvaq_p_s32(a, v, m);
}
#define tk_vrshrq_n_s32(a, n) vrshrq_n_s32((a), (n))
TK_MVE_INLINE tk_s8x16 tk_vldrbq_gather_offset_z_s8(const int8_t *p, tk_u8x16 o, tk_pred m) {
    return vldrbq_gather_offset_z_s8(p, o, m);
}
TK_MVE_INLINE tk_s32x4 tk_vldrbq_z_s32(const int8_t *p, tk_pred m) { return vldrbq_z_s32(p, m); }
TK_MVE_INLINE tk_s32x4 tk_vldrwq_gather_shifted_offset_s32(const int32_t *p, tk_s32x4 o) {
    return vldrwq_gather_shifted_offset_s32(p, vreinterpretq_u32_s32(o));
}
TK_MVE_INLINE tk_s32x4 tk_vmulq_s32(tk_s32x4 a, tk_s32x4 b) { return vmulq_s32(a, b); }
TK_MVE_INLINE tk_s32x4 tk_vmulq_n_s32(tk_s32x4 a, int32_t b) { return vmulq_n_s32(a, b); }
TK_MVE_INLINE tk_s16x8 tk_vldrbq_z_s16(const int8_t *p, tk_pred m) { return vldrbq_z_s16(p, m); }
TK_MVE_INLINE tk_s16x8 tk_vaddq_s16(tk_s16x8 a, tk_s16x8 b) { return vaddq_s16(a, b); }
TK_MVE_INLINE void tk_vstrhq_s16(int16_t *p, tk_s16x8 v) { vstrhq_s16(p, v); }
TK_MVE_INLINE void tk_vstrbq_scatter_offset_p_s16(int8_t *p, tk_u16x8 o, tk_s16x8 v, tk_pred m) {
    vstrbq_scatter_offset_p_s16(p, o, v, m);
}
TK_MVE_INLINE void tk_vstrbq_s8(int8_t *p, tk_s8x16 v) { vstrbq_s8(p, v); }
TK_MVE_INLINE tk_s8x16 tk_vdupq_n_s8(int8_t a) { return vdupq_n_s8(a); }
TK_MVE_INLINE int32_t tk_vmladavq_s8(tk_s8x16 a, tk_s8x16 b) { return vmladavq_s8(a, b); }
TK_MVE_INLINE tk_s32x4 tk_vqaddq_s32(tk_s32x4 a, tk_s32x4 b) { return vqaddq_s32(a, b); }
TK_MVE_INLINE tk_s32x4 tk_vshlq_r_s32(tk_s32x4 a, int32_t b) { return vshlq_r_s32(a, b); }
TK_MVE_INLINE tk_s32x4 tk_vrshlq_n_s32(tk_s32x4 a, int32_t b) { return vrshlq_n_s32(a, b); }
/* {a, b, c, d} from four core registers (two VMOV Qd[2], Qd[0], Rt, Rt2) */
TK_MVE_INLINE tk_s32x4 tk_vmov4_s32(int32_t a, int32_t b, int32_t c, int32_t d) {
    tk_s32x4 v;
    __asm__("vmov %q0[2], %q0[0], %1, %3\n\tvmov %q0[3], %q0[1], %2, %4"
            : "=w"(v) : "r"(a), "r"(b), "r"(c), "r"(d));
    return v;
}
/* {even words, odd words} of p[0..7] (VLD20, VLD21) */
TK_MVE_INLINE void tk_vld2q_s32(const int32_t *p, tk_s32x4 *even, tk_s32x4 *odd) {
    const int32x4x2_t v = vld2q_s32(p);
    *even = v.val[0], *odd = v.val[1];
}

#else /* TK_MVE_EMULATE: C models */

typedef struct { int8_t v[16]; } tk_s8x16;
typedef struct { uint8_t v[16]; } tk_u8x16;
typedef struct { int16_t v[8]; } tk_s16x8;
typedef struct { uint16_t v[8]; } tk_u16x8;
typedef struct { int32_t v[4]; } tk_s32x4;
typedef struct { uint32_t v[4]; } tk_u32x4;
typedef uint16_t tk_pred;

#define TK_MVE_INLINE static inline
/* a predicated-off lane is zero (the _z forms) or untouched (stores) */
TK_MVE_INLINE int tk_pred_on(tk_pred m, int byte) { return (m >> byte) & 1; }
TK_MVE_INLINE tk_s8x16 tk_vldrbq_s8(const int8_t *p) {
    tk_s8x16 r;
    memcpy(r.v, p, 16);
    return r;
}
TK_MVE_INLINE tk_s16x8 tk_vldrhq_s16(const int16_t *p) {
    tk_s16x8 r;
    memcpy(r.v, p, 16);
    return r;
}
TK_MVE_INLINE tk_s32x4 tk_vldrwq_s32(const int32_t *p) {
    tk_s32x4 r;
    memcpy(r.v, p, 16);
    return r;
}
TK_MVE_INLINE tk_s32x4 tk_vldrbq_s32(const int8_t *p) {
    tk_s32x4 r;
    for (int i = 0; i < 4; ++i) r.v[i] = p[i];
    return r;
}
TK_MVE_INLINE tk_s16x8 tk_vldrbq_s16(const int8_t *p) {
    tk_s16x8 r;
    for (int i = 0; i < 8; ++i) r.v[i] = p[i];
    return r;
}
TK_MVE_INLINE tk_s16x8 tk_vldrbq_gather_offset_s16(const int8_t *p, tk_u16x8 o) {
    tk_s16x8 r;
    for (int i = 0; i < 8; ++i) r.v[i] = p[o.v[i]];
    return r;
}
TK_MVE_INLINE tk_s8x16 tk_vldrbq_gather_offset_s8(const int8_t *p, tk_u8x16 o) {
    tk_s8x16 r;
    for (int i = 0; i < 16; ++i) r.v[i] = p[o.v[i]];
    return r;
}
TK_MVE_INLINE tk_s8x16 tk_vldrbq_z_s8(const int8_t *p, tk_pred m) {
    tk_s8x16 r;
    for (int i = 0; i < 16; ++i) r.v[i] = tk_pred_on(m, i) ? p[i] : 0;
    return r;
}
TK_MVE_INLINE tk_s32x4 tk_vldrwq_z_s32(const int32_t *p, tk_pred m) {
    tk_s32x4 r;
    for (int i = 0; i < 4; ++i) r.v[i] = tk_pred_on(m, 4 * i) ? p[i] : 0;
    return r;
}
TK_MVE_INLINE tk_s32x4 tk_vldrwq_gather_shifted_offset_z_s32(const int32_t *p, tk_u32x4 o,
                                                             tk_pred m) {
    tk_s32x4 r;
    for (int i = 0; i < 4; ++i) r.v[i] = tk_pred_on(m, 4 * i) ? p[o.v[i]] : 0;
    return r;
}
TK_MVE_INLINE void tk_vstrbq_p_s32(int8_t *p, tk_s32x4 v, tk_pred m) {
    for (int i = 0; i < 4; ++i) {
        if (tk_pred_on(m, 4 * i)) p[i] = (int8_t)(uint8_t)((uint32_t)v.v[i] & 0xFFu);
    }
}
TK_MVE_INLINE void tk_vstrbq_scatter_offset_p_s32(int8_t *p, tk_u32x4 o, tk_s32x4 v, tk_pred m) {
    for (int i = 0; i < 4; ++i) {
        if (tk_pred_on(m, 4 * i)) p[o.v[i]] = (int8_t)(uint8_t)((uint32_t)v.v[i] & 0xFFu);
    }
}
TK_MVE_INLINE void tk_vstrwq_s32(int32_t *p, tk_s32x4 v) { memcpy(p, v.v, 16); }
TK_MVE_INLINE void tk_vstrbq_s32(int8_t *p, tk_s32x4 v) { tk_vstrbq_p_s32(p, v, 0xFFFFu); }
TK_MVE_INLINE tk_pred tk_vctp8q(uint32_t n) {
    return (tk_pred)(n >= 16 ? 0xFFFFu : (1u << n) - 1u);
}
TK_MVE_INLINE tk_pred tk_vctp32q(uint32_t n) {
    return (tk_pred)(n >= 4 ? 0xFFFFu : (1u << (4 * n)) - 1u);
}
TK_MVE_INLINE tk_s32x4 tk_vdupq_n_s32(int32_t a) {
    tk_s32x4 r = {{a, a, a, a}};
    return r;
}
TK_MVE_INLINE tk_s16x8 tk_vdupq_n_s16(int16_t a) {
    tk_s16x8 r;
    for (int i = 0; i < 8; ++i) r.v[i] = a;
    return r;
}
TK_MVE_INLINE tk_s8x16 tk_vreinterpretq_s8_s16(tk_s16x8 a) {
    tk_s8x16 r;
    memcpy(r.v, a.v, 16);
    return r;
}
TK_MVE_INLINE tk_s16x8 tk_vandq_s16(tk_s16x8 a, tk_s16x8 b) {
    for (int i = 0; i < 8; ++i) a.v[i] = (int16_t)(a.v[i] & b.v[i]);
    return a;
}
TK_MVE_INLINE int32_t tk_wrap32(int64_t x) {
    return (int32_t)(uint32_t)((uint64_t)x & 0xFFFFFFFFu);
}
TK_MVE_INLINE tk_s32x4 tk_vaddq_s32(tk_s32x4 a, tk_s32x4 b) {
    for (int i = 0; i < 4; ++i) a.v[i] = tk_wrap32((int64_t)a.v[i] + b.v[i]);
    return a;
}
TK_MVE_INLINE tk_s32x4 tk_vaddq_n_s32(tk_s32x4 a, int32_t b) {
    return tk_vaddq_s32(a, tk_vdupq_n_s32(b));
}
TK_MVE_INLINE tk_s32x4 tk_vsubq_s32(tk_s32x4 a, tk_s32x4 b) {
    for (int i = 0; i < 4; ++i) a.v[i] = tk_wrap32((int64_t)a.v[i] - b.v[i]);
    return a;
}
TK_MVE_INLINE tk_s32x4 tk_vmaxq_s32(tk_s32x4 a, tk_s32x4 b) {
    for (int i = 0; i < 4; ++i) a.v[i] = a.v[i] > b.v[i] ? a.v[i] : b.v[i];
    return a;
}
TK_MVE_INLINE tk_s32x4 tk_vminq_s32(tk_s32x4 a, tk_s32x4 b) {
    for (int i = 0; i < 4; ++i) a.v[i] = a.v[i] < b.v[i] ? a.v[i] : b.v[i];
    return a;
}
TK_MVE_INLINE tk_s32x4 tk_vnegq_s32(tk_s32x4 a) {
    for (int i = 0; i < 4; ++i) a.v[i] = tk_wrap32(-(int64_t)a.v[i]);
    return a;
}
/* the shift count is the bottom byte of b's lane, signed: left if >= 0, else right
 * (arithmetic, truncating; VRSHL: rounding, adding 2^(n-1) first) */
TK_MVE_INLINE int32_t tk_shl1(int32_t a, int32_t b, int rounding) {
    const int32_t n = (int8_t)(uint8_t)((uint32_t)b & 0xFFu);
    if (n >= 32) return 0;
    if (n >= 0) return tk_wrap32((int64_t)((uint64_t)(int64_t)a << n));
    const int32_t r = -n > 32 ? 32 : -n;
    const int64_t x = (int64_t)a + (rounding ? ((int64_t)1 << (r - 1)) : 0);
    return (int32_t)(x >= 0 ? x / ((int64_t)1 << r) : -1 - (-1 - x) / ((int64_t)1 << r));
}
TK_MVE_INLINE tk_s32x4 tk_vshlq_s32(tk_s32x4 a, tk_s32x4 b) {
    for (int i = 0; i < 4; ++i) a.v[i] = tk_shl1(a.v[i], b.v[i], 0);
    return a;
}
TK_MVE_INLINE tk_s32x4 tk_vrshlq_s32(tk_s32x4 a, tk_s32x4 b) {
    for (int i = 0; i < 4; ++i) a.v[i] = tk_shl1(a.v[i], b.v[i], 1);
    return a;
}
TK_MVE_INLINE tk_s32x4 tk_vshrq_n_s32(tk_s32x4 a, int n) {
    for (int i = 0; i < 4; ++i) a.v[i] = tk_shl1(a.v[i], -n, 0);
    return a;
}
TK_MVE_INLINE tk_s32x4 tk_vsetq_lane_s32(int32_t x, tk_s32x4 v, int i) {
    v.v[i] = x;
    return v;
}
/* (a * b + 2^31) >> 32 (VRMULH) */
TK_MVE_INLINE tk_s32x4 tk_vrmulhq_s32(tk_s32x4 a, tk_s32x4 b) {
    for (int i = 0; i < 4; ++i) {
        const int64_t p = (int64_t)a.v[i] * b.v[i] + ((int64_t)1 << 31);
        a.v[i] = (int32_t)(p >= 0 ? p / ((int64_t)1 << 32) : -1 - (-1 - p) / ((int64_t)1 << 32));
    }
    return a;
}
/* saturate((2 a b + 2^31) >> 32) (VQRDMULH): only a = b = INT32_MIN saturates */
TK_MVE_INLINE tk_s32x4 tk_vqrdmulhq_s32(tk_s32x4 a, tk_s32x4 b) {
    for (int i = 0; i < 4; ++i) {
        if (a.v[i] == INT32_MIN && b.v[i] == INT32_MIN) {
            a.v[i] = INT32_MAX;
            continue;
        }
        const int64_t p = 2 * ((int64_t)a.v[i] * b.v[i]) + ((int64_t)1 << 31);
        a.v[i] = (int32_t)(p >= 0 ? p / ((int64_t)1 << 32) : -1 - (-1 - p) / ((int64_t)1 << 32));
    }
    return a;
}
TK_MVE_INLINE tk_s32x4 tk_vqrdmulhq_n_s32(tk_s32x4 a, int32_t b) {
    return tk_vqrdmulhq_s32(a, tk_vdupq_n_s32(b));
}
TK_MVE_INLINE tk_s32x4 tk_vandq_s32(tk_s32x4 a, tk_s32x4 b) {
    for (int i = 0; i < 4; ++i) a.v[i] = a.v[i] & b.v[i];
    return a;
}
/* acc + sum of the lanes' products, wrapping to 32 bits like the instruction */
TK_MVE_INLINE int32_t tk_vmladavaq_s8(int32_t acc, tk_s8x16 a, tk_s8x16 b) {
    int64_t s = acc;
    for (int i = 0; i < 16; ++i) s += a.v[i] * b.v[i];
    return tk_wrap32(s);
}
TK_MVE_INLINE int32_t tk_vmladavaq_s16(int32_t acc, tk_s16x8 a, tk_s16x8 b) {
    int64_t s = acc;
    for (int i = 0; i < 8; ++i) s += (int64_t)a.v[i] * b.v[i];
    return tk_wrap32(s);
}
TK_MVE_INLINE int32_t tk_vmladavaq_p_s8(int32_t acc, tk_s8x16 a, tk_s8x16 b, tk_pred m) {
    int64_t s = acc;
    for (int i = 0; i < 16; ++i) s += tk_pred_on(m, i) ? a.v[i] * b.v[i] : 0;
    return tk_wrap32(s);
}
TK_MVE_INLINE tk_s16x8 tk_vldrbq_gather_offset_z_s16(const int8_t *p, tk_u16x8 o, tk_pred m) {
    tk_s16x8 r;
    for (int i = 0; i < 8; ++i) r.v[i] = tk_pred_on(m, 2 * i) ? p[o.v[i]] : 0;
    return r;
}
/* the low byte of each int16 lane (VSTRB.16) */
TK_MVE_INLINE void tk_vstrbq_p_s16(int8_t *p, tk_s16x8 v, tk_pred m) {
    for (int i = 0; i < 8; ++i) {
        if (tk_pred_on(m, 2 * i)) p[i] = (int8_t)(uint8_t)((uint16_t)v.v[i] & 0xFFu);
    }
}
TK_MVE_INLINE void tk_vstrbq_scatter_offset_s16(int8_t *p, tk_u16x8 o, tk_s16x8 v) {
    for (int i = 0; i < 8; ++i) p[o.v[i]] = (int8_t)(uint8_t)((uint16_t)v.v[i] & 0xFFu);
}
TK_MVE_INLINE void tk_vstrbq_scatter_offset_p_s16(int8_t *p, tk_u16x8 o, tk_s16x8 v, tk_pred m) {
    for (int i = 0; i < 8; ++i) {
        if (tk_pred_on(m, 2 * i)) p[o.v[i]] = (int8_t)(uint8_t)((uint16_t)v.v[i] & 0xFFu);
    }
}
TK_MVE_INLINE void tk_vstrbq_s8(int8_t *p, tk_s8x16 v) { memcpy(p, v.v, 16); }
TK_MVE_INLINE tk_s16x8 tk_vldrbq_z_s16(const int8_t *p, tk_pred m) {
    tk_s16x8 r;
    for (int i = 0; i < 8; ++i) r.v[i] = tk_pred_on(m, 2 * i) ? p[i] : 0;
    return r;
}
TK_MVE_INLINE tk_s16x8 tk_vaddq_s16(tk_s16x8 a, tk_s16x8 b) {
    for (int i = 0; i < 8; ++i) a.v[i] = (int16_t)(uint16_t)((uint32_t)a.v[i] + (uint32_t)b.v[i]);
    return a;
}
TK_MVE_INLINE void tk_vstrhq_s16(int16_t *p, tk_s16x8 v) { memcpy(p, v.v, 16); }
TK_MVE_INLINE tk_s8x16 tk_vdupq_n_s8(int8_t a) {
    tk_s8x16 r;
    memset(r.v, a, 16);
    return r;
}
TK_MVE_INLINE void tk_vstrbq_scatter_offset_s32(int8_t *p, tk_u32x4 o, tk_s32x4 v) {
    tk_vstrbq_scatter_offset_p_s32(p, o, v, 0xFFFFu);
}
TK_MVE_INLINE tk_pred tk_vctp16q(uint32_t n) {
    return (tk_pred)(n >= 8 ? 0xFFFFu : (1u << (2 * n)) - 1u);
}
TK_MVE_INLINE int32_t tk_vmladavq_s8(tk_s8x16 a, tk_s8x16 b) { return tk_vmladavaq_s8(0, a, b); }
/* saturating add (VQADD) */
TK_MVE_INLINE tk_s32x4 tk_vqaddq_s32(tk_s32x4 a, tk_s32x4 b) {
    for (int i = 0; i < 4; ++i) {
        const int64_t s = (int64_t)a.v[i] + b.v[i];
        a.v[i] = s > INT32_MAX ? INT32_MAX : (s < INT32_MIN ? INT32_MIN : (int32_t)s);
    }
    return a;
}
/* every lane shifted by the signed bottom byte of b (VSHL / VRSHL Qda, Rm) */
TK_MVE_INLINE tk_s32x4 tk_vshlq_r_s32(tk_s32x4 a, int32_t b) {
    return tk_vshlq_s32(a, tk_vdupq_n_s32(b));
}
TK_MVE_INLINE tk_s32x4 tk_vrshlq_n_s32(tk_s32x4 a, int32_t b) {
    return tk_vrshlq_s32(a, tk_vdupq_n_s32(b));
}
TK_MVE_INLINE tk_s32x4 tk_vmov4_s32(int32_t a, int32_t b, int32_t c, int32_t d) {
    tk_s32x4 r = {{a, b, c, d}};
    return r;
}
TK_MVE_INLINE tk_s32x4 tk_vldrbq_z_s32(const int8_t *p, tk_pred m) {
    tk_s32x4 r;
    for (int i = 0; i < 4; ++i) r.v[i] = tk_pred_on(m, 4 * i) ? p[i] : 0;
    return r;
}
/* p[o] per lane, o >= 0 (VLDRW.U32 gather, offsets shifted by 2) */
TK_MVE_INLINE tk_s32x4 tk_vldrwq_gather_shifted_offset_s32(const int32_t *p, tk_s32x4 o) {
    tk_s32x4 r;
    for (int i = 0; i < 4; ++i) r.v[i] = p[(uint32_t)o.v[i]];
    return r;
}
TK_MVE_INLINE tk_s32x4 tk_vmulq_s32(tk_s32x4 a, tk_s32x4 b) {
    for (int i = 0; i < 4; ++i) a.v[i] = tk_wrap32((int64_t)a.v[i] * b.v[i]);
    return a;
}
TK_MVE_INLINE tk_s32x4 tk_vmulq_n_s32(tk_s32x4 a, int32_t b) {
    return tk_vmulq_s32(a, tk_vdupq_n_s32(b));
}
TK_MVE_INLINE tk_s8x16 tk_vldrbq_gather_offset_z_s8(const int8_t *p, tk_u8x16 o, tk_pred m) {
    tk_s8x16 r;
    for (int i = 0; i < 16; ++i) r.v[i] = tk_pred_on(m, i) ? p[o.v[i]] : 0;
    return r;
}
/* max(a, the active lanes) (VMAXV.S8, predicated) */
TK_MVE_INLINE int8_t tk_vmaxvq_p_s8(int8_t a, tk_s8x16 v, tk_pred m) {
    for (int i = 0; i < 16; ++i) a = tk_pred_on(m, i) && v.v[i] > a ? v.v[i] : a;
    return a;
}
/* a + the active lanes, wrapping (VADDVA.S32, predicated) */
TK_MVE_INLINE int32_t tk_vaddvaq_p_s32(int32_t a, tk_s32x4 v, tk_pred m) {
    int64_t s = a;
    for (int i = 0; i < 4; ++i) s += tk_pred_on(m, 4 * i) ? v.v[i] : 0;
    return tk_wrap32(s);
}
/* rounding arithmetic shift right by n in 1..32 (VRSHR) */
TK_MVE_INLINE tk_s32x4 tk_vrshrq_n_s32(tk_s32x4 a, int n) {
    return tk_vrshlq_s32(a, tk_vdupq_n_s32(-n));
}
TK_MVE_INLINE tk_u32x4 tk_u32x4_of_s32(tk_s32x4 a) {
    tk_u32x4 r;
    memcpy(r.v, a.v, 16);
    return r;
}
TK_MVE_INLINE void tk_vld2q_s32(const int32_t *p, tk_s32x4 *even, tk_s32x4 *odd) {
    for (int i = 0; i < 4; ++i) even->v[i] = p[2 * i], odd->v[i] = p[2 * i + 1];
}
#endif /* TK_MVE_EMULATE */

/* constant vectors from lane lists (both builds) */
TK_MVE_INLINE tk_u16x8 tk_u16x8_of(const uint16_t *lanes) {
    tk_u16x8 r;
    memcpy(&r, lanes, 16);
    return r;
}
TK_MVE_INLINE tk_u32x4 tk_u32x4_of(const uint32_t *lanes) {
    tk_u32x4 r;
    memcpy(&r, lanes, 16);
    return r;
}
TK_MVE_INLINE tk_u8x16 tk_u8x16_of(const uint8_t *lanes) {
    tk_u8x16 r;
    memcpy(&r, lanes, 16);
    return r;
}
#endif /* TK_MVE */
#endif /* TK_MVE_H */
