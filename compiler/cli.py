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
            f"{r['macs']} MACs per inference")


def cmd_compile(a) -> int:
    from .compile import compile_file, plan_picture, write_output
    t0 = time.perf_counter()
    c = compile_file(a.model, prefix=a.name)
    out = write_output(c, a.output)
    print(_summary(c))
    print(f"  wrote {len(c.files) + 1} files to {out}/ in {time.perf_counter() - t0:.2f} s")
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
    import numpy as np
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
    x = _load_npy(a.raw[0])
    if x.dtype.kind == "f":
        if x.size and float(np.abs(x).max()) > 1.0:
            raise TinykilnError(f"{a.raw[0]} holds floats outside [-1, 1]; give int16 samples or "
                                "floats scaled to [-1, 1].")
        x = np.clip(np.round(x * 32768.0), -32768, 32767).astype(np.int16)
    elif x.dtype != np.int16:
        raise TinykilnError(f"{a.raw[0]} is {x.dtype}; raw samples must be int16 (or floats in "
                            "[-1, 1]).")
    want = (impulse.window,) if impulse.axes == 1 else (impulse.window, impulse.axes)
    if x.ndim == len(want):
        x = x[None]
    if tuple(x.shape[1:]) != want:
        raise TinykilnError(f"{a.raw[0]} has shape {x.shape}; the impulse takes rows of "
                            f"{impulse.window} samples" + (f" x {impulse.axes} axes" if impulse.axes > 1 else "")
                            + f": shape (N, {', '.join(map(str, want))}).")
    return [x]


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
    c = sub.add_parser("compile", help="compile an int8 .tflite model into a C library")
    c.add_argument("model")
    c.add_argument("-o", "--output", required=True, help="output folder")
    c.add_argument("--name", default="model", help="C symbol prefix (default: model)")
    c.add_argument("--show-plan", action="store_true", help="print the arena plan as a picture")
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
