"""ARG_MAX and ARG_MIN: TFLM reference_ops::ArgMinMax. TFLM runs them on int8 input with an int32
axis and int32 output only (the output tensor's type decides, as in TFLM; the output_type option
is not read); the index of the first maximum (minimum) is kept on ties. The input is
seen as [outer, axis, inner] so the kernel has no rank limit."""
from __future__ import annotations

from .context import Operands

def lower_arg_min_max(op, ctx):
    inp, out = ctx.tensor(op.inputs[0]), ctx.tensor(op.outputs[0])
    axis_t = ctx.tensor(op.inputs[1])
    if inp.dtype != "int8" or out.dtype != "int32":
        raise ctx.fail(op, f"TFLM runs {op.opcode} only from int8 input to int32 output, not "
                           f"{inp.dtype} -> {out.dtype}")
    if not axis_t.is_const or axis_t.dtype != "int32" or axis_t.num_elements < 1:
        raise ctx.fail(op, "the axis operand must be a constant int32 tensor")
    rank = len(inp.shape)
    if rank < 1:
        raise ctx.fail(op, "the input must have at least one dimension")
    given = int(axis_t.data.reshape(-1)[0])        # TFLM reads the first value only
    axis = given + rank if given < 0 else given
    if not 0 <= axis < rank:
        raise ctx.fail(op, f"axis {given} is out of range for a {rank}-D input")
    outer = inner = 1
    for d in inp.shape[:axis]:
        outer *= int(d)
    for d in inp.shape[axis + 1:]:
        inner *= int(d)
    if out.num_elements != outer * inner:
        raise ctx.fail(op, f"the output should have {outer * inner} elements (the input "
                           f"without dimension {axis})")
    p = ctx.params(op, "tk_argmax_params", {
        "outer": outer, "axis_size": int(inp.shape[axis]), "inner": inner,
        "is_max": 1 if op.opcode == "ARG_MAX" else 0})
    ctx.call(op, "tk_arg_min_max_s8", [p, ctx.ptr(op.inputs[0]), ctx.ptr(op.outputs[0])],
             ["argmax.c"])


LOWERINGS = {"ARG_MAX": lower_arg_min_max, "ARG_MIN": lower_arg_min_max}
# the tensor types each op accepts (`tinykiln ops`, the README's table)
TYPES = {op: ("int8->int32",) for op in LOWERINGS}
# operands as the validator checks them (context.Operands)
OPERANDS = {op: Operands(("a", "c"), ("input", "axis operand")) for op in LOWERINGS}
