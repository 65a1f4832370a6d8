"""LEAKY_RELU (int8, int16), ELU (int8), RSQRT (int8), PRELU (int8, int16) and
L2_NORMALIZATION (int8), bit-exact with TFLM.

int8 inputs of elementwise ops become 256-entry tables (lut_s8.c) filled by running TFLM's
Prepare and Eval here for every input value; int16 LEAKY_RELU runs TFLM's two-multiplier
arithmetic in requant_s16.c, PRELU (which reads a second, broadcast tensor) prelu.c and
L2_NORMALIZATION (a per-row inverse square root) l2norm_s8.c.
EXP and LOG are not here: TFLM's micro kernels run them in float32 only.
"""
from __future__ import annotations

import math

import numpy as np

from .multipliers import quantize_multiplier, round_half_away
from . import fixedpoint as fp
from . import activations16 as a16
from .activations import INPUTS, emit_lut, unary_int8
from .context import UNARY, Operands
from .elementwise import broadcast_plan


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


# ---- PRELU: TFLM's CalculatePreluParams and BroadcastPrelu4DSlow

def _arr(values) -> str:
    return "{" + ", ".join(str(int(v)) for v in values) + "}"


def lower_prelu(op, ctx):
    inp, alpha, out = (ctx.tensor(op.inputs[0]), ctx.tensor(op.inputs[1]),
                       ctx.tensor(op.outputs[0]))
    if not ((inp.dtype, out.dtype) in (("int8", "int8"), ("int16", "int16"))
            and alpha.dtype == "int8"):
        raise ctx.fail(op, "input and output must be both int8 or both int16, alpha int8")
    in_s, in_zp = a16.per_tensor(op, ctx, inp, "input")
    al_s, al_zp = a16.per_tensor(op, ctx, alpha, "alpha")
    out_s, out_zp = a16.per_tensor(op, ctx, out, "output")
    try:
        plan = broadcast_plan(inp.shape, alpha.shape, out.shape)
    except ValueError as e:
        raise ctx.fail(op, str(e)) from None
    if plan is None:
        raise ctx.fail(op, "the broadcast needs more than 6 dims after merging")
    m1, s1 = quantize_multiplier(in_s / out_s)
    m2, s2 = quantize_multiplier(in_s * al_s / out_s)
    dims, st1, st2 = plan
    p = ctx.params(op, "tk_prelu_params", {
        "bcast": {"dims": _arr(dims), "stride1": _arr(st1), "stride2": _arr(st2)},
        "input_offset": -in_zp, "alpha_offset": -al_zp, "output_offset": out_zp,
        "multiplier1": m1, "shift1": s1, "multiplier2": m2, "shift2": s2})
    func = "tk_prelu_s8" if inp.dtype == "int8" else "tk_prelu_s16"
    ctx.call(op, func, [p, ctx.ptr(op.inputs[0]), ctx.ptr(op.inputs[1]),
                        ctx.ptr(op.outputs[0])], ["prelu.c"])


# ---- L2_NORMALIZATION int8 over the last dimension

def lower_l2_normalization(op, ctx):
    inp, out = unary_int8(op, ctx)
    if not 1 <= len(inp.shape) <= 4 or tuple(inp.shape) != tuple(out.shape):
        raise ctx.fail(op, "input and output need the same shape of 1 to 4 dims (TFLM)")
    if op.options.get("fused_activation_function", "NONE") != "NONE":
        raise ctx.fail(op, "a fused activation is not supported (TFLM refuses it too)")
    depth = int(inp.shape[-1])
    if not 1 <= depth <= 33025:
        raise ctx.fail(op, f"rows of {depth} values would overflow TFLM's int32 sum of squares "
                           f"(at most 33025)")
    if (float(out.quant.scale[0]), int(out.quant.zero_point[0])) != (1 / 128, 0):
        ctx.warn(op, f"TFLM writes L2_NORMALIZATION in scale 1/128, zero point 0, whatever the "
                     f"output tensor says (scale {float(out.quant.scale[0]):.6g}, zero point "
                     f"{int(out.quant.zero_point[0])}); tinykiln does the same")
    p = ctx.params(op, "tk_l2norm_params", {
        "outer": inp.num_elements // depth, "depth": depth,
        "input_offset": -int(inp.quant.zero_point[0])})
    ctx.call(op, "tk_l2norm_s8", [p, ctx.ptr(op.inputs[0]), ctx.ptr(op.outputs[0])],
             ["l2norm_s8.c"])


LOWERINGS = {"LEAKY_RELU": lower_leaky_relu, "ELU": lower_elu, "RSQRT": lower_rsqrt,
             "PRELU": lower_prelu, "L2_NORMALIZATION": lower_l2_normalization}
# the tensor types each op accepts (`tinykiln ops`, the README's table)
TYPES = {"LEAKY_RELU": ("int8", "int16"), "ELU": ("int8",), "RSQRT": ("int8",),
         "PRELU": ("int8", "int16"), "L2_NORMALIZATION": ("int8",)}
# operands as the validator checks them (context.Operands)
OPERANDS = {op: UNARY for op in LOWERINGS}
OPERANDS["PRELU"] = Operands(("a", "a"), ("input", "alpha"))
