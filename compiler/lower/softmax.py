"""SOFTMAX int8 -> int8 (or int16): TFLM's CalculateSoftmaxParams, with exp(x - max) tabulated
for the 256 possible differences by gemmlowp's exp_on_negative_values (fixedpoint.py)."""
from __future__ import annotations

import math

import numpy as np

from .multipliers import quantize_multiplier
from . import fixedpoint as fp
from .context import UNARY

SCALED_DIFF_INTEGER_BITS = 5        # the exp() input is Q5.26


def softmax_exp_table(op, ctx, beta: float, input_scale: float) -> list[int]:
    """exp of every input difference 0, -1, ..., -255 in Q0.31 (0 below TFLM's diff_min)."""
    # PreprocessSoftmaxScaling (double arithmetic, double-rounding build)
    real = min(float(np.float32(beta)) * float(np.float32(input_scale))
               * float(1 << (31 - SCALED_DIFF_INTEGER_BITS)), float((1 << 31) - 1))
    if not real > 1.0:
        raise ctx.fail(op, f"beta * input scale ({beta} * {input_scale}) is too small: TFLM "
                           f"needs it above 2^-26")
    mult, left_shift = quantize_multiplier(real, max_shift=None)     # Python only
    # CalculateInputRadius(5, left_shift, 31), floored; inputs further below the max are skipped
    diff_min = -math.floor(1.0 * ((1 << SCALED_DIFF_INTEGER_BITS) - 1)
                           * float(1 << (31 - SCALED_DIFF_INTEGER_BITS)) / float(1 << left_shift))
    table = []
    for k in range(256):
        diff = -k
        if diff >= diff_min:
            # MultiplyByQuantizedMultiplierGreaterThanOne
            rescaled = fp.srdhm(fp.wrap(diff * fp.wrap(1 << left_shift)), mult)
            table.append(fp.exp_on_negative_values(rescaled, SCALED_DIFF_INTEGER_BITS))
        else:
            table.append(0)
    return table


def lower_softmax(op, ctx):
    inp, out = ctx.tensor(op.inputs[0]), ctx.tensor(op.outputs[0])
    if inp.dtype != "int8" or out.dtype not in ("int8", "int16"):
        raise ctx.fail(op, "only int8 input with int8 or int16 output is supported")
    if inp.quant is None or out.quant is None:
        raise ctx.fail(op, "input and output must be quantized")
    if not inp.shape or inp.num_elements != out.num_elements or inp.shape[-1] != out.shape[-1]:
        raise ctx.fail(op, "input and output shapes differ")
    out_s, out_zp = float(np.float32(out.quant.scale[0])), out.quant.zero_point[0]
    if out.dtype == "int8" and (out_zp != -128 or out_s != 1.0 / 256):
        raise ctx.fail(op, f"int8 output must have scale 1/256 and zero point -128 (TFLM), not "
                           f"{out_s} and {out_zp}")
    if out.dtype == "int16" and (out_zp != -32768 or abs(out_s - 1.0 / 65536) > 0.001 / 65536):
        raise ctx.fail(op, f"int16 output must have scale 1/65536 and zero point -32768 (TFLM), "
                           f"not {out_s} and {out_zp}")
    beta = float(op.options.get("beta", 1.0))
    depth = int(inp.shape[-1])
    table = softmax_exp_table(op, ctx, beta, inp.quant.scale[0])
    p = ctx.params(op, "tk_softmax_params", {
        "outer": inp.num_elements // depth, "depth": depth,
        "exp_table": ctx.const(op, "exp", "int32_t", table, "exp(beta * scale * (x - max)) "
                               "in Q0.31 at index max - x (0 below diff_min)")})
    func, source = (("tk_softmax_s8", "softmax_s8.c") if out.dtype == "int8"
                    else ("tk_softmax_s8_s16", "softmax_s8_s16.c"))
    ctx.call(op, func, [p, ctx.ptr(op.inputs[0]), ctx.ptr(op.outputs[0])], [source])


LOWERINGS = {"SOFTMAX": lower_softmax}
# the tensor types each op accepts (`tinykiln ops`, the README's table): "int8" for int8 in
# and out, "a->b" where they differ
TYPES = {"SOFTMAX": ("int8->int8", "int8->int16")}
# operands as the validator checks them (context.Operands)
OPERANDS = {op: UNARY for op in LOWERINGS}
