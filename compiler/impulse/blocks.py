"""The [dsp] table of an impulse file: the block, its framing, and every field of the audio
blocks (mfe, mfcc, spectrogram) and the spectral (motion) block, each checked against the
others and against the [input] table before anything is built."""
from __future__ import annotations

import math
from dataclasses import replace

from ..targets.fields import Fields

AUDIO_BLOCKS = ("mfe", "mfcc", "spectrogram")
BLOCKS = (*AUDIO_BLOCKS, "spectral")
MIN_N, MAX_N = 64, 1024
# ranges of the numeric fields (NaN and infinities are refused for every float field): wide
# enough for any real front end, narrow enough that every derived table value fits the C's
# int32 fields
MAX_ABS_OFFSET = 1e4                # dB or ln units
GAIN_RANGE = (1e-9, 1e9)            # magnitude
EPS_RANGE = (1e-40, 1e6)
SPECTRUM_SCALE_LOG2 = 32            # 2^-32 .. 2^32
FLOOR_DB_RANGE = (-1000.0, 1000.0)
_AUDIO_FIELDS = {"block", "preset", "frame_length", "frame_stride", "n_fft", "window",
                 "periodic_window", "preemph", "spectrum", "spectrum_scale", "mel", "n_mels",
                 "fmin", "fmax", "floor", "eps", "log", "offset", "gain", "clip", "n_mfcc", "dct",
                 "bins"}
_SPECTRAL_FIELDS = {"block", "frame_length", "frame_stride", "n_fft", "window", "remove_mean",
                    "bands", "n_peaks", "floor_db"}


def _within_window(d, key: str, samples: int, window: int) -> None:
    """A frame length or stride: positive and no longer than the window."""
    if samples <= 0:
        raise d.error(key, "must be greater than 0")
    if samples > window:
        raise d.error(key, f"is {samples} samples, longer than the window ({window} samples "
                           "per axis, input.window)")

def dsp_table(d: Fields, inp: Fields, axes: int, sr: int, window: int):
    """(block, front end, frame_length, frame_stride) from the [dsp] table; inp is the [input]
    table, for the message when an audio block is given several axes."""
    block = d.get("block", str, choices=BLOCKS)
    if block == "spectral":
        d.no_unknown(_SPECTRAL_FIELDS)
        dsp, fl, fs = _spectral(d, sr, window)
    else:
        d.no_unknown(_AUDIO_FIELDS)
        if axes != 1:
            raise inp.error("axes", f"is {axes}, but the {block} block takes one audio axis")
        dsp, fl, fs = _audio(d, block, sr, window)
    return block, dsp, fl, fs


def _next_pow2(n: int) -> int:
    return 1 << max(0, (n - 1).bit_length())


def _framing(d: Fields, window: int, default_length: int | None) -> tuple[int, int, int]:
    if default_length is None:
        fl = d.get("frame_length", int)
    else:
        fl = d.get("frame_length", int, default_length)
    _within_window(d, "frame_length", fl, window)
    fs = d.get("frame_stride", int, fl)
    _within_window(d, "frame_stride", fs, window)
    n = d.get("n_fft", int, max(_next_pow2(fl), MIN_N))
    if n < MIN_N or n > MAX_N or n & (n - 1):
        raise d.error("n_fft", f"is {n}; the FFT length must be a power of two from {MIN_N} to "
                               f"{MAX_N}")
    if fl > n:
        raise d.error("frame_length", f"is {fl}, longer than the FFT (n_fft {n}): a frame is "
                                      "zero-padded to n_fft, never cut")
    return fl, fs, n


def _audio(d: Fields, block: str, sr: int, window: int):
    from ..dsp import frontend as FE
    base = _audio_base(d, block, sr)
    fl, fs, n = _framing(d, window, base.frame_length if "preset" in d.t else None)
    nb = n // 2 + 1
    over = dict(frame_length=fl, frame_stride=fs, n_fft=n)
    _spectrum_fields(d, base, over)
    _log_fields(d, base, over)
    if block == "spectrogram":
        _bins_fields(d, base, over, nb)
    else:
        _mel_fields(d, block, base, over, nb, n, sr / 2)
    _mfcc_fields(d, block, base, over)
    fe = FE.FrontEnd(**{**base.__dict__, **over})
    if fe.mel != "none":
        w = FE.mel_filterbank(fe)
        empty = [i for i, row in enumerate(w) if not row.any()]
        if empty:
            raise d.error("n_mels", f"is {fe.n_mels}: filters {empty[:5]} cover no FFT bin at "
                                    f"n_fft {n}; use fewer filters or a longer FFT")
    return fe, fl, fs


def _audio_base(d: Fields, block: str, sr: int):
    """The front end the fields start from: the block's defaults, or the preset named."""
    from ..dsp import frontend as FE
    base = FE.FrontEnd(sample_rate=sr, mel={"mfcc": "tf", "mfe": "slaney",
                                            "spectrogram": "none"}[block])
    if "preset" in d.t:
        name = d.get("preset", str, choices=("librosa_mfe", "ei_mfe", "tf_mfcc", "spectrogram"))
        base = replace(FE.preset(name), sample_rate=sr)
        if (base.n_mfcc > 0) != (block == "mfcc") or (base.mel == "none") != (block == "spectrogram"):
            raise d.error("preset", f"is '{name}', a preset of another block than '{block}'")
    return base


def _spectrum_fields(d: Fields, base, over: dict) -> None:
    """Window, pre-emphasis and the spectrum's kind and scale."""
    over["window"] = d.get("window", str, base.window, choices=("hann", "hamming", "none"))
    over["periodic_window"] = d.get("periodic_window", bool, base.periodic_window)
    pre = d.get("preemph", float, base.preemph)
    if not 0 <= pre < 1:
        raise d.error("preemph", f"is {pre}; pre-emphasis must be in [0, 1)")
    over["preemph"] = pre
    over["spectrum"] = d.get("spectrum", str, base.spectrum, choices=("power", "magnitude"))
    ss = d.get("spectrum_scale", float, base.spectrum_scale)
    if (ss <= 0 or abs(math.log2(ss) - round(math.log2(ss))) > 1e-12
            or abs(math.log2(ss)) > SPECTRUM_SCALE_LOG2):
        raise d.error("spectrum_scale", f"is {ss}; it must be a power of two from "
                                        f"2^-{SPECTRUM_SCALE_LOG2} to 2^{SPECTRUM_SCALE_LOG2} "
                                        f"(such as 1/n_fft)")
    over["spectrum_scale"] = ss


def _log_fields(d: Fields, base, over: dict) -> None:
    """The log's floor and unit, then offset, gain and clip of the float features."""
    over["floor"] = d.get("floor", str, base.floor, choices=("max", "add"))
    eps = d.get("eps", float, base.eps)
    if not EPS_RANGE[0] <= eps <= EPS_RANGE[1]:
        raise d.error("eps", f"is {eps:g}; the log's floor must be from {EPS_RANGE[0]:g} to "
                             f"{EPS_RANGE[1]:g}")
    over["eps"] = eps
    over["log_unit"] = d.get("log", str, base.log_unit, choices=("db", "ln"))
    over["f_offset"] = d.get("offset", float, base.f_offset, signed=True)
    if abs(over["f_offset"]) > MAX_ABS_OFFSET:
        raise d.error("offset", f"is {over['f_offset']:g}; it must be from -{MAX_ABS_OFFSET:g} to "
                                f"{MAX_ABS_OFFSET:g}")
    over["f_gain"] = d.get("gain", float, base.f_gain, signed=True)
    if over["f_gain"] == 0:
        raise d.error("gain", "must not be 0")
    if not GAIN_RANGE[0] <= abs(over["f_gain"]) <= GAIN_RANGE[1]:
        raise d.error("gain", f"is {over['f_gain']:g}; its magnitude must be from {GAIN_RANGE[0]:g} "
                              f"to {GAIN_RANGE[1]:g}")
    clip = d.get("clip", list, list(base.f_clip) if base.f_clip else None)
    if clip is not None:
        if len(clip) != 2 or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                     and math.isfinite(v) for v in clip) or not clip[0] < clip[1]:
            raise d.error("clip", f"is {clip!r}; it must be [low, high], finite, with low < high")
        clip = (float(clip[0]), float(clip[1]))
    over["f_clip"] = clip


def _bins_fields(d: Fields, base, over: dict, nb: int) -> None:
    """The spectrogram block: which FFT bins it keeps."""
    over["mel"] = "none"
    bins = d.get("bins", list, list(base.spec_bins) if base.spec_bins else [0, nb])
    if (len(bins) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in bins)
            or not 0 <= bins[0] < bins[1] <= nb):
        raise d.error("bins", f"is {bins!r}; it must be [first, end) with 0 <= first < end <= "
                              f"{nb} (the FFT's bins)")
    over["spec_bins"] = (bins[0], bins[1])
    over["n_mels"] = bins[1] - bins[0]


def _mel_fields(d: Fields, block: str, base, over: dict, nb: int, n: int, nyq: float) -> None:
    """The mel blocks (mfe, mfcc): the filterbank's kind, size and frequency range."""
    if "bins" in d.t:
        raise d.error("bins", f"only applies to the spectrogram block, not {block}")
    over["mel"] = d.get("mel", str, base.mel, choices=("slaney", "htk", "speechpy", "tf"))
    nm = d.get("n_mels", int, base.n_mels)
    if nm <= 0:
        raise d.error("n_mels", "must be greater than 0")
    if nm > nb:
        raise d.error("n_mels", f"is {nm}, more mel filters than FFT bins ({nb} bins for n_fft "
                                f"{n})")
    over["n_mels"] = nm
    fmin = d.get("fmin", float, base.fmin)
    fmax = d.get("fmax", float, base.fmax if base.fmax is not None else nyq)
    if fmax > nyq:
        raise d.error("fmax", f"is {fmax:g} Hz, above the Nyquist frequency ({nyq:g} Hz)")
    if fmin >= fmax:
        raise d.error("fmin", f"is {fmin:g} Hz, not below fmax ({fmax:g} Hz)")
    over["fmin"], over["fmax"] = fmin, fmax


def _mfcc_fields(d: Fields, block: str, base, over: dict) -> None:
    """The mfcc block's coefficients and DCT scaling; refused on the other blocks."""
    if block == "mfcc":
        k = d.get("n_mfcc", int, base.n_mfcc or 13)
        if not 1 <= k <= over["n_mels"]:
            raise d.error("n_mfcc", f"is {k}; it must be from 1 to n_mels ({over['n_mels']})")
        over["n_mfcc"] = k
        over["dct_scale"] = d.get("dct", str, base.dct_scale, choices=("tf", "ortho"))
    else:
        for k in ("n_mfcc", "dct"):
            if k in d.t:
                raise d.error(k, f"only applies to the mfcc block, not {block}")
        over["n_mfcc"] = 0


def _spectral(d: Fields, sr: int, window: int):
    from ..dsp.spectral import Spectral
    fl, fs, n = _framing(d, window, min(window, MAX_N))
    nyq = sr / 2
    bands = d.get("bands", list, [list(b) for b in Spectral.bands_hz if b[1] <= nyq] or [[0, nyq]])
    if not bands:
        raise d.error("bands", "is empty")
    for i, b in enumerate(bands):
        if (not isinstance(b, list) or len(b) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in b)
                or not 0 <= b[0] < b[1] <= nyq):
            raise d.error(f"bands[{i}]", f"is {b!r}; a band is [low, high] Hz with 0 <= low < "
                                         f"high <= {nyq:g} (Nyquist)")
    peaks = d.get("n_peaks", int, 3)
    if peaks > n // 4:
        raise d.error("n_peaks", f"is {peaks}; at most n_fft/4 = {n // 4}")
    sp = Spectral(sample_rate=float(sr), frame_length=fl, n_fft=n,
                  window=d.get("window", str, "hann", choices=("hann", "hamming", "none")),
                  remove_mean=d.get("remove_mean", bool, True),
                  bands_hz=tuple((float(a), float(b)) for a, b in bands), n_peaks=peaks,
                  floor_db=_floor_db(d))
    return sp, fl, fs


def _floor_db(d: Fields) -> float:
    v = d.get("floor_db", float, -120.0, signed=True)
    if not FLOOR_DB_RANGE[0] <= v <= FLOOR_DB_RANGE[1]:
        raise d.error("floor_db", f"is {v:g}; it must be from {FLOOR_DB_RANGE[0]:g} to "
                                  f"{FLOOR_DB_RANGE[1]:g} dB")
    return v
