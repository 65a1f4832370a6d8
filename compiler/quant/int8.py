"""Real values to and from the int8 model's tensors (with their scale and zero point, rounding
as TFLite does) and the signal-to-quantization-noise ratio of one against the other."""
from __future__ import annotations

import math

import numpy as np

from ..compile import Compiled
from ..errors import TinykilnError


def quantize(x: np.ndarray, scale: float, zero_point: int, dtype=np.int8) -> np.ndarray:
    """Real values to the model's integer input: round half away from zero (as TFLite), clamp."""
    info = np.iinfo(dtype)
    v = np.asarray(x, np.float64) / scale
    q = np.sign(v) * np.floor(np.abs(v) + 0.5) + zero_point
    return np.clip(q, info.min, info.max).astype(dtype)


def dequantize(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    return (q.astype(np.float64) - zero_point) * scale


def qparams(c: Compiled, t: int) -> tuple[float, int]:
    tt = c.graph.tensors[t]
    if tt.quant is None:
        raise TinykilnError(f"tensor '{tt.name}' of the int8 model has no quantization "
                            f"parameters.")
    return float(tt.quant.scale[0]), int(tt.quant.zero_point[0])


def sqnr_db(ref: np.ndarray, test: np.ndarray) -> float:
    """10 log10(signal power / noise power); inf when equal, -inf when the signal is zero."""
    r = np.asarray(ref, np.float64).ravel()
    e = np.asarray(test, np.float64).ravel() - r
    s, n = float(r @ r), float(e @ e)
    if n == 0.0:
        return math.inf
    if s == 0.0:
        return -math.inf
    return 10.0 * math.log10(s / n)


def json_number(v: float | None, nd: int = 2):
    """A JSON-safe number: infinities become None."""
    return None if v is None or not math.isfinite(v) else round(float(v), nd)


def np_dtype(name: str):
    return {"int8": np.int8, "uint8": np.uint8, "int16": np.int16, "int32": np.int32,
            "float32": np.float32}[name]
