"""Build small int8 .tflite models op by op (tests, the built-in demo) through tflite_writer.

    b = ModelBuilder()
    x = b.input((1, 8, 8, 3), scale=0.05, zero_point=-3)
    w = b.const(weights_int8, scale=[...], zero_point=[0] * n, axis=0)
    y = b.tensor((1, 8, 8, 4), scale=0.1, zero_point=2)
    b.op("CONV_2D", [x, w, bias], [y], padding="SAME", stride_w=1, stride_h=1)
    b.output(y)
    model_bytes = b.build()

Variable tensors (state that persists across invokes, e.g. SVDF's) are `b.tensor(...,
variable=True)`; `b.subgraph()` adds a subgraph (index 1, 2, ...) with a builder of its own, for
a CALL_ONCE init subgraph; resource handles are tensors of dtype "resource" and shape ().
"""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Op, QuantParams, Tensor
from .tflite_writer import write_tflite


class ModelBuilder:
    def __init__(self, name: str = "test"):
        self.g = Graph([], [], [], [], name=name)

    def tensor(self, shape, scale=None, zero_point=0, dtype="int8", data=None, axis=0,
               name=None, variable: bool = False) -> int:
        q = None
        if scale is not None:
            scales = [float(s) for s in np.atleast_1d(scale)]
            zps = [int(z) for z in np.atleast_1d(zero_point)]
            if len(zps) == 1 and len(scales) > 1:
                zps = zps * len(scales)
            q = QuantParams(scales, zps, axis)
        i = len(self.g.tensors)
        self.g.tensors.append(Tensor(i, name or f"t{i}", tuple(int(d) for d in shape), dtype, q,
                                     None if data is None else np.asarray(data),
                                     is_variable=variable))
        return i

    def input(self, shape, scale=None, zero_point=0, dtype="int8") -> int:
        i = self.tensor(shape, scale, zero_point, dtype)
        self.g.inputs.append(i)
        return i

    def const(self, data, scale=None, zero_point=0, axis=0, dtype=None) -> int:
        data = np.asarray(data)
        dtype = dtype or {"int8": "int8", "int32": "int32", "int64": "int64",
                          "float32": "float32", "int16": "int16"}[str(data.dtype)]
        return self.tensor(data.shape, scale, zero_point, dtype, data=data, axis=axis)

    def op(self, opcode: str, inputs, outputs, **options) -> None:
        self.g.ops.append(Op(len(self.g.ops), opcode, list(inputs), list(outputs), options))

    def output(self, t: int) -> None:
        self.g.outputs.append(t)

    def subgraph(self, name: str = "init") -> tuple[int, "ModelBuilder"]:
        """A new subgraph of this model: (its index, a builder for its tensors and ops)."""
        sub = ModelBuilder(name)
        self.g.subgraphs.append(sub.g)
        return len(self.g.subgraphs), sub

    def build(self) -> bytes:
        return write_tflite(self.g)
