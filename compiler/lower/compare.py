"""The comparisons (EQUAL, NOT_EQUAL, LESS, LESS_EQUAL, GREATER, GREATER_EQUAL) to bool, and
SELECT_V2, with broadcasting, as TFLM's comparisons.cc and select.cc run them: int8 compares
both inputs rescaled (left shift 8, each input's scale as its multiplier, always, as TFLM
does), int32 the stored values. TFLM has no int16 comparisons (its int16 GREATER runs with
unset rescaling parameters) and no SELECT (only SELECT_V2, int8 and int16)."""
from __future__ import annotations

from .binary import bcast_fields, carr, io, multiplier, qparams, same_types
from .context import Operands
from .elementwise import NDIM

# the comparison code the kernel switches on (compare.h)
CMP_CODES = {"EQUAL": 0, "NOT_EQUAL": 1, "LESS": 2, "LESS_EQUAL": 3, "GREATER": 4,
             "GREATER_EQUAL": 5}


def lower_compare(op, ctx):
    a, b, out = io(op, ctx)
    if out.dtype != "bool":
        raise ctx.fail(op, f"its output must be bool, not {out.dtype}")
    if a.dtype == "int16" or b.dtype == "int16":
        raise ctx.fail(op, "int16 comparisons are not supported: TFLM runs only GREATER in "
                           "int16, without its rescaling parameters, so its results are wrong")
    dtype = same_types(op, ctx, (a, b), ("int8", "int32"), "inputs")
    fields = {"bcast": bcast_fields(op, ctx, a, b, out), "op": CMP_CODES[op.opcode]}
    if dtype == "int8":
        (s1, z1), (s2, z2) = qparams(a), qparams(b)
        if not (s1 < 1.0 and s2 < 1.0):
            raise ctx.fail(op, f"int8 comparisons need input scales below 1, as TFLM does (it "
                               f"uses each scale as a multiplier); they are {s1:g} and {s2:g}")
        m1 = multiplier(op, ctx, s1, "input 1 scale", True)
        m2 = multiplier(op, ctx, s2, "input 2 scale", True)
        fields.update({"input1_offset": -z1, "input2_offset": -z2, "left_shift": 8,
                       "input1_multiplier": m1[0], "input1_shift": m1[1],
                       "input2_multiplier": m2[0], "input2_shift": m2[1]})
    p = ctx.params(op, "tk_compare_params", fields)
    k = "s8" if dtype == "int8" else "s32"
    ctx.call(op, f"tk_compare_{k}",
             [p, ctx.ptr(op.inputs[0]), ctx.ptr(op.inputs[1]), ctx.ptr(op.outputs[0])],
             [f"compare_{k}.c"])


def broadcast_plan3(shapes, out_shape):
    """broadcast_plan for three inputs: (dims[6], [strides[6]] * 3) in elements, innermost last;
    None if more than 6 dims remain after merging, ValueError if the shapes do not broadcast
    to out_shape."""
    rank = len(out_shape)
    if any(len(s) > rank for s in shapes):
        raise ValueError("an input has more dims than the output")
    ext = [[1] * (rank - len(s)) + [int(d) for d in s] for s in shapes]
    groups: list[list] = []               # [size, (broadcast flag per input)]
    for k, o in enumerate(int(d) for d in out_shape):
        if any(s[k] not in (1, o) for s in ext):
            raise ValueError("the input shapes do not broadcast to the output shape")
        if o == 1:
            continue
        key = tuple(s[k] == 1 for s in ext)
        if groups and groups[-1][1] == key:
            groups[-1][0] *= o
        else:
            groups.append([o, key])
    if all(s == ext[0] for s in ext) and any(all(g[1]) for g in groups):
        raise ValueError("the output shape is larger than the input shapes, which are equal")
    if len(groups) > NDIM:
        return None
    groups = [[1, (True,) * len(shapes)]] * (NDIM - len(groups)) + groups
    dims = [g[0] for g in groups]
    strides = []
    for k in range(len(shapes)):
        st, acc = [0] * NDIM, 1
        for i in range(NDIM - 1, -1, -1):
            if not groups[i][1][k]:
                st[i] = acc
                acc *= dims[i]
        strides.append(st)
    return dims, strides


def lower_select_v2(op, ctx):
    c, x, y = (ctx.tensor(t) for t in op.inputs)
    out = ctx.tensor(op.outputs[0])
    if c.dtype != "bool":
        raise ctx.fail(op, f"its condition must be bool, not {c.dtype}")
    dtype = same_types(op, ctx, (x, y, out), ("int8", "int16"), "values and output")
    if not qparams(x) == qparams(y) == qparams(out):
        raise ctx.fail(op, "its two value inputs and its output must share one scale and zero "
                           "point")
    if max(len(c.shape), len(x.shape), len(y.shape)) != len(out.shape):
        raise ctx.fail(op, "its output's rank must be the largest of its inputs' ranks, as "
                           "TFLM requires")
    try:
        plan = broadcast_plan3((c.shape, x.shape, y.shape), out.shape)
    except ValueError as e:
        raise ctx.fail(op, str(e)) from None
    if plan is None:
        raise ctx.fail(op, f"the broadcast needs more than {NDIM} dims after merging")
    dims, (st1, st2, st3) = plan
    p = ctx.params(op, "tk_select_params", {"bcast": {
        "dims": carr(dims), "stride1": carr(st1), "stride2": carr(st2), "stride3": carr(st3)}})
    k = "s8" if dtype == "int8" else "s16"
    ctx.call(op, f"tk_select_{k}", [p] + [ctx.ptr(t) for t in op.inputs]
             + [ctx.ptr(op.outputs[0])], [f"select_{k}.c"])


LOWERINGS = {**{k: lower_compare for k in CMP_CODES}, "SELECT_V2": lower_select_v2}
TYPES = {**{k: ("int8->bool", "int32->bool") for k in CMP_CODES}, "SELECT_V2": ("int8", "int16")}
OPERANDS = {**{k: Operands(("a", "a"), ("input 1", "input 2")) for k in CMP_CODES},
            "SELECT_V2": Operands(("a", "a", "a"), ("condition", "x", "y"))}
