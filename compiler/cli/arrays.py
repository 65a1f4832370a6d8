"""The arrays a command reads and writes: model input rows, an impulse's raw windows, and output
files written exactly as named (.npy, or .npz for several outputs)."""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import TinykilnError
from .common import model_inputs


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
