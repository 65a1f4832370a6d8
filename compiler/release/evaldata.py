"""Eval data of a release target: a .npz with arrays 'x' (input rows, shape (N, *input) in the
model's input dtype; float rows for a Keras target, quantized with the int8 model's input scale)
and 'y' (integer class labels (N,), or one-hot rows (N, classes)). Accuracy is the percentage of
rows whose output argmax equals the label."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import TinykilnError
from ..targets.hostrun import check_inputs


def load_eval(path: Path, c, keras: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(x rows for the compiled model's input, integer labels); every mistake one sentence."""
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError) as e:
        raise TinykilnError(f"eval data {path.name} is not a readable .npz ({e}).") from None
    if not {"x", "y"} <= set(arrays):
        raise TinykilnError(f"eval data {path.name} must hold arrays 'x' (inputs) and 'y' "
                            f"(labels); it has {', '.join(sorted(arrays)) or 'none'}.")
    g = c.graph
    if len(g.inputs) != 1:
        raise TinykilnError(f"eval data applies to models with one input; {path.name}'s model "
                            f"has {len(g.inputs)}.")
    x = arrays["x"]
    if keras and x.dtype.kind == "f":
        from ..quant.int8 import qparams, quantize
        from ..ir import NP_TYPES
        t = g.inputs[0]
        x = quantize(x, *qparams(c, t), dtype=np.dtype(NP_TYPES[g.tensors[t].dtype]))
    try:
        n = check_inputs(g, [x])
    except TinykilnError as e:
        raise TinykilnError(f"eval data {path.name}: 'x' does not fit the model: "
                            f"{str(e).rstrip('.')}.") from None
    if n == 0:
        raise TinykilnError(f"eval data {path.name} holds no rows.")
    return x, _labels(path, arrays["y"], n, _classes(g))


def _classes(g) -> int:
    t = g.tensors[g.outputs[0]]
    return int(np.prod(t.shape)) if t.shape else 1


def _labels(path: Path, y: np.ndarray, n: int, k: int) -> np.ndarray:
    if y.dtype.kind not in "iub":
        raise TinykilnError(f"eval data {path.name}: 'y' holds {y.dtype} values; give integer "
                            f"class labels.")
    if y.ndim == 2 and y.shape == (n, k) and set(np.unique(y)) <= {0, 1}:
        y = np.argmax(y, axis=1)
    if y.shape != (n,):
        raise TinykilnError(f"eval data {path.name}: 'y' has shape {y.shape}; give one class "
                            f"label per row of 'x' ({n},) or one-hot rows ({n}, {k}).")
    if k < 2:
        raise TinykilnError(f"eval data {path.name}: the model's first output has {k} value; "
                            f"accuracy needs a classifier (two or more classes).")
    if y.min() < 0 or y.max() >= k:
        raise TinykilnError(f"eval data {path.name}: labels range over {y.min()}..{y.max()}, "
                            f"but the model has {k} classes (0..{k - 1}).")
    return y.astype(np.int64)


def accuracy(outputs: list[np.ndarray], y: np.ndarray) -> float:
    """Percent of rows whose first output's argmax is the label, to 2 decimals (as compile
    --eval prints it)."""
    out = outputs[0].reshape(len(y), -1)
    return round(100.0 * float(np.mean(np.argmax(out, axis=1) == y)), 2)


def same_bytes(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(np.ascontiguousarray(p).tobytes() ==
                                    np.ascontiguousarray(q).tobytes() for p, q in zip(a, b))
