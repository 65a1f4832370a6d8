"""Ops whose outputs are known when the model is compiled: SHAPE (shapes are static), ZEROS_LIKE,
FILL and BROADCAST_ARGS (of constant operands). passes/fold_constants.py turns their outputs into
constant tensors; the lowering here then emits nothing, or, for a model output (which must stay an
activation tensor), a copy of the folded constant."""
from __future__ import annotations

import numpy as np

from ..ir import C_TYPES, NP_TYPES, Graph, Op
from .context import Operands
from .datamove import check_shape, fail, int_vector, is_folded

MAX_FOLD_BYTES = 1 << 20       # a folded output is a table in flash: keep it small

TYPES = {
    "SHAPE": ("int32",),
    "FILL": ("int8", "int32"),
    "ZEROS_LIKE": ("int32", "int64"),
    "BROADCAST_ARGS": ("int32", "int64"),
}


def _out_type(op: Op, graph: Graph) -> str:
    out = graph.tensors[op.outputs[0]]
    if out.dtype not in TYPES[op.opcode]:
        raise fail(graph, op, f"{op.opcode} producing {out.dtype} is not supported (tinykiln "
                              f"folds it to {', '.join(TYPES[op.opcode])})")
    return out.dtype


def _values(op: Op, graph: Graph) -> np.ndarray:
    """The op's output, computed now; refuses what TFLM's Prepare refuses."""
    dtype = _out_type(op, graph)
    out = graph.tensors[op.outputs[0]]
    if out.nbytes > MAX_FOLD_BYTES:
        raise fail(graph, op, f"its output holds {out.nbytes} bytes; tinykiln computes "
                              f"{op.opcode} at compile time, up to {MAX_FOLD_BYTES} bytes")
    inp = graph.tensors[op.inputs[0]]
    if op.opcode == "SHAPE":
        check_shape(op, graph, [len(inp.shape)])
        value = np.array(inp.shape, dtype=np.int64)
    elif op.opcode == "ZEROS_LIKE":
        if inp.dtype != dtype:
            raise fail(graph, op, f"the output is {dtype}, the input {inp.dtype}")
        check_shape(op, graph, inp.shape)
        value = np.zeros(inp.shape, dtype=np.int64)
    elif op.opcode == "FILL":
        dims = int_vector(op, graph, 0, "dims operand", ("int32", "int64"))
        fill = graph.tensors[op.inputs[1]]
        if fill.dtype != dtype or len(fill.shape) != 0:
            raise fail(graph, op, f"the value must be a {dtype} scalar (TFLM's FILL)")
        check_shape(op, graph, dims)
        value = np.full(dims, int(np.asarray(fill.data).reshape(-1)[0]), dtype=np.int64)
    else:
        a = int_vector(op, graph, 0, "first shape operand", (dtype,))
        b = int_vector(op, graph, 1, "second shape operand", (dtype,))
        try:
            value = np.array(np.broadcast_shapes(tuple(a), tuple(b)), dtype=np.int64)
        except ValueError:
            raise fail(graph, op, f"shapes {a} and {b} do not broadcast") from None
        check_shape(op, graph, [len(value)])
    info = np.iinfo(NP_TYPES[dtype])
    if value.size and not info.min <= int(value.min()) <= int(value.max()) <= info.max:
        raise fail(graph, op, f"its output values do not fit {dtype}")
    return value.astype(NP_TYPES[dtype]).reshape(out.shape)


def fold(op: Op, graph: Graph):
    if op.opcode in ("FILL", "BROADCAST_ARGS") and \
            not all(graph.tensors[t].is_const for t in op.inputs):
        return None
    return [_values(op, graph)]


def lower_folded(op, ctx):
    value = _values(op, ctx.graph)
    if is_folded(op, ctx):
        return
    # a model output (or an op the pass left): copy the constant into the output
    out = ctx.tensor(op.outputs[0])
    name = ctx.const(op, "value", C_TYPES[out.dtype], value,
                     f"the output, computed at compile time ({list(out.shape)})")
    ctx.call(op, "tk_copy", [name, ctx.ptr(op.outputs[0]), f"{out.nbytes}u"], ["copy.c"])


LOWERINGS = {k: lower_folded for k in TYPES}
FOLD = {k: fold for k in TYPES}
OPERANDS = {
    "SHAPE": Operands(("a",), ("input",)),
    "ZEROS_LIKE": Operands(("a",), ("input",)),
    "FILL": Operands(("c", "c"), ("dims operand", "value")),
    "BROADCAST_ARGS": Operands(("c", "c"), ("first shape operand", "second shape operand")),
}
