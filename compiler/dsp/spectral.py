"""Spectral analysis of motion/vibration axes (runtime_c/dsp/spectral_s8.c): configuration, its
integer build, the bit-exact numpy model and a float reference."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import model as M
from . import tables as T
from .frontend import DB_PER_LOG2


@dataclass(frozen=True)
class Spectral:
    sample_rate: float = 100.0
    frame_length: int = 128
    n_fft: int = 128
    window: str = "hann"
    remove_mean: bool = True
    bands_hz: tuple = ((0.5, 2.0), (2.0, 5.0), (5.0, 10.0), (10.0, 20.0), (20.0, 50.0))
    n_peaks: int = 3
    floor_db: float = -120.0
    # int8 scales: rms (full-scale units), powers (dB), peak frequencies (Hz)
    rms_scale: float = 1 / 256
    rms_zero_point: int = -128
    db_scale: float = 0.5
    db_zero_point: int = 100
    hz_scale: float = 0.25
    hz_zero_point: int = -128


@dataclass
class SpectralTables:
    sp: Spectral
    n: int
    window_q31: np.ndarray | None
    band_lo: np.ndarray
    band_hi: np.ndarray
    floor_q16: int
    q_rms: dict
    q_band: dict
    q_freq: dict
    q_peak: dict

    @property
    def n_out(self) -> int:
        return 1 + len(self.band_lo) + 2 * self.sp.n_peaks


BASE_Q16 = -60 * 65536   # 10 log10(band power / n^2) = DB_PER_LOG2 (v + BASE_Q16) / 2^16


def _q(g: float, offset: int, zp: int) -> dict:
    mult, shift = T.quantize_multiplier(g)
    return dict(offset=offset, mult=mult, shift=shift, zero_point=zp, lo=-128, hi=127)


def band_bins(sp: Spectral) -> tuple[np.ndarray, np.ndarray]:
    """Band [f_lo, f_hi) Hz -> bins k with f_lo <= k sr / n < f_hi (at least one bin)."""
    lo, hi = [], []
    for f0, f1 in sp.bands_hz:
        a = int(math.ceil(f0 * sp.n_fft / sp.sample_rate))
        b = int(math.ceil(f1 * sp.n_fft / sp.sample_rate))
        a = min(max(a, 0), sp.n_fft // 2)
        b = min(max(b, a + 1), sp.n_fft // 2 + 1)
        lo.append(a)
        hi.append(b)
    return np.array(lo, np.uint16), np.array(hi, np.uint16)


def build(sp: Spectral) -> SpectralTables:
    n = T.check_n(sp.n_fft)
    if sp.frame_length > n:
        raise ValueError(f"frame_length {sp.frame_length} exceeds n_fft {n}")
    win = None
    if sp.window not in ("none", None):
        win = np.clip(np.round(T.window(sp.window, sp.frame_length) * 2.0**31), 0, 2**31 - 1).astype(np.int32)
    lo, hi = band_bins(sp)
    floor_q16 = int(round(sp.floor_db / DB_PER_LOG2 * 65536)) - BASE_Q16
    g_db = DB_PER_LOG2 / (65536 * sp.db_scale)
    return SpectralTables(
        sp, n, win, lo, hi, floor_q16,
        q_rms=_q(1.0 / (64 * 32768 * sp.rms_scale), 0, sp.rms_zero_point),
        q_band=_q(g_db, BASE_Q16, sp.db_zero_point),
        q_freq=_q(sp.sample_rate / (n * sp.hz_scale), 0, sp.hz_zero_point),
        q_peak=_q(g_db, BASE_Q16, sp.db_zero_point))


def model(t: SpectralTables, fr: np.ndarray) -> np.ndarray:
    """Bit-exact model of tk_spectral_s8 on (frames, frame_length) int16."""
    fr = np.atleast_2d(fr).astype(np.int64)
    F, L = fr.shape
    n = t.n
    sm = fr.sum(1)
    sq = (fr * fr).sum(1)
    mean = np.floor_divide(sm * 65536 + L, 2 * L) if t.sp.remove_mean else np.zeros(F, np.int64)
    var_l2 = L * sq - sm * sm if t.sp.remove_mean else L * sq
    rms = M.isqrt64((var_l2.astype(np.uint64) << np.uint64(12)) // np.uint64(L * L))
    y = fr * 32768 - mean[:, None]
    if t.window_q31 is not None:
        y = (y * t.window_q31.astype(np.int64) + (1 << 30)) >> 31
    buf = np.zeros((F, n), np.int64)
    buf[:, :L] = y
    s = M.headroom_q31(buf) - 1                  # peak <= half scale; -1 halves the frame
    X = M.rfft_q31(np.where(s[:, None] >= 0, buf << np.maximum(s, 0)[:, None], buf >> 1)).astype(np.int64)
    P = (X[..., 0] * X[..., 0]).astype(np.uint64) + (X[..., 1] * X[..., 1]).astype(np.uint64)
    out = [M.quantize(rms, t.q_rms)[:, None]]
    sh = (2 * s * 65536)[:, None]
    for a, b in zip(t.band_lo, t.band_hi):
        seg = P[:, int(a):int(b)]
        hi = (seg >> np.uint64(32)).sum(1, dtype=np.uint64)[:, None]
        lo = (seg & np.uint64(0xFFFFFFFF)).sum(1, dtype=np.uint64)[:, None]
        v = np.maximum(M.log2_96(hi, lo) - sh, t.floor_q16)
        out.append(M.quantize(v, t.q_band))
    peaks = []
    for f in range(F):
        row = []
        for k in _peaks([int(v) for v in P[f]], n, t.sp.n_peaks):
            v = t.floor_q16
            if k:
                v = max(int(M.log2_q16(np.array([P[f, k]], np.uint64))[0]) - 2 * int(s[f]) * 65536, v)
            row += [M.quantize(np.array([k]), t.q_freq)[0], M.quantize(np.array([v]), t.q_peak)[0]]
        peaks.append(row)
    out.append(np.array(peaks, np.int64).reshape(F, 2 * t.sp.n_peaks))
    return np.concatenate(out, 1).astype(np.int8)


def _peaks(p, n: int, count: int) -> list[int]:
    """Bins of the `count` strongest local maxima p[k-1] < p[k] >= p[k+1], ties to the lower bin;
    0 where there are fewer."""
    cands = sorted((k for k in range(1, n // 2) if p[k - 1] < p[k] >= p[k + 1]), key=lambda k: (-p[k], k))
    return (cands + [0] * count)[:count]


def reference_float(sp: Spectral, fr: np.ndarray) -> np.ndarray:
    """Float64 definition of the features before int8: per frame [rms (full-scale units), band
    powers (dB), then (peak frequency (Hz), peak power (dB)) per peak]."""
    x = np.atleast_2d(fr).astype(np.float64) / 32768.0
    n = sp.n_fft
    if sp.remove_mean:
        x = x - x.mean(1, keepdims=True)
    rms = np.sqrt((x * x).mean(1))
    w = T.window(sp.window, sp.frame_length) if sp.window not in ("none", None) else 1.0
    P = np.abs(np.fft.rfft(x * w, n=n, axis=1)) ** 2 / n**2
    lo, hi = band_bins(sp)
    cols = [rms[:, None]]
    for a, b in zip(lo, hi):
        db = np.maximum(10 * np.log10(np.maximum(P[:, a:b].sum(1), 1e-300)), sp.floor_db)
        cols.append(db[:, None])
    peaks = []
    for f in range(x.shape[0]):
        row = []
        for k in _peaks(P[f], n, sp.n_peaks):
            db = max(10 * np.log10(max(P[f, k], 1e-300)), sp.floor_db) if k else sp.floor_db
            row += [k * sp.sample_rate / n, db]
        peaks.append(row)
    cols.append(np.array(peaks, np.float64).reshape(x.shape[0], 2 * sp.n_peaks))
    return np.concatenate(cols, 1)


def reference(sp: Spectral, fr: np.ndarray) -> np.ndarray:
    """Float64 definition of the same features, quantised to int8."""
    f = reference_float(sp, fr)
    k = 1 + len(sp.bands_hz)
    scale = np.array([sp.rms_scale] + [sp.db_scale] * (k - 1) + [sp.hz_scale, sp.db_scale] * sp.n_peaks)
    zp = np.array([sp.rms_zero_point] + [sp.db_zero_point] * (k - 1)
                  + [sp.hz_zero_point, sp.db_zero_point] * sp.n_peaks)
    # halves round up, as tk_dsp_quantize
    return np.clip(np.floor(f / scale + 0.5) + zp, -128, 127).astype(np.int8)
