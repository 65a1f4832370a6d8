"""QUANTIZE (float32 -> int8 at model inputs, int8 -> int8 requantization) and DEQUANTIZE
(int8 -> float32 at model outputs), parameters as TFLM's quantize_common.cc and
dequantize_common.cc Prepare them."""
from __future__ import annotations

import numpy as np

from .multipliers import quantize_multiplier
from . import fixedpoint as fp
from .context import UNARY
from .activations import INPUTS, emit_lut, unary_int8


def _float_literal(x: float) -> str:
    """A C float literal holding exactly the float32 value x."""
    return repr(float(np.float32(x))) + "f"


def _per_tensor(op, ctx, t, what: str):
    if t.quant is None or t.quant.per_channel:
        raise ctx.fail(op, f"the {what} needs per-tensor quantization")
    return float(np.float32(t.quant.scale[0])), int(t.quant.zero_point[0])


def lower_quantize(op, ctx):
    inp, out = ctx.tensor(op.inputs[0]), ctx.tensor(op.outputs[0])
    if inp.num_elements != out.num_elements:
        raise ctx.fail(op, "input and output sizes differ")
    if inp.dtype == "float32" and out.dtype == "int8":
        scale, zp = _per_tensor(op, ctx, out, "output")
        p = ctx.params(op, "tk_quantize_f32_s8_params", {
            "size": out.num_elements, "scale": _float_literal(scale), "zero_point": zp})
        ctx.call(op, "tk_quantize_f32_s8", [p, ctx.ptr(op.inputs[0]), ctx.ptr(op.outputs[0])],
                 ["quantize_f32_s8.c"])
        return
    if inp.dtype == "int8" and out.dtype == "int8":
        unary_int8(op, ctx)
        in_s, in_zp = _per_tensor(op, ctx, inp, "input")
        out_s, out_zp = _per_tensor(op, ctx, out, "output")
        # PrepareQuantizeReference: the ratio in double; Eval: reference_ops::Requantize
        mult, shift = quantize_multiplier(in_s / out_s)
        emit_lut(op, ctx, [min(127, max(-128, fp.mul_by_quantized_multiplier(x - in_zp, mult, shift)
                                        + out_zp)) for x in INPUTS])
        return
    raise ctx.fail(op, f"QUANTIZE from {inp.dtype} to {out.dtype} is not supported "
                       f"(float32 -> int8 and int8 -> int8 are)")


def lower_dequantize(op, ctx):
    inp, out = ctx.tensor(op.inputs[0]), ctx.tensor(op.outputs[0])
    if inp.dtype != "int8" or out.dtype != "float32":
        raise ctx.fail(op, f"DEQUANTIZE from {inp.dtype} to {out.dtype} is not supported "
                           f"(int8 -> float32 is)")
    if inp.num_elements != out.num_elements:
        raise ctx.fail(op, "input and output sizes differ")
    scale, zp = _per_tensor(op, ctx, inp, "input")
    p = ctx.params(op, "tk_dequantize_s8_f32_params", {
        "size": inp.num_elements, "scale": _float_literal(scale), "zero_point": zp})
    ctx.call(op, "tk_dequantize_s8_f32", [p, ctx.ptr(op.inputs[0]), ctx.ptr(op.outputs[0])],
             ["dequantize_s8_f32.c"])


LOWERINGS = {"QUANTIZE": lower_quantize, "DEQUANTIZE": lower_dequantize}
# the tensor types each op accepts (`tinykiln ops`, the README's table): "int8" for int8 in
# and out, "a->b" where they differ
TYPES = {"QUANTIZE": ("float32->int8", "int8->int8"), "DEQUANTIZE": ("int8->float32",)}
# operands as the validator checks them (context.Operands)
OPERANDS = {op: UNARY for op in LOWERINGS}
