"""Each layer's signal-to-quantization-noise ratio (SQNR), worst first: the int8 tensors come
from a host build of our generated C (host.LayerDump), the float tensors from the Keras model
(keras_layers ties one to the other)."""
from __future__ import annotations

import math

import numpy as np

from ..compile import Compiled
from ..errors import TinykilnError
from ..frontend.keras_model import FloatModel
from ..frontend.keras_tf import Progress, import_tf, quiet
from .host import LayerDump
from .int8 import dequantize, json_number, np_dtype, qparams, quantize
from .keras_layers import call_model, keras_graph, map_layers, op_groups, sub_model

PER_LAYER_MAX_SAMPLES = 500     # SQNR statistics settle long before; bounds the time
PER_LAYER_CHUNK = 50            # rows per host run and Keras call: bounds the memory


def per_layer(fm: FloatModel, c: Compiled, x: np.ndarray) -> list[dict]:
    """Each layer's SQNR in dB, worst first. 'sqnr_db' is the error the layer adds itself: its
    int8 output against the float layer fed the (dequantized) int8 tensors it reads in our C.
    'cumulative_sqnr_db': the int8 tensor against the float model's tensor for the same input
    (the error of every layer up to this one). A layer fused into one op with the layers
    before it (Conv2D + BatchNormalization + ReLU) is measured together with them. Rows are
    processed in chunks, so memory stays bounded whatever the model's size."""
    model = fm.keras_model
    if model is None:
        raise TinykilnError(f"--per-layer compares with the Keras model's layers; {fm.name} is a "
                            f"SavedModel without layers: give the .keras or .h5 file.")
    _, keras = import_tf()
    g = c.graph
    x = x[:PER_LAYER_MAX_SAMPLES]
    n = x.shape[0]
    q = quantize(x, *qparams(c, g.inputs[0]), dtype=np_dtype(g.tensors[g.inputs[0]].dtype))
    with quiet():
        kg = keras_graph(model)
        mapped = map_layers(c, model, kg)
        groups = op_groups(c, kg, mapped)
    if not groups:
        raise TinykilnError(f"cannot tie the int8 model's tensors to the layers of {fm.name} "
                            f"(no layer scope found in the converter's tensor names).")
    kt_in = {t: kg.inputs[k] for k, t in enumerate(g.inputs)}
    own = {gr.tensor: _Power() for gr in groups}
    cum = {gr.tensor: _Power() for gr in groups}
    with LayerDump(c) as dump, Progress("per-layer error", n) as bar, quiet():
        groups = [gr for gr in groups if gr.tensor in dump.tensors()]
        full = keras.Model(kg.inputs, [kg.output[id(gr.layer)] for gr in groups])
        subs = {gr.tensor: sub_model(keras, c, kg, gr, kt_in, mapped) for gr in groups}
        for lo in range(0, n, PER_LAYER_CHUNK):
            ints = dump.run(q[lo:lo + PER_LAYER_CHUNK])
            floats = call_model(full, [x[lo:lo + PER_LAYER_CHUNK]], fm.batch)
            for gr, ref in zip(groups, floats):
                real_q = dequantize(ints[gr.tensor], *qparams(c, gr.tensor))
                cum[gr.tensor].add(ref, real_q)
                sub = subs[gr.tensor]
                if sub is not None:
                    feeds = [dequantize(ints[u], *qparams(c, u)).astype(np.float32)
                             .reshape((real_q.shape[0], *shape)) for u, shape in sub[1]]
                    own[gr.tensor].add(call_model(sub[0], feeds, fm.batch)[0], real_q)
            bar.update(min(lo + PER_LAYER_CHUNK, n))
    rows = [{"layer": gr.layer.name, "class": type(gr.layer).__name__,
             "layers": [ly.name for ly in gr.layers],
             "ops": gr.ops, "opcodes": [g.ops[i].opcode for i in gr.ops],
             "tensor": g.tensors[gr.tensor].name,
             "sqnr_db": own[gr.tensor].db() if subs[gr.tensor] is not None else None,
             "cumulative_sqnr_db": cum[gr.tensor].db(), "samples": n} for gr in groups]
    rows.sort(key=_rank)
    return rows


class _Power:
    """Signal and noise power summed over chunks; None once sizes disagree."""

    def __init__(self):
        self.s = self.n = 0.0
        self.ok = True

    def add(self, ref: np.ndarray, test: np.ndarray) -> None:
        if np.asarray(ref).size != test.size:
            self.ok = False
            return
        r = np.asarray(ref, np.float64).ravel()
        e = test.astype(np.float64).ravel() - r
        self.s += float(r @ r)
        self.n += float(e @ e)

    def db(self) -> float | None:
        if not self.ok:
            return None
        if self.n == 0.0:
            return math.inf
        if self.s == 0.0:
            return -math.inf
        return 10.0 * math.log10(self.s / self.n)



def _rank(row: dict):
    v = row["sqnr_db"] if row["sqnr_db"] is not None else row["cumulative_sqnr_db"]
    return (v is None, v if v is not None else 0.0)


def per_layer_json(rows: list[dict]) -> list[dict]:
    return [{**r, "sqnr_db": json_number(r["sqnr_db"]),
             "cumulative_sqnr_db": json_number(r["cumulative_sqnr_db"])} for r in rows]


def format_per_layer(rows: list[dict]) -> str:
    if not rows:
        return "per-layer quantization error: no layer could be compared."
    n = rows[0]["samples"]
    names = ["+".join(r["layers"]) for r in rows]
    w = max(12, *(len(s) for s in names))
    lines = [f"per-layer quantization error on {n} samples, worst first (SQNR in dB, higher is "
             f"better; 'own': the layer fed the int8 tensors it reads; 'cumulative': against "
             f"the float model):",
             f"  {'layer':<{w}}  {'ops':<28} {'own':>7} {'cumulative':>11}"]
    for name, r in zip(names, rows):
        ops = "+".join(r["opcodes"])
        ops = ops if len(ops) <= 28 else ops[:25] + "..."
        lines.append(f"  {name:<{w}}  {ops:<28} {_db(r['sqnr_db']):>7} "
                     f"{_db(r['cumulative_sqnr_db']):>11}")
    return "\n".join(lines)


def _db(v) -> str:
    if v is None:
        return "n/a"
    if v > 99.0:        # exact up to float32 rounding (max pooling, requantize to same scale)
        return ">99"
    if v == -math.inf:
        return "-inf"
    return f"{v:.1f}"
