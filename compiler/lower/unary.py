"""LEAKY_RELU (int8, int16), ELU (int8) and RSQRT (int8), bit-exact with TFLM.

int8 inputs become 256-entry tables (lut_s8.c) filled by running TFLM's Prepare and Eval here for
every input value; int16 LEAKY_RELU runs TFLM's two-multiplier arithmetic in requant_s16.c.
EXP and LOG are not here: TFLM's micro kernels run them in float32 only.
"""
from __future__ import annotations

import math

import numpy as np

from .multipliers import quantize_multiplier, round_half_away
from . import fixedpoint as fp
from . import activations16 as a16
from .activations import INPUTS, emit_lut, unary_int8
from .context import UNARY


def _f32(x) -> np.float32:
    return np.float32(x)


def lower_leaky_relu(op, ctx):
    inp = ctx.tensor(op.inputs[0])
    if inp.dtype == "int16":
        a16.leaky_relu16(op, ctx)
        return
    inp, out = unary_int8(op, ctx)
    (im, ish), (am, ash), sign = a16.leaky_params(op, ctx, inp, out)
    in_zp, out_zp = int(inp.quant.zero_point[0]), int(out.quant.zero_point[0])
    table = []
    for x in INPUTS:
        v = x - in_zp
        if v >= 0:
            y = fp.mul_by_quantized_multiplier(v, im, ish)
        else:
            y = sign * fp.mul_by_quantized_multiplier(v, am, ash)
        table.append(min(127, max(-128, out_zp + y)))
    emit_lut(op, ctx, table)


def _expm1_f32(v: np.float32) -> np.float32:
    """std::exp(value) - 1.0f in float32, exp correctly rounded to float32."""
    return _f32(_f32(math.exp(float(v))) - _f32(1.0))


def lower_elu(op, ctx):
    # TFLM's PopulateLookupTable in float32: round(f(scale * (x - zp)) / out_scale) + zp
    inp, out = unary_int8(op, ctx)
    in_s, in_zp = _f32(inp.quant.scale[0]), int(inp.quant.zero_point[0])
    inverse = _f32(1.0) / _f32(out.quant.scale[0])
    out_zp = int(out.quant.zero_point[0])
    table = []
    for x in INPUTS:
        d = _f32(in_s * _f32(x - in_zp))
        y = _expm1_f32(d) if d < 0 else d
        r = _f32(y * inverse)
        if not abs(float(r)) < 2.0 ** 30:
            raise ctx.fail(op, f"output scale {out.quant.scale[0]:g} is too small for ELU's "
                               f"input range")
        table.append(min(127, max(-128, round_half_away(float(r)) + out_zp)))
    emit_lut(op, ctx, table)


# ---- RSQRT: TFLM's GetInvSqrtQuantizedMultiplierExp (gemmlowp Newton-Raphson in Q3.28)

def inv_sqrt_multiplier_exp(x: int) -> tuple[int, int]:
    """(multiplier, left shift) with 1/sqrt(x) ~= multiplier * 2^(shift - 31), for x >= 0."""
    if x <= 1:
        return fp.INT32_MAX, 0
    shift = 11
    while x >= (1 << 29):
        x //= 4
        shift += 1
    pairs = ((32 - x.bit_length()) - 1) // 2 - 1
    shift -= pairs
    x <<= 2 * pairs
    half_input = fp.rdbpot(x >> 1, 1)
    half_three = (1 << 28) + (1 << 27)
    r = 1 << 28                                            # F3 one
    for _ in range(5):
        r3 = fp.sat_mul_pot(fp.srdhm(fp.srdhm(r, r), r), 6)           # F9 -> F3
        r = fp.sat_mul_pot(fp.wrap(fp.srdhm(half_three, r) - fp.srdhm(half_input, r3)), 3)
    r = fp.srdhm(r, 1518500250)                              # * sqrt(2) / 2
    if shift < 0:
        r, shift = fp.wrap(r << -shift), 0
    return r, -shift


def lower_rsqrt(op, ctx):
    inp, out = unary_int8(op, ctx)
    in_s, out_s = _f32(inp.quant.scale[0]), _f32(out.quant.scale[0])
    in_zp, out_zp = int(inp.quant.zero_point[0]), int(out.quant.zero_point[0])
    m, s = quantize_multiplier(1.0 / float(_f32(np.sqrt(in_s)) * out_s))
    if s - 20 < -31:
        raise ctx.fail(op, f"output scale {out.quant.scale[0]:g} is too large for RSQRT's "
                           f"input scale (TFLM would shift right by {20 - s} bits)")
    table = []
    for x in INPUTS:
        v = x - in_zp
        # v < 0 stops TFLM's invoke ("only defined for positive values"); v == 0 gives the
        # type's maximum in TFLM, and here negative inputs get that maximum too
        if v <= 0:
            table.append(127)
            continue
        im, ish = inv_sqrt_multiplier_exp(v)
        data = fp.mul_by_quantized_multiplier(1, im, ish + 20)
        y = fp.mul_by_quantized_multiplier(data, m, s - 20) + out_zp
        table.append(min(127, max(-128, y)))
    emit_lut(op, ctx, table)


LOWERINGS = {"LEAKY_RELU": lower_leaky_relu, "ELU": lower_elu, "RSQRT": lower_rsqrt}
# the tensor types each op accepts (`tinykiln ops`, the README's table)
TYPES = {"LEAKY_RELU": ("int8", "int16"), "ELU": ("int8",), "RSQRT": ("int8",)}
# operands as the validator checks them (context.Operands)
OPERANDS = {op: UNARY for op in LOWERINGS}
