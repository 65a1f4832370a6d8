"""ADD and MUL, int8 and int16, with broadcasting: TFLM CalculateOpDataAdd / CalculateOpDataMul.
The broadcast is collapsed here to at most 6 dims (TFLM's limit) with per-input strides, 0 along
broadcast dims. int16 ADD takes TFLM's general-scale path (TFLM ignores pot_scale_int16); int16
MUL needs zero points 0, as TFLM does."""
from __future__ import annotations

import numpy as np

from ..errors import UnsupportedError
from .fixedpoint import mul_by_quantized_multiplier
from .multipliers import activation_range, quantize_multiplier

INT_RANGE = {"int8": (-128, 127), "int16": (-32768, 32767)}
from .context import Operands

NDIM = 6        # dims[] in tk_add_params / tk_mul_params


def broadcast_plan(shape1, shape2, out_shape):
    """(dims[6], strides1[6], strides2[6]) in elements, innermost last; None if > 6 dims remain
    after merging, ValueError if the shapes do not broadcast to out_shape, or if the inputs'
    shapes are equal and out_shape holds more elements (TFLM's same-shape path would stop at
    the inputs' size)."""
    rank = len(out_shape)
    if len(shape1) > rank or len(shape2) > rank:
        raise ValueError("an input has more dims than the output")
    s1 = [1] * (rank - len(shape1)) + [int(d) for d in shape1]
    s2 = [1] * (rank - len(shape2)) + [int(d) for d in shape2]
    groups: list[list[int]] = []          # [size, broadcast1, broadcast2]
    for a, b, o in zip(s1, s2, (int(d) for d in out_shape)):
        if (a != o and a != 1) or (b != o and b != 1):
            raise ValueError("the input shapes do not broadcast to the output shape")
        if o == 1:
            continue
        key = [a == 1, b == 1]
        if groups and groups[-1][1:] == key:
            groups[-1][0] *= o
        else:
            groups.append([o] + key)
    if s1 == s2 and any(g[1] for g in groups):
        raise ValueError("the output shape is larger than the input shapes, which are equal")
    if len(groups) > NDIM:
        return None
    groups = [[1, True, True]] * (NDIM - len(groups)) + groups
    dims = [g[0] for g in groups]
    strides = []
    for k in (1, 2):
        st, acc = [0] * NDIM, 1
        for i in range(NDIM - 1, -1, -1):
            if not groups[i][k]:
                st[i] = acc
                acc *= dims[i]
        strides.append(st)
    return dims, strides[0], strides[1]


def _common(op, ctx):
    a, b, out = (ctx.tensor(op.inputs[0]), ctx.tensor(op.inputs[1]), ctx.tensor(op.outputs[0]))
    if out.dtype not in INT_RANGE or a.dtype != out.dtype or b.dtype != out.dtype:
        raise ctx.fail(op, "its inputs and output must be all int8 or all int16")
    for t in (a, b, out):
        if t.quant is None or t.quant.per_channel:
            raise ctx.fail(op, f"tensor '{t.name}' must be quantized per tensor")
    try:
        plan = broadcast_plan(a.shape, b.shape, out.shape)
    except ValueError as e:
        raise ctx.fail(op, str(e)) from None
    if plan is None:
        raise ctx.fail(op, f"the broadcast needs more than {NDIM} dims after merging")
    try:
        act = activation_range(op.options.get("fused_activation_function", "NONE"),
                               out.quant.scale[0], out.quant.zero_point[0],
                               *INT_RANGE[out.dtype])
    except UnsupportedError as e:
        raise ctx.fail(op, str(e).rstrip(".")) from None
    dims, st1, st2 = plan
    fields = {"bcast": {"dims": _arr(dims), "stride1": _arr(st1), "stride2": _arr(st2)},
              "input1_offset": -a.quant.zero_point[0], "input2_offset": -b.quant.zero_point[0]}
    return a, b, out, act, fields


def _arr(values) -> str:
    return "{" + ", ".join(str(int(v)) for v in values) + "}"


def ew_out(m: int, shift: int, bound: int, zo: int, lo: int, hi: int) -> dict:
    """The tk_ew_out block (runtime_c/ew_s8.h) of an int8 ADD, SUB or MUL whose accumulator
    stays within +-bound: fast (tk_requant_fast, stored shift -shift - 1) when the shift is a
    right shift (multiplier 0 takes shift -1) and bound < 2^30, else TFLM's shift as it is."""
    shift = -1 if m == 0 else shift
    fast = shift <= -1 and bound < (1 << 30)
    return {"multiplier": m, "shift": -shift - 1 if fast else shift, "fast": int(fast),
            "output_offset": zo, "act_min": lo, "act_max": hi}


def ew_variant(op, ctx, out: dict, swap: bool = False) -> dict:
    """tk_add8_params' / tk_mul8_params' variant and rows (add_s8.h) for `out` (ew_out's block,
    made general when both inputs are broadcast along the innermost dim); `swap`: the kernel
    takes input 2 first."""
    a, b, y = (ctx.tensor(i) for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    dims, st1, st2 = broadcast_plan(a.shape, b.shape, y.shape)
    one = dims[5] == 1
    sa, sb = st1[5] != 0 or one, st2[5] != 0 or one
    if swap:
        sa, sb = sb, sa
    kind = 0 if sa and sb else 1 if sa else 2 if sb else 3
    fast = out.pop("fast")
    if kind == 3 and fast:
        fast, out["shift"] = 0, -out["shift"] - 1
    mode = 0 if not fast else 2 if (out["act_min"], out["act_max"]) == (-128, 127) else 1
    rows = int(np.prod(dims[:5])) if y.num_elements else 0
    return {"out": out, "variant": 9 if kind == 3 else 3 * kind + mode, "rows": rows}


# int8 ADD/SUB ops look their inputs' rescaled values up in two 256-entry int32 tables (2 KB of
# flash, for about 8 fewer instructions per element on Cortex-M4) when the ops sharing those tables
# (the same op kind and input quantization: identical tables are emitted once, as in an unrolled
# recurrent cell's time steps) have at least this many output elements in all, at most 16 bytes
# of table per element; others compute them (tk_ew_in2, ew_s8.h)
TABLE_MIN_ELEMENTS = 256


def _table_key(graph, op) -> tuple:
    a, b = (graph.tensors[i] for i in op.inputs[:2])
    return (op.opcode, float(a.quant.scale[0]), int(a.quant.zero_point[0]),
            float(b.quant.scale[0]), int(b.quant.zero_point[0]))


def table_elements(op, ctx) -> int:
    """Output elements of all the int8 ADD/SUB ops whose input tables equal op's."""
    g = ctx.graph
    totals = getattr(ctx, "_ew_table_elements", None)
    if totals is None:
        totals = {}
        for o in g.ops:
            if (o.opcode in ("ADD", "SUB") and len(o.inputs) >= 2 and min(o.inputs[:2]) >= 0
                    and o.outputs and g.tensors[o.outputs[0]].dtype == "int8"
                    and all(g.tensors[i].quant is not None and len(g.tensors[i].quant.scale)
                            for i in o.inputs[:2])):
                key = _table_key(g, o)
                totals[key] = totals.get(key, 0) + g.tensors[o.outputs[0]].num_elements
        ctx._ew_table_elements = totals
    return totals.get(_table_key(g, op), ctx.tensor(op.outputs[0]).num_elements)


def input_stage(zero_point: int, m: int, shift: int, sign: int) -> tuple[list[int], dict | None]:
    """An int8 ADD/SUB input's rescaled value, sign * 2 * ((x - zp) << 20) * m * 2^shift with
    TFLM's rounding, for x = -128..127 (the table of runtime_c/add_s8.h), and the tk_ew_in
    block that computes the same (None if it does not: checked on all 256 values)."""
    vals = [sign * 2 * mul_by_quantized_multiplier((x - zero_point) << 20, m, shift)
            for x in range(-128, 128)]
    if shift == 0 and m == 1 << 30:
        lsh, e1 = 22, 0         # (x << 22) * 2^30 / 2^31, halved with rounding: exact
    elif shift <= -1:
        lsh, e1 = 21, -shift - 1
    else:
        return vals, None
    blk = {"scale": sign << lsh, "bias": -sign * zero_point << lsh, "multiplier": m, "e1": e1}
    for x, want in zip(range(-128, 128), vals):
        h = ((x * blk["scale"] + blk["bias"]) * m + (1 << 31)) >> 32
        if (((h - (h < 0)) >> e1) + 1) & ~1 != want:
            return vals, None
    return vals, blk


def lower_add_s8(op, ctx, fields: dict, sign: int):
    """int8 ADD (sign 1) and SUB (sign -1): tk_add_s8, its inputs' values tabulated or computed
    (then the input at the larger scale, multiplier 1/2, goes first, exact in one multiply-add:
    the kernel's register budget has room for one tk_ew_in only)."""
    q, fn = fields["quant"], fields
    stages = [input_stage(-fn[f"input{k}_offset"], fn[f"input{k}_multiplier"],
                          fn[f"input{k}_shift"], s) for k, s in ((1, 1), (2, sign))]
    # the values are 2x: the accumulator x is within their maxima's sum / 2
    bound = sum(max(map(abs, v)) for v, _ in stages) // 2 + 1
    out = ew_out(fn["output_multiplier"], fn["output_shift"], bound, q["output_offset"],
                 q["act_min"], q["act_max"])
    halves = [(fn[f"input{k}_multiplier"], fn[f"input{k}_shift"]) == (1 << 30, 0) for k in (1, 2)]
    swap = not halves[0]
    first, second = (1, 0) if swap else (0, 1)
    sgn, off = (1, sign)[first], fn[f"input{first + 1}_offset"]
    table = (table_elements(op, ctx) >= TABLE_MIN_ELEMENTS or not any(halves)
             or stages[second][1] is None
             or stages[first][0] != [sgn * (x + off) << 20 for x in range(-128, 128)])
    swap = swap and not table
    ins, bc = list(op.inputs[:2]), dict(fn["bcast"])
    if swap:
        ins.reverse()
        bc["stride1"], bc["stride2"] = bc["stride2"], bc["stride1"]
    block = {"bcast": bc, **ew_variant(op, ctx, out, swap)}
    if table:
        for k, (vals, _) in zip(("1", "2"), stages):
            block["table" + k] = ctx.const(op, f"in{k}", "int32_t", vals, (
                f"input {k} of the int8 {op.opcode}, 2 * its rescaled value (TFLM's "
                f"((x + offset) << 20) * multiplier * 2^shift"
                f"{', negated' if sign < 0 and k == '2' else ''}) at x + 128"))
    else:
        block.update(in1_scale=sgn << 20, in1_bias=sgn * off << 20, in2=stages[second][1],
                     variant=block["variant"] + 10)
    p = ctx.params(op, "tk_add8_params", block)
    ctx.call(op, "tk_add_s8", [p, ctx.ptr(ins[0]), ctx.ptr(ins[1]), ctx.ptr(op.outputs[0])],
             ["add_s8.c"])


def lower_add(op, ctx):
    a, b, out, (act_min, act_max), fields = _common(op, ctx)
    left_shift = 20 if out.dtype == "int8" else 15
    # double arithmetic on the float32 scales, as TFLM does
    s1, s2, so = float(a.quant.scale[0]), float(b.quant.scale[0]), float(out.quant.scale[0])
    twice_max = 2 * max(s1, s2)
    m1, sh1 = quantize_multiplier(s1 / twice_max)
    m2, sh2 = quantize_multiplier(s2 / twice_max)
    mo, sho = quantize_multiplier(twice_max / ((1 << left_shift) * so))
    if sho > 0:
        raise ctx.fail(op, f"the output scale {so:g} is too small for the input scales "
                           f"({s1:g}, {s2:g}): the output multiplier exceeds 1")
    fields.update({"left_shift": left_shift,
                   "input1_multiplier": m1, "input1_shift": sh1,
                   "input2_multiplier": m2, "input2_shift": sh2,
                   "output_multiplier": mo, "output_shift": sho,
                   "quant": {"output_offset": out.quant.zero_point[0],
                             "act_min": act_min, "act_max": act_max}})
    if out.dtype == "int8":
        return lower_add_s8(op, ctx, fields, 1)
    p = ctx.params(op, "tk_add_params", fields)
    kind = "s8" if out.dtype == "int8" else "s16"
    ctx.call(op, f"tk_add_{kind}", [p, ctx.ptr(op.inputs[0]), ctx.ptr(op.inputs[1]),
                                    ctx.ptr(op.outputs[0])], [f"add_{kind}.c"])


def lower_mul(op, ctx):
    a, b, out, (act_min, act_max), fields = _common(op, ctx)
    if out.dtype == "int16" and (a.quant.zero_point[0] or b.quant.zero_point[0]
                                 or out.quant.zero_point[0]):
        raise ctx.fail(op, "int16 MUL needs zero point 0 on its inputs and output, as TFLM "
                           "requires")
    if out.dtype == "int16":        # offsets 0: the int16 kernel has none to read
        del fields["input1_offset"], fields["input2_offset"]
    m = float(a.quant.scale[0]) * float(b.quant.scale[0]) / float(out.quant.scale[0])
    mo, sho = quantize_multiplier(m)
    if out.dtype == "int8":
        off1, off2 = fields["input1_offset"], fields["input2_offset"]
        bound = max(abs(-128 + off1), abs(127 + off1)) * max(abs(-128 + off2), abs(127 + off2))
        p = ctx.params(op, "tk_mul8_params", {
            "bcast": fields["bcast"], "input1_offset": off1, "input2_offset": off2,
            **ew_variant(op, ctx, ew_out(mo, sho, bound, out.quant.zero_point[0], act_min,
                                         act_max))})
        ctx.call(op, "tk_mul_s8", [p, ctx.ptr(op.inputs[0]), ctx.ptr(op.inputs[1]),
                                   ctx.ptr(op.outputs[0])], ["mul_s8.c"])
        return
    fields.update({"output_multiplier": mo, "output_shift": sho,
                   "quant": {"output_offset": out.quant.zero_point[0],
                             "act_min": act_min, "act_max": act_max}})
    p = ctx.params(op, "tk_mul_params", fields)
    kind = "s8" if out.dtype == "int8" else "s16"
    ctx.call(op, f"tk_mul_{kind}", [p, ctx.ptr(op.inputs[0]), ctx.ptr(op.inputs[1]),
                                    ctx.ptr(op.outputs[0])], [f"mul_{kind}.c"])


LOWERINGS = {"ADD": lower_add, "MUL": lower_mul}
# the tensor types each op accepts (`tinykiln ops`, the README's table): "int8" for int8 in
# and out, "a->b" where they differ
TYPES = {op: ("int8", "int16") for op in LOWERINGS}
# operands as the validator checks them (context.Operands)
OPERANDS = {op: Operands(("a", "a"), ("input 1", "input 2")) for op in LOWERINGS}

