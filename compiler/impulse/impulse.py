"""Impulses: raw sensor samples -> fixed-point DSP front end -> int8 model -> scores, described by
one TOML file and compiled into one C library with the same API as a plain model (its input is
the raw int16 window, its outputs are the model's).

    [input]
    sample_rate = 16000      # Hz
    axes = 1                 # 1 for audio; 3 for a 3-axis accelerometer (samples interleaved)
    window = 16000           # samples per axis in one inference

    [dsp]
    block = "mfcc"           # mfe, mfcc, spectrogram (audio, one axis) or spectral (motion)
    preset = "tf_mfcc"       # optional starting point (tinykiln.dsp.frontend.preset), then fields
    frame_length = 480
    frame_stride = 320
    ...

    [model]
    path = "model.tflite"    # relative to this file

Every parameter is checked before anything is built; a parameter that cannot work is refused
with the field and the reason. The features are quantised straight into the model's input
scale and zero point, so the model's input must be int8 with exactly (frames x features) values.
The raw window and the DSP scratch live in the model's arena, apart from its input."""
from __future__ import annotations

import hashlib
import math
import re
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .. import __version__
from ..targets.board import Fields
from ..codegen.csource import MAX_PREFIX, template_env, stamp_copy, c_prefix
from ..compile import Compiled, compile_graph
from ..errors import TinykilnError
from ..ir import Graph, Tensor
from ..resources import resource_dir

AUDIO_BLOCKS = ("mfe", "mfcc", "spectrogram")
BLOCKS = (*AUDIO_BLOCKS, "spectral")
MIN_N, MAX_N = 64, 1024
# ranges of the numeric fields (NaN and infinities are refused for every float field): wide
# enough for any real front end, narrow enough that every derived table value fits the C's
# int32 fields and the raw window the arena
MAX_SAMPLE_RATE = 10_000_000        # Hz
MAX_WINDOW = 1 << 24                # samples per axis
MAX_ABS_OFFSET = 1e4                # dB or ln units
GAIN_RANGE = (1e-9, 1e9)            # magnitude
EPS_RANGE = (1e-40, 1e6)
SPECTRUM_SCALE_LOG2 = 32            # 2^-32 .. 2^32
FLOOR_DB_RANGE = (-1000.0, 1000.0)
# C sources of runtime_c/dsp each block needs
BLOCK_SOURCES = {
    "mfe": ["tk_dsp.c", "rfft_q31.c", "logmel.c", "mfe_s8.c"],
    "spectrogram": ["tk_dsp.c", "rfft_q31.c", "logmel.c", "mfe_s8.c"],
    "mfcc": ["tk_dsp.c", "rfft_q31.c", "logmel.c", "mfcc_s8.c"],
    "spectral": ["tk_dsp.c", "rfft_q31.c", "spectral_s8.c"],
}
_AUDIO_FIELDS = {"block", "preset", "frame_length", "frame_stride", "n_fft", "window",
                 "periodic_window", "preemph", "spectrum", "spectrum_scale", "mel", "n_mels",
                 "fmin", "fmax", "floor", "eps", "log", "offset", "gain", "clip", "n_mfcc", "dct",
                 "bins"}
_SPECTRAL_FIELDS = {"block", "frame_length", "frame_stride", "n_fft", "window", "remove_mean",
                    "bands", "n_peaks", "floor_db"}


class _ImpulseFields(Fields):
    noun = "impulse"


@dataclass
class Impulse:
    """A validated impulse file (model not yet loaded)."""
    path: Path
    sample_rate: int
    axes: int
    window: int
    block: str
    frame_length: int
    frame_stride: int
    n_frames: int
    dsp: object                 # dsp.frontend.FrontEnd (audio) or dsp.spectral.Spectral
    model_path: Path
    sha256: str

    @property
    def n_features(self) -> int:
        """int8 features per frame (all axes)."""
        if self.block == "spectral":
            return self.axes * (1 + len(self.dsp.bands_hz) + 2 * self.dsp.n_peaks)
        if self.block == "mfcc":
            return self.dsp.n_mfcc
        if self.block == "spectrogram":
            lo, hi = self.dsp.spec_bins
            return hi - lo
        return self.dsp.n_mels


def _next_pow2(n: int) -> int:
    return 1 << max(0, (n - 1).bit_length())


def load_impulse(path: str | Path, check_model: bool = True) -> Impulse:
    """Read and check an impulse file: every impossible parameter is refused here, before any
    model is loaded or anything is built. check_model=False accepts a model path that does not
    exist yet (computing training features before the model is trained)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        data = tomllib.loads(raw.decode("utf-8"))
    except OSError as e:
        raise TinykilnError(f"cannot read impulse file {path}: {e.strerror}.") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise TinykilnError(f"impulse file {path} is not valid TOML: {e}.") from None
    f = _ImpulseFields(path, data)
    f.no_unknown({"input", "dsp", "model"})
    inp = f.table("input")
    inp.no_unknown({"sample_rate", "axes", "window"})
    sr = inp.get_int("sample_rate", 1, MAX_SAMPLE_RATE, what=" Hz")
    axes = inp.get("axes", int, 1)
    if not 1 <= axes <= 16:
        raise inp._err("axes", f"is {axes}; an impulse takes 1 to 16 axes")
    window = inp.get_int("window", 1, MAX_WINDOW, what=" samples per axis")
    mdl = f.table("model")
    mdl.no_unknown({"path"})
    model_path = (path.parent / mdl.get("path", str)).resolve()
    if check_model and not model_path.is_file():
        raise mdl._err("path", f"names {model_path}, which does not exist")
    d = f.table("dsp")
    block = d.get("block", str, choices=BLOCKS)
    if block == "spectral":
        d.no_unknown(_SPECTRAL_FIELDS)
        dsp, fl, fs = _spectral(d, sr, window)
    else:
        d.no_unknown(_AUDIO_FIELDS)
        if axes != 1:
            raise inp._err("axes", f"is {axes}, but the {block} block takes one audio axis")
        dsp, fl, fs = _audio(d, block, sr, window)
    h = hashlib.sha256(raw)
    if model_path.is_file():
        h.update(model_path.read_bytes())
    return Impulse(path, sr, axes, window, block, fl, fs, 1 + (window - fl) // fs, dsp,
                   model_path, h.hexdigest())


def _framing(d: _ImpulseFields, window: int, default_length: int | None) -> tuple[int, int, int]:
    if default_length is None:
        fl = d.get("frame_length", int)
    else:
        fl = d.get("frame_length", int, default_length)
    if fl <= 0:
        raise d._err("frame_length", "must be greater than 0")
    if fl > window:
        raise d._err("frame_length", f"is {fl} samples, longer than the window ({window} samples "
                                     "per axis, input.window)")
    fs = d.get("frame_stride", int, fl)
    if fs <= 0:
        raise d._err("frame_stride", "must be greater than 0")
    if fs > window:
        raise d._err("frame_stride", f"is {fs} samples, longer than the window ({window} samples "
                                     "per axis, input.window)")
    n = d.get("n_fft", int, max(_next_pow2(fl), MIN_N))
    if n < MIN_N or n > MAX_N or n & (n - 1):
        raise d._err("n_fft", f"is {n}; the FFT length must be a power of two from {MIN_N} to "
                              f"{MAX_N}")
    if fl > n:
        raise d._err("frame_length", f"is {fl}, longer than the FFT (n_fft {n}): a frame is "
                                     "zero-padded to n_fft, never cut")
    return fl, fs, n


def _audio(d: _ImpulseFields, block: str, sr: int, window: int):
    from ..dsp import frontend as FE
    base = FE.FrontEnd(sample_rate=sr, mel={"mfcc": "tf", "mfe": "slaney",
                                            "spectrogram": "none"}[block])
    if "preset" in d.t:
        name = d.get("preset", str, choices=("librosa_mfe", "ei_mfe", "tf_mfcc", "spectrogram"))
        base = replace(FE.preset(name), sample_rate=sr)
        if (base.n_mfcc > 0) != (block == "mfcc") or (base.mel == "none") != (block == "spectrogram"):
            raise d._err("preset", f"is '{name}', a preset of another block than '{block}'")
    fl, fs, n = _framing(d, window, base.frame_length if "preset" in d.t else None)
    nb = n // 2 + 1
    nyq = sr / 2
    over = dict(frame_length=fl, frame_stride=fs, n_fft=n)
    over["window"] = d.get("window", str, base.window, choices=("hann", "hamming", "none"))
    over["periodic_window"] = d.get("periodic_window", bool, base.periodic_window)
    pre = d.get("preemph", float, base.preemph)
    if not 0 <= pre < 1:
        raise d._err("preemph", f"is {pre}; pre-emphasis must be in [0, 1)")
    over["preemph"] = pre
    over["spectrum"] = d.get("spectrum", str, base.spectrum, choices=("power", "magnitude"))
    ss = d.get("spectrum_scale", float, base.spectrum_scale)
    if (ss <= 0 or abs(math.log2(ss) - round(math.log2(ss))) > 1e-12
            or abs(math.log2(ss)) > SPECTRUM_SCALE_LOG2):
        raise d._err("spectrum_scale", f"is {ss}; it must be a power of two from "
                                       f"2^-{SPECTRUM_SCALE_LOG2} to 2^{SPECTRUM_SCALE_LOG2} "
                                       f"(such as 1/n_fft)")
    over["spectrum_scale"] = ss
    over["floor"] = d.get("floor", str, base.floor, choices=("max", "add"))
    eps = d.get("eps", float, base.eps)
    if not EPS_RANGE[0] <= eps <= EPS_RANGE[1]:
        raise d._err("eps", f"is {eps:g}; the log's floor must be from {EPS_RANGE[0]:g} to "
                            f"{EPS_RANGE[1]:g}")
    over["eps"] = eps
    over["log_unit"] = d.get("log", str, base.log_unit, choices=("db", "ln"))
    over["f_offset"] = d.get("offset", float, base.f_offset, signed=True)
    if abs(over["f_offset"]) > MAX_ABS_OFFSET:
        raise d._err("offset", f"is {over['f_offset']:g}; it must be from -{MAX_ABS_OFFSET:g} to "
                               f"{MAX_ABS_OFFSET:g}")
    over["f_gain"] = d.get("gain", float, base.f_gain, signed=True)
    if over["f_gain"] == 0:
        raise d._err("gain", "must not be 0")
    if not GAIN_RANGE[0] <= abs(over["f_gain"]) <= GAIN_RANGE[1]:
        raise d._err("gain", f"is {over['f_gain']:g}; its magnitude must be from {GAIN_RANGE[0]:g} "
                             f"to {GAIN_RANGE[1]:g}")
    clip = d.get("clip", list, list(base.f_clip) if base.f_clip else None)
    if clip is not None:
        if len(clip) != 2 or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                     and math.isfinite(v) for v in clip) or not clip[0] < clip[1]:
            raise d._err("clip", f"is {clip!r}; it must be [low, high], finite, with low < high")
        clip = (float(clip[0]), float(clip[1]))
    over["f_clip"] = clip
    if block == "spectrogram":
        over["mel"] = "none"
        bins = d.get("bins", list, list(base.spec_bins) if base.spec_bins else [0, nb])
        if (len(bins) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in bins)
                or not 0 <= bins[0] < bins[1] <= nb):
            raise d._err("bins", f"is {bins!r}; it must be [first, end) with 0 <= first < end <= "
                                 f"{nb} (the FFT's bins)")
        over["spec_bins"] = (bins[0], bins[1])
        over["n_mels"] = bins[1] - bins[0]
    else:
        if "bins" in d.t:
            raise d._err("bins", f"only applies to the spectrogram block, not {block}")
        over["mel"] = d.get("mel", str, base.mel, choices=("slaney", "htk", "speechpy", "tf"))
        nm = d.get("n_mels", int, base.n_mels)
        if nm <= 0:
            raise d._err("n_mels", "must be greater than 0")
        if nm > nb:
            raise d._err("n_mels", f"is {nm}, more mel filters than FFT bins ({nb} bins for n_fft "
                                   f"{n})")
        over["n_mels"] = nm
        fmin = d.get("fmin", float, base.fmin)
        fmax = d.get("fmax", float, base.fmax if base.fmax is not None else nyq)
        if fmax > nyq:
            raise d._err("fmax", f"is {fmax:g} Hz, above the Nyquist frequency ({nyq:g} Hz)")
        if fmin >= fmax:
            raise d._err("fmin", f"is {fmin:g} Hz, not below fmax ({fmax:g} Hz)")
        over["fmin"], over["fmax"] = fmin, fmax
    if block == "mfcc":
        k = d.get("n_mfcc", int, base.n_mfcc or 13)
        if not 1 <= k <= over["n_mels"]:
            raise d._err("n_mfcc", f"is {k}; it must be from 1 to n_mels ({over['n_mels']})")
        over["n_mfcc"] = k
        over["dct_scale"] = d.get("dct", str, base.dct_scale, choices=("tf", "ortho"))
    else:
        for k in ("n_mfcc", "dct"):
            if k in d.t:
                raise d._err(k, f"only applies to the mfcc block, not {block}")
        over["n_mfcc"] = 0
    fe = FE.FrontEnd(**{**base.__dict__, **over})
    if fe.mel != "none":
        w = FE.mel_filterbank(fe)
        empty = [i for i, row in enumerate(w) if not row.any()]
        if empty:
            raise d._err("n_mels", f"is {fe.n_mels}: filters {empty[:5]} cover no FFT bin at "
                                   f"n_fft {n}; use fewer filters or a longer FFT")
    return fe, fl, fs


def _spectral(d: _ImpulseFields, sr: int, window: int):
    from ..dsp.spectral import Spectral
    fl, fs, n = _framing(d, window, min(window, MAX_N))
    nyq = sr / 2
    bands = d.get("bands", list, [list(b) for b in Spectral.bands_hz if b[1] <= nyq] or [[0, nyq]])
    if not bands:
        raise d._err("bands", "is empty")
    for i, b in enumerate(bands):
        if (not isinstance(b, list) or len(b) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in b)
                or not 0 <= b[0] < b[1] <= nyq):
            raise d._err(f"bands[{i}]", f"is {b!r}; a band is [low, high] Hz with 0 <= low < "
                                        f"high <= {nyq:g} (Nyquist)")
    peaks = d.get("n_peaks", int, 3)
    if peaks > n // 4:
        raise d._err("n_peaks", f"is {peaks}; at most n_fft/4 = {n // 4}")
    sp = Spectral(sample_rate=float(sr), frame_length=fl, n_fft=n,
                  window=d.get("window", str, "hann", choices=("hann", "hamming", "none")),
                  remove_mean=d.get("remove_mean", bool, True),
                  bands_hz=tuple((float(a), float(b)) for a, b in bands), n_peaks=peaks,
                  floor_db=_floor_db(d))
    return sp, fl, fs


def _floor_db(d: _ImpulseFields) -> float:
    v = d.get("floor_db", float, -120.0, signed=True)
    if not FLOOR_DB_RANGE[0] <= v <= FLOOR_DB_RANGE[1]:
        raise d._err("floor_db", f"is {v:g}; it must be from {FLOOR_DB_RANGE[0]:g} to "
                                 f"{FLOOR_DB_RANGE[1]:g} dB")
    return v


# ---------------------------------------------------------------------------- compile

@dataclass
class ImpulseCompiled(Compiled):
    """A compiled impulse: `graph` has the raw int16 window as its input and the model's outputs;
    `model` is the compiled model behind the front end."""
    impulse: Impulse | None = None
    model: Compiled | None = None
    tables: object = None               # FrontEndTables / SpectralTables
    dsp_symbols: tuple = ()             # names of the DSP tables (flash report)
    pre_layers: tuple = ()              # profile entries run before the model's layers


def _quant_of_input(g: Graph, imp: Impulse) -> tuple[float, int, Tensor]:
    if len(g.inputs) != 1:
        raise TinykilnError(f"impulse {imp.path.name}: the model {imp.model_path.name} has "
                            f"{len(g.inputs)} inputs; an impulse feeds exactly one.")
    t = g.tensors[g.inputs[0]]
    if t.dtype != "int8" or t.quant is None or t.quant.per_channel:
        raise TinykilnError(f"impulse {imp.path.name}: the model's input '{t.name}' is {t.dtype}; "
                            "the front end writes int8 features with one scale and zero point.")
    want = imp.n_frames * imp.n_features
    if t.num_elements != want:
        raise TinykilnError(
            f"impulse {imp.path.name}: the model's input '{t.name}' {list(t.shape)} holds "
            f"{t.num_elements} values, but the {imp.block} block gives {imp.n_frames} frames x "
            f"{imp.n_features} features = {want} (window {imp.window}, frame_length "
            f"{imp.frame_length}, frame_stride {imp.frame_stride}).")
    return float(t.quant.scale[0]), int(t.quant.zero_point[0]), t


def dsp_tables(imp: Impulse, scale: float, zero_point: int):
    """Integer tables of the impulse's front end, quantising into (scale, zero_point)."""
    from ..dsp import frontend as FE
    from ..dsp import spectral as SP
    if imp.block == "spectral":
        sp = replace(imp.dsp, rms_scale=scale, rms_zero_point=zero_point, db_scale=scale,
                     db_zero_point=zero_point, hz_scale=scale, hz_zero_point=zero_point)
        return SP.build(sp)
    return FE.build(replace(imp.dsp, scale=scale, zero_point=zero_point))


def _scratch_bytes(imp: Impulse, t) -> int:
    n = t.n
    if imp.block == "spectral":
        return 4 * (2 * n + 2)
    return 4 * (2 * n + 2 + len(t.mel.start))


def compile_impulse(path: str | Path, prefix: str = "model") -> ImpulseCompiled:
    from ..dsp.emit import Emitter
    from ..frontend.tflite_import import load_tflite
    prefix = c_prefix(prefix, MAX_PREFIX - len("_net"))
    imp = load_impulse(path)
    graph = load_tflite(imp.model_path)
    scale, zp, feat = _quant_of_input(graph, imp)
    try:
        t = dsp_tables(imp, scale, zp)
    except ValueError as e:       # a combination the per-field checks did not catch
        raise TinykilnError(f"impulse file {imp.path}: the dsp parameters cannot work with the "
                            f"model's input scale {scale:g}: {e}.") from None
    q = getattr(t, "quant", None)
    if q and q["lo"] > q["hi"]:
        raise TinykilnError(f"impulse file {imp.path}: field 'dsp.clip' is {list(imp.dsp.f_clip)}, "
                            f"outside what the model's int8 input holds ({(-128 - zp) * scale:g} "
                            f"to {(127 - zp) * scale:g} at scale {scale:g}, zero point {zp}).")
    net = f"{prefix}_net"
    pre = {"raw": imp.window * imp.axes * 2, "dsp_scratch": _scratch_bytes(imp, t)}
    if imp.block == "spectral" and imp.axes > 1:
        pre["axis"] = imp.frame_length * 2
    m = compile_graph(graph, prefix=net, model_name=imp.model_path.name, pre_buffers=pre)
    em = Emitter(origin=f"impulse {imp.path.name}")
    cfg = f"{prefix}_dsp"
    if imp.block == "spectral":
        em.spectral(t, cfg)
    else:
        em.frontend(t, cfg)
    files = dict(m.files)
    files[f"{prefix}_dsp.c"] = em.source()
    dsp_dir = resource_dir("runtime_c") / "dsp"
    needed = set(BLOCK_SOURCES[imp.block])
    for src in sorted(needed):
        files[src] = stamp_copy(dsp_dir / src)
    for h in sorted(dsp_dir.glob("*.h")):
        files[h.name] = stamp_copy(h)
    header = {"mfe": "mfe_s8.h", "spectrogram": "mfe_s8.h", "mfcc": "mfcc_s8.h",
              "spectral": "spectral_s8.h"}[imp.block]
    cfg_type = {"mfe": "tk_mfe_s8_cfg", "spectrogram": "tk_mfe_s8_cfg",
                "mfcc": "tk_mfcc_s8_cfg", "spectral": "tk_spectral_s8_cfg"}[imp.block]
    outs = [{**o, "index": i} for i, o in enumerate(m.report["outputs"])]
    for o in outs:
        o["ctype"] = {"int8": "int8_t", "uint8": "uint8_t", "int16": "int16_t",
                      "int32": "int32_t", "float32": "float"}[o["dtype"]]
        o["bytes"] = graph.tensors[graph.outputs[o["index"]]].nbytes
    ctx = {
        "version": __version__, "impulse": imp.path.name, "sha256": imp.sha256,
        "prefix": prefix, "PREFIX": prefix.upper(), "net": net, "NET": net.upper(),
        "block": imp.block, "header": header, "cfg": cfg, "cfg_type": cfg_type,
        "sample_rate": imp.sample_rate, "axes": imp.axes, "window": imp.window,
        "n_frames": imp.n_frames, "n_features": imp.n_features,
        "frame_length": imp.frame_length, "frame_stride": imp.frame_stride,
        "per_axis": imp.n_features // imp.axes, "raw_bytes": pre["raw"],
        "feature_shape": list(feat.shape), "outputs": outs,
    }
    env = template_env()
    files[f"{prefix}.h"] = env.get_template("impulse.h.j2").render(ctx)
    files[f"{prefix}.c"] = env.get_template("impulse.c.j2").render(ctx)
    # the impulse as a graph: raw int16 window in, the model's outputs out
    raw_shape = (1, imp.window) if imp.axes == 1 else (1, imp.window, imp.axes)
    tensors = list(m.graph.tensors)
    raw_t = Tensor(len(tensors), "raw", raw_shape, "int16")
    tensors.append(raw_t)
    g = Graph(tensors, m.graph.ops, [raw_t.index], list(m.graph.outputs),
              name=imp.path.name, source_sha256=imp.sha256)
    dsp_label = {"mfe": "MFE", "mfcc": "MFCC", "spectrogram": "SPECTROGRAM",
                 "spectral": "SPECTRAL"}[imp.block]
    pre_layers = ({"op": "dsp", "opcode": f"{dsp_label} {imp.n_frames}x{imp.n_features}",
                   "kernel": None, "macs": 0},)
    report = dict(m.report)
    report.update({
        "model": imp.path.name,
        "model_sha256": imp.sha256,
        "net": m.report["model"],
        "inputs": [{"name": "raw", "shape": list(raw_shape), "dtype": "int16"}],
        "layers": [*pre_layers, *m.report["layers"]],
        "dsp": {"block": imp.block, "sample_rate": imp.sample_rate, "axes": imp.axes,
                "window": imp.window, "frame_length": imp.frame_length,
                "frame_stride": imp.frame_stride, "n_fft": t.n, "frames": imp.n_frames,
                "features_per_frame": imp.n_features, "feature_scale": scale,
                "feature_zero_point": zp,
                "arena_buffers": {k: {"bytes": v, "offset": m.plan.offsets[("p", k)]}
                                  for k, v in pre.items()}},
    })
    names = tuple(sorted(_static_names(files[f"{prefix}_dsp.c"])))
    return ImpulseCompiled(g, m.lowered, m.plan, m.buffers, m.labels, files, report, prefix,
                           impulse=imp, model=m, tables=t, dsp_symbols=names,
                           pre_layers=pre_layers)


def _static_names(src: str) -> set[str]:
    return set(re.findall(r"^(?:static )?const \w+ (\w+)(?:\[\d*\])? =", src, re.M))


def _per_window(imp: Impulse, raw: np.ndarray, spectral_frame, audio_window) -> list:
    """Apply a front end to every window of raw (N, window[, axes]): spectral_frame(frame
    (axes, frame_length)) -> (axes, k) per frame, concatenated; audio_window(samples) whole."""
    x = np.asarray(raw)
    if x.ndim == 2:
        x = x[:, :, None]
    out = []
    for row in x:
        if imp.block == "spectral":
            out.append(np.stack([
                spectral_frame(row[f * imp.frame_stride:f * imp.frame_stride
                                   + imp.frame_length].T).reshape(-1)
                for f in range(imp.n_frames)]))
        else:
            out.append(audio_window(row[:, 0]))
    return out


def float_features(imp: Impulse, raw: np.ndarray) -> np.ndarray:
    """Float features of an impulse: the float definition the fixed-point front end matches to
    about 1 LSB of the model's input (tinykiln.dsp.ref, dsp.spectral.reference_float), after
    offset, gain and clip: what a model is trained on (its converter then picks the input scale
    the device quantises into). (N, window[, axes]) int16 -> (N, frames, features) float64."""
    from ..dsp import ref
    from ..dsp.spectral import reference_float
    fe = imp.dsp

    def audio(samples):
        g = (ref.log_features(fe, samples) - fe.f_offset) * fe.f_gain
        return np.clip(g, *fe.f_clip) if fe.f_clip is not None else g
    return np.stack(_per_window(imp, raw, lambda fr: reference_float(fe, fr), audio))


def features(c: ImpulseCompiled, raw: np.ndarray) -> np.ndarray:
    """The bit-exact Python model of the impulse's front end: (N, window[, axes]) int16 ->
    (N, *model input shape) int8 features, the bytes the C writes into the model's input."""
    from ..dsp import model as DM
    from ..dsp import spectral as SP
    t = c.tables
    out = _per_window(c.impulse, raw, lambda fr: SP.model(t, fr), lambda s: DM.run_signal(t, s))
    feat = c.model.graph.tensors[c.model.graph.inputs[0]]
    n = len(out)
    return np.stack(out).astype(np.int8).reshape((n, *feat.shape[1:]) if feat.shape[:1] == (1,)
                                                 else (n, *feat.shape))
