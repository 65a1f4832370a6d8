"""From a trained float model (.keras, .h5 or a SavedModel folder) to a full-int8 .tflite with
TensorFlow's converter: int8 weights per channel, int8 activations per tensor, int8 input and
output, batch fixed to 1 (no shape ops). TensorFlow is optional and imported only here, lazily.

The conversion is deterministic: the same model and calibration data give the same bytes, in
the same process and in a new one, whatever PYTHONHASHSEED is (tests/test_keras_path.py). The CLI
runs it in a child process (Conversion), which turns a crash of the converter into one sentence."""
from __future__ import annotations

import functools
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import TinykilnError

TF_HINT = 'pip install "tinykiln[tf]"'
KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")


def is_float_model_source(path: str | Path) -> bool:
    """True for what this module converts: a Keras file or a SavedModel folder (one holding
    saved_model.pb; any other folder is not a model at all)."""
    p = Path(path)
    return p.suffix.lower() in KERAS_SUFFIXES or (p / "saved_model.pb").is_file()


# ---- progress and quiet TensorFlow

class Progress:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal (never in logs or
    tests). It writes to its own copy of the terminal, so it shows while quiet() is active."""

    def __init__(self, label: str, total: int):
        self.label, self.total, self.n = label, max(int(total), 0), 0
        self._last = 0.0
        self._out = None
        try:
            if self.total and sys.stderr.isatty():
                self._out = os.fdopen(os.dup(sys.stderr.fileno()), "w")
        except (AttributeError, OSError, ValueError):
            self._out = None

    def update(self, n: int) -> None:
        self.n = min(int(n), self.total)
        now = time.monotonic()
        if self._out is None or (now - self._last < 0.1 and self.n < self.total):
            return
        self._last = now
        width = 30
        done = width * self.n // self.total
        self._out.write(f"\r{self.label:<24} [{'#' * done}{'.' * (width - done)}] "
                        f"{self.n}/{self.total}")
        self._out.flush()

    def close(self) -> None:
        if self._out is not None:
            self._last = 0.0
            self.update(self.n)
            self._out.write("\n")
            self._out.close()
            self._out = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _Log:
    def __init__(self):
        self.file = tempfile.TemporaryFile()

    def text(self) -> str:
        self.file.seek(0)
        return self.file.read().decode(errors="replace")


@contextmanager
def quiet():
    """Send everything written to fd 1 and 2 (TensorFlow's C++ logs, Keras prints, Python
    warnings) to a temporary log while the block runs; yields the log for error messages."""
    log = _Log()
    for s in (sys.stdout, sys.stderr):
        s.flush()
    saved = [os.dup(1), os.dup(2)]
    try:
        os.dup2(log.file.fileno(), 1)
        os.dup2(log.file.fileno(), 2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield log
    finally:
        for s in (sys.stdout, sys.stderr):
            try:
                s.flush()
            except (OSError, ValueError):
                pass
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)


def import_tf():
    """(tensorflow, keras), or a TinykilnError telling how to install them."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # oneDNN's float kernels round differently with the CPU's instruction set; without them the
    # float model's figures (--eval) do not depend on the machine (and no oneDNN banner shows)
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    if importlib.util.find_spec("tensorflow") is None:
        raise TinykilnError(f"compiling a Keras model needs TensorFlow, which is not installed: "
                            f"{TF_HINT}.")
    try:
        with quiet():
            import tensorflow as tf
            import keras
    except ImportError as e:
        raise TinykilnError(f"compiling a Keras model needs TensorFlow and Keras, which cannot be "
                            f"imported ({_first_line(e)}): {TF_HINT}.") from None
    return tf, keras


def _first_line(e: BaseException | str, limit: int = 240) -> str:
    text = str(e).strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for ln in lines:        # MLIR diagnostics: the line saying what failed
        if "error:" in ln:
            text = ln[ln.index("error:") + 6:].strip()
            break
    else:
        text = lines[0] if lines else type(e).__name__
    text = text.rstrip(".")
    return text if len(text) <= limit else text[:limit - 3] + "..."


# ---- the float model

@dataclass
class ModelInput:
    name: str
    shape: tuple[int, ...]          # one sample, without the batch dimension
    dtype: str                      # numpy dtype name, e.g. "float32"


@dataclass
class FloatModel:
    """A loaded float model: a Keras model, or a SavedModel's serving signature."""
    path: Path
    inputs: list[ModelInput]
    n_outputs: int
    keras_model: Any = None
    saved_model: Any = None
    signature: Any = None
    output_keys: list[str] = field(default_factory=list)
    batch: int | None = None        # a batch size fixed by the model, else None

    @property
    def name(self) -> str:
        return self.path.name

    def predict(self, xs: list[np.ndarray], progress: Progress | None = None,
                batch: int = 128) -> list[np.ndarray]:
        """Float outputs for N rows (one array per input, (N, *shape)): one array per output."""
        tf, _ = import_tf()
        n = xs[0].shape[0]
        step = self.batch or batch
        outs: list[list[np.ndarray]] = [[] for _ in range(self.n_outputs)]
        with quiet():
            for lo in range(0, n, step):
                part = [x[lo:lo + step] for x in xs]
                if self.keras_model is not None:
                    y = self.keras_model(part if len(part) > 1 else part[0], training=False)
                    ys = list(y) if isinstance(y, (list, tuple)) else [y]
                else:
                    kw = {i.name: tf.constant(p) for i, p in zip(self.inputs, part)}
                    y = self.signature(**kw)
                    ys = [y[k] for k in self.output_keys]
                for k, t in enumerate(ys):
                    outs[k].append(np.asarray(t))
                if progress is not None:
                    progress.update(min(lo + step, n))
        return [np.concatenate(o) if o else np.zeros((0,)) for o in outs]


def check_model_path(path: str | Path) -> Path:
    """What can be checked without TensorFlow: the file or SavedModel folder is there."""
    p = Path(path)
    if not p.exists():
        raise TinykilnError(f"cannot read model {path}: no such file or folder.")
    if p.is_dir() and not (p / "saved_model.pb").is_file():
        raise TinykilnError(f"{p} is a folder but not a SavedModel (no saved_model.pb); give a "
                            f".keras, .h5 or .tflite file or a SavedModel folder.")
    return p


def load_model(path: str | Path) -> FloatModel:
    """Load a .keras/.h5 file or a SavedModel folder, or raise one sentence naming the file."""
    p = check_model_path(path)
    tf, keras = import_tf()
    if p.is_dir():
        return _load_saved_model(p, tf)
    try:
        with quiet():
            m = keras.models.load_model(p, compile=False)
    except Exception as e:      # noqa: BLE001 - any failure to load is the file's problem
        raise TinykilnError(f"cannot read Keras model {p.name}: {_first_line(e)}.") from None
    try:
        ins = list(m.inputs)
        outs = list(m.outputs)
    except (AttributeError, ValueError):
        raise TinykilnError(f"{p.name} is a subclassed Keras model without known input shapes; "
                            f"save a Functional or Sequential model.") from None
    inputs = [_input(p, str(t.name), tuple(t.shape), str(t.dtype)) for t in ins]
    batches = {tuple(t.shape)[0] for t in ins}
    fixed = next(iter(batches)) if len(batches) == 1 and None not in batches else None
    return FloatModel(p, inputs, len(outs), keras_model=m, batch=fixed)


def _input(p: Path, name: str, full_shape: tuple, dtype: str) -> ModelInput:
    shape = tuple(full_shape[1:])
    if any(d is None for d in shape):
        raise TinykilnError(f"{p.name}: input '{name}' has shape {_fmt(full_shape)} with an "
                            f"unknown dimension besides the batch; give the model a fixed input "
                            f"shape.")
    if len(full_shape) == 0:
        raise TinykilnError(f"{p.name}: input '{name}' is a scalar; tinykiln needs a batch "
                            f"dimension.")
    return ModelInput(name, tuple(int(d) for d in shape), np.dtype(dtype).name)


def _load_saved_model(p: Path, tf) -> FloatModel:
    try:
        with quiet():
            loaded = tf.saved_model.load(str(p))
    except Exception as e:      # noqa: BLE001
        raise TinykilnError(f"cannot read SavedModel {p}: {_first_line(e)}.") from None
    sigs = dict(loaded.signatures)
    if not sigs:
        raise TinykilnError(f"SavedModel {p} has no serving signature to convert.")
    sig = sigs.get("serving_default") or sigs[sorted(sigs)[0]]
    args, kw = sig.structured_input_signature
    if args or not kw:
        raise TinykilnError(f"SavedModel {p}: its signature takes positional inputs; export it "
                            f"with named inputs (Keras model.export does).")
    names = sorted(kw)
    inputs = [_input(p, n, tuple(kw[n].shape), kw[n].dtype.as_numpy_dtype.__name__) for n in names]
    out_keys = sorted(sig.structured_outputs)
    batches = {kw[n].shape[0] for n in names}
    fixed = next(iter(batches)) if len(batches) == 1 and None not in batches else None
    return FloatModel(p, inputs, len(out_keys), saved_model=loaded, signature=sig,
                      output_keys=out_keys, batch=fixed)


def _fmt(shape) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + \
        ("," if len(shape) == 1 else "") + ")"


# ---- representative (calibration) and evaluation data

def read_arrays(path: str | Path, what: str) -> list[tuple[str, np.ndarray]]:
    """(name, array) pairs from a .npy, a .npz or a folder of .npy files."""
    p = Path(path)
    if not p.exists():
        raise TinykilnError(f"cannot read {what} {path}: no such file or folder.")
    try:
        if p.is_dir():
            files = sorted(p.glob("*.npy"))
            if not files:
                raise TinykilnError(f"{what} folder {path} holds no .npy files.")
            return [(f.name, np.load(f, allow_pickle=False)) for f in files]
        obj = np.load(p, allow_pickle=False)
        if isinstance(obj, np.lib.npyio.NpzFile):
            with obj:
                if not obj.files:
                    raise TinykilnError(f"{what} file {path} holds no arrays.")
                return [(k, obj[k]) for k in obj.files]
        return [(p.name, obj)]
    except TinykilnError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise TinykilnError(f"cannot read {what} {path}: {_npy_problem(e)} (expected a .npy, a "
                            f".npz or a folder of .npy files).") from None


def _npy_problem(e: BaseException) -> str:
    """What numpy's error on loading a file means, in the user's terms (numpy speaks of
    allow_pickle when a file is neither .npy nor .npz, or holds Python objects)."""
    text = str(e)
    if "Object arrays" in text:
        return "it holds Python objects, not numbers"
    if "pickle" in text:
        return "it is neither a .npy nor a .npz file"
    if isinstance(e, EOFError) or "No data left" in text or "Failed to read all data" in text:
        return "the file is empty or truncated"
    return _first_line(e)


def check_values(arr: np.ndarray, name: str, what: str) -> None:
    """Numbers only (float or integer), all finite."""
    if arr.dtype.kind not in "fiu":
        raise TinykilnError(f"{what} {name} holds {arr.dtype} values; the model takes numbers "
                            f"(float or integer arrays).")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise TinykilnError(f"{what} {name} contains NaN or infinite values.")


def check_calibration_file(path: str | Path) -> None:
    """The checks that need no model (readable, numbers, finite): done before TensorFlow loads."""
    for name, arr in read_arrays(path, "calibration data"):
        check_values(arr, _label(path, name), "calibration data")


def _label(path: str | Path, key: str) -> str:
    p = Path(path)
    if p.suffix == ".npz":
        return f"{p.name}['{key}']"
    return f"{p.name}/{key}" if p.is_dir() else key


def check_rows(arr: np.ndarray, name: str, inp: ModelInput, what: str,
               allow_single: bool = True) -> np.ndarray:
    """arr as float32 rows (N, *inp.shape), or one sentence on why it does not fit the input."""
    check_values(arr, name, what)
    shape = tuple(arr.shape)
    if allow_single and shape == inp.shape:
        arr = arr[None]
    elif shape[1:] == inp.shape:
        pass
    elif len(shape) == len(inp.shape) + 2 and shape[1] == 1 and shape[2:] == inp.shape:
        arr = arr[:, 0]
    else:
        raise TinykilnError(f"{what} {name} has shape {_fmt(shape)}, but the model input "
                            f"'{inp.name}' needs (N, {', '.join(map(str, inp.shape))}).")
    arr = arr.astype(np.float32)
    if not np.isfinite(arr).all():      # float64 beyond the float32 range
        raise TinykilnError(f"{what} {name} holds values beyond the float32 range.")
    return arr


def load_calibration(path: str | Path, fm: FloatModel) -> list[np.ndarray]:
    """Representative inputs: one float32 array (N, *shape) per model input.

    One input: every array of the file or folder is one sample or a batch of samples; they are
    concatenated (a .npz with an 'x' array, such as an --eval file, gives that array only).
    Several inputs: a .npz with one array per input, named after the inputs."""
    what = "calibration data"
    arrays = read_arrays(path, what)
    if len(fm.inputs) > 1:
        byname = dict(arrays)
        names = [i.name for i in fm.inputs]
        if not set(names) <= set(byname):
            raise TinykilnError(f"{fm.name} has {len(names)} inputs: give a .npz with one array "
                                f"per input named {', '.join(repr(n) for n in names)}; "
                                f"{Path(path).name} has {', '.join(repr(k) for k in byname)}.")
        out = [check_rows(byname[i.name], _label(path, i.name), i, what, allow_single=False)
               for i in fm.inputs]
        if len({a.shape[0] for a in out}) > 1:
            raise TinykilnError(f"{what} {path}: the arrays of the {len(out)} inputs have "
                                f"different numbers of samples ({[a.shape[0] for a in out]}).")
    else:
        if any(k == "x" for k, _ in arrays) and Path(path).suffix == ".npz":
            arrays = [(k, a) for k, a in arrays if k == "x"]
        out = [np.concatenate([check_rows(a, _label(path, k), fm.inputs[0], what)
                               for k, a in arrays])]
    if out[0].shape[0] == 0:
        raise TinykilnError(f"{what} {path} holds no samples.")
    return out


# ---- conversion

def convert(fm: FloatModel, calibration: list[np.ndarray],
            progress: Progress | None = None) -> bytes:
    """Full-integer .tflite bytes: int8 weights (per channel) and activations, int8 input and
    output, batch 1. The calibration rows are fed to the converter one at a time."""
    tf, keras = import_tf()
    n = calibration[0].shape[0]

    names = [i.name for i in fm.inputs]

    def representative():
        for i in range(n):
            rows = [c[i:i + 1] for c in calibration]
            # several inputs: by name (the .tflite may order its inputs differently)
            yield dict(zip(names, rows)) if len(rows) > 1 else rows
            if progress is not None:
                progress.update(i + 1)

    tmp = Path(tempfile.mkdtemp(prefix="tinykiln-savedmodel-"))
    stage = "export"
    try:
        with quiet() as log:
            try:
                _export_batch1(fm, tf, keras, tmp)
                stage = "convert"
                conv = tf.lite.TFLiteConverter.from_saved_model(str(tmp))
                conv.optimizations = [tf.lite.Optimize.DEFAULT]
                conv.representative_dataset = representative
                conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
                conv.inference_input_type = tf.int8
                conv.inference_output_type = tf.int8
                return bytes(conv.convert())
            except Exception as e:      # noqa: BLE001 - reported as one sentence below
                err, logtext = e, log.text()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    reason = _first_line(err)
    if "error:" in logtext and "error:" not in str(err):
        reason = _first_line(logtext)
    doing = "export" if stage == "export" else "quantize"
    raise TinykilnError(f"TensorFlow's converter could not {doing} {fm.name} to int8: {reason}.")


def _export_batch1(fm: FloatModel, tf, keras, out: Path) -> None:
    """Write a SavedModel whose serving function takes batch-1 inputs: with a static batch the
    converter folds Flatten/Reshape shapes into constants (no SHAPE/STRIDED_SLICE/PACK ops)."""
    specs = [tf.TensorSpec((1, *i.shape), tf.as_dtype(i.dtype), name=i.name) for i in fm.inputs]
    if fm.keras_model is not None:
        m = fm.keras_model
        archive = keras.export.ExportArchive()
        archive.track(m)
        # what TFLiteConverter.from_keras_model does for Keras 3, with the batch fixed to 1
        archive.add_endpoint("serve", functools.partial(m.__call__, training=False),
                             [specs] if len(specs) > 1 else specs)
        archive.write_out(str(out))
        return
    sig = fm.signature
    names = [i.name for i in fm.inputs]

    @tf.function(input_signature=specs)
    def serve(*xs):
        return sig(**dict(zip(names, xs)))

    module = tf.Module()
    module.model = fm.saved_model
    tf.saved_model.save(module, str(out), signatures={"serving_default":
                                                          serve.get_concrete_function()})


def check_int8(graph, source: str) -> None:
    """Some layers (LayerNormalization's NEG, for one) stay float32 between DEQUANTIZE and
    QUANTIZE even with int8-only settings: name the first such op and its layer's tensor."""
    for op in graph.ops:
        if op.opcode in ("QUANTIZE", "DEQUANTIZE"):
            continue
        if any(t >= 0 and graph.tensors[t].dtype == "float32" for t in op.inputs + op.outputs):
            out = graph.tensors[op.outputs[0]].name if op.outputs else "?"
            raise TinykilnError(f"TensorFlow's converter left op {op.index} ({op.opcode}, output "
                                f"'{out}') in float32 when quantizing {source}; tinykiln compiles "
                                f"int8 ops only, so the layer it comes from cannot be compiled.")


def output_name(model_path: str | Path) -> str:
    """The file name of the int8 model written next to the C sources."""
    p = Path(model_path)
    stem = p.name if p.is_dir() else p.stem
    return re.sub(r"[^A-Za-z0-9_.-]", "_", stem or "model") + ".tflite"


# ---- the conversion in a child process

class Conversion:
    """convert() in a child Python process, started at once so the caller can load the model and
    check its data meanwhile. TensorFlow's converter can crash the process (e.g. a segmentation
    fault calibrating an LSTM): in a child, that becomes one sentence instead of a dead CLI."""

    def __init__(self, model: str | Path, calibration: str | Path):
        self.model = Path(model)
        self.dir = Path(tempfile.mkdtemp(prefix="tinykiln-convert-"))
        self.out, self.result = self.dir / "model.tflite", self.dir / "result.json"
        self._log = open(self.dir / "log.txt", "w+b")
        r, w = os.pipe()
        # the child's temporary files (its SavedModel export) live in self.dir, which close()
        # removes even when the child was killed or crashed
        env = dict(os.environ, PYTHONHASHSEED="0", TF_CPP_MIN_LOG_LEVEL="3",
                   TMPDIR=str(self.dir))
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tinykiln.frontend.keras_convert", str(model), str(calibration),
                 str(self.out), str(self.result), str(w)],
                stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log, env=env,
                pass_fds=(w,))
        except BaseException:
            os.close(r)
            self.close()
            raise
        finally:
            os.close(w)
        self._pipe = os.fdopen(r, "r")

    def wait(self) -> tuple[bytes, int]:
        """(.tflite bytes, calibration samples), or a TinykilnError (the child's own sentence,
        or its crash). Draws the calibration progress bar."""
        done, total, bar = 0, 0, None
        try:
            for line in self._pipe:     # "total N", then "N" per step; EOF when the child ends
                word = line.split()
                if len(word) == 2 and word[0] == "total" and word[1].isdigit():
                    total = int(word[1])
                    bar = Progress("calibrating", total)
                elif len(word) == 1 and word[0].isdigit():
                    done = int(word[0])
                    if bar is not None:
                        bar.update(done)
        finally:
            if bar is not None:
                bar.close()
        rc = self.proc.wait()
        if self.result.is_file():
            info = json.loads(self.result.read_text())
            if "error" in info:
                raise TinykilnError(info["error"])
            if rc == 0:
                return self.out.read_bytes(), int(info["samples"])
        if rc < 0:
            try:
                sig = signal.Signals(-rc).name
            except ValueError:
                sig = f"signal {-rc}"
            stage = (f"while calibrating {self.model.name} ({done} of {total} samples done)"
                     if total else f"while loading {self.model.name}")
            raise TinykilnError(f"TensorFlow's converter crashed ({sig}) {stage}; a layer of this "
                                f"model is probably not supported by TensorFlow's int8 "
                                f"conversion.")
        self._log.seek(0)
        log = self._log.read().decode(errors="replace")
        raise RuntimeError(f"the conversion process failed ({rc}):\n{log[-4000:]}")

    def close(self) -> None:
        proc = getattr(self, "proc", None)
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        pipe = getattr(self, "_pipe", None)
        if pipe is not None:
            pipe.close()
        self._log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _PipeProgress:
    """The child's end of the progress pipe: one line per whole percent."""

    def __init__(self, fd: int, total: int):
        self.fd, self.total, self._last = fd, max(total, 1), -1

    def update(self, n: int) -> None:
        pct = 100 * n // self.total
        if pct != self._last:
            self._last = pct
            os.write(self.fd, f"{n}\n".encode())


def main(argv: list[str]) -> int:
    """The child: MODEL CALIBRATION OUT.tflite RESULT.json PROGRESS_FD."""
    model, calibration, out, result, fd = argv
    try:
        fm = load_model(model)
        cal = load_calibration(calibration, fm)
        os.write(int(fd), f"total {cal[0].shape[0]}\n".encode())
        data = convert(fm, cal, _PipeProgress(int(fd), cal[0].shape[0]))
        Path(out).write_bytes(data)
        Path(result).write_text(json.dumps({"samples": int(cal[0].shape[0])}))
        return 0
    except TinykilnError as e:
        Path(result).write_text(json.dumps({"error": str(e)}))
        return 1
    finally:
        os.close(int(fd))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
