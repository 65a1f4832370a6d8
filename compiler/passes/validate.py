"""Validate a model before anything else reads it, as TFLite's flatbuffer verifier and TFLM's
Prepare would: the graph's structure (operand counts, constants where an op needs them, every
tensor written once before it is read, nothing written into a constant or a model input, model
outputs written), tensor types and sizes, and quantization (present, finite positive scales,
zero points in range, per-channel only on weights, symmetric int8 weights).

Rules about one op's shapes and options live with that op's lowering (compiler/lower/*), which
runs in full (the measuring pass) before any C is generated; this pass holds the rules that are
the same for every op; each family's OPERANDS (lower.OPERANDS) gives its ops' operands."""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import ModelError, UnsupportedError
from ..ir import DTYPE_SIZE, Graph, Op
from ..lower import OPERANDS as OPS
from ..lower.context import op_error

# arena and tensors stay below 2^31 bytes: kernels index with int32 arithmetic
MAX_BYTES = 1 << 31

_QUANTIZED = {"int8": (-128, 127), "int16": (-32768, 32767), "uint8": (0, 255)}
_FLOATS = ("float32", "float16", "float64")


def run(graph: Graph) -> Graph:
    """Graph -> Graph (unchanged): raise ModelError / UnsupportedError naming the op and tensor
    for the first rule the model breaks."""
    _io_lists(graph)
    # a variable tensor (state kept across invokes) holds its reset value before any op writes it
    written = set(graph.inputs) | {t.index for t in graph.tensors
                                   if t.is_variable and not t.is_const}
    for op in graph.ops:
        _operands(graph, op)
        _order(graph, op, written)
        written.update(op.outputs)
        _quantization(graph, op)
    for k, t in enumerate(graph.outputs):
        if t not in written:
            tt = graph.tensors[t]
            raise ModelError(f"model output {k} (tensor {t} '{tt.name}') is written by no op and "
                             f"is not a model input.")
    total = sum(_bytes(graph.tensors[t]) for t in written)
    if total >= MAX_BYTES:
        raise UnsupportedError(f"the model's activation tensors hold {total} bytes together; "
                               f"tinykiln plans arenas below 2^31 bytes.")
    return graph


def _bytes(t) -> int:
    return t.num_elements * DTYPE_SIZE.get(t.dtype, 8)


def _tname(graph: Graph, t: int) -> str:
    return f"tensor {t} '{graph.tensors[t].name}'"


def _io_lists(graph: Graph) -> None:
    for kind, lst in (("input", graph.inputs), ("output", graph.outputs)):
        if not lst:
            raise ModelError(f"the model has no {kind}s; tinykiln needs at least one.")
        seen = set()
        for k, t in enumerate(lst):
            tt = graph.tensors[t]
            if t in seen:
                raise ModelError(f"model {kind} {k} ({_tname(graph, t)}) is listed twice among "
                                 f"the model's {kind}s.")
            seen.add(t)
            if tt.is_const:
                raise ModelError(f"model {kind} {k} ({_tname(graph, t)}) is a constant; model "
                                 f"inputs and outputs must be activation tensors.")
            if tt.is_variable and kind == "input":
                raise ModelError(f"model input {k} ({_tname(graph, t)}) is a variable tensor "
                                 f"(state kept across invokes); a model input cannot be one.")
            if any(d <= 0 for d in tt.shape):
                raise ModelError(f"model {kind} {k} ({_tname(graph, t)}) has shape "
                                 f"{list(tt.shape)}; every dimension must be positive.")
            if tt.dtype not in DTYPE_SIZE:
                raise UnsupportedError(f"model {kind} {k} ({_tname(graph, t)}) has type "
                                       f"{tt.dtype}, which tinykiln does not handle.")


def _dtype(graph: Graph, tt, where: str, op: Op | None = None) -> None:
    if tt.dtype not in DTYPE_SIZE and tt.dtype not in _FLOATS:
        what = f"{where} ('{tt.name}') has type {tt.dtype}, which tinykiln does not handle"
        if op is not None:
            raise op_error(graph, op, what)
        raise UnsupportedError(what + ".")


def _operands(graph: Graph, op: Op) -> None:
    """Operand counts and roles from OPS; constants where the op needs them."""
    spec = OPS.get(op.opcode)
    if spec is not None and not spec.outputs_ok(len(op.outputs)):
        raise op_error(graph, op, f"it has {len(op.outputs)} outputs, {op.opcode} has "
                                  f"{spec.outputs_text()}", ModelError)
    for k, t in enumerate(op.outputs):
        _dtype(graph, graph.tensors[t], f"output {k}", op)
        _positive(graph, op, t, f"output {k}")
    if spec is None:
        for k, t in enumerate(op.inputs):
            if t >= 0:
                _dtype(graph, graph.tensors[t], f"input {k}", op)
        return          # check_supported names the op
    roles, names = list(spec.roles), list(spec.names)
    if spec.variadic:
        roles += roles[-1:] * max(len(op.inputs) - len(roles), 0)
        names += names[-1:] * max(len(op.inputs) - len(names), 0)
    required = sum(not r.endswith("?") for r in roles)
    if not required <= len(op.inputs) <= len(roles) or (spec.variadic and not op.inputs):
        n = f"{required}" if required == len(roles) else f"{required} to {len(roles)}"
        if spec.variadic:
            n = "at least 1"
        raise op_error(graph, op, f"it has {len(op.inputs)} inputs, {op.opcode} takes {n}",
                       ModelError)
    for k, t in enumerate(op.inputs):
        role, name = roles[k].rstrip("?"), names[k]
        if t == -1:
            if not roles[k].endswith("?"):
                raise op_error(graph, op, f"its {name} (input {k}) is missing", ModelError)
            continue
        tt = graph.tensors[t]
        if role == "s":
            continue            # ignored: TFLM reshapes to the output tensor's shape
        _dtype(graph, tt, f"its {name}", op)
        _positive(graph, op, t, f"input {k}")
        if role in "wbcv" and not tt.is_const:
            raise op_error(graph, op, f"the {name} must be a constant tensor, but '{tt.name}' "
                                      f"is not (its buffer is empty or it is computed)")
        if role == "b" and tt.dtype not in ("int32", "int64"):     # int64: 16x8 ops
            raise op_error(graph, op, f"the bias '{tt.name}' must be int32 (int64 with int16 "
                                      f"activations), not {tt.dtype}")


def _positive(graph: Graph, op: Op, t: int, where: str) -> None:
    shape = graph.tensors[t].shape
    if any(d <= 0 for d in shape):
        raise op_error(graph, op, f"its {where} ({_tname(graph, t)}) has shape {list(shape)}; "
                                  f"every dimension must be positive", ModelError)


def _order(graph: Graph, op: Op, written: set[int]) -> None:
    """Every input exists before the op runs; every output is a fresh activation tensor."""
    spec = OPS.get(op.opcode)
    for k, t in enumerate(op.inputs):
        if spec is not None and k < len(spec.roles) and spec.roles[k].startswith("s"):
            continue
        if t >= 0 and not graph.tensors[t].is_const and t not in written:
            raise op_error(graph, op, f"its input {k} ({_tname(graph, t)}) is neither a constant, "
                                      f"a model input, nor written by an earlier op", ModelError)
    for k, t in enumerate(op.outputs):
        tt = graph.tensors[t]
        why = None
        if tt.is_variable and not tt.is_const and t not in graph.inputs:
            continue            # state: written in place, invoke after invoke (ASSIGN_VARIABLE)
        if tt.is_const:
            why = "is a constant"
        elif t in graph.inputs:
            why = "is a model input"
        elif t in op.inputs:
            why = "is also one of its inputs"
        elif t in written or t in op.outputs[:k]:
            why = "is already written by an earlier op"
        if why:
            raise op_error(graph, op, f"its output {k} ({_tname(graph, t)}) {why}; an op must "
                                      f"write a tensor of its own", ModelError)


def _quantization(graph: Graph, op: Op) -> None:
    spec = OPS.get(op.opcode)
    if spec is None:
        return
    roles = list(spec.roles) + [spec.roles[-1]] * max(len(op.inputs) - len(spec.roles), 0)
    names = list(spec.names) + [spec.names[-1]] * max(len(op.inputs) - len(spec.names), 0)
    checks = [(t, roles[k].rstrip("?"), names[k]) for k, t in enumerate(op.inputs) if t >= 0]
    checks += [(t, "a", "output") for t in op.outputs]
    for t, role, name in checks:
        if role not in "awv":
            continue
        tt = graph.tensors[t]
        if tt.dtype not in _QUANTIZED:
            continue            # float edges (QUANTIZE / DEQUANTIZE); other types: the lowering
        q = tt.quant
        where = f"the {name} tensor '{tt.name}'"
        if q is None or not q.scale:
            raise op_error(graph, op, f"{where} is {tt.dtype} without quantization parameters")
        for s in q.scale:
            if not (math.isfinite(s) and s > 0):
                raise op_error(graph, op, f"{where} has quantization scale {s}; scales must be "
                                          f"finite and positive", ModelError)
        lo, hi = _QUANTIZED[tt.dtype]
        for z in q.zero_point:
            if not lo <= z <= hi:
                raise op_error(graph, op, f"{where} has zero point {z}, outside {tt.dtype}'s "
                                          f"[{lo}, {hi}]", ModelError)
        if len(q.scale) > 1:
            if role != "w":
                raise op_error(graph, op, f"{where} has {len(q.scale)} scales; only weights may "
                                          f"be quantized per channel")
            if not 0 <= q.axis < len(tt.shape) or len(q.scale) != tt.shape[q.axis]:
                raise op_error(graph, op, f"{where} has {len(q.scale)} scales along dimension "
                                          f"{q.axis} of its shape {list(tt.shape)}", ModelError)
        if role == "w" and tt.dtype == "int8" and any(z != 0 for z in q.zero_point):
            raise op_error(graph, op, f"int8 weights must have zero point 0 (symmetric "
                                      f"quantization, as TFLM requires), but {where} has "
                                      f"{sorted(set(q.zero_point))[-1]}")
