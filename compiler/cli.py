"""The `tinykiln` command. User mistakes (TinykilnError) print one sentence and exit 1."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from . import __version__
from .errors import TinykilnError


def _summary(c) -> str:
    r = c.report
    ops = ", ".join(f"{k} x{v}" for k, v in r["op_counts"].items())
    return (f"{r['model']}: {r['ops']} ops ({ops}), {r['tensors']} tensors\n"
            f"  weights {r['weight_bytes']} B (flash), arena {r['arena_bytes']} B (RAM; lower bound "
            f"{r['arena_lower_bound']}, gap {r['arena_gap_to_lower_bound']}), "
            f"{r['macs']} MACs per inference"
            + "".join(f"\n  warning: {w}" for w in r.get("warnings", [])))


def cmd_compile(a) -> int:
    from .compile import compile_file, plan_picture, write_output
    from .keras_convert import is_float_model_source     # no TensorFlow import
    if is_float_model_source(a.model):
        return cmd_compile_float(a)
    if a.calibration or a.eval or a.per_layer:
        raise TinykilnError(f"--calibration, --eval and --per-layer apply to a float Keras model "
                            f"(.keras, .h5 or a SavedModel folder); {a.model} is compiled as "
                            f"an int8 .tflite.")
    t0 = time.perf_counter()
    c = compile_file(a.model, prefix=a.name)
    out = write_output(c, a.output)
    print(_summary(c))
    print(f"  wrote {len(c.files) + 1} files to {out}/ in {time.perf_counter() - t0:.2f} s")
    if a.show_plan:
        print(plan_picture(c))
    return 0


def cmd_compile_float(a) -> int:
    """A float Keras model: calibrate and convert to int8 with TensorFlow, compile like any
    .tflite, write the .tflite beside the C; with --eval, measure what quantization cost."""
    from . import keras_convert as kc
    from .compile import compile_graph, plan_picture, write_output
    from .tflite_import import parse_tflite
    t0 = time.perf_counter()
    if a.per_layer and not a.eval:
        raise TinykilnError("--per-layer needs --eval DATA.npz (the samples to measure on).")
    if not a.calibration:
        raise TinykilnError(f"{a.model} is a float model: give --calibration with representative "
                            f"inputs (.npy, .npz or a folder of .npy) to quantize it to int8.")
    if kc.check_model_path(a.model).is_dir() and a.per_layer:
        raise TinykilnError(f"--per-layer compares with the Keras model's layers; {a.model} is a "
                            f"SavedModel without layers: give the .keras or .h5 file.")
    kc.check_calibration_file(a.calibration)
    data = fm = None
    # the child loads the model, checks the calibration data against it and converts; with
    # --eval this process loads the model too, meanwhile, and checks the eval data
    with kc.Conversion(a.model, a.calibration) as conversion:
        if a.eval:
            from .quant_eval import load_eval_data
            fm = kc.load_model(a.model)
            kc.load_calibration(a.calibration, fm)
            data = load_eval_data(a.eval, fm)
        tfl, n = conversion.wait()
    name = kc.output_name(a.model)
    graph = parse_tflite(tfl, name=name)
    kc.check_int8(graph, Path(a.model).name)
    c = compile_graph(graph, prefix=a.name, model_name=name)
    quant = {"source": Path(a.model).name, "tflite": name, "weights": "int8 per channel",
             "activations": "int8 per tensor",
             "calibration": {"file": Path(a.calibration).name, "samples": int(n)}}
    texts = []
    if data is not None:
        from . import quant_eval as qe
        res = qe.evaluate(fm, c, *data)
        quant["eval"] = {"file": Path(a.eval).name, **res}
        texts.append(qe.format_eval(res, a.eval))
        if a.per_layer:
            rows = qe.per_layer(fm, c, data[0])
            quant["per_layer"] = qe.per_layer_json(rows)
            texts.append(qe.format_per_layer(rows))
    c.report["quantization"] = quant
    write_output(c, a.output, extra={name: tfl})
    print(_summary(c))
    print(f"  int8 model {name} (calibrated on {n} samples); wrote {len(c.files) + 2} files to "
          f"{a.output}/ in {time.perf_counter() - t0:.2f} s")
    for t in texts:
        print(t)
    if a.show_plan:
        print(plan_picture(c))
    return 0


def _load_npy(path: str):
    import numpy as np
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise TinykilnError(f"cannot read input array {path}: {e}.") from None


def run_inputs(a, c) -> list:
    """The input arrays of `tinykiln run`: --input per model input, or --raw for an impulse
    (int16 samples, or floats in [-1, 1] scaled to int16)."""
    impulse = getattr(c, "impulse", None)
    if a.raw and a.input:
        raise TinykilnError("give either --raw (an impulse's raw samples) or --input, not both.")
    if not a.raw and not a.input:
        raise TinykilnError("give the input rows: --input X.npy (--raw X.npy for an impulse).")
    if a.raw and impulse is None:
        raise TinykilnError(f"--raw takes raw samples for an impulse file (.toml); {a.model} is a "
                            "model: give --input with the model's input rows.")
    if not a.raw:
        return [_load_npy(p) for p in a.input]
    if len(a.raw) != 1:
        raise TinykilnError("an impulse takes one --raw array.")
    return [load_raw(a.raw[0], impulse)]


def load_raw(path: str, impulse) -> "np.ndarray":
    """Raw windows for an impulse from a .npy: int16 samples, or floats in [-1, 1] scaled to
    int16; shape (N, window[, axes]) (one window without N is accepted)."""
    import numpy as np
    x = _load_npy(path)
    if x.dtype.kind == "f":
        if x.size and float(np.abs(x).max()) > 1.0:
            raise TinykilnError(f"{path} holds floats outside [-1, 1]; give int16 samples or "
                                "floats scaled to [-1, 1].")
        x = np.clip(np.round(x * 32768.0), -32768, 32767).astype(np.int16)
    elif x.dtype != np.int16:
        raise TinykilnError(f"{path} is {x.dtype}; raw samples must be int16 (or floats in "
                            "[-1, 1]).")
    want = (impulse.window,) if impulse.axes == 1 else (impulse.window, impulse.axes)
    if x.ndim == len(want):
        x = x[None]
    if tuple(x.shape[1:]) != want:
        raise TinykilnError(f"{path} has shape {x.shape}; the impulse takes rows of "
                            f"{impulse.window} samples" + (f" x {impulse.axes} axes" if impulse.axes > 1 else "")
                            + f": shape (N, {', '.join(map(str, want))}).")
    return x


def cmd_run(a) -> int:
    import numpy as np
    from .compile import compile_file
    if a.board != "host":
        from .cli_firmware import run_on_board
        return run_on_board(a)
    if getattr(a, "profile", False) or getattr(a, "profile_json", None):
        raise TinykilnError("--profile counts guest instructions under QEMU: give an emulated "
                            "board such as --board mps2-an386 (see `tinykiln boards`).")
    c = compile_file(a.model, prefix=a.name)
    xs = run_inputs(a, c)
    from .hostrun import HostBuild
    with HostBuild(c) as hb:
        ys = hb.run(xs)
    out = Path(a.output)
    if len(ys) == 1:
        np.save(out, ys[0])
    else:
        np.savez(out, *ys)
    print(f"ran {xs[0].shape[0]} input rows on {a.board}; wrote {out}")
    return 0


def cmd_demo(a) -> int:
    from .demo import run_demo
    return run_demo(Path(a.output))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tinykiln", description=__doc__)
    p.add_argument("--version", action="version", version=f"tinykiln {__version__}")
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("compile", help="compile an int8 .tflite model (or quantize a float Keras "
                                       "model to int8) into a C library")
    c.add_argument("model", help=".tflite (int8), or a float .keras/.h5 file or SavedModel folder "
                                 "(needs TensorFlow and --calibration)")
    c.add_argument("-o", "--output", required=True, help="output folder")
    c.add_argument("--name", default="model", help="C symbol prefix (default: model)")
    c.add_argument("--show-plan", action="store_true", help="print the arena plan as a picture")
    c.add_argument("--calibration", metavar="DATA",
                   help="(Keras models) representative float inputs: .npy (N, *input_shape), "
                        ".npz, or a folder of .npy files")
    c.add_argument("--eval", metavar="DATA.npz",
                   help="(Keras models) arrays x (float inputs) and y (labels): print float and "
                        "int8 accuracy (int8 run through the generated C) and their agreement")
    c.add_argument("--per-layer", action="store_true",
                   help="with --eval: each layer's quantization error (SQNR), worst first")
    c.set_defaults(fn=cmd_compile)
    r = sub.add_parser("run", help="build the model (or impulse) for a board and run inputs "
                                   "through it")
    r.add_argument("model")
    r.add_argument("--board", default="host")
    r.add_argument("--input", action="append",
                   help=".npy of shape (N, *input_shape); repeat for several inputs")
    r.add_argument("--raw", action="append",
                   help="(impulse files) .npy of raw samples, shape (N, window[, axes]), int16 "
                        "or floats in [-1, 1]")
    r.add_argument("--output", required=True, help=".npy (or .npz for several outputs)")
    r.add_argument("--name", default="model")
    r.set_defaults(fn=cmd_run)
    d = sub.add_parser("demo", help="compile a built-in example model and check it on the host")
    d.add_argument("-o", "--output", default="tinykiln-demo", help="output folder")
    d.set_defaults(fn=cmd_demo)
    from . import cli_firmware, cli_impulse
    cli_firmware.register(sub)
    cli_impulse.register(sub)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.fn(args)
    except TinykilnError as e:
        print(f"tinykiln: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
