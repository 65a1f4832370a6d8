"""The `tinykiln` command line. A user's mistake (TinykilnError) prints one sentence and exits 1;
so does a failure of the generated C on the host (hostrun.HostFailure), which is a tinykiln bug.
Every command that writes a folder checks it first (outdir.user_output): nothing of the user's
is replaced, and the check comes before the long work."""
from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from pathlib import Path

from . import __version__
from .errors import TinykilnError


def terminal_text(text: str) -> str:
    """A message for the terminal: names from a model or file keep their printable characters;
    control characters (newlines, escape sequences) are shown as escapes, so a message stays one
    line and a name cannot drive the terminal."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
                   for ch in text)

DESCRIPTION = ("tinykiln compiles int8 TensorFlow Lite models (and float Keras models, quantized "
               "to int8) into plain C for microcontrollers, builds firmware images, and runs "
               "them on this computer or under QEMU.")
EPILOG = ("Output folders: -o DIR writes a new folder, or replaces a folder tinykiln wrote "
          "before (it leaves a .tinykiln-output file in it) or an empty one. Any other folder, "
          "the current folder, a folder holding an input and an existing file are refused; "
          "--force replaces a non-empty folder tinykiln did not write.")


def folder_text(path) -> str:
    """A folder's name as printed: one trailing slash, whatever the user typed."""
    return str(Path(path)) + "/"


def _summary(c) -> str:
    r = c.report
    ops = ", ".join(f"{k} x{v}" for k, v in r["op_counts"].items())
    return (f"{r['model']}: {r['ops']} ops ({ops}), {r['tensors']} tensors\n"
            f"  weights {r['weight_bytes']} B (flash), arena {r['arena_bytes']} B (RAM; lower bound "
            f"{r['arena_lower_bound']}, gap {r['arena_gap_to_lower_bound']}), "
            f"{r['macs']} MACs per inference"
            + "".join(f"\n  warning: {terminal_text(w)}" for w in r.get("warnings", [])))


def model_inputs(model: str | Path) -> list[Path]:
    """The files a model argument reads: the model, or an impulse file and the model it names."""
    p = Path(model)
    out = [p]
    if p.suffix.lower() == ".toml" and p.is_file():
        import tomllib
        try:
            named = tomllib.loads(p.read_text()).get("model", {}).get("path")
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, AttributeError):
            named = None        # the impulse loader says what is wrong, later
        if isinstance(named, str):
            out.append(p.parent / named)
    return out


def board_inputs(board: str | None) -> list[Path]:
    return [Path(board)] if board and board.endswith(".toml") else []


def output_folder(a, inputs):
    from .outdir import user_output
    return user_output(a.output, inputs, getattr(a, "force", False), getattr(a, "command", None))


def cmd_compile(a) -> int:
    from .keras_convert import check_model_path, is_float_model_source     # no TensorFlow import
    if Path(a.model).is_dir() and not is_float_model_source(a.model):
        check_model_path(a.model)           # says it is a folder but not a SavedModel
    inputs = model_inputs(a.model) + [Path(x) for x in (a.calibration, a.eval) if x]
    with output_folder(a, inputs):
        if is_float_model_source(a.model):
            return _compile_float(a)
        return _compile_tflite(a)


def _compile_tflite(a) -> int:
    from .compile import compile_file, plan_picture, write_output
    if a.calibration or a.eval or a.per_layer:
        raise TinykilnError(f"--calibration, --eval and --per-layer apply to a float Keras model "
                            f"(.keras, .h5 or a SavedModel folder); {a.model} is compiled as "
                            f"an int8 .tflite.")
    t0 = time.perf_counter()
    c = compile_file(a.model, prefix=a.name)
    add_impulse_model(c)
    out = write_output(c, a.output)
    print(_summary(c))
    print(f"  wrote {len(c.files) + 1} files to {folder_text(out)} in "
          f"{time.perf_counter() - t0:.2f} s")
    if a.show_plan:
        print(plan_picture(c))
    return 0


def add_impulse_model(c) -> None:
    """An impulse's model, as the loader resolved it, is an input of the command too."""
    imp = getattr(c, "impulse", None)
    if imp is not None:
        from .outdir import add_inputs
        add_inputs(imp.path, imp.model_path)


def _compile_float(a) -> int:
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
          f"{folder_text(a.output)} in {time.perf_counter() - t0:.2f} s")
    for t in texts:
        print(t)
    if a.show_plan:
        print(plan_picture(c))
    return 0


def _load_npy(path: str):
    """One array from a .npy file, or one sentence saying what the file is instead."""
    import numpy as np
    p = Path(path)
    if p.is_dir():
        raise TinykilnError(f"{path} is a folder; give a .npy file (numpy.save writes one).")
    try:
        with open(p, "rb") as f:
            magic = f.read(6)
    except OSError as e:
        raise TinykilnError(f"cannot read {path}: {e.strerror}.") from None
    if not magic:
        raise TinykilnError(f"{path} is empty; give a .npy file (numpy.save writes one).")
    if magic.startswith(b"PK"):
        raise TinykilnError(f"{path} is a .npz archive; give one .npy file per array "
                            f"(numpy.save writes one).")
    if magic != b"\x93NUMPY":
        raise TinykilnError(f"{path} is not a .npy file (numpy.save writes one).")
    try:
        x = np.load(p, allow_pickle=False)
    except ValueError as e:
        if "pickle" in str(e) or "bject" in str(e):
            raise TinykilnError(f"{path} holds an array of Python objects; give a numeric "
                                f"array.") from None
        raise TinykilnError(f"{path} is a damaged .npy file (a bad header or truncated "
                            f"data).") from None
    except (OSError, EOFError):
        raise TinykilnError(f"{path} is a damaged .npy file (a bad header or truncated "
                            f"data).") from None
    if x.dtype.hasobject or x.dtype.names is not None:
        raise TinykilnError(f"{path} holds records or Python objects; give a numeric array.")
    return x


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
        xs = [_load_npy(p) for p in a.input]
        for p, x in zip(a.input, xs):
            if x.ndim and x.shape[0] == 0:
                raise TinykilnError(f"{p} holds no rows (shape {tuple(x.shape)}).")
        return xs
    if len(a.raw) != 1:
        raise TinykilnError("an impulse takes one --raw array.")
    return [load_raw(a.raw[0], impulse)]


def load_raw(path: str, impulse) -> "np.ndarray":
    """Raw windows for an impulse from a .npy: int16 samples, or floats in [-1, 1] scaled to
    int16; shape (N, window[, axes]) (one window without N is accepted)."""
    import numpy as np
    x = _load_npy(path)
    if x.dtype.kind == "f":
        if x.size and not bool(np.isfinite(x).all()):
            raise TinykilnError(f"{path} holds NaN or infinite values; give int16 samples or "
                                "floats scaled to [-1, 1].")
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
    if x.shape[0] == 0:
        raise TinykilnError(f"{path} holds no rows (shape {tuple(x.shape)}).")
    return x


# ---- files that commands write (not folders): exactly the name given, checked before the work

def check_output_file(path: str | Path, suffixes: tuple[str, ...], what: str,
                      inputs=()) -> Path:
    """A file a command will write: its folder exists and is writable, it is no folder and no
    input, and its name ends in one of suffixes; else one sentence."""
    p = Path(path)
    if p.is_dir():
        raise TinykilnError(f"{what} {p} is a folder; give a file name ending in "
                            f"{' or '.join(suffixes)}.")
    if p.suffix.lower() not in suffixes:
        raise TinykilnError(f"{what} {p} must end in {' or '.join(suffixes)}; tinykiln writes "
                            f"exactly the file named.")
    parent = p.parent
    if not parent.exists():
        raise TinykilnError(f"cannot write {p}: the folder {parent} does not exist.")
    if not parent.is_dir():
        raise TinykilnError(f"cannot write {p}: {parent} is a file, not a folder.")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise TinykilnError(f"cannot write {p}: no permission to write in {parent}.")
    for i in inputs:
        if i is not None and Path(i).exists() and p.resolve() == Path(i).resolve():
            raise TinykilnError(f"refusing to write {p}: it is an input of this command; give "
                                f"another file name.")
    return p


def write_file(path: Path, write) -> None:
    """write(f) into a temp file beside path, renamed onto path when complete."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise TinykilnError(f"cannot write {path}: {e.strerror}.") from None


RUN_OUTPUT_HELP = (".npy to write (a model with one output), or .npz (several outputs, arrays "
                   "named output0, output1, ... in the model's output order); written exactly "
                   "as named")


def check_run_output(a) -> Path:
    """`run --output`, checked before anything is built (and --profile-json)."""
    inputs = [*model_inputs(a.model), *(a.input or []), *(a.raw or [])]
    if getattr(a, "profile_json", None):
        check_output_file(a.profile_json, (".json",), "--profile-json", inputs)
    return check_output_file(a.output, (".npy", ".npz"), "--output", inputs)


def check_output_count(out: Path, c, model) -> None:
    n = len(c.graph.outputs)
    if n == 0:
        raise TinykilnError(f"{model} has no outputs; there is nothing to run.")
    want = ".npy" if n == 1 else ".npz"
    if out.suffix.lower() != want:
        raise TinykilnError(f"{model} has {n} output{'s' if n != 1 else ''}: give --output a "
                            f"{want} file name (it is {out.name}).")


def write_outputs(out: Path, ys: list) -> str:
    """Write the run's outputs to exactly `out`; returns what was written, for the message."""
    import numpy as np
    if out.suffix.lower() == ".npy":
        write_file(out, lambda f: np.save(f, ys[0]))
        return f"wrote {out} ({ys[0].dtype} {_dims(ys[0].shape)})"
    named = {f"output{k}": y for k, y in enumerate(ys)}
    write_file(out, lambda f: np.savez(f, **named))
    return f"wrote {out} (" + ", ".join(f"{k} {y.dtype} {_dims(y.shape)}"
                                        for k, y in named.items()) + ")"


def _dims(shape) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def rows_text(n: int) -> str:
    return f"{n} input row{'s' if n != 1 else ''}"


def cmd_run(a) -> int:
    from .compile import compile_file
    out = check_run_output(a)
    if a.board != "host":
        if a.sanitize:
            raise TinykilnError(f"--sanitize builds for this computer: give --board host (the "
                                f"board is {a.board}).")
        from .cli_firmware import run_on_board
        return run_on_board(a, out)
    if getattr(a, "profile", False) or getattr(a, "profile_json", None):
        raise TinykilnError("--profile counts guest instructions under QEMU: give an emulated "
                            "board such as --board mps2-an386 (see `tinykiln boards`).")
    c = compile_file(a.model, prefix=a.name)
    check_output_count(out, c, a.model)
    xs = run_inputs(a, c)
    from .hostrun import HostBuild
    with HostBuild(c, sanitize=a.sanitize) as hb:
        ys = hb.run(xs)
    wrote = write_outputs(out, ys)
    print(f"ran {rows_text(xs[0].shape[0])} on host{' (sanitized)' if a.sanitize else ''}; "
          f"{wrote}")
    return 0


def cmd_demo(a) -> int:
    from .demo import run_demo      # it claims the folder (outdir.claim_folder)
    with output_folder(a, []):
        return run_demo(Path(a.output))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tinykiln", description=DESCRIPTION, epilog=EPILOG)
    p.add_argument("--version", action="version", version=f"tinykiln {__version__}")
    sub = p.add_subparsers(dest="cmd", required=True, metavar="COMMAND",
                           help="what to do (`tinykiln COMMAND --help` for its arguments)")
    c = sub.add_parser("compile", help="compile an int8 .tflite model (or quantize a float Keras "
                                       "model to int8) into a C library",
                       description="Compile a model into a C library (model.c/.h, kernels, "
                                   "report.json) in a folder.", epilog=EPILOG)
    c.add_argument("model", help=".tflite (int8), an impulse file (.toml), or a float .keras/.h5 "
                                 "file or SavedModel folder (needs TensorFlow and --calibration)")
    c.add_argument("-o", "--output", required=True, metavar="DIR",
                   help="output folder: new, empty, or written by tinykiln before")
    add_force(c)
    add_name(c)
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
                                   "through it",
                       description="Build a model (or impulse) for this computer or an emulated "
                                   "board, run input rows through it and save the outputs.")
    r.add_argument("model", help="int8 .tflite model or impulse file (.toml)")
    r.add_argument("--board", default="host",
                   help="host (this computer, the default), an emulated board (see `tinykiln "
                        "boards`) or a board .toml file")
    r.add_argument("--input", action="append", metavar="X.npy",
                   help="input rows, shape (N, *input_shape) (a leading 1 in the model's shape "
                        "may be left out) and the input's dtype; repeat for several inputs")
    r.add_argument("--raw", action="append", metavar="X.npy",
                   help="(impulse files) .npy of raw samples, shape (N, window[, axes]), int16 "
                        "or floats in [-1, 1]")
    r.add_argument("-o", "--output", required=True, metavar="FILE", help=RUN_OUTPUT_HELP)
    r.add_argument("--sanitize", action="store_true",
                   help="(host) build with AddressSanitizer and UndefinedBehaviorSanitizer; "
                        "a report means a tinykiln bug")
    add_name(r)
    r.set_defaults(fn=cmd_run)
    from .demo import HELP as DEMO_HELP         # the stages, from the demo itself
    d = sub.add_parser("demo", help="run the main job on a built-in example model (compile, "
                                    "host run, TFLM comparison, impulse, QEMU run)",
                       description=DEMO_HELP)
    d.add_argument("-o", "--output", default="tinykiln-demo", metavar="DIR",
                   help="output folder: new, empty, or an earlier demo's (default: "
                        "tinykiln-demo)")
    d.set_defaults(fn=cmd_demo)
    from . import cli_firmware, cli_impulse
    cli_firmware.register(sub)
    cli_impulse.register(sub)
    return p


def add_force(parser) -> None:
    parser.add_argument("--force", action="store_true",
                        help="replace the output folder even if tinykiln did not write it (never "
                             "one that holds an input or the current folder)")


def add_name(parser) -> None:
    parser.add_argument("--name", default="model", metavar="PREFIX",
                        help="prefix of the C symbols and file names (default: model)")


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else [str(x) for x in argv]
    args = build_parser().parse_args(argv)
    args.command = shlex.join(["tinykiln", *argv])
    try:
        return args.fn(args)
    except TinykilnError as e:
        print(f"tinykiln: error: {terminal_text(str(e))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as e:
        from .hostrun import HostFailure     # loaded already if it raised this
        if not isinstance(e, HostFailure):
            raise
        print(f"tinykiln: error: {terminal_text(str(e))}", file=sys.stderr)
        return 1
