"""Data movement between one tensor and several: SPLIT, SPLIT_V and UNPACK (one input, several
outputs), PACK (several inputs, one output) as blocks per outer index (slice_split.c), and GATHER
(gather.c), whose indices are read at run time and clamped into the axis."""
from __future__ import annotations

import math

import numpy as np

from ..ir import C_TYPES, DTYPE_SIZE, NP_TYPES, Graph, Op
from .context import Operands
from .datamove import check_shape, fail, int_vector, is_folded, same_types

TYPES = {
    "SPLIT": ("int8", "int16", "int32"),
    "SPLIT_V": ("int8", "int16", "int32"),
    "UNPACK": ("int8", "int16", "int32"),
    "PACK": ("int8", "int16", "int32", "int64"),
    "GATHER": ("int8",),
}


def _axis(op: Op, graph: Graph, value: int, rank: int) -> int:
    a = value + rank if value < 0 else value
    if not 0 <= a < rank:
        raise fail(graph, op, f"axis {value} is outside the {rank} dims")
    return a


def split_parts(op: Op, graph: Graph):
    """(axis, dims along the axis of each part) of SPLIT, SPLIT_V or UNPACK."""
    data = {"SPLIT": 1}.get(op.opcode, 0)
    inp = graph.tensors[op.inputs[data]]
    rank = len(inp.shape)
    if op.opcode == "UNPACK":
        axis = _axis(op, graph, int(op.options.get("axis", 0)), rank)
        want = list(inp.shape[:axis]) + list(inp.shape[axis + 1:])
        if inp.shape[axis] != len(op.outputs):
            raise fail(graph, op, f"it has {len(op.outputs)} outputs, but the input's dim "
                                  f"{axis} is {inp.shape[axis]}")
        for k in range(len(op.outputs)):
            check_shape(op, graph, want, k)
        return axis, [1] * len(op.outputs)
    value = int_vector(op, graph, 0 if op.opcode == "SPLIT" else 2, "axis operand")
    if len(value) != 1:
        raise fail(graph, op, "the axis operand must hold one value")
    axis = _axis(op, graph, value[0], rank)
    sizes = []
    for k, t in enumerate(op.outputs):
        shape = list(graph.tensors[t].shape)
        if len(shape) != rank:
            raise fail(graph, op, f"output {k} has {len(shape)} dims, the input {rank}")
        sizes.append(shape[axis])
        check_shape(op, graph, list(inp.shape[:axis]) + [shape[axis]] +
                    list(inp.shape[axis + 1:]), k)
    if sum(sizes) != inp.shape[axis]:
        raise fail(graph, op, f"the outputs' dims {axis} add up to {sum(sizes)}, the input's is "
                              f"{inp.shape[axis]}")
    return axis, sizes


def pack_axis(op: Op, graph: Graph) -> int:
    inp = graph.tensors[op.inputs[0]]
    rank = len(inp.shape) + 1
    axis = _axis(op, graph, int(op.options.get("axis", 0)), rank)
    if int(op.options.get("values_count", 0)) != len(op.inputs):
        raise fail(graph, op, f"values_count is {op.options.get('values_count', 0)}, but it has "
                              f"{len(op.inputs)} inputs")
    for t in op.inputs:
        if graph.tensors[t].shape != inp.shape:
            raise fail(graph, op, "its inputs must all have one shape")
    check_shape(op, graph, list(inp.shape[:axis]) + [len(op.inputs)] + list(inp.shape[axis:]))
    return axis


def _emit_parts(op: Op, ctx, whole: int, parts: list[int], axis: int, sizes: list[int]):
    shape = ctx.tensor(whole).shape
    elem = DTYPE_SIZE[ctx.tensor(whole).dtype]
    inner = math.prod(int(d) for d in shape[axis + 1:]) * elem
    offsets = []
    for t in parts:
        tt = ctx.tensor(t)
        key = ("t", ctx.graph.root(t))
        if tt.is_const or getattr(tt, "is_variable", False) or key not in ctx.offsets:
            raise ctx.fail(op, f"'{tt.name}' is a constant or a variable; {op.opcode} moves "
                               f"between activation tensors only")
        offsets.append(int(ctx.offsets[key]) + ctx.graph.root_offset(t))
    params = ctx.params(op, "tk_parts_params", {
        "parts": len(parts), "outer": math.prod(int(d) for d in shape[:axis]),
        "block": ctx.const(op, "block", "int32_t", [s * inner for s in sizes],
                           "bytes of each part per outer index"),
        "offset": ctx.const(op, "offset", "int32_t", offsets,
                            "arena byte offset of each part")})
    # the arena's start: part 0's place less its offset
    arena = f"(uint8_t *){ctx.ptr(parts[0])}" + (f" - {offsets[0]}" if offsets[0] else "")
    return params, arena


def lower_split(op, ctx):
    data = 1 if op.opcode == "SPLIT" else 0
    same_types(op, ctx.graph, TYPES[op.opcode], (data,))
    axis, sizes = split_parts(op, ctx.graph)
    if is_folded(op, ctx):
        return
    p, arena = _emit_parts(op, ctx, op.inputs[data], op.outputs, axis, sizes)
    ctx.call(op, "tk_split", [p, ctx.ptr(op.inputs[data]), arena], ["slice_split.c"])


def lower_pack(op, ctx):
    same_types(op, ctx.graph, TYPES[op.opcode], tuple(range(len(op.inputs))))
    axis = pack_axis(op, ctx.graph)
    if is_folded(op, ctx):
        return
    if all(ctx.tensor(t).is_const for t in op.inputs):     # a model output: copy the result
        out = ctx.tensor(op.outputs[0])
        name = ctx.const(op, "value", C_TYPES[out.dtype], fold_pack(op, ctx.graph)[0],
                         f"the output, computed at compile time ({list(out.shape)})")
        ctx.call(op, "tk_copy", [name, ctx.ptr(op.outputs[0]), f"{out.nbytes}u"], ["copy.c"])
        return
    p, arena = _emit_parts(op, ctx, op.outputs[0], op.inputs, axis, [1] * len(op.inputs))
    ctx.call(op, "tk_pack", [p, arena, ctx.ptr(op.outputs[0])], ["slice_split.c"])


def fold_split(op: Op, graph: Graph):
    data = 1 if op.opcode == "SPLIT" else 0
    inp = graph.tensors[op.inputs[data]]
    if not inp.is_const:
        return None
    same_types(op, graph, TYPES[op.opcode], (data,))
    axis, sizes = split_parts(op, graph)
    parts = np.split(np.asarray(inp.data).reshape(inp.shape), np.cumsum(sizes)[:-1], axis=axis)
    return [p.reshape(graph.tensors[t].shape) for p, t in zip(parts, op.outputs)]


def fold_pack(op: Op, graph: Graph):
    ins = [graph.tensors[t] for t in op.inputs]
    if not all(t.is_const for t in ins):
        return None
    same_types(op, graph, TYPES[op.opcode], tuple(range(len(op.inputs))))
    axis = pack_axis(op, graph)
    return [np.stack([np.asarray(t.data).reshape(t.shape) for t in ins], axis=axis)]


# ---- GATHER
def gather_dims(op: Op, graph: Graph) -> dict:
    inp, ix = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
    if ix.dtype not in ("int32", "int64"):
        raise fail(graph, op, f"the indices must be int32 or int64, not {ix.dtype}")
    rank, irank = len(inp.shape), len(ix.shape)
    axis = int(op.options.get("axis", 0))
    axis = axis + rank if axis < 0 else axis
    bd = int(op.options.get("batch_dims", 0))
    bd = bd + irank if bd < 0 else bd
    if not (0 <= axis < rank and 0 <= bd <= axis and bd < rank and bd <= irank):
        raise fail(graph, op, f"axis {op.options.get('axis', 0)} and batch_dims "
                              f"{op.options.get('batch_dims', 0)} do not fit an input of {rank} "
                              f"dims and indices of {irank}")
    if list(inp.shape[:bd]) != list(ix.shape[:bd]):
        raise fail(graph, op, f"the input's and the indices' first {bd} dims differ")
    check_shape(op, graph, list(inp.shape[:axis]) + list(ix.shape[bd:]) +
                list(inp.shape[axis + 1:]))
    n = int(inp.shape[axis])
    if ix.is_const:
        bad = [int(v) for v in np.asarray(ix.data).reshape(-1) if not 0 <= v < n]
        if bad:
            raise fail(graph, op, f"index {bad[0]} is outside the axis of {n}")
    prod = lambda ds: math.prod(int(d) for d in ds)     # noqa: E731
    return {"batch": prod(inp.shape[:bd]), "outer": prod(inp.shape[bd:axis]),
            "coords": prod(ix.shape[bd:]), "axis_size": n, "inner": prod(inp.shape[axis + 1:])}


def lower_gather(op, ctx):
    same_types(op, ctx.graph, TYPES["GATHER"])
    d = gather_dims(op, ctx.graph)
    if is_folded(op, ctx):
        return
    elem = DTYPE_SIZE[ctx.tensor(op.inputs[0]).dtype]
    p = ctx.params(op, "tk_gather_params", {
        "batch": d["batch"], "outer": d["outer"], "coords": d["coords"],
        "axis_size": d["axis_size"], "inner_bytes": d["inner"] * elem,
        "index_bytes": DTYPE_SIZE[ctx.tensor(op.inputs[1]).dtype]})
    ctx.call(op, "tk_gather", [p, ctx.ptr(op.inputs[0]), ctx.ptr(op.inputs[1]),
                               ctx.ptr(op.outputs[0])], ["gather.c"])


def fold_gather(op: Op, graph: Graph):
    inp, ix = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
    if not (inp.is_const and ix.is_const):
        return None
    same_types(op, graph, TYPES["GATHER"])
    d = gather_dims(op, graph)
    x = np.asarray(inp.data).reshape(d["batch"], d["outer"], d["axis_size"], d["inner"])
    i = np.asarray(ix.data).reshape(d["batch"], d["coords"]).astype(np.int64)
    y = np.stack([x[b][:, i[b], :] for b in range(d["batch"])])
    out = graph.tensors[op.outputs[0]]
    return [y.reshape(out.shape).astype(NP_TYPES[out.dtype])]


LOWERINGS = {"SPLIT": lower_split, "SPLIT_V": lower_split, "UNPACK": lower_split,
             "PACK": lower_pack, "GATHER": lower_gather}
FOLD = {"SPLIT": fold_split, "SPLIT_V": fold_split, "UNPACK": fold_split, "PACK": fold_pack,
        "GATHER": fold_gather}
OPERANDS = {
    "SPLIT": Operands(("c", "a"), ("axis operand", "input"), outputs=0),
    "SPLIT_V": Operands(("a", "s", "c"), ("input", "size_splits operand", "axis operand"),
                        outputs=0),
    "UNPACK": Operands(("a",), ("input",), outputs=0),
    "PACK": Operands(("a",), ("input",), variadic=True),
    "GATHER": Operands(("a", "a"), ("input", "indices")),
}
