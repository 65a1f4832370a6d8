"""Float64 references the presets claim to match, written in numpy from the libraries' definitions
(librosa 0.11, speechpy 2.4 as Edge Impulse's MFE uses it, tf.signal as TF's speech example uses
it), plus speech-like test signals. Not used on the runtime path; tests/test_dsp.py checks them
against the libraries themselves where those are installed."""
from __future__ import annotations

import numpy as np

from . import tables as T
from .frontend import FrontEnd


def _frames(x: np.ndarray, length: int, stride: int) -> np.ndarray:
    nf = 1 + (len(x) - length) // stride
    idx = np.arange(nf)[:, None] * stride + np.arange(length)[None, :]
    return x[idx]


def log_features(fe: FrontEnd, signal_i16: np.ndarray) -> np.ndarray:
    """Float features (before int8) of the reference named by the preset's parameters."""
    x = np.asarray(signal_i16, np.float64) / 32768.0
    if fe.preemph:
        # speechpy.processing.preemphasis, with a zero history instead of np.roll's wrap-around
        x = x - fe.preemph * np.concatenate([[0.0], x[:-1]])
    fr = _frames(x, fe.frame_length, fe.frame_stride)
    if fe.window not in ("none", None):
        fr = fr * T.window(fe.window, fe.frame_length, fe.periodic_window)[None, :]
    spec = np.abs(np.fft.rfft(fr, n=fe.n_fft, axis=1))
    spec = spec if fe.spectrum == "magnitude" else spec ** 2
    spec = spec * fe.spectrum_scale
    from .frontend import mel_filterbank
    E = spec @ mel_filterbank(fe).T
    E = E + fe.eps if fe.floor == "add" else np.maximum(E, fe.eps)
    f = 10.0 * np.log10(E) if fe.log_unit == "db" else np.log(E)
    if fe.n_mfcc:
        M = fe.n_mels
        k = np.arange(fe.n_mfcc)[:, None]
        m = np.arange(M)[None, :]
        D = np.cos(np.pi * k * (2 * m + 1) / (2 * M))
        if fe.dct_scale == "tf":     # tf.signal.mfccs_from_log_mel_spectrograms: dct2 * rsqrt(2M)
            D = D * 2.0 / np.sqrt(2.0 * M)
        else:                        # orthonormal DCT-II
            D = D * np.sqrt(2.0 / M)
            D[0] /= np.sqrt(2.0)
        f = f @ D.T
    return f


def quantize_features(fe: FrontEnd, f: np.ndarray) -> np.ndarray:
    """The int8 encoding a model input with (scale, zero_point) expects, from float features."""
    g = (f - fe.f_offset) * fe.f_gain
    if fe.f_clip is not None:
        g = np.clip(g, *fe.f_clip)
    return np.clip(np.round(g / fe.scale) + fe.zero_point, -128, 127).astype(np.int8)


def features(fe: FrontEnd, signal_i16: np.ndarray) -> np.ndarray:
    return quantize_features(fe, log_features(fe, signal_i16))


# -------------------------------------------------------------------------- test signals

def _resonate(x: np.ndarray, f: float, bw: float, sr: int) -> np.ndarray:
    r = np.exp(-np.pi * bw / sr)
    a1, a2 = -2 * r * np.cos(2 * np.pi * f / sr), r * r
    y = np.zeros_like(x)
    y1 = y2 = 0.0
    g = 1 - r
    for i, v in enumerate(x):
        y0 = g * v - a1 * y1 - a2 * y2
        y[i] = y0
        y2, y1 = y1, y0
    return y


def speech_like(seed: int, seconds: float = 1.0, sr: int = 16000, level_dbfs: float = -20.0) -> np.ndarray:
    """Voiced segments (a jittered glottal pulse train through three formant resonators), fricative
    noise bursts and short pauses, at an RMS of level_dbfs; int16."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    out = np.zeros(n)
    pos = 0
    while pos < n:
        seg = int(rng.uniform(0.06, 0.25) * sr)
        kind = rng.choice(["voiced", "voiced", "fricative", "pause"])
        seg = min(seg, n - pos)
        if kind == "voiced":
            f0 = rng.uniform(90, 260)
            src = np.zeros(seg)
            t = 0.0
            while t < seg:
                src[int(t)] = 1.0
                t += sr / (f0 * (1 + 0.02 * rng.standard_normal()))
            src = np.diff(np.concatenate([[0.0], src])) + 0.02 * rng.standard_normal(seg)
            y = src
            for fmt, bw in ((rng.uniform(300, 900), 80), (rng.uniform(900, 2400), 120), (rng.uniform(2400, 3500), 200)):
                y = y + 0.6 * _resonate(src, fmt, bw, sr) * rng.uniform(2, 8)
        elif kind == "fricative":
            y = _resonate(rng.standard_normal(seg), rng.uniform(3000, 6500), 1500, sr) * 3
        else:
            y = 0.003 * rng.standard_normal(seg)
        env = np.hanning(seg) if seg > 2 else np.ones(seg)
        out[pos:pos + seg] = y * (0.3 + 0.7 * env)
        pos += seg
    rms = np.sqrt(np.mean(out ** 2)) + 1e-12
    out = out / rms * 10 ** (level_dbfs / 20) * 32768
    return np.clip(np.round(out), -32768, 32767).astype(np.int16)
