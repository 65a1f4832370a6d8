"""Data movement without arithmetic, by element size (int8, int16, int32, bool alike): TRANSPOSE,
STRIDED_SLICE, SLICE and BROADCAST_TO are each one walk over the input (slice_copy.c, up to 6
dims after merging), EXPAND_DIMS shares its input's storage like RESHAPE. The walks are also
evaluated here in numpy, so passes/fold_constants.py folds these ops when their input is constant
(the SHAPE -> STRIDED_SLICE -> PACK -> RESHAPE chains a converter emits)."""
from __future__ import annotations

import numpy as np

from ..ir import DTYPE_SIZE, NP_TYPES, Graph, Op
from .context import Call, Operands, op_error

SLICE_DIMS = 6                  # TK_SLICE_DIMS in slice_copy.h
INT32_LIMIT = 1 << 31


def fail(graph: Graph, op: Op, what: str) -> Exception:
    return op_error(graph, op, what)


def c_array(values) -> str:
    return "{" + ", ".join(str(v) for v in values) + "}"


def same_types(op: Op, graph: Graph, types: tuple[str, ...], data_inputs=(0,)) -> str:
    """The element type shared by the op's data inputs and its outputs; refuses anything else."""
    ts = [graph.tensors[op.inputs[k]] for k in data_inputs] + \
        [graph.tensors[t] for t in op.outputs]
    dtype = ts[0].dtype
    if any(t.dtype != dtype for t in ts):
        raise fail(graph, op, f"its data inputs and outputs must share one type, but they are "
                              f"{sorted({t.dtype for t in ts})}")
    if dtype not in types:
        raise fail(graph, op, f"{op.opcode} on {dtype} is not supported (tinykiln and TFLM run "
                              f"it on {', '.join(types)})")
    return dtype


def int_vector(op: Op, graph: Graph, k: int, name: str, dtypes=("int32",),
               length: int | None = None) -> list[int]:
    """The values of constant operand k, a vector (or scalar) of one of `dtypes`."""
    t = graph.tensors[op.inputs[k]]
    if not t.is_const or t.dtype not in dtypes:
        raise fail(graph, op, f"the {name} must be a constant {' or '.join(dtypes)} tensor")
    if len(t.shape) > 1:
        raise fail(graph, op, f"the {name} must be a vector, not of shape {list(t.shape)}")
    values = [int(v) for v in np.asarray(t.data).reshape(-1)]
    if length is not None and len(values) != length:
        raise fail(graph, op, f"the {name} holds {len(values)} values, one per input dim "
                              f"({length}) expected")
    return values


def check_shape(op: Op, graph: Graph, want, k: int = 0) -> None:
    out = graph.tensors[op.outputs[k]]
    if list(out.shape) != [int(d) for d in want]:
        raise fail(graph, op, f"output {k} has shape {list(out.shape)}, but {op.opcode} makes "
                              f"{[int(d) for d in want]} here")


def row_strides(shape) -> list[int]:
    """Elements between consecutive indices of each dim of a row-major tensor."""
    out, n = [], 1
    for d in reversed(list(shape)):
        out.append(n)
        n *= int(d)
    return out[::-1]


def is_folded(op: Op, ctx) -> bool:
    """True (recording a no-code call) when fold_constants made every output a constant."""
    if not all(ctx.tensor(t).is_const for t in op.outputs):
        return False
    outs = ", ".join(f"t{t}" for t in op.outputs)
    ctx.out.calls.append(Call(op.index, op.opcode, "", [], f"op {op.index}: {op.opcode} -> "
                              f"({outs}) folded to constants at compile time", 0, True))
    return True


# ---- a walk: output elements in order, input element start + sum(index[d] * step[d])
def merged_walk(counts, steps) -> tuple[list[int], list[int]]:
    """Drop dims of one element, merge a dim into the one inside it where the input runs on."""
    dims: list[list[int]] = []
    for c, s in zip(counts, steps):
        if c == 1:
            continue
        if dims and dims[-1][1] == s * c:
            dims[-1] = [dims[-1][0] * c, s]
        else:
            dims.append([int(c), int(s)])
    dims = [[1, 0]] * max(SLICE_DIMS - len(dims), 0) + dims
    return [d[0] for d in dims], [d[1] for d in dims]


def walk_values(counts, steps, start: int, data: np.ndarray, shape) -> np.ndarray:
    idx = np.full([int(c) for c in counts], int(start), dtype=np.int64)
    for d, (c, s) in enumerate(zip(counts, steps)):
        view = [1] * len(counts)
        view[d] = int(c)
        idx = idx + (np.arange(int(c), dtype=np.int64) * int(s)).reshape(view)
    return np.asarray(data).reshape(-1)[idx.reshape(-1)].reshape(shape)


def emit_walk(op: Op, ctx, counts, steps, start: int, src: int, dst: int) -> None:
    """One tk_slice_copy call after checking that every element read lies in the input."""
    graph = ctx.graph
    inp, out = graph.tensors[src], graph.tensors[dst]
    if int(np.prod(counts)) != out.num_elements or min(counts, default=1) < 1:
        raise fail(graph, op, f"it would write {int(np.prod(counts))} elements into an output "
                              f"of {out.num_elements}")
    counts, steps = merged_walk(counts, steps)
    if len(counts) > SLICE_DIMS:
        raise fail(graph, op, f"its walk needs {len(counts)} dims; tinykiln moves up to "
                              f"{SLICE_DIMS}")
    lo = start + sum((c - 1) * s for c, s in zip(counts, steps) if s < 0)
    hi = start + sum((c - 1) * s for c, s in zip(counts, steps) if s > 0)
    if lo < 0 or hi >= inp.num_elements:
        raise fail(graph, op, f"it would read elements {lo} to {hi} of an input of "
                              f"{inp.num_elements}")
    elem = DTYPE_SIZE[inp.dtype]
    if elem * (start + sum(abs(s) * c for c, s in zip(counts, steps))) >= INT32_LIMIT:
        raise fail(graph, op, "its input is too large for the kernel's int32 byte offsets")
    p = ctx.params(op, "tk_slice_copy_params", {
        "count": c_array(counts), "in_step": c_array(s * elem for s in steps),
        "in_start": start * elem, "elem": elem})
    ctx.call(op, "tk_slice_copy", [p, ctx.ptr(src), ctx.ptr(dst)], ["slice_copy.c"])


# ---- the walks of each op: (counts, steps, start), checked as TFLM's Prepare checks
def transpose_walk(op: Op, graph: Graph):
    inp = graph.tensors[op.inputs[0]]
    rank = len(inp.shape)
    if rank > 5:
        raise fail(graph, op, f"the input has {rank} dims; TFLM transposes up to 5")
    perm = int_vector(op, graph, 1, "perm operand", length=rank)
    if sorted(perm) != list(range(rank)):
        raise fail(graph, op, f"perm {perm} is not a permutation of the input's {rank} dims")
    check_shape(op, graph, [inp.shape[p] for p in perm])
    st = row_strides(inp.shape)
    return [int(inp.shape[p]) for p in perm], [st[p] for p in perm], 0


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _eval_range(n: int, b: int, e: int, s: int, bmask: bool, emask: bool, shrink: bool):
    """TFLM's Eval bounds of one axis (StridedSliceStartForAxis / EndForAxis, offset unset)."""
    b = b + n if b < 0 else b
    b = min(max(b, 0), n) if s > 0 else min(max(b, -1), n - 1)
    if bmask:
        b = 0 if s > 0 else n - 1
    if shrink:
        return b, (b if b >= n else b + 1)
    e = e + n if e < 0 else e
    e = min(max(e, 0), n) if s > 0 else min(max(e, -1), n - 1)
    if emask:
        e = n if s > 0 else -1
    return b, e


def strided_slice_walk(op: Op, graph: Graph):
    inp = graph.tensors[op.inputs[0]]
    rank = len(inp.shape)
    if rank > 4:
        raise fail(graph, op, f"the input has {rank} dims; TFLM slices up to 4")
    begin, end, strides = (int_vector(op, graph, k, f"{w} operand", length=rank)
                           for k, w in ((1, "begin"), (2, "end"), (3, "strides")))
    o = op.options
    masks = [int(o.get(k, 0)) for k in ("begin_mask", "end_mask", "shrink_axis_mask")]
    st = row_strides(inp.shape)
    counts, steps, start, shape = [], [], 0, []
    for d in range(rank):
        n, s = int(inp.shape[d]), strides[d]
        if s == 0:
            raise fail(graph, op, f"the stride of dim {d} is 0")
        bm, em, shrink = (bool(m >> d & 1) for m in masks)
        b, e = _eval_range(n, begin[d], end[d], s, bm, em, shrink)
        count = max(0, _ceil_div(e - b, s))
        if count == 0:
            raise fail(graph, op, f"dim {d} keeps no element (begin {begin[d]}, end {end[d]}, "
                                  f"stride {s} on a dim of {n}); TFLM would write nothing")
        if not shrink:
            shape.append(count)
        counts.append(count)
        steps.append(s * st[d])
        start += b * st[d]
    check_shape(op, graph, shape)
    return counts, steps, start


def strided_slice_ignored(op: Op) -> list[str]:
    """Options TFLM's STRIDED_SLICE ignores (it zeroes them), so tinykiln does too."""
    return [k for k in ("ellipsis_mask", "new_axis_mask", "offset") if op.options.get(k)]


def slice_walk(op: Op, graph: Graph):
    inp = graph.tensors[op.inputs[0]]
    rank = len(inp.shape)
    if rank > 5:
        raise fail(graph, op, f"the input has {rank} dims; TFLM slices up to 5")
    types = ("int32", "int64")
    if graph.tensors[op.inputs[1]].dtype != graph.tensors[op.inputs[2]].dtype:
        raise fail(graph, op, "the begin and size operands must have one type")
    begin = int_vector(op, graph, 1, "begin operand", types, rank)
    size = int_vector(op, graph, 2, "size operand", types, rank)
    st = row_strides(inp.shape)
    shape, start = [], 0
    for d in range(rank):
        n, b, z = int(inp.shape[d]), begin[d], size[d]
        stop = n if z == -1 else b + z
        if not 0 <= b < stop <= n or z < -1:
            raise fail(graph, op, f"begin {b} and size {z} do not fit dim {d} of {n}")
        shape.append(stop - b)
        start += b * st[d]
    check_shape(op, graph, shape)
    return shape, st, start


def broadcast_to_walk(op: Op, graph: Graph):
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    shape = int_vector(op, graph, 1, "shape operand", ("int32", "int64"))
    rank, r_in = len(shape), len(inp.shape)
    if rank > 5 or r_in > rank:
        raise fail(graph, op, f"input dims {r_in} and shape length {rank}: TFLM broadcasts up "
                              f"to 5 dims, never to fewer")
    check_shape(op, graph, shape)
    st = row_strides(inp.shape)
    steps = []
    for d in range(rank):
        k = d - (rank - r_in)
        if k < 0 or inp.shape[k] == 1:
            steps.append(0)
        elif inp.shape[k] == out.shape[d]:
            steps.append(st[k])
        else:
            raise fail(graph, op, f"input dim {k} ({inp.shape[k]}) does not broadcast to "
                                  f"{out.shape[d]}")
    return list(out.shape), steps, 0


WALKS = {"TRANSPOSE": transpose_walk, "STRIDED_SLICE": strided_slice_walk, "SLICE": slice_walk,
         "BROADCAST_TO": broadcast_to_walk}


def lower_walk(op, ctx):
    same_types(op, ctx.graph, TYPES[op.opcode])
    counts, steps, start = WALKS[op.opcode](op, ctx.graph)
    if op.opcode == "STRIDED_SLICE" and strided_slice_ignored(op):
        ctx.warn(op, f"{', '.join(strided_slice_ignored(op))} ignored, as TFLM ignores them")
    if is_folded(op, ctx):
        return
    emit_walk(op, ctx, counts, steps, start, op.inputs[0], op.outputs[0])


def fold_walk(op: Op, graph: Graph):
    """The output of a walk op whose input is constant (None if it is not)."""
    inp = graph.tensors[op.inputs[0]]
    if not inp.is_const:
        return None
    same_types(op, graph, TYPES[op.opcode])
    counts, steps, start = WALKS[op.opcode](op, graph)
    out = graph.tensors[op.outputs[0]]
    return [walk_values(counts, steps, start, inp.data, out.shape).astype(NP_TYPES[out.dtype])]


def expand_dims_shape(op: Op, graph: Graph) -> list[int]:
    inp = graph.tensors[op.inputs[0]]
    rank = len(inp.shape)
    axis = int_vector(op, graph, 1, "axis operand")
    if len(axis) != 1 or not -rank - 1 <= axis[0] <= rank:
        raise fail(graph, op, f"the axis operand must be one value in [{-rank - 1}, {rank}]")
    a = axis[0] + rank + 1 if axis[0] < 0 else axis[0]
    return list(inp.shape[:a]) + [1] + list(inp.shape[a:])


def lower_expand_dims(op, ctx):
    same_types(op, ctx.graph, TYPES[op.opcode])
    check_shape(op, ctx.graph, expand_dims_shape(op, ctx.graph))
    if is_folded(op, ctx):
        return
    src, dst = op.inputs[0], op.outputs[0]
    if ctx.graph.root(src) == ctx.graph.root(dst):
        ctx.alias(op)
        return
    n = ctx.tensor(src).nbytes
    ctx.call(op, "tk_copy", [ctx.ptr(src), ctx.ptr(dst), f"{n}u"], ["copy.c"])


def fold_expand_dims(op: Op, graph: Graph):
    inp = graph.tensors[op.inputs[0]]
    if not inp.is_const:
        return None
    same_types(op, graph, TYPES[op.opcode])
    shape = expand_dims_shape(op, graph)
    check_shape(op, graph, shape)
    return [np.asarray(inp.data).reshape(shape)]


LOWERINGS = {"TRANSPOSE": lower_walk, "STRIDED_SLICE": lower_walk, "SLICE": lower_walk,
             "BROADCAST_TO": lower_walk, "EXPAND_DIMS": lower_expand_dims}
FOLD = {"TRANSPOSE": fold_walk, "STRIDED_SLICE": fold_walk, "SLICE": fold_walk,
        "BROADCAST_TO": fold_walk, "EXPAND_DIMS": fold_expand_dims}
# element types TFLM runs each op on (float32 aside)
TYPES = {
    "TRANSPOSE": ("int8", "int16"),
    "STRIDED_SLICE": ("int8", "int16", "int32", "bool"),
    "SLICE": ("int8", "int16", "int32", "bool"),
    "BROADCAST_TO": ("int8", "int16", "int32"),
    "EXPAND_DIMS": ("int8", "int16"),
}
OPERANDS = {
    "TRANSPOSE": Operands(("a", "c"), ("input", "perm operand")),
    "STRIDED_SLICE": Operands(("a", "c", "c", "c"), ("input", "begin operand", "end operand",
                                                     "strides operand")),
    "SLICE": Operands(("a", "c", "c"), ("input", "begin operand", "size operand")),
    "BROADCAST_TO": Operands(("a", "c"), ("input", "shape operand")),
    "EXPAND_DIMS": Operands(("a", "c"), ("input", "axis operand")),
}
