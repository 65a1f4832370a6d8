"""Feature-extraction configurations (spectrogram, MFE, MFCC) and the presets that claim to match a
float reference: everything the C blocks need (tables, log offsets, int8 multipliers) is computed
here from float parameters, once."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from . import tables as T

LN2 = math.log(2.0)
DB_PER_LOG2 = 10.0 * math.log10(2.0)


@dataclass(frozen=True)
class FrontEnd:
    """Float description of a spectral front end (what a user or a preset specifies)."""
    sample_rate: int = 16000
    frame_length: int = 400          # samples per frame (zero-padded to n_fft)
    frame_stride: int = 160
    n_fft: int = 512
    window: str = "hann"             # hann, hamming, none
    periodic_window: bool = True
    preemph: float = 0.0             # y[i] = x[i] - preemph x[i-1]
    spectrum: str = "power"          # power |X|^2 or magnitude |X|
    spectrum_scale: float = 1.0      # multiply the spectrum by this (speechpy: 1 / n_fft); power of two
    mel: str = "slaney"              # slaney (librosa), htk (librosa htk=True), speechpy, tf, none
    n_mels: int = 40
    fmin: float = 0.0
    fmax: float | None = None
    floor: str = "max"               # max: log(max(E, eps)); add: log(E + eps)
    eps: float = 1e-10
    log_unit: str = "db"             # db: 10 log10, ln: natural log
    # int8 output: q = clamp(round((f - f_offset) * f_gain / scale) + zero_point, lo, hi)
    f_offset: float = 0.0
    f_gain: float = 1.0
    scale: float = 1.0
    zero_point: int = 0
    f_clip: tuple[float, float] | None = None   # clip the (offset, gain)-mapped feature first
    n_mfcc: int = 0                  # > 0: MFCC block (DCT-II of the log-mel values)
    dct_scale: str = "tf"            # tf: sqrt(2/M) on every coefficient; ortho: DCT-II orthonormal
    spec_bins: tuple[int, int] | None = None      # spectrogram block: bins [lo, hi) (mel = none)


@dataclass
class FrontEndTables:
    """Integer form of a FrontEnd: exactly the constants the C blocks (logmel.h) receive."""
    fe: FrontEnd
    n: int
    frame_length: int
    frame_stride: int
    preemph_q15: int
    window_q31: np.ndarray | None
    magnitude: bool
    mel: T.MelTables
    floor_is_add: bool
    floor_q16: int                     # max mode: lower bound of v
    floor_add: np.ndarray              # add mode: uint64 (32, 2) = (hi, lo) per BFP shift
    max_shift: int
    log_shift_mult: int                # v = log2_q16(E) - log_shift_mult * s * 2^16
    base_q16: int                      # log2(E_true) = (v + base_q16) / 2^16
    quant: dict                        # MFE / spectrogram: offset, mult, shift, zero_point, lo, hi
    dct: np.ndarray | None = None      # int16 (n_mfcc, n_mels)
    mfcc_quant: list = field(default_factory=list)

    @property
    def n_out(self) -> int:
        return self.dct.shape[0] if self.dct is not None else len(self.mel.start)


def mel_filterbank(fe: FrontEnd) -> np.ndarray:
    nb = fe.n_fft // 2 + 1
    if fe.mel == "slaney":
        return T.mel_librosa(fe.sample_rate, fe.n_fft, fe.n_mels, fe.fmin, fe.fmax, htk=False, norm="slaney")
    if fe.mel == "htk":
        return T.mel_librosa(fe.sample_rate, fe.n_fft, fe.n_mels, fe.fmin, fe.fmax, htk=True, norm=None)
    if fe.mel == "speechpy":
        return T.mel_speechpy(fe.sample_rate, fe.n_fft, fe.n_mels, fe.fmin, fe.fmax)
    if fe.mel == "tf":
        return T.mel_tf(fe.sample_rate, fe.n_fft, fe.n_mels, fe.fmin, fe.fmax or fe.sample_rate / 2)
    if fe.mel == "none":
        lo, hi = fe.spec_bins or (0, nb)
        return np.eye(nb)[lo:hi]
    raise ValueError(f"unknown mel filterbank '{fe.mel}'")


def _log2_int(x: float, what: str) -> int:
    e = math.log2(x)
    if abs(e - round(e)) > 1e-12:
        raise ValueError(f"{what} must be a power of two, got {x}")
    return int(round(e))


def build(fe: FrontEnd) -> FrontEndTables:
    n = T.check_n(fe.n_fft)
    if fe.frame_length > n:
        raise ValueError(f"frame_length {fe.frame_length} exceeds n_fft {n}")
    a_q15 = int(round(fe.preemph * 32768))
    if not 0 <= a_q15 <= 32767:
        raise ValueError(f"pre-emphasis {fe.preemph} outside [0, 1)")
    win = None
    if fe.window not in ("none", None):
        win = np.clip(np.round(T.window(fe.window, fe.frame_length, fe.periodic_window) * 2.0**31),
                      0, 2**31 - 1).astype(np.int32)
    mel = T.mel_tables(mel_filterbank(fe))
    magnitude = fe.spectrum == "magnitude"
    # The Q31 frame is y = x_float 2^31 g (g = 1/2, 1/4 with pre-emphasis), times 2^s (BFP); the FFT
    # gives X_int = FFT(y 2^s) / n, so
    #   power:     |FFT(x_float)|^2 = P n^2 / (2^62 g^2 2^2s)
    #   magnitude: |FFT(x_float)|   = sqrt(P) n / (2^31 g 2^s)   (tk_mag_from_power ~ sqrt(P))
    # and the filterbank adds 2^-wbits: every factor is a power of two, the log2 offsets integers.
    lg = -2 if a_q15 else -1
    ls = _log2_int(fe.spectrum_scale, "spectrum_scale")
    ln = _log2_int(n, "n_fft")
    if magnitude:
        base, kmul = ln - 31 - lg - mel.wbits + ls, 1
    else:
        base, kmul = 2 * ln - 62 - 2 * lg - mel.wbits + ls, 2
    # E_true = E_int 2^(base - kmul s)
    floor_add = np.zeros((32, 2), np.uint64)
    max_shift = 31
    if fe.floor == "add":
        for s in range(32):
            v = int(round(fe.eps * 2.0 ** (kmul * s - base)))
            if v >= 2**84:
                max_shift = s - 1
                break
            floor_add[s] = (v >> 32, v & 0xFFFFFFFF)
    floor_q16 = int(round(math.log2(fe.eps) * 65536)) - base * 65536
    unit = DB_PER_LOG2 if fe.log_unit == "db" else LN2
    t = FrontEndTables(fe, n, fe.frame_length, fe.frame_stride, a_q15, win, magnitude, mel,
                       fe.floor == "add", floor_q16, floor_add, max_shift, kmul, base * 65536, {})
    # feature f = unit (v + base_q16) / 2^16 ; q = round((f - f_offset) f_gain / scale) + zp
    g = unit * fe.f_gain / (fe.scale * 65536.0)
    if fe.n_mfcc == 0:
        mult, shift = T.quantize_multiplier(g)
        off = base * 65536 - int(round(fe.f_offset / unit * 65536))
        lo, hi = -128, 127
        if fe.f_clip is not None:
            lo = max(lo, int(np.round(fe.f_clip[0] / fe.scale)) + fe.zero_point)
            hi = min(hi, int(np.round(fe.f_clip[1] / fe.scale)) + fe.zero_point)
        t.quant = dict(offset=off, mult=mult, shift=shift, zero_point=fe.zero_point, lo=lo, hi=hi)
    else:
        M = fe.n_mels
        t.dct = T.dct_cos_q15(fe.n_mfcc, M)
        # y_k = round(sum_m D[k,m] (v_m + base_q16) / 2^15) ; mfcc_k = unit c_k y_k / 2^16
        for k in range(fe.n_mfcc):
            if fe.dct_scale == "tf":
                c = math.sqrt(2.0 / M)
            elif fe.dct_scale == "ortho":
                c = math.sqrt((1.0 if k == 0 else 2.0) / M)
            else:
                raise ValueError(f"unknown dct_scale '{fe.dct_scale}'")
            mult, shift = T.quantize_multiplier(g * c)
            t.mfcc_quant.append(dict(offset=0, mult=mult, shift=shift, zero_point=fe.zero_point, lo=-128, hi=127))
    return t


# ----------------------------------------------------------------------------- presets

def preset(name: str, **over) -> FrontEnd:
    """Named presets. Each claims to match the float reference of the same name in tinykiln.dsp.ref.
      librosa_mfe: librosa.feature.melspectrogram(center=False, power=2, Slaney mel) then
                   power_to_db(ref=1, amin=1e-10, top_db=None); int8 scale 0.5 dB, zp 32.
      ei_mfe:      Edge Impulse MFE (speechpy 2.4): pre-emphasis 0.98, rectangular frames,
                   |rfft|^2 / n_fft, speechpy's HTK filterbank (its lower edge 0 means 300 Hz),
                   clip 1e-30, 10 log10, noise floor -52 dB, (f + 52) / 64 clipped to [0, 1], int8
                   scale 1/256, zp -128. The pre-emphasis history of the first frame is 0 (speechpy
                   wraps the signal's last sample around).
      tf_mfcc:     TensorFlow's tf.signal speech example: periodic Hann STFT, magnitude, mel 80-7600 Hz,
                   log(mel + 1e-6), mfccs_from_log_mel_spectrograms, first 13; int8 scale 0.25, zp 0.
      spectrogram: log power per bin (dB) of a Hann-windowed frame, int8 scale 0.5 dB, zp 32."""
    presets = {
        "librosa_mfe": FrontEnd(sample_rate=16000, frame_length=512, frame_stride=256, n_fft=512, window="hann",
                                spectrum="power", mel="slaney", n_mels=40, floor="max", eps=1e-10,
                                log_unit="db", scale=0.5, zero_point=32),
        "ei_mfe": FrontEnd(sample_rate=16000, frame_length=256, frame_stride=128, n_fft=256, window="none",
                           preemph=0.98, spectrum="power", spectrum_scale=1 / 256, mel="speechpy", n_mels=32,
                           fmin=0.0, floor="max", eps=1e-30, log_unit="db", f_offset=-52.0, f_gain=1 / 64,
                           scale=1 / 256, zero_point=-128, f_clip=(0.0, 1.0)),
        "tf_mfcc": FrontEnd(sample_rate=16000, frame_length=480, frame_stride=160, n_fft=512, window="hann",
                            spectrum="magnitude", mel="tf", n_mels=40, fmin=80.0, fmax=7600.0, floor="add",
                            eps=1e-6, log_unit="ln", scale=0.25, zero_point=0, n_mfcc=13, dct_scale="tf"),
        "spectrogram": FrontEnd(sample_rate=16000, frame_length=256, frame_stride=128, n_fft=256, window="hann",
                                spectrum="power", mel="none", floor="max", eps=1e-10, log_unit="db",
                                scale=0.5, zero_point=32),
    }
    if name not in presets:
        raise ValueError(f"unknown front-end preset '{name}' ({', '.join(presets)})")
    fe = presets[name]
    if over:
        fe = FrontEnd(**{**fe.__dict__, **over})
    return fe
