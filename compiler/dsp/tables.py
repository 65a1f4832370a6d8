"""Constant tables of the fixed-point front end (twiddles, digit-reversal, real-split coefficients,
log2, windows, mel filterbanks, DCT), computed here once so that the C runtime only does integer
arithmetic on const arrays (house style 1)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MIN_N, MAX_N = 64, 1024


def check_n(n: int) -> int:
    if n < MIN_N or n > MAX_N or n & (n - 1):
        raise ValueError(f"real FFT length must be a power of two in [{MIN_N}, {MAX_N}], got {n}")
    return n


def cfft_stages(m: int) -> list[tuple[int, int]]:
    """Decimation-in-frequency stages of the m-point complex FFT as (radix, sub-FFT length L):
    radix-4 stages, then one twiddle-free radix-2 stage when log2(m) is odd (a twiddled
    radix-2 stage would rotate two-term averages, which saturate on loud noise)."""
    stages = []
    L = m
    while L >= 4:
        stages.append((4, L))
        L //= 4
    if L == 2:
        stages.append((2, 2))
    return stages


def twiddles_q14(m: int) -> np.ndarray:
    """Twiddles of the twiddled radix-4 stages (L = m, m/4, ... while L > 4), stage after stage, in
    the order the butterflies use them: for j < L/4 the triple (W_L^2j, W_L^j, W_L^3j), each as
    (re, im) int16 in Q14 (1.0 = 16384; Q14 keeps every dual 16x16 multiply-accumulate of a
    butterfly inside int32). Shape (rows, 2). A stage's twiddles depend on L only, so the table of
    a length m is a suffix of the table of 4m (tables shared between sizes)."""
    rows = []
    L = m
    while L > 4:
        j = np.arange(L // 4)
        th = 2 * np.pi * np.stack([2 * j, j, 3 * j], 1).ravel() / L
        rows.append(np.stack([np.round(np.cos(th) * 16384), np.round(-np.sin(th) * 16384)], 1))
        L //= 4
    if not rows:
        return np.zeros((0, 2), np.int16)
    return np.concatenate(rows).astype(np.int16)


def post_q15(n: int) -> np.ndarray:
    """Real-split coefficients for k = 0..n/4: P_k = (1 - j W_n^k)/4, Q_k = (1 + j W_n^k)/4 in Q15,
    rows (P.re, P.im, Q.re, Q.im). Every component lies in [-8192, 16384]."""
    k = np.arange(n // 4 + 1)
    th = 2 * np.pi * k / n
    s, c = np.sin(th), np.cos(th)
    rows = np.stack([(1 - s) / 4, -c / 4, (1 + s) / 4, c / 4], 1)
    return np.round(rows * 32768).astype(np.int16)


def _cfft_float_structured(z: np.ndarray) -> np.ndarray:
    """Float run of the same in-place DIF schedule (no scaling), used to find the output order."""
    x = z.astype(np.complex128).copy()
    m = len(x)
    for radix, L in cfft_stages(m):
        w = np.exp(-2j * np.pi * np.arange(L) / L)
        xv = x.reshape(m // L, L)
        if radix == 2:
            h = L // 2
            a, b = xv[:, :h].copy(), xv[:, h:].copy()
            xv[:, :h] = a + b
            xv[:, h:] = (a - b) * w[:h]
        else:
            q = L // 4
            a, b, c, d = (xv[:, i * q:(i + 1) * q].copy() for i in range(4))
            j = np.arange(q)
            xv[:, :q] = a + b + c + d
            xv[:, q:2 * q] = (a - b + c - d) * w[(2 * j) % L]
            xv[:, 2 * q:3 * q] = (a - 1j * b - c + 1j * d) * w[j]
            xv[:, 3 * q:] = (a + 1j * b - c - 1j * d) * w[(3 * j) % L]
    return x


def perm(m: int) -> np.ndarray:
    """perm[k] = buffer position where the in-place schedule leaves Z[k] (uint16)."""
    rng = np.random.default_rng(m)
    z = rng.standard_normal(m) + 1j * rng.standard_normal(m)
    got = _cfft_float_structured(z)
    want = np.fft.fft(z)
    p = np.argmin(np.abs(got[None, :] - want[:, None]), axis=1)
    assert len(set(p.tolist())) == m and np.allclose(got[p], want)
    return p.astype(np.uint16)


@dataclass(frozen=True)
class RfftTables:
    n: int
    twiddle: np.ndarray   # int16 (rows, 2) Q14, per-stage triples (twiddles_q14)
    perm: np.ndarray      # uint16 (m,)
    post: np.ndarray      # int16 (n/4+1, 4) Q15

    @property
    def m(self) -> int:
        return self.n // 2

    @property
    def nbytes(self) -> int:
        return self.twiddle.nbytes + self.perm.nbytes + self.post.nbytes


_RFFT_CACHE: dict[int, RfftTables] = {}


def rfft_q15_tables(n: int) -> RfftTables:
    check_n(n)
    if n not in _RFFT_CACHE:
        m = n // 2
        _RFFT_CACHE[n] = RfftTables(n, twiddles_q14(m), perm(m), post_q15(n))
    return _RFFT_CACHE[n]


def twiddles_q30(m: int) -> np.ndarray:
    k = np.arange(max(3 * m // 4, 1))
    th = 2 * np.pi * k / m
    return np.stack([np.round(np.cos(th) * 2**30), np.round(-np.sin(th) * 2**30)], 1).astype(np.int32)


def post_q31(n: int) -> np.ndarray:
    """As post_q15 in Q31 (components <= 0.5, so 2^30 is the largest value)."""
    k = np.arange(n // 4 + 1)
    th = 2 * np.pi * k / n
    s, c = np.sin(th), np.cos(th)
    rows = np.stack([(1 - s) / 4, -c / 4, (1 + s) / 4, c / 4], 1)
    return np.round(rows * 2**31).astype(np.int32)


def log2_table() -> np.ndarray:
    """T[i] = log2(1 + i/128) in Q30, i = 0..128 (uint32), for linear interpolation."""
    i = np.arange(129)
    return np.round(np.log2(1 + i / 128) * 2**30).astype(np.uint32)


# ---------------------------------------------------------------- windows, mel, dct

def window(kind: str, length: int, periodic: bool = True) -> np.ndarray:
    """Float window; periodic=True is scipy's fftbins=True (librosa, tf.signal)."""
    if kind in ("none", "rect", "rectangular", None):
        return np.ones(length)
    d = length if periodic else length - 1
    n = np.arange(length)
    if kind == "hann":
        return 0.5 - 0.5 * np.cos(2 * np.pi * n / d)
    if kind == "hamming":
        return 0.54 - 0.46 * np.cos(2 * np.pi * n / d)
    raise ValueError(f"unknown window '{kind}' (hann, hamming, none)")


def window_q15(kind: str, length: int, periodic: bool = True) -> np.ndarray:
    return np.clip(np.round(window(kind, length, periodic) * 32768), 0, 32767).astype(np.int16)


def hz_to_mel(f, htk: bool):
    f = np.asarray(f, dtype=np.float64)
    if htk:
        return 2595.0 * np.log10(1.0 + f / 700.0)
    f_sp = 200.0 / 3
    mels = f / f_sp
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, 1e-12) / min_log_hz) / logstep, mels)


def mel_to_hz(m, htk: bool):
    m = np.asarray(m, dtype=np.float64)
    if htk:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)
    f_sp = 200.0 / 3
    freqs = f_sp * m
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), freqs)


def mel_librosa(sr: int, n_fft: int, n_mels: int, fmin: float = 0.0, fmax: float | None = None,
                htk: bool = False, norm: str | None = "slaney") -> np.ndarray:
    """librosa.filters.mel (Slaney scale and area normalisation by default): (n_mels, n_fft/2+1)."""
    fmax = sr / 2 if fmax is None else fmax
    fftfreqs = np.linspace(0, sr / 2, n_fft // 2 + 1)
    mel_f = mel_to_hz(np.linspace(hz_to_mel(fmin, htk), hz_to_mel(fmax, htk), n_mels + 2), htk)
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fftfreqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    w = np.maximum(0, np.minimum(lower, upper))
    if norm == "slaney":
        w *= (2.0 / (mel_f[2:n_mels + 2] - mel_f[:n_mels]))[:, None]
    return w


def mel_speechpy(sr: int, n_fft: int, n_mels: int, fmin: float = 0.0, fmax: float | None = None) -> np.ndarray:
    """speechpy.feature.filterbanks as speechpy.feature.mfe calls it (used by Edge Impulse's MFE
    block): HTK mel edges snapped to bins floor((n_fft/2 + 2) hz / sr), triangles with peak 1, no
    normalisation: (n_mels, n_fft/2+1). As in speechpy, a lower edge of 0 means 300 Hz."""
    fmax = sr / 2 if fmax is None else fmax
    fmin = fmin or 300.0
    coefficients = n_fft // 2 + 1
    mels = np.linspace(1127.0 * np.log(1 + fmin / 700.0), 1127.0 * np.log(1 + fmax / 700.0), n_mels + 2)
    bins = np.floor((coefficients + 1) * (700.0 * (np.exp(mels / 1127.0) - 1)) / sr).astype(int)
    w = np.zeros((n_mels, coefficients))
    for i in range(n_mels):
        left, middle, right = bins[i], bins[i + 1], bins[i + 2]
        z = np.arange(left, right + 1).astype(np.float64)
        out = np.zeros(len(z))
        up = (left < z) & (z <= middle)
        out[up] = (z[up] - left) / (middle - left)
        down = (middle <= z) & (z < right)
        out[down] = (right - z[down]) / (right - middle)
        w[i, left:right + 1] = out
    return w


def mel_tf(sr: int, n_fft: int, n_mels: int, fmin: float = 80.0, fmax: float = 7600.0) -> np.ndarray:
    """tf.signal.linear_to_mel_weight_matrix (HTK mel, triangles in mel space, DC bin zeroed),
    transposed to (n_mels, n_fft/2+1)."""
    nb = n_fft // 2 + 1
    lin_hz = np.linspace(0.0, sr / 2, nb)[1:]
    spec_mel = hz_to_mel(lin_hz, True)
    edges = np.linspace(hz_to_mel(fmin, True), hz_to_mel(fmax, True), n_mels + 2)
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
    ls = (spec_mel[:, None] - lower[None, :]) / (center - lower)[None, :]
    us = (upper[None, :] - spec_mel[:, None]) / (upper - center)[None, :]
    w = np.maximum(0.0, np.minimum(ls, us))
    w = np.concatenate([np.zeros((1, n_mels)), w], 0)
    return w.T


def dct_cos_q15(n_coefs: int, n_in: int) -> np.ndarray:
    """cos(pi k (2m+1) / (2 n_in)) in Q15 (int16, 1.0 -> 32767), rows k < n_coefs."""
    k = np.arange(n_coefs)[:, None]
    m = np.arange(n_in)[None, :]
    return np.clip(np.round(np.cos(np.pi * k * (2 * m + 1) / (2 * n_in)) * 32768), -32768, 32767).astype(np.int16)


@dataclass(frozen=True)
class MelTables:
    """Sparse filterbank: filter f covers bins start[f] .. start[f]+count[f]-1, its weights are
    weights[offset[f] : offset[f]+count[f]] (uint16, real weight = w / 2^wbits)."""
    start: np.ndarray
    count: np.ndarray
    offset: np.ndarray
    weights: np.ndarray
    wbits: int
    n_bins: int


def mel_tables(w: np.ndarray) -> MelTables:
    """Quantise a float (n_filters, n_bins) weight matrix with one power-of-two scale chosen so the
    largest weight fills 16 bits."""
    wmax = float(w.max())
    wbits = int(math.floor(math.log2(65535.0 / wmax)))
    q = np.round(w * 2.0**wbits).astype(np.int64)
    starts, counts, offs, ws = [], [], [], []
    off = 0
    for row in q:
        nz = np.nonzero(row)[0]
        if len(nz) == 0:
            s, c = 0, 0
        else:
            s, c = int(nz[0]), int(nz[-1] - nz[0] + 1)
        starts.append(s)
        counts.append(c)
        offs.append(off)
        ws.extend(row[s:s + c].tolist())
        off += c
    return MelTables(np.array(starts, np.uint16), np.array(counts, np.uint16), np.array(offs, np.uint16),
                     np.array(ws, np.uint16), wbits, w.shape[1])


def quantize_multiplier(x: float) -> tuple[int, int]:
    """x = mult * 2^-shift with mult in [2^30, 2^31) (or 0): for (int64)v * mult >> shift."""
    if x == 0:
        return 0, 0
    m, e = math.frexp(abs(x))          # x = m * 2^e, m in [0.5, 1)
    mult = int(round(m * 2**31))
    shift = 31 - e
    if mult == 2**31:
        mult //= 2
        shift -= 1
    if shift < 1 or shift > 62:
        raise ValueError(f"multiplier {x} out of range for a 64-bit rounding shift")
    return (mult if x > 0 else -mult), shift
