"""Bit-exact numpy model of runtime_c/dsp: the same integer operations, vectorised over frames.
Every function takes a batch (frames, ...) of int arrays and returns what the C returns."""
from __future__ import annotations

import numpy as np

from . import tables as T


def _sat16(x):
    return np.clip(x, -32768, 32767)


def _cmul_q14(hr, hi, w):
    """sat16(round(h * w / 2^14)) with w (re, im) Q14; exact int64 products, half rounds up."""
    wr, wi = w[..., 0].astype(np.int64), w[..., 1].astype(np.int64)
    re = _sat16((hr * wr - hi * wi + 8192) >> 14)
    im = _sat16((hr * wi + hi * wr + 8192) >> 14)
    return re, im


def cfft_q15(zr: np.ndarray, zi: np.ndarray, tw: np.ndarray):
    """In-place DIF schedule of rfft_q15.c on (frames, m) int64 arrays (copies them). Output is
    scaled by 1/m and left in digit-reversed order (tables.perm). tw: tables.twiddles_q14(m)."""
    zr, zi = zr.astype(np.int64).copy(), zi.astype(np.int64).copy()
    f, m = zr.shape
    row = 0
    for radix, L in T.cfft_stages(m):
        xr = zr.reshape(f, m // L, L)
        xi = zi.reshape(f, m // L, L)
        if radix == 2:
            ar, ai, br, bi = xr[:, :, 0].copy(), xi[:, :, 0].copy(), xr[:, :, 1].copy(), xi[:, :, 1].copy()
            xr[:, :, 0], xi[:, :, 0] = (ar + br) >> 1, (ai + bi) >> 1
            xr[:, :, 1], xi[:, :, 1] = (ar - br) >> 1, (ai - bi) >> 1
            continue
        q = L // 4
        ar, br, cr, dr = (xr[:, :, i * q:(i + 1) * q].copy() for i in range(4))
        ai, bi, ci, di = (xi[:, :, i * q:(i + 1) * q].copy() for i in range(4))
        t0r, t0i = (ar + cr) >> 1, (ai + ci) >> 1
        t1r, t1i = (ar - cr) >> 1, (ai - ci) >> 1
        t2r, t2i = (br + dr) >> 1, (bi + di) >> 1
        t3r, t3i = (br - dr) >> 1, (bi - di) >> 1
        xr[:, :, :q] = (t0r + t2r) >> 1
        xi[:, :, :q] = (t0i + t2i) >> 1
        h = [((t0r - t2r) >> 1, (t0i - t2i) >> 1), ((t1r + t3i) >> 1, (t1i - t3r) >> 1),
             ((t1r - t3i) >> 1, (t1i + t3r) >> 1)]
        if L == 4:                       # twiddles all 1: exact
            for i in range(3):
                xr[:, :, (i + 1) * q:(i + 2) * q], xi[:, :, (i + 1) * q:(i + 2) * q] = h[i]
            continue
        w = tw[row:row + 3 * q].reshape(q, 3, 2)
        row += 3 * q
        for i in range(3):               # positions q, 2q, 3q take W^2j, W^j, W^3j
            xr[:, :, (i + 1) * q:(i + 2) * q], xi[:, :, (i + 1) * q:(i + 2) * q] = _cmul_q14(*h[i], w[:, i])
    return zr, zi


def _rsat15(v):
    return _sat16((v + 16384) >> 15)


def rfft_q15(x: np.ndarray, n: int | None = None) -> np.ndarray:
    """x: (frames, n) int16. Returns (frames, n/2+1, 2) int16: X[k] = FFT(x)[k] / n (Q15 units)."""
    x = np.atleast_2d(np.asarray(x))
    n = x.shape[1] if n is None else n
    tb = T.rfft_q15_tables(n)
    m = n // 2
    x = x.astype(np.int64)
    zr, zi = cfft_q15(x[:, 0::2], x[:, 1::2], tb.twiddle)
    k = np.arange(m // 2 + 1)
    pa = tb.perm[k].astype(np.int64)
    pb = tb.perm[(m - k) % m].astype(np.int64)
    ar, ai, br, bi = zr[:, pa], zi[:, pa], zr[:, pb], zi[:, pb]
    P = tb.post.astype(np.int64)
    pr, pi, qr, qi = P[:, 0], P[:, 1], P[:, 2], P[:, 3]
    out = np.zeros((x.shape[0], m + 1, 2), np.int64)
    # X[m-k] first, then X[k]: for k = m/2 both write the same value.
    out[:, m - k, 0] = _rsat15((br * pr + bi * pi) + (ar * qr - ai * qi))
    out[:, m - k, 1] = _rsat15(-((br * pi - bi * pr) + (ar * qi + ai * qr)))
    out[:, k, 0] = _rsat15((ar * pr - ai * pi) + (br * qr + bi * qi))
    out[:, k, 1] = _rsat15((ar * pi + ai * pr) + (br * qi - bi * qr))
    return out.astype(np.int16)


def headroom_q15(x: np.ndarray) -> np.ndarray:
    """Left shift s in [0, 15] per frame: the largest with every sample * 2^s inside int16."""
    x = np.atleast_2d(np.asarray(x)).astype(np.int64)
    mag = np.where(x < 0, ~x, x).max(axis=1)        # ~x maps -32768 -> 32767, -1 -> 0
    s = np.zeros(len(mag), np.int64)
    for b in range(15):                              # s = 14 - floor(log2(mag)), 15 for mag = 0
        s += (mag < (1 << (14 - b))).astype(np.int64)
    return s


def rfft_q15_bfp(x: np.ndarray):
    """Block floating point: returns (X, s) with X = FFT(x * 2^s) / n, as tk_rfft_q15_bfp."""
    x = np.atleast_2d(np.asarray(x)).astype(np.int64)
    s = headroom_q15(x)
    return rfft_q15(x << s[:, None]), s


# ------------------------------------------------------------------ shared helpers (tk_dsp.c)

def _bit_length_u64(v: np.ndarray) -> np.ndarray:
    v = v.astype(np.uint64).copy()
    e = np.zeros(v.shape, np.int64)
    for sh in (32, 16, 8, 4, 2, 1):
        big = (v >> np.uint64(sh)) != 0
        e += np.where(big, sh, 0)
        v = np.where(big, v >> np.uint64(sh), v)
    return e                                            # floor(log2(v)) for v >= 1


def log2_q16(v: np.ndarray) -> np.ndarray:
    """tk_log2_q16: log2(max(v, 1)) in Q16 (int64 array)."""
    v = np.maximum(np.asarray(v, np.uint64), np.uint64(1))
    e = _bit_length_u64(v)
    right = np.maximum(e - 31, 0).astype(np.uint64)
    left = np.maximum(31 - e, 0).astype(np.uint64)
    mant = ((v >> right) << left) & np.uint64(0xFFFFFFFF)
    idx = ((mant >> np.uint64(24)) & np.uint64(127)).astype(np.int64)
    frac = ((mant >> np.uint64(8)) & np.uint64(0xFFFF)).astype(np.int64)
    tab = T.log2_table().astype(np.int64)
    t0 = tab[idx]
    interp = t0 + (((tab[idx + 1] - t0) * frac) >> 16)
    return (e << 16) + ((interp + (1 << 13)) >> 14)


def isqrt64(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, np.uint64)
    r = np.floor(np.sqrt(v.astype(np.float64))).astype(np.uint64)
    for _ in range(2):   # correct the float estimate to floor(sqrt(v)) exactly
        r = np.where(r * r > v, r - np.uint64(1), r)
        r = np.where((r + np.uint64(1)) * (r + np.uint64(1)) <= v, r + np.uint64(1), r)
    return r.astype(np.int64)


def mag_from_power(p: np.ndarray) -> np.ndarray:
    """tk_mag_from_power: floor(sqrt(p >> 2k)) << k, k the smallest bringing p >> 2k below 2^32."""
    p = np.asarray(p, np.uint64)
    e = _bit_length_u64(np.maximum(p, np.uint64(1)))
    k = np.where(p >> np.uint64(32) != 0, (e - 30) >> 1, 0).astype(np.uint64)
    return isqrt64(p >> (k * np.uint64(2))).astype(np.uint64) << k


def quantize(v: np.ndarray, q: dict) -> np.ndarray:
    """tk_dsp_quantize: clamp(round((v + offset) mult 2^-shift) + zp, lo, hi), halves up."""
    y = (np.asarray(v, np.int64) + q["offset"]) * q["mult"]
    # (v + offset) * mult stays below 2^62 for log-domain inputs, so int64 is exact
    y = ((y + (1 << (q["shift"] - 1))) >> q["shift"]) + q["zero_point"]
    return np.clip(y, q["lo"], q["hi"]).astype(np.int8)


# ------------------------------------------------------------------ framing and front end

def frames(signal: np.ndarray, length: int, stride: int):
    """(frames (F, length) int16, prev (F,) int16): prev is the sample before each frame (0 first)."""
    x = np.asarray(signal, np.int16)
    nf = 1 + (len(x) - length) // stride if len(x) >= length else 0
    idx = np.arange(nf)[:, None] * stride + np.arange(length)[None, :]
    prev = np.array([x[i * stride - 1] if i else 0 for i in range(nf)], np.int16)
    return x[idx], prev


def prepare(t, fr: np.ndarray, prev: np.ndarray):
    """logmel.c prepare(): Q31 frame (pre-emphasis, window, zero pad), block floating point.
    Returns (buf (F, n) int64 holding int32 values, s (F,))."""
    fr = np.atleast_2d(fr).astype(np.int64)
    f, L = fr.shape
    if t.preemph_q15:
        before = np.concatenate([np.asarray(prev, np.int64)[:, None], fr[:, :-1]], 1)
        y = (fr * 32768 - t.preemph_q15 * before) >> 1
    else:
        y = fr * 32768
    if t.window_q31 is not None:
        y = (y * t.window_q31.astype(np.int64) + (1 << 30)) >> 31   # |y w| < 2^62
    buf = np.zeros((f, t.n), np.int64)
    buf[:, :L] = y
    s = np.minimum(headroom_q31(buf) - 1, t.max_shift)     # peak <= half scale
    return buf << s[:, None], s


def spectrum(t, X: np.ndarray) -> np.ndarray:
    """uint64 power re^2 + im^2 of Q31 bins, or the magnitude tk_mag_from_power."""
    X = X.astype(np.int64)
    p = (X[..., 0] * X[..., 0]).astype(np.uint64) + (X[..., 1] * X[..., 1]).astype(np.uint64)
    return mag_from_power(p) if t.magnitude else p


def filterbank(t, S: np.ndarray):
    """(hi, lo): energy = hi 2^32 + lo, hi = sum w (S >> 32), lo = sum w (S mod 2^32)."""
    mel = t.mel
    nfl = len(mel.start)
    hi = np.zeros((S.shape[0], nfl), np.uint64)
    lo = np.zeros((S.shape[0], nfl), np.uint64)
    sh, sl = S >> np.uint64(32), S & np.uint64(0xFFFFFFFF)
    for i in range(nfl):
        s0, c, o = int(mel.start[i]), int(mel.count[i]), int(mel.offset[i])
        if c:
            w = mel.weights[o:o + c].astype(np.uint64)[None, :]
            hi[:, i] = (sh[:, s0:s0 + c] * w).sum(1, dtype=np.uint64)
            lo[:, i] = (sl[:, s0:s0 + c] * w).sum(1, dtype=np.uint64)
    return hi, lo


def log2_96(hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    top = np.maximum(_bit_length_u64(np.maximum(hi, np.uint64(1))) + 33, 60)
    sh = np.maximum(top + 1 - 63, 0)
    v = (hi << (32 - sh).astype(np.uint64)) + (lo >> sh.astype(np.uint64))
    return np.where(hi == 0, log2_q16(lo), log2_q16(v) + sh * 65536)


def log_energies(t, E, s: np.ndarray) -> np.ndarray:
    hi, lo = E
    if t.floor_is_add:
        hi = hi + t.floor_add[s, 0][:, None]
        lo = lo + t.floor_add[s, 1][:, None]
    v = log2_96(hi, lo) - (t.log_shift_mult * s * 65536)[:, None]
    return v if t.floor_is_add else np.maximum(v, t.floor_q16)


def log_mel_frames(t, fr: np.ndarray, prev: np.ndarray) -> np.ndarray:
    buf, s = prepare(t, fr, prev)
    X = rfft_q31(buf)
    return log_energies(t, filterbank(t, spectrum(t, X)), s)


def mfe(t, fr: np.ndarray, prev: np.ndarray) -> np.ndarray:
    """tk_mfe_q15 (and tk_spectrogram_q15: a filterbank of single bins): int8 (F, n_filters)."""
    return quantize(log_mel_frames(t, fr, prev), t.quant)


def mfcc(t, fr: np.ndarray, prev: np.ndarray) -> np.ndarray:
    V = log_mel_frames(t, fr, prev) + t.base_q16
    acc = V @ t.dct.astype(np.int64).T                  # |acc| < 2^43
    y = (acc + (1 << 14)) >> 15
    return np.stack([quantize(y[:, k], q) for k, q in enumerate(t.mfcc_quant)], 1)


def run_signal(t, signal: np.ndarray) -> np.ndarray:
    fr, prev = frames(signal, t.frame_length, t.frame_stride)
    return mfcc(t, fr, prev) if t.dct is not None else mfe(t, fr, prev)


# ------------------------------------------------------------------ rfft_q31.c

def _sat32(x):
    return np.clip(x, -2**31, 2**31 - 1)


def _obj(a):
    return np.asarray(a).astype(object)


def _cmul_q30(hr, hi, w):
    """sat32(round(h * w / 2^30)) with w Q30; int64 products (|h| < 2^31, |w| <= 2^30)."""
    wr, wi = w[..., 0].astype(np.int64), w[..., 1].astype(np.int64)
    re = _sat32((hr * wr - hi * wi + (1 << 29)) >> 30)
    im = _sat32((hr * wi + hi * wr + (1 << 29)) >> 30)
    return re, im


def _ha(a, c):
    """rfft_q31.c halving sum: floor(a/2) + floor(c/2)."""
    return (a >> 1) + (c >> 1)


def _hs(a, c):
    return (a >> 1) - (c >> 1)


def cfft_q31(zr, zi, tw):
    zr, zi = zr.astype(np.int64).copy(), zi.astype(np.int64).copy()
    f, m = zr.shape
    for radix, L in T.cfft_stages(m):
        xr = zr.reshape(f, m // L, L)
        xi = zi.reshape(f, m // L, L)
        step = m // L
        if radix == 2:
            ar, ai, br, bi = xr[:, :, 0].copy(), xi[:, :, 0].copy(), xr[:, :, 1].copy(), xi[:, :, 1].copy()
            xr[:, :, 0], xi[:, :, 0] = _ha(ar, br), _ha(ai, bi)
            xr[:, :, 1], xi[:, :, 1] = _hs(ar, br), _hs(ai, bi)
        else:
            q = L // 4
            ar, br, cr, dr = (xr[:, :, i * q:(i + 1) * q].copy() for i in range(4))
            ai, bi, ci, di = (xi[:, :, i * q:(i + 1) * q].copy() for i in range(4))
            t0r, t0i = _ha(ar, cr), _ha(ai, ci)
            t1r, t1i = _hs(ar, cr), _hs(ai, ci)
            t2r, t2i = _ha(br, dr), _ha(bi, di)
            t3r, t3i = _hs(br, dr), _hs(bi, di)
            j = np.arange(q)
            xr[:, :, :q] = _ha(t0r, t2r)
            xi[:, :, :q] = _ha(t0i, t2i)
            xr[:, :, q:2 * q], xi[:, :, q:2 * q] = _cmul_q30(_hs(t0r, t2r), _hs(t0i, t2i), tw[2 * j * step])
            xr[:, :, 2 * q:3 * q], xi[:, :, 2 * q:3 * q] = _cmul_q30(_ha(t1r, t3i), _hs(t1i, t3r), tw[j * step])
            xr[:, :, 3 * q:], xi[:, :, 3 * q:] = _cmul_q30(_hs(t1r, t3i), _ha(t1i, t3r), tw[3 * j * step])
    return zr, zi


def rfft_q31(x: np.ndarray) -> np.ndarray:
    """x: (frames, n) int32. Returns (frames, n/2+1, 2) int32: FFT(x) / n."""
    x = np.atleast_2d(np.asarray(x)).astype(np.int64)
    n = x.shape[1]
    m = n // 2
    perm = T.rfft_q15_tables(n).perm
    zr, zi = cfft_q31(x[:, 0::2], x[:, 1::2], T.twiddles_q30(m))
    k = np.arange(m // 2 + 1)
    pa, pb = perm[k].astype(np.int64), perm[(m - k) % m].astype(np.int64)
    ar, ai, br, bi = zr[:, pa], zi[:, pa], zr[:, pb], zi[:, pb]
    P = T.post_q31(n).astype(np.int64)
    pr, pi, qr, qi = P[:, 0], P[:, 1], P[:, 2], P[:, 3]

    def rs(v):  # |v| < 2^62.5: the int64 sums below cannot overflow
        return _sat32((v + (1 << 30)) >> 31)
    out = np.zeros((x.shape[0], m + 1, 2), np.int64)
    out[:, m - k, 0] = rs((br * pr + bi * pi) + (ar * qr - ai * qi))
    out[:, m - k, 1] = rs(-((br * pi - bi * pr) + (ar * qi + ai * qr)))
    out[:, k, 0] = rs((ar * pr - ai * pi) + (br * qr + bi * qi))
    out[:, k, 1] = rs((ar * pi + ai * pr) + (br * qi - bi * qr))
    return out.astype(np.int32)


def headroom_q31(x: np.ndarray) -> np.ndarray:
    x = np.atleast_2d(np.asarray(x)).astype(np.int64)
    mag = np.where(x < 0, ~x, x).max(axis=1)
    s = np.zeros(len(mag), np.int64)
    for b in range(31):
        s += (mag < (1 << (30 - b))).astype(np.int64)
    return s
