"""QUANTIZE (float32 -> int8/int16 at model inputs, requantization between int8 and int16) and
DEQUANTIZE (int8/int16 -> float32 at model outputs), parameters as TFLM's quantize_common.cc and
dequantize_common.cc Prepare them."""
from __future__ import annotations

import numpy as np

from .multipliers import quantize_multiplier
from . import fixedpoint as fp
from .context import UNARY
from .activations import INPUTS, emit_lut, unary_int8
from . import activations16 as a16


def _float_literal(x: float) -> str:
    """A C float literal holding exactly the float32 value x."""
    return repr(float(np.float32(x))) + "f"


def _per_tensor(op, ctx, t, what: str):
    if t.quant is None or t.quant.per_channel:
        raise ctx.fail(op, f"the {what} needs per-tensor quantization")
    return float(np.float32(t.quant.scale[0])), int(t.quant.zero_point[0])


def _from_float(op, ctx, out) -> None:
    scale, zp = _per_tensor(op, ctx, out, "output")
    kind = "s8" if out.dtype == "int8" else "s16"
    p = ctx.params(op, f"tk_quantize_f32_{kind}_params", {
        "size": out.num_elements, "scale": _float_literal(scale), "zero_point": zp})
    ctx.call(op, f"tk_quantize_f32_{kind}", [p, ctx.ptr(op.inputs[0]), ctx.ptr(op.outputs[0])],
             [f"quantize_f32_{kind}.c"])


def _lut_s8_s16(op, ctx, table) -> None:
    """One tk_lut_s8_s16 call applying `table` (f(x) for x = -128..127, int16) elementwise."""
    p = ctx.params(op, "tk_lut_s16_params", {
        "size": ctx.tensor(op.inputs[0]).num_elements,
        "table": ctx.const(op, "lut", "int16_t", np.asarray(table, np.int16),
                           "lookup table: output for input -128, -127, ..., 127")})
    ctx.call(op, "tk_lut_s8_s16", [p, ctx.ptr(op.inputs[0]), ctx.ptr(op.outputs[0])],
             ["lut_s8_s16.c"])


def lower_quantize(op, ctx):
    inp, out = ctx.tensor(op.inputs[0]), ctx.tensor(op.outputs[0])
    if inp.num_elements != out.num_elements:
        raise ctx.fail(op, "input and output sizes differ")
    pair = (inp.dtype, out.dtype)
    if inp.dtype == "float32" and out.dtype in ("int8", "int16"):
        _from_float(op, ctx, out)
    elif pair == ("int8", "int8"):
        unary_int8(op, ctx)
        in_s, in_zp = _per_tensor(op, ctx, inp, "input")
        out_s, out_zp = _per_tensor(op, ctx, out, "output")
        # PrepareQuantizeReference: the ratio in double; Eval: reference_ops::Requantize
        mult, shift = quantize_multiplier(in_s / out_s)
        emit_lut(op, ctx, [min(127, max(-128, fp.mul_by_quantized_multiplier(x - in_zp, mult, shift)
                                        + out_zp)) for x in INPUTS])
    elif pair == ("int8", "int16"):
        _lut_s8_s16(op, ctx, a16.requant_table_s8_s16(op, ctx, inp, out))
    elif pair in (("int16", "int16"), ("int16", "int8")):
        a16.requantize16(op, ctx, inp, out)
    else:
        raise ctx.fail(op, f"QUANTIZE from {inp.dtype} to {out.dtype} is not supported "
                           f"(float32 -> int8/int16 and between int8 and int16 are)")


def lower_dequantize(op, ctx):
    inp, out = ctx.tensor(op.inputs[0]), ctx.tensor(op.outputs[0])
    if inp.dtype not in ("int8", "int16") or out.dtype != "float32":
        raise ctx.fail(op, f"DEQUANTIZE from {inp.dtype} to {out.dtype} is not supported "
                           f"(int8 and int16 -> float32 are)")
    if inp.num_elements != out.num_elements:
        raise ctx.fail(op, "input and output sizes differ")
    scale, zp = _per_tensor(op, ctx, inp, "input")
    kind = "s8" if inp.dtype == "int8" else "s16"
    p = ctx.params(op, f"tk_dequantize_{kind}_f32_params", {
        "size": inp.num_elements, "scale": _float_literal(scale), "zero_point": zp})
    ctx.call(op, f"tk_dequantize_{kind}_f32", [p, ctx.ptr(op.inputs[0]), ctx.ptr(op.outputs[0])],
             [f"dequantize_{kind}_f32.c"])


LOWERINGS = {"QUANTIZE": lower_quantize, "DEQUANTIZE": lower_dequantize}
# the tensor types each op accepts (`tinykiln ops`, the README's table): "int8" for int8 in
# and out, "a->b" where they differ
TYPES = {"QUANTIZE": ("float32->int8", "float32->int16", "int8->int8", "int8->int16",
                     "int16->int8", "int16->int16"),
         "DEQUANTIZE": ("int8->float32", "int16->float32")}
# operands as the validator checks them (context.Operands)
OPERANDS = {op: UNARY for op in LOWERINGS}
