"""An impulse compiled into one C library: the model compiled with the raw window and the DSP
scratch in its arena, the front end's tables and C, the runtime's DSP sources, and a wrapper
(impulse.h/.c) with the same API as a plain model, its input the raw int16 window."""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from .. import __version__
from ..codegen.csource import MAX_PREFIX, c_prefix, stamp_copy, template_env
from ..compile import Compiled, compile_graph
from ..errors import TinykilnError
from ..ir import Graph, Tensor
from ..resources import resource_dir
from .spec import Impulse, load_impulse

# C sources of runtime_c/dsp each block needs
BLOCK_SOURCES = {
    "mfe": ["tk_dsp.c", "rfft_q31.c", "logmel.c", "mfe_s8.c"],
    "spectrogram": ["tk_dsp.c", "rfft_q31.c", "logmel.c", "mfe_s8.c"],
    "mfcc": ["tk_dsp.c", "rfft_q31.c", "logmel.c", "mfcc_s8.c"],
    "spectral": ["tk_dsp.c", "rfft_q31.c", "spectral_s8.c"],
}


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


def compile_impulse(path: str | Path, prefix: str = "model", **options) -> ImpulseCompiled:
    from ..frontend.tflite_import import load_tflite
    prefix = c_prefix(prefix, MAX_PREFIX - len("_net"))
    imp = load_impulse(path)
    graph = load_tflite(imp.model_path)
    scale, zp, feat = _quant_of_input(graph, imp)
    t = _front_end_tables(imp, scale, zp)
    net = f"{prefix}_net"
    pre = {"raw": imp.window * imp.axes * 2, "dsp_scratch": _scratch_bytes(imp, t)}
    if imp.block == "spectral" and imp.axes > 1:
        pre["axis"] = imp.frame_length * 2
    m = compile_graph(graph, prefix=net, model_name=imp.model_path.name, pre_buffers=pre,
                      **options)
    cfg = f"{prefix}_dsp"
    files = dict(m.files)
    files.update(_dsp_files(imp, t, prefix, cfg))
    files.update(_wrapper_files(imp, m, graph, feat, prefix, net, cfg, pre["raw"]))
    g, raw_shape = _impulse_graph(imp, m)
    dsp_label = {"mfe": "MFE", "mfcc": "MFCC", "spectrogram": "SPECTROGRAM",
                 "spectral": "SPECTRAL"}[imp.block]
    pre_layers = ({"op": "dsp", "opcode": f"{dsp_label} {imp.n_frames}x{imp.n_features}",
                   "kernel": None, "macs": 0},)
    report = _report(imp, m, t, raw_shape, pre_layers, scale, zp, pre)
    names = tuple(sorted(_static_names(files[f"{prefix}_dsp.c"])))
    return ImpulseCompiled(g, m.lowered, m.plan, m.buffers, m.labels, files, report, prefix,
                           impulse=imp, model=m, tables=t, dsp_symbols=names,
                           pre_layers=pre_layers)


def _front_end_tables(imp: Impulse, scale: float, zp: int):
    """The front end's tables for the model's input scale, or one sentence on why they cannot
    be built."""
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
    return t


def _dsp_files(imp: Impulse, t, prefix: str, cfg: str) -> dict[str, str]:
    """The front end's C (its tables and config) and the runtime's DSP sources it needs."""
    from ..dsp.emit import Emitter
    em = Emitter(origin=f"impulse {imp.path.name}")
    if imp.block == "spectral":
        em.spectral(t, cfg)
    else:
        em.frontend(t, cfg)
    files = {f"{prefix}_dsp.c": em.source()}
    dsp_dir = resource_dir("runtime_c") / "dsp"
    needed = set(BLOCK_SOURCES[imp.block])
    for src in sorted(needed):
        files[src] = stamp_copy(dsp_dir / src)
    for h in sorted(dsp_dir.glob("*.h")):
        files[h.name] = stamp_copy(h)
    return files


def _wrapper_files(imp: Impulse, m: Compiled, graph: Graph, feat: Tensor, prefix: str, net: str,
                   cfg: str, raw_bytes: int) -> dict[str, str]:
    """PREFIX.h and PREFIX.c: the model's API with the raw window as input, running the front
    end into the model's input."""
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
        "per_axis": imp.n_features // imp.axes, "raw_bytes": raw_bytes,
        "feature_shape": list(feat.shape), "outputs": outs,
    }
    env = template_env()
    return {f"{prefix}.h": env.get_template("impulse.h.j2").render(ctx),
            f"{prefix}.c": env.get_template("impulse.c.j2").render(ctx)}


def _impulse_graph(imp: Impulse, m: Compiled) -> tuple[Graph, tuple]:
    """The impulse as a graph: raw int16 window in, the model's outputs out."""
    raw_shape = (1, imp.window) if imp.axes == 1 else (1, imp.window, imp.axes)
    tensors = list(m.graph.tensors)
    raw_t = Tensor(len(tensors), "raw", raw_shape, "int16")
    tensors.append(raw_t)
    g = Graph(tensors, m.graph.ops, [raw_t.index], list(m.graph.outputs),
              name=imp.path.name, source_sha256=imp.sha256)
    return g, raw_shape


def _report(imp: Impulse, m: Compiled, t, raw_shape: tuple, pre_layers: tuple, scale: float,
            zp: int, pre: dict) -> dict:
    """The model's report.json, told as the impulse's: raw input, the DSP layer first."""
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
    return report


def _static_names(src: str) -> set[str]:
    return set(re.findall(r"^(?:static )?const \w+ (\w+)(?:\[\d*\])? =", src, re.M))
