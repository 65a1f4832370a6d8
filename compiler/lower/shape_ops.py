"""Ops that move bytes without arithmetic: PAD / PADV2 (constant padding, int8 and int16),
CONCATENATION (int8, int16, int32, int64, bool), and RESHAPE / SQUEEZE of any type (free when the alias pass
let the output share its input's storage, a copy otherwise, e.g. when the input is a constant)."""
from __future__ import annotations

import math

from ..ir import DTYPE_SIZE
from .context import Operands, UNARY


def _arr(values) -> str:
    return "{" + ", ".join(str(v) for v in values) + "}"


def lower_pad(op, ctx):
    inp, out = ctx.tensor(op.inputs[0]), ctx.tensor(op.outputs[0])
    pads_t = ctx.tensor(op.inputs[1])
    if inp.dtype not in ("int8", "int16") or out.dtype != inp.dtype:
        raise ctx.fail(op, "only int8 or int16 input and output of the same type are supported")
    if not pads_t.is_const or pads_t.dtype != "int32":
        raise ctx.fail(op, "the paddings operand must be a constant int32 tensor")
    rank = len(out.shape)
    pads = [int(v) for v in pads_t.data.reshape(-1)]
    if len(inp.shape) != rank or len(pads) != 2 * rank or rank > 5:
        raise ctx.fail(op, "the paddings must hold one (before, after) pair per dim, up to 5 dims")
    if min(pads, default=0) < 0:
        raise ctx.fail(op, "negative paddings are not supported")
    pad_value = _pad_value(op, ctx, out)
    for d in range(rank):
        n, before, after = int(inp.shape[d]), pads[2 * d], pads[2 * d + 1]
        if n + before + after != int(out.shape[d]):
            raise ctx.fail(op, f"output dim {d} should be {n + before + after}")
    dims = pad_dims([int(n) for n in inp.shape], pads)
    if dims is None:
        raise ctx.fail(op, "padding more than 4 separate dims is not supported")
    p = ctx.params(op, "tk_pad_params", {
        "in_dims": _arr(d[0] for d in dims), "out_dims": _arr(d[1] for d in dims),
        "before": _arr(d[2] for d in dims), "pad_value": pad_value})
    kernel = "pad_s8" if inp.dtype == "int8" else "pad_s16"
    ctx.call(op, "tk_" + kernel, [p, ctx.ptr(op.inputs[0]), ctx.ptr(op.outputs[0])],
             [kernel + ".c"])


def pad_dims(shape: list[int], pads: list[int]) -> list[list[int]] | None:
    """tk_pad_s8's four dims [in, out, before] (pad_s8.h): unpadded inner dims merged into their
    outer one, ones in front; None where more than four are padded."""
    dims: list[list[int]] = []
    for d, n in enumerate(shape):
        before, after = pads[2 * d], pads[2 * d + 1]
        if before == 0 and after == 0 and dims:
            dims[-1] = [dims[-1][0] * n, dims[-1][1] * n, dims[-1][2] * n]
        else:
            dims.append([n, n + before + after, before])
    return None if len(dims) > 4 else [[1, 1, 0]] * (4 - len(dims)) + dims


def _pad_value(op, ctx, out) -> int:
    """TFLM PadEval's fill: PADV2's constant as stored; else the output zero point for int8,
    0 for int16 (whatever the zero point: TFLM does not read it)."""
    if op.opcode == "PADV2" and len(op.inputs) > 2 and op.inputs[2] >= 0:
        cv = ctx.tensor(op.inputs[2])
        if not cv.is_const or cv.dtype != out.dtype or cv.num_elements != 1:
            raise ctx.fail(op, f"the constant value must be a constant {out.dtype} scalar")
        same = cv.quant is not None and cv.quant.zero_point[0] == out.quant.zero_point[0] and \
            float(cv.quant.scale[0]) == float(out.quant.scale[0])
        # TFLM PadPrepare (int8): the value is already in the output's quantization
        if out.dtype == "int8" and not same:
            raise ctx.fail(op, "the constant value must have the output's scale and zero point")
        if not same:
            ctx.warn(op, "the int16 constant value is quantized unlike the output; its stored "
                         "value is used as is, as TFLM does")
        return int(cv.data.reshape(-1)[0])
    if out.dtype == "int16" and out.quant.zero_point[0] != 0:
        ctx.warn(op, f"TFLM pads int16 with 0, not the output zero point "
                     f"{out.quant.zero_point[0]}; so does tinykiln")
    return out.quant.zero_point[0] if out.dtype == "int8" else 0


MAX_CONCAT_INPUTS = 16      # TK_CONCAT_MAX_INPUTS in concat_s8.h
CONCAT_TYPES = ("int8", "int16", "int32", "int64", "bool")
RESHAPE_TYPES = ("int8", "int16", "int32", "int64", "bool")     # copies or aliases


def lower_concat(op, ctx):
    out = ctx.tensor(op.outputs[0])
    ins = [ctx.tensor(i) for i in op.inputs]
    rank = len(out.shape)
    axis = int(op.options.get("axis", 0))
    axis = axis + rank if axis < 0 else axis
    if op.options.get("fused_activation_function", "NONE") != "NONE":
        raise ctx.fail(op, "a fused activation on CONCATENATION is not supported (nor by TFLM)")
    if out.dtype not in CONCAT_TYPES or any(t.dtype != out.dtype for t in ins):
        raise ctx.fail(op, f"only {', '.join(CONCAT_TYPES)} inputs and output, all of one type, "
                           f"are supported")
    if not 0 <= axis < rank:
        raise ctx.fail(op, f"axis {op.options.get('axis')} is out of range")
    if not 1 <= len(ins) <= MAX_CONCAT_INPUTS:
        raise ctx.fail(op, f"at most {MAX_CONCAT_INPUTS} inputs are supported")
    for t in ins:
        _concat_quant(op, ctx, t, out)
        if len(t.shape) != rank or any(int(t.shape[d]) != int(out.shape[d])
                                       for d in range(rank) if d != axis):
            raise ctx.fail(op, f"input '{t.name}' does not match the output shape off the axis")
    if sum(int(t.shape[axis]) for t in ins) != int(out.shape[axis]):
        raise ctx.fail(op, "the inputs' sizes along the axis do not add up to the output's")
    if _in_place(ctx.graph, op):
        ctx.alias(op)       # (passes/concat_in_place.py)
        return
    size = DTYPE_SIZE[out.dtype]
    outer = math.prod(int(d) for d in out.shape[:axis])
    blocks = [math.prod(int(d) for d in t.shape[axis:]) * size for t in ins]
    # the kernel copies bytes: wider (or bool) tensors are handed over as int8 pointers
    cast = "" if out.dtype == "int8" else "(const int8_t *)"
    # entries past num_inputs, which the kernel does not read, are left out (zero)
    p = ctx.params(op, "tk_concat_params", {
        "num_inputs": len(ins), "outer": outer,
        "block": _arr(blocks), "input": _arr([cast + ctx.ptr(i) for i in op.inputs])})
    ctx.call(op, "tk_concat_s8", [p, cast.replace("const ", "") + ctx.ptr(op.outputs[0])],
             ["concat_s8.c"])


def _in_place(graph, op) -> bool:
    """Whether every input of the concatenation op already sits where its output holds it."""
    y, off = op.outputs[0], 0
    for a in op.inputs:
        if graph.root(a) != graph.root(y) or graph.root_offset(a) != graph.root_offset(y) + off:
            return False
        off += graph.tensors[a].nbytes
    return True


def _concat_quant(op, ctx, t, out) -> None:
    """TFLM ConcatenationPrepare: int8 inputs quantized as the output; int16 zero points 0 (the
    scales are not compared, nor requantized: values are copied as stored)."""
    if out.dtype == "int16":
        if t.quant.zero_point[0] != 0 or out.quant.zero_point[0] != 0:
            raise ctx.fail(op, "int16 inputs and output must have zero point 0, as TFLM requires")
        if float(t.quant.scale[0]) != float(out.quant.scale[0]):
            ctx.warn(op, f"input '{t.name}' has scale {t.quant.scale[0]:g}, the output "
                         f"{out.quant.scale[0]:g}; values are copied unscaled, as TFLM does")
    elif out.dtype == "int8":
        if float(t.quant.scale[0]) != float(out.quant.scale[0]) or \
                t.quant.zero_point[0] != out.quant.zero_point[0]:
            raise ctx.fail(op, f"input '{t.name}' has scale {t.quant.scale[0]:g} and zero point "
                               f"{t.quant.zero_point[0]}, the output {out.quant.scale[0]:g} and "
                               f"{out.quant.zero_point[0]}; TFLM requires them equal")


def lower_reshape(op, ctx):
    src, dst = op.inputs[0], op.outputs[0]
    a, b = ctx.tensor(src), ctx.tensor(dst)
    if a.nbytes != b.nbytes or a.dtype != b.dtype:
        raise ctx.fail(op, f"the output holds {b.nbytes} bytes of {b.dtype}, the input "
                           f"{a.nbytes} bytes of {a.dtype}")
    if ctx.graph.root(src) == ctx.graph.root(dst):
        ctx.alias(op)
        return
    ctx.call(op, "tk_copy", [ctx.ptr(src), ctx.ptr(dst), f"{a.nbytes}u"], ["copy.c"])


LOWERINGS = {"PAD": lower_pad, "PADV2": lower_pad, "CONCATENATION": lower_concat,
             "RESHAPE": lower_reshape, "SQUEEZE": lower_reshape}
# the tensor types each op accepts (`tinykiln ops`, the README's table): "int8" for int8 in
# and out, "a->b" where they differ
TYPES = {"PAD": ("int8", "int16"), "PADV2": ("int8", "int16"), "CONCATENATION": CONCAT_TYPES,
         "RESHAPE": RESHAPE_TYPES, "SQUEEZE": RESHAPE_TYPES}
# operands as the validator checks them (context.Operands)
OPERANDS = {
    "PAD": Operands(("a", "c"), ("input", "paddings operand")),
    "PADV2": Operands(("a", "c", "v?"), ("input", "paddings operand", "constant value")),
    "CONCATENATION": Operands(("a",), ("input",), variadic=True),
    "RESHAPE": Operands(("a", "s?"), ("input", "shape operand")),
    "SQUEEZE": UNARY,
}
