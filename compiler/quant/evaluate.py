"""What quantization cost: the float model against its int8 version, the latter run through our
own generated C on the host. `evaluate` gives both accuracies and their agreement; `per_layer`
(per_layer.py) gives each layer's signal-to-quantization-noise ratio (SQNR), worst first.

The parts: int8 (quantize, dequantize, SQNR), host (the int8 model and its layers on the host),
keras_layers (which .tflite tensor is which Keras layer's output) and per_layer."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..compile import Compiled
from ..errors import TinykilnError
from ..frontend.keras_data import check_rows, read_arrays
from ..frontend.keras_model import FloatModel
from ..frontend.keras_tf import Progress
from .host import LayerDump, dump_layers, run_int8
from .int8 import dequantize, json_number, quantize, sqnr_db
from .per_layer import format_per_layer, per_layer, per_layer_json

__all__ = ["LayerDump", "dequantize", "dump_layers", "evaluate", "format_eval",
           "format_per_layer", "load_eval_data", "per_layer", "per_layer_json", "quantize",
           "run_int8", "sqnr_db"]


def load_eval_data(path: str | Path, fm: FloatModel) -> tuple[np.ndarray, np.ndarray]:
    """x (float32 rows for the model's single input) and y from a .npz with arrays 'x' and 'y'."""
    if len(fm.inputs) != 1 or fm.n_outputs != 1:
        raise TinykilnError(f"--eval handles models with one input and one output; {fm.name} has "
                            f"{len(fm.inputs)} input(s) and {fm.n_outputs} output(s).")
    arrays = dict(read_arrays(path, "eval data"))
    if Path(path).is_dir() or not {"x", "y"} <= set(arrays):
        has = ", ".join(repr(k) for k in arrays)
        raise TinykilnError(f"eval data {path} must be a .npz with arrays 'x' (inputs) and 'y' "
                            f"(labels); it has {has}.")
    x = check_rows(arrays["x"], f"{Path(path).name}['x']", fm.inputs[0], "eval data",
                   allow_single=False)
    y = np.asarray(arrays["y"])
    if y.ndim == 0 or y.shape[0] != x.shape[0]:
        raise TinykilnError(f"eval data {path}: 'y' has shape {y.shape} but 'x' has {x.shape[0]} "
                            f"rows; give one label (or target row) per input row.")
    if y.dtype.kind not in "fiub":
        raise TinykilnError(f"eval data {path}: 'y' holds {y.dtype} values; give class indices, "
                            f"one-hot rows or numeric targets.")
    if x.shape[0] == 0:
        raise TinykilnError(f"eval data {path} holds no samples.")
    return x, y


def evaluate(fm: FloatModel, c: Compiled, x: np.ndarray, y: np.ndarray) -> dict:
    """Float and int8 accuracy (or error, for regression targets) and their agreement."""
    with Progress("float model", x.shape[0]) as bar:
        yf = fm.predict([x], progress=bar)[0]
    yq = run_int8(c, x)
    n = x.shape[0]
    yf, yq = yf.reshape(n, -1).astype(np.float64), yq.reshape(n, -1)
    res = {"samples": int(n), "output_sqnr_db": json_number(sqnr_db(yf, yq))}
    task, labels, pick = _task(yf, y)
    res["task"] = task
    if task == "regression":
        t = y.reshape(n, -1).astype(np.float64)
        res["float_rmse"] = json_number(math.sqrt(float(np.mean((yf - t) ** 2))), 6)
        res["int8_rmse"] = json_number(math.sqrt(float(np.mean((yq - t) ** 2))), 6)
        return res
    pf, pq = pick(yf), pick(yq)
    res["float_accuracy"] = json_number(100.0 * float(np.mean(pf == labels)))
    res["int8_accuracy"] = json_number(100.0 * float(np.mean(pq == labels)))
    res["agreement"] = json_number(100.0 * float(np.mean(pf == pq)))
    return res


def _task(yf: np.ndarray, y: np.ndarray):
    """('classification' | 'binary' | 'regression', labels, prediction function) from the
    output width and the labels: class indices or one-hot rows classify by argmax; one output
    with 0/1 labels is binary (threshold 0.5 on probabilities, 0 on logits)."""
    n, k = yf.shape
    integral = y.dtype.kind in "iub" or bool(np.all(np.mod(y, 1) == 0))
    if k > 1 and y.ndim == 2 and y.shape[1] == k and integral and set(np.unique(y)) <= {0, 1}:
        return "classification", np.argmax(y, axis=1), lambda v: np.argmax(v, axis=1)
    if k > 1 and y.size == n and integral:
        labels = y.reshape(n).astype(np.int64)
        if labels.min() < 0 or labels.max() >= k:
            raise TinykilnError(f"eval labels 'y' range over {labels.min()}..{labels.max()}, but "
                                f"the model has {k} outputs (classes 0..{k - 1}).")
        return "classification", labels, lambda v: np.argmax(v, axis=1)
    if k == 1 and y.size == n and integral and set(np.unique(y)) <= {0, 1}:
        thr = 0.5 if (yf.min() >= 0.0 and yf.max() <= 1.0) else 0.0
        return "binary", y.reshape(n).astype(np.int64), lambda v: (v[:, 0] > thr).astype(np.int64)
    if y.reshape(n, -1).shape[1] == k:
        return "regression", None, None
    raise TinykilnError(f"eval labels 'y' of shape {y.shape} do not fit the model's output width "
                        f"{k}: give class indices (N,), one-hot rows (N, {k}) or targets (N, {k}).")


def format_eval(res: dict, source: str) -> str:
    lines = [f"eval on {res['samples']} samples of {source}:"]
    if res["task"] == "regression":
        lines += [f"  float model   RMSE {res['float_rmse']}",
                  f"  int8 model    RMSE {res['int8_rmse']}   (our generated C on the host)"]
    else:
        lines += [f"  float model   accuracy {res['float_accuracy']:.2f}%",
                  f"  int8 model    accuracy {res['int8_accuracy']:.2f}%   (our generated C on "
                  f"the host)",
                  f"  agreement     {res['agreement']:.2f}% of predictions equal"]
    lines.append(f"  output SQNR   {_fmt_db(res['output_sqnr_db'])} (int8 output against float)")
    return "\n".join(lines)


def _fmt_db(v) -> str:
    if v is None:
        return "n/a"
    return f"{v:.1f} dB"
