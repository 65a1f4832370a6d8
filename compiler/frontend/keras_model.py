"""The float model: a .keras/.h5 file or a SavedModel folder loaded with TensorFlow, its inputs
(one sample's shape, without the batch) and a predict() for float outputs."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import TinykilnError
from .keras_tf import Progress, first_line, import_tf, quiet


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
        raise TinykilnError(f"cannot read Keras model {p.name}: {first_line(e)}.") from None
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
        raise TinykilnError(f"{p.name}: input '{name}' has shape {fmt_shape(full_shape)} with an "
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
        raise TinykilnError(f"cannot read SavedModel {p}: {first_line(e)}.") from None
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


def fmt_shape(shape) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + \
        ("," if len(shape) == 1 else "") + ")"
