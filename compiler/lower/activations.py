"""Elementwise int8 activations (LOGISTIC, TANH, RELU, RELU6, HARD_SWISH) as 256-entry tables.

Each table is TFLM's own integer kernel (its Prepare and its Eval, see fixedpoint.py) evaluated
here for all 256 input values, so the C runtime is one lookup per element (lut_s8.c).
"""
from __future__ import annotations

import math

import numpy as np

from .multipliers import round_half_away, quantize_multiplier
from . import fixedpoint as fp
from .context import UNARY
from . import activations16 as a16

INPUTS = range(-128, 128)


def _f32(x) -> np.float32:
    return np.float32(x)


def _clamp(x: int, lo: int = -128, hi: int = 127) -> int:
    return lo if x < lo else (hi if x > hi else x)


def unary_int8(op, ctx):
    """(input, output) tensors of an elementwise int8 -> int8 op, checked."""
    inp, out = ctx.tensor(op.inputs[0]), ctx.tensor(op.outputs[0])
    if inp.dtype != "int8" or out.dtype != "int8":
        raise ctx.fail(op, "only int8 input and output are supported")
    if inp.quant is None or out.quant is None or inp.quant.per_channel or out.quant.per_channel:
        raise ctx.fail(op, "input and output need per-tensor quantization")
    if inp.num_elements != out.num_elements:
        raise ctx.fail(op, "input and output sizes differ")
    return inp, out


def emit_lut(op, ctx, table) -> None:
    """One tk_lut_s8 call applying `table` (f(x) for x = -128..127) to every element."""
    table = np.asarray(table, dtype=np.int64)
    assert table.shape == (256,) and table.min() >= -128 and table.max() <= 127
    n = ctx.tensor(op.inputs[0]).num_elements
    p = ctx.params(op, "tk_lut_params", {
        "size": n, "table": ctx.const(op, "lut", "int8_t", table.astype(np.int8),
                                       "lookup table: output for input -128, -127, ..., 127")})
    ctx.call(op, "tk_lut_s8", [p, ctx.ptr(op.inputs[0]), ctx.ptr(op.outputs[0])], ["lut_s8.c"])


# ---- LOGISTIC and TANH: gemmlowp fixed point on a Q4.27 input

def _q4_input_params(op, ctx, scale: float) -> tuple[int, int, int]:
    """TFLM's logistic/tanh Prepare: (input_multiplier, input_left_shift, input_range_radius)."""
    real = float(_f32(scale)) * float(1 << 27)
    q, shift = math.frexp(real)
    mult = round_half_away(q * (1 << 31))
    if mult >= (1 << 31) or not 0 <= shift <= 62:
        raise ctx.fail(op, f"input scale {scale} is outside the range TFLM's kernel handles")
    # CalculateInputRadius(4, shift, 31), in double, floored
    radius = math.floor(1.0 * 15 * float(1 << 27) / float(1 << shift))
    return mult, shift, radius


def _sigmoid_like(op, ctx, fn, out_bits: int, out_offset: int) -> list[int]:
    inp, _ = unary_int8(op, ctx)
    zp = inp.quant.zero_point[0]
    mult, shift, radius = _q4_input_params(op, ctx, inp.quant.scale[0])
    table = []
    for x in INPUTS:
        v = x - zp
        if v <= -radius:
            table.append(-128)
        elif v >= radius:
            table.append(127)
        else:
            q0 = fn(fp.mul_by_quantized_multiplier(v, mult, shift), 4)
            table.append(_clamp(fp.rdbpot(q0, 31 - out_bits) + out_offset))
    return table


def lower_logistic(op, ctx):
    if ctx.tensor(op.inputs[0]).dtype == "int16":
        a16.logistic16(op, ctx)
        return
    _, out = unary_int8(op, ctx)
    if out.quant.zero_point[0] != -128:
        raise ctx.fail(op, f"the output zero point must be -128 (TFLM), not "
                           f"{out.quant.zero_point[0]}")
    # TFLM writes sigmoid in Q0.8 with zero point -128 whatever the output scale says
    emit_lut(op, ctx, _sigmoid_like(op, ctx, fp.logistic, 8, -128))


def lower_tanh(op, ctx):
    if ctx.tensor(op.inputs[0]).dtype == "int16":
        a16.tanh16(op, ctx)
        return
    # TFLM writes tanh in Q0.7 (scale 1/128, zero point 0) whatever the output tensor says
    emit_lut(op, ctx, _sigmoid_like(op, ctx, fp.tanh, 7, 0))


# ---- RELU (requantizing) and RELU6 (a clamp in the input's representation, as TFLM does)

def lower_relu(op, ctx):
    if ctx.tensor(op.inputs[0]).dtype == "int16":
        a16.relu16(op, ctx)
        return
    inp, out = unary_int8(op, ctx)
    in_zp, out_zp = inp.quant.zero_point[0], out.quant.zero_point[0]
    # CalculateReluOpData: the ratio is a float32 division
    mult, shift = quantize_multiplier(float(_f32(inp.quant.scale[0]) / _f32(out.quant.scale[0])))
    act_min = max(-128, out_zp)          # out_zp + round(0 / scale)
    table = [min(127, max(act_min, out_zp + fp.mul_by_quantized_multiplier(x - in_zp, mult, shift)))
             for x in INPUTS]
    emit_lut(op, ctx, table)


def lower_relu6(op, ctx):
    if ctx.tensor(op.inputs[0]).dtype == "int16":
        a16.relu6_16(op, ctx)
        return
    inp, out = unary_int8(op, ctx)
    zero = inp.quant.zero_point[0]
    a16.warn_relu6_requant(op, ctx, inp, out)
    # FloatToQuantizedType<int8_t>(6.0f, scale, zero_point): float32 round, then int8 clamp
    six_f = _f32(6.0) / _f32(inp.quant.scale[0])
    if not abs(float(six_f)) < 2.0 ** 30:
        raise ctx.fail(op, f"input scale {inp.quant.scale[0]} is too small for RELU6")
    six = _clamp(round_half_away(float(six_f)) + zero)
    # TFLM's Relu6 clamps in the input representation and ignores the output's quantization
    emit_lut(op, ctx, [six if x > six else (zero if x < zero else x) for x in INPUTS])


# ---- HARD_SWISH: TFLM's int16 fixed-point reference kernel

def _down_scale_to_int16(m: int) -> int:
    if m >= fp.INT32_MAX - (1 << 15):
        return fp.INT16_MAX
    return (m + (1 << 15)) >> 16


def _sat_shl16(x: int, amount: int) -> int:
    return max(fp.INT16_MIN, min(fp.INT16_MAX, x * (1 << amount)))


def lower_hard_swish(op, ctx):
    inp, out = unary_int8(op, ctx)
    in_zp, out_zp = inp.quant.zero_point[0], out.quant.zero_point[0]
    # HardSwishPrepare, in float32 like TFLM
    hires_input_scale = _f32(1.0 / 128.0) * _f32(inp.quant.scale[0])
    reluish_scale = _f32(3.0) / _f32(32768.0)
    out_m32, out_exp = quantize_multiplier(float(hires_input_scale / _f32(out.quant.scale[0])))
    out_m16 = _down_scale_to_int16(out_m32)
    if out_exp > 0:
        raise ctx.fail(op, "the input/output scale ratio is too large (TFLM requires "
                           "input_scale / output_scale < 128)")
    rel_m32, rel_exp = quantize_multiplier(float(hires_input_scale / reluish_scale))
    rel_m16 = _down_scale_to_int16(rel_m32)      # rel_exp in [-31, 30] (quantize_multiplier)
    table = []
    for x in INPUTS:
        v = fp.wrap(x - in_zp, 16)
        hires = fp.wrap(v * 128, 16)
        preshift_out = fp.srdhm(hires, out_m16, 16)
        reluish = hires
        if rel_exp > 0:
            reluish = _sat_shl16(reluish, rel_exp - 1)
        reluish = fp.srdhm(reluish, rel_m16, 16)
        if rel_exp > 0:
            reluish = _sat_shl16(reluish, 1)
        if rel_exp < 0:
            reluish = fp.rdbpot(reluish, -rel_exp, 16)
        reluish = fp.wrap((reluish + (1 << 15)) >> 1, 16)
        y = fp.rdbpot(fp.sdhm16(reluish, preshift_out), -out_exp, 16)
        y = fp.wrap(y + out_zp, 16)
        table.append(_clamp(y))
    emit_lut(op, ctx, table)


LOWERINGS = {
    "LOGISTIC": lower_logistic,
    "TANH": lower_tanh,
    "RELU": lower_relu,
    "RELU6": lower_relu6,
    "HARD_SWISH": lower_hard_swish,
}
# the tensor types each op accepts (`tinykiln ops`, the README's table): "int8" for int8 in
# and out, "a->b" where they differ
TYPES = {op: ("int8",) for op in LOWERINGS}
TYPES.update(LOGISTIC=("int8", "int16"), TANH=("int8", "int16"), RELU=("int8", "int16"),
             RELU6=("int8", "int16"))
# operands as the validator checks them (context.Operands)
OPERANDS = {op: UNARY for op in LOWERINGS}
