"""int16 paths of the elementwise activations (LOGISTIC, TANH, RELU, RELU6, LEAKY_RELU) and the
int16 requantizing QUANTIZE, with parameters as TFLM's Prepare computes them.

An int16 input has 65536 values, too many for a table, so these run TFLM's integer Eval in C:
requant_s16.c (one sign-dependent MultiplyByQuantizedMultiplier and a clamp), logistic_s16.c and
tanh_s16.c (TFLM's sigmoid table with linear interpolation). The dispatching
lowerings are in activations.py, unary.py and quantize.py; this module has no LOWERINGS.
"""
from __future__ import annotations

import math

import numpy as np

from .multipliers import quantize_multiplier, round_half_away
from . import fixedpoint as fp

INT16_MIN, INT16_MAX = -32768, 32767
# identity multiplier: MultiplyByQuantizedMultiplier(v, 2^30, 1) == v for every int16 v
IDENTITY = (1 << 30, 1)


def _f32(x) -> np.float32:
    return np.float32(x)


def per_tensor(op, ctx, t, what: str) -> tuple[float, int]:
    """(float32 scale, zero point) of a per-tensor quantized tensor."""
    if t.quant is None or t.quant.per_channel:
        raise ctx.fail(op, f"the {what} needs per-tensor quantization")
    return float(_f32(t.quant.scale[0])), int(t.quant.zero_point[0])


def unary_int16(op, ctx, zero_zp: bool = False):
    """(input, output) of an elementwise int16 -> int16 op, checked; `zero_zp`: TFLM requires
    both zero points to be 0."""
    inp, out = ctx.tensor(op.inputs[0]), ctx.tensor(op.outputs[0])
    if inp.dtype != "int16" or out.dtype != "int16":
        raise ctx.fail(op, "only int8 or int16 input and output of the same type are supported")
    if inp.num_elements != out.num_elements:
        raise ctx.fail(op, "input and output sizes differ")
    _, izp = per_tensor(op, ctx, inp, "input")
    _, ozp = per_tensor(op, ctx, out, "output")
    if zero_zp and (izp, ozp) != (0, 0):
        raise ctx.fail(op, f"int16 input and output zero points must be 0 (TFLM), not {izp} "
                           f"and {ozp}")
    return inp, out


def emit_requant16(op, ctx, in_zp: int, out_zp: int, pos, neg=None, neg_sign: int = 1,
                   act=(INT16_MIN, INT16_MAX), out_dtype: str = "int16") -> None:
    """One tk_requant_s16(_s8) call: out_zp + M(x - in_zp) with multiplier/shift `pos` for
    x >= in_zp and `neg` (default `pos`) below, times neg_sign, clamped to `act`."""
    neg = neg or pos
    for m, s in (pos, neg):
        if not (0 <= m < (1 << 31) and -31 <= s <= 30):
            raise ctx.fail(op, f"its requantization multiplier {m} * 2^{s} is out of range")
    n = ctx.tensor(op.inputs[0]).num_elements
    p = ctx.params(op, "tk_requant16_params", {
        "size": n, "input_offset": -in_zp, "output_offset": out_zp,
        "pos_multiplier": pos[0], "pos_shift": pos[1],
        "neg_multiplier": neg[0], "neg_shift": neg[1], "neg_sign": neg_sign,
        "act_min": act[0], "act_max": act[1]})
    func, src = (("tk_requant_s16", "requant_s16.c") if out_dtype == "int16"
                 else ("tk_requant_s16_s8", "requant_s16_s8.c"))
    ctx.call(op, func, [p, ctx.ptr(op.inputs[0]), ctx.ptr(op.outputs[0])], [src])


def signed_multiplier(op, ctx, m: float) -> tuple[tuple[int, int], int]:
    """TFLM's QuantizeMultiplier of a possibly negative real multiplier, as LEAKY_RELU uses it:
    ((|multiplier|, shift), sign)."""
    if not math.isfinite(m):
        raise ctx.fail(op, f"its alpha multiplier {m} is not finite")
    if m >= 0:
        return quantize_multiplier(m), 1
    frac, _ = math.frexp(-m)
    if round_half_away(frac * (1 << 31)) == (1 << 31):
        # TFLM keeps INT32_MIN here and then negates it: undefined
        raise ctx.fail(op, f"alpha multiplier {m} rounds to -2^31, which TFLM cannot negate")
    return quantize_multiplier(-m), -1


def leaky_params(op, ctx, inp, out):
    """LEAKY_RELU's Prepare: ((identity mult, shift), (alpha mult, shift), alpha sign)."""
    alpha = _f32(op.options.get("alpha", 0.0))
    in_s, out_s = _f32(inp.quant.scale[0]), _f32(out.quant.scale[0])
    alpha_m, sign = signed_multiplier(op, ctx, float(in_s * alpha / out_s))
    return quantize_multiplier(float(in_s / out_s)), alpha_m, sign


def leaky_relu16(op, ctx):
    inp, out = unary_int16(op, ctx)
    ident, alpha_m, sign = leaky_params(op, ctx, inp, out)
    emit_requant16(op, ctx, inp.quant.zero_point[0], out.quant.zero_point[0], ident, alpha_m, sign)


def relu16(op, ctx):
    inp, out = unary_int16(op, ctx, zero_zp=True)
    mult = quantize_multiplier(float(_f32(inp.quant.scale[0]) / _f32(out.quant.scale[0])))
    # act_min: 0 + roundf(0 / scale)
    emit_requant16(op, ctx, 0, 0, mult, act=(0, INT16_MAX))


def warn_relu6_requant(op, ctx, inp, out) -> None:
    """TFLM's RELU6 clamps without rescaling: warn when the output is quantized otherwise."""
    zero = inp.quant.zero_point[0]
    if (inp.quant.scale[0], zero) != (out.quant.scale[0], out.quant.zero_point[0]):
        lo = (zero - out.quant.zero_point[0]) * out.quant.scale[0]
        ctx.warn(op, f"input (scale {inp.quant.scale[0]:.6g}, zero point {zero}) and output (scale "
                     f"{out.quant.scale[0]:.6g}, zero point {out.quant.zero_point[0]}) are quantized "
                     f"differently; TFLM's RELU6, which tinykiln matches, clamps without rescaling, so "
                     f"an input of 0.0 reads back as {lo:.4g}")


def relu6_16(op, ctx):
    inp, out = unary_int16(op, ctx)
    warn_relu6_requant(op, ctx, inp, out)
    zero = int(inp.quant.zero_point[0])
    six_f = _f32(6.0) / _f32(inp.quant.scale[0])
    if not abs(float(six_f)) < 2.0 ** 30:
        raise ctx.fail(op, f"input scale {inp.quant.scale[0]} is too small for RELU6")
    six = min(INT16_MAX, max(INT16_MIN, round_half_away(float(six_f)) + zero))
    # TFLM's Relu6 clamps in the input representation: the identity, clamped to [zero, six]
    emit_requant16(op, ctx, 0, 0, IDENTITY, act=(zero, six))


def requantize16(op, ctx, inp, out) -> None:
    """QUANTIZE int16 -> int16 / int8 (reference_ops::Requantize); the ratio in double."""
    in_s, in_zp = per_tensor(op, ctx, inp, "input")
    out_s, out_zp = per_tensor(op, ctx, out, "output")
    mult = quantize_multiplier(in_s / out_s)
    lo, hi = (INT16_MIN, INT16_MAX) if out.dtype == "int16" else (-128, 127)
    emit_requant16(op, ctx, in_zp, out_zp, mult, act=(lo, hi), out_dtype=out.dtype)


def requant_table_s8_s16(op, ctx, inp, out) -> list[int]:
    """QUANTIZE int8 -> int16 for all 256 inputs."""
    in_s, in_zp = per_tensor(op, ctx, inp, "input")
    out_s, out_zp = per_tensor(op, ctx, out, "output")
    m, s = quantize_multiplier(in_s / out_s)
    return [min(INT16_MAX, max(INT16_MIN, fp.mul_by_quantized_multiplier(x - in_zp, m, s)
                               + out_zp)) for x in range(-128, 128)]


# ---- LOGISTIC and TANH on int16: TFLM's 256-entry sigmoid table with linear interpolation

# TFLM's int16 LOGISTIC and TANH interpolate in a fixed table of sigmoid(i / 24) in Q0.16. It is
# round(65536 * sigmoid(i / 24)) (at most 65535) except at these indices, where it is one more;
# measured from TFLM's int16 TANH (input scale 1/48 makes its output table[i] - 32768 at input i).
_SIGMOID_PLUS_ONE = (4, 8, 12, 14, 15, 16, 17, 19, 20, 21, 22, 25, 27, 28, 29, 30, 31, 33, 34, 35,
                     37, 39, 40, 41, 43, 44, 45, 46, 49, 50, 54, 62, 63, 64, 66, 82, 86, 93, 100,
                     103, 112, 116, 135, 255)


def sigmoid_table() -> list[int]:
    """The Q0.16 sigmoid table TFLM's int16 LOGISTIC and TANH interpolate in (256 entries)."""
    t = [min(65535, math.floor(65536.0 / (1.0 + math.exp(-i / 24.0)) + 0.5)) for i in range(256)]
    for i in _SIGMOID_PLUS_ONE:
        t[i] += 1
    return t


def checked_log2(x: float) -> tuple[bool, int]:
    """TFLM's CheckedLog2 in float32: (within 1e-3 of a power of two, rounded log2)."""
    x_log2 = _f32(_f32(np.log(_f32(x))) * _f32(_f32(1.0) / _f32(np.log(_f32(2.0)))))
    rounded = _f32(round_half_away(float(x_log2)))
    return bool(abs(float(x_log2 - rounded)) < float(_f32(1e-3))), int(rounded)


def sigmoid16_params(op, ctx, pot_shifts: tuple[int, ...]) -> tuple[int, int]:
    """TFLM's int16 LOGISTIC / TANH Prepare: (input multiplier, input right shift), the
    power-of-two case (TFLM's multiplier 0) resolved as its Eval does."""
    inp, out = unary_int16(op, ctx, zero_zp=True)
    in_scale = float(_f32(inp.quant.scale[0]))
    pot, log2 = checked_log2(in_scale)
    if pot and 12 + log2 in pot_shifts:     # (15 - 3 integer bits) + log2(scale)
        mult, shift = 3 << (12 + log2), 0
    else:
        m, shift = in_scale * 4096.0 * 3.0, 0
        while m <= 32767.0 / 2.0 and shift <= 30:
            shift += 1
            m *= 2.0
        mult = int(m)
        if not 0 < mult <= 32767:
            raise ctx.fail(op, f"int16 input scale {in_scale:g} is outside the range TFLM's "
                               f"kernel handles (input multiplier {mult}, at most 32767)")
    ok, out_log2 = checked_log2(float(_f32(out.quant.scale[0])))
    if not ok or out_log2 != -15:
        raise ctx.fail(op, f"int16 output scale must be 2^-15 (TFLM), not "
                           f"{float(out.quant.scale[0]):g}")
    return mult, shift


def _emit_sigmoid16(op, ctx, func: str, source: str, pot_shifts: tuple[int, ...]) -> None:
    mult, shift = sigmoid16_params(op, ctx, pot_shifts)
    p = ctx.params(op, "tk_sigmoid16_params", {
        "size": ctx.tensor(op.inputs[0]).num_elements, "input_multiplier": mult,
        "input_shift": shift,
        "table": ctx.const(op, "sigmoid", "uint16_t", np.array(sigmoid_table(), np.uint16),
                           "sigmoid(i / 24) in Q0.16, i = 0..255")})
    ctx.call(op, func, [p, ctx.ptr(op.inputs[0]), ctx.ptr(op.outputs[0])], [source])


def logistic16(op, ctx):
    _emit_sigmoid16(op, ctx, "tk_logistic_s16", "logistic_s16.c", (0,))


def tanh16(op, ctx):
    _emit_sigmoid16(op, ctx, "tk_tanh_s16", "tanh_s16.c", (0, 1))
