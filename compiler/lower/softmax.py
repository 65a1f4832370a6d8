"""SOFTMAX and LOG_SOFTMAX.
SOFTMAX int8 -> int8 (or int16): TFLM's CalculateSoftmaxParams, with exp(x - max) tabulated
for the 256 possible differences by gemmlowp's exp_on_negative_values (fixedpoint.py).
SOFTMAX int16 -> int16: TFLM's SoftmaxInt16, with its two 513-entry interpolated tables (exp on
[-10, 0] and 1 / (1 + x) on [0, 1]) built here in float32 exactly as TFLM's LUTPopulate does.
LOG_SOFTMAX int8: the same exp table (kept in Q12.19) and the scaled differences as tables; the
log of each row's sum is computed at run time (log_softmax_s8.c)."""
from __future__ import annotations

import math

import numpy as np

from .multipliers import quantize_multiplier, round_half_away
from . import fixedpoint as fp
from .context import UNARY

SCALED_DIFF_INTEGER_BITS = 5        # the exp() input is Q5.26


def softmax_scaling(op, ctx, beta: float, input_scale: float) -> tuple[int, int, int]:
    """TFLM's PreprocessSoftmaxScaling (double arithmetic, double-rounding build) for a Q5.26
    difference: (multiplier, left shift, diff_min)."""
    real = min(float(np.float32(beta)) * float(np.float32(input_scale))
               * float(1 << (31 - SCALED_DIFF_INTEGER_BITS)), float((1 << 31) - 1))
    if not real > 1.0:
        raise ctx.fail(op, f"beta * input scale ({beta} * {input_scale}) is too small: TFLM "
                           f"needs it above 2^-26")
    mult, left_shift = quantize_multiplier(real, max_shift=None)     # Python only
    # CalculateInputRadius(5, left_shift, 31), floored; inputs further below the max are skipped
    diff_min = -math.floor(1.0 * ((1 << SCALED_DIFF_INTEGER_BITS) - 1)
                           * float(1 << (31 - SCALED_DIFF_INTEGER_BITS)) / float(1 << left_shift))
    return mult, left_shift, diff_min


def scaled_diffs(mult: int, left_shift: int) -> list[int]:
    """MultiplyByQuantizedMultiplierGreaterThanOne(-k) for the differences k = 0..255 (Q5.26)."""
    return [fp.srdhm(fp.wrap(-k * fp.wrap(1 << left_shift)), mult) for k in range(256)]


def softmax_exp_table(op, ctx, beta: float, input_scale: float) -> list[int]:
    """exp of every input difference 0, -1, ..., -255 in Q0.31 (0 below TFLM's diff_min)."""
    mult, left_shift, diff_min = softmax_scaling(op, ctx, beta, input_scale)
    return [fp.exp_on_negative_values(d, SCALED_DIFF_INTEGER_BITS) if -k >= diff_min else 0
            for k, d in enumerate(scaled_diffs(mult, left_shift))]


def lower_log_softmax(op, ctx):
    """LOG_SOFTMAX int8 (TFLM's log_softmax.cc CalculateOpData, beta 1)."""
    inp, out = ctx.tensor(op.inputs[0]), ctx.tensor(op.outputs[0])
    if inp.dtype != "int8" or out.dtype != "int8":
        raise ctx.fail(op, "only int8 input and output are supported")
    if inp.quant is None or out.quant is None:
        raise ctx.fail(op, "input and output must be quantized")
    if not inp.shape or tuple(inp.shape) != tuple(out.shape):
        raise ctx.fail(op, "input and output shapes differ")
    if (float(np.float32(out.quant.scale[0])), out.quant.zero_point[0]) != (16.0 / 256, 127):
        raise ctx.fail(op, f"int8 output must have scale 16/256 and zero point 127 (TFLM), not "
                           f"{float(out.quant.scale[0])} and {out.quant.zero_point[0]}")
    depth = int(inp.shape[-1])
    if not 1 <= depth <= 4095:
        raise ctx.fail(op, f"rows of {depth} values would overflow TFLM's sum of exps (at most "
                           f"4095)")
    mult, left_shift, diff_min = softmax_scaling(op, ctx, 1.0, inp.quant.scale[0])
    # PreprocessLogSoftmaxScalingExp: the reverse scaling, which TFLM requires below 1
    reverse = float(1 << (31 - left_shift)) / float(mult)
    if not reverse < 1.0:
        raise ctx.fail(op, f"input scale {inp.quant.scale[0]} gives a reverse scaling of "
                           f"{reverse}, which TFLM requires below 1")
    rmult, rshift = quantize_multiplier(reverse)
    diffs = scaled_diffs(mult, left_shift)
    exps = [fp.rdbpot(fp.exp_on_negative_values(d, SCALED_DIFF_INTEGER_BITS), 12)
            if -k >= diff_min else 0 for k, d in enumerate(diffs)]
    p = ctx.params(op, "tk_log_softmax_params", {
        "outer": inp.num_elements // depth, "depth": depth, "diff_min": diff_min,
        "reverse_multiplier": rmult, "reverse_shift": rshift,
        "exp_table": ctx.const(op, "exp", "int32_t", exps, "exp(scale * (x - max)) in "
                               "Q12.19 at index max - x (0 below diff_min)"),
        "diff_table": ctx.const(op, "diff", "int32_t", diffs, "scale * (x - max) in Q5.26 "
                                "at index max - x")})
    ctx.call(op, "tk_log_softmax_s8", [p, ctx.ptr(op.inputs[0]), ctx.ptr(op.outputs[0])],
             ["log_softmax_s8.c"])


def _f32(x) -> np.float32:
    return np.float32(x)


def _exp_f32(v: np.float32) -> np.float32:
    """std::exp on a float, correctly rounded to float32."""
    return _f32(math.exp(float(v)))


def _one_over_one_plus_f32(v: np.float32) -> np.float32:
    return _f32(_f32(1.0) / _f32(_f32(1.0) + v))


def _round_f32(x: np.float32) -> np.float32:
    return _f32(round_half_away(float(x)))


def lut_populate_int16(fn, in_scale: float, in_zp: int, out_scale: float) -> list[int]:
    """TFLM's LUTPopulateInt16<float> (output zero point 0): 512 samples of fn over the int16
    input range, each biased by half the interpolation error at its midpoint, plus the end."""
    in_scale, out_scale = _f32(in_scale), _f32(out_scale)
    input_min = _f32(in_scale * _f32(-32768 - in_zp))
    input_max = _f32(in_scale * _f32(32767 - in_zp))
    output_min, output_max = _f32(out_scale * _f32(-32768)), _f32(out_scale * _f32(32767))
    step = _f32(_f32(input_max - input_min) / _f32(512))
    half_step = _f32(step / _f32(2))
    inv = _f32(_f32(65536) / _f32(output_max - output_min))

    def clamp(v):
        return int(min(max(float(v), -32768.0), 32767.0))

    lut = []
    for i in range(512):
        x = _f32(input_min + _f32(_f32(i) * step))
        val = fn(x)
        val_mid = fn(_f32(x + half_step))
        val_next = fn(_f32(input_min + _f32(_f32(i + 1) * step)))
        sample = _round_f32(_f32(val * inv))
        interp = _round_f32(_f32(_f32(_f32(val_next * inv) + sample) / _f32(2)))
        mid = _round_f32(_f32(val_mid * inv))
        bias = _round_f32(_f32(_f32(interp - mid) / _f32(2)))
        lut.append(clamp(_f32(sample - bias)))
    lut.append(clamp(_round_f32(_f32(fn(input_max) * inv))))
    return lut


def lower_softmax16(op, ctx, inp, out):
    """SOFTMAX int16 -> int16 (TFLM's CalculateSoftmaxParams and InitializeLutForInt16)."""
    if out.dtype != "int16":
        raise ctx.fail(op, "int16 input needs int16 output")
    if inp.quant.zero_point[0] != 0 or out.quant.zero_point[0] != 0:
        raise ctx.fail(op, f"int16 input and output zero points must be 0 (TFLM), not "
                           f"{inp.quant.zero_point[0]} and {out.quant.zero_point[0]}")
    out_s = _f32(out.quant.scale[0])
    if abs(float(out_s) - float(_f32(1.0) / _f32(32768))) > float(_f32(0.001) / _f32(32768)):
        raise ctx.fail(op, f"int16 output must have scale 1/32768 (TFLM), not {float(out_s)}")
    depth = int(inp.shape[-1])
    if not 1 <= depth <= 65536:
        raise ctx.fail(op, f"rows of {depth} values would overflow TFLM's int32 sum of exps "
                           f"(at most 65536)")
    beta = float(_f32(op.options.get("beta", 1.0)))
    # the input difference rescaled so that [-65535, 0] stands for [-10, 0]
    mult, shift = quantize_multiplier(float(_f32(inp.quant.scale[0])) * beta / (10.0 / 65535.0))
    rng = 65535
    exp_lut = lut_populate_int16(_exp_f32, float(_f32(10.0) / _f32(rng)), 32767,
                                 float(_f32(2.0) / _f32(rng)))
    recip_lut = lut_populate_int16(_one_over_one_plus_f32, float(_f32(1.0) / _f32(rng)), -32768,
                                   float(_f32(2.0) / _f32(rng)))
    p = ctx.params(op, "tk_softmax16_params", {
        "outer": inp.num_elements // depth, "depth": depth,
        "input_multiplier": mult, "input_shift": shift,
        "exp_lut": ctx.const(op, "exp", "int16_t", np.asarray(exp_lut, np.int16),
                             "exp(x) on [-10, 0] in Q0.15, 513 samples to interpolate"),
        "recip_lut": ctx.const(op, "recip", "int16_t", np.asarray(recip_lut, np.int16),
                               "1 / (1 + x) on [0, 1] in Q0.15, 513 samples to interpolate")})
    ctx.call(op, "tk_softmax_s16", [p, ctx.ptr(op.inputs[0]), ctx.ptr(op.outputs[0])],
             ["softmax_s16.c"])


def lower_softmax(op, ctx):
    inp, out = ctx.tensor(op.inputs[0]), ctx.tensor(op.outputs[0])
    if inp.dtype not in ("int8", "int16") or out.dtype not in ("int8", "int16"):
        raise ctx.fail(op, "only int8 input with int8 or int16 output, and int16 input with "
                           "int16 output, are supported")
    if inp.quant is None or out.quant is None:
        raise ctx.fail(op, "input and output must be quantized")
    if not inp.shape or inp.num_elements != out.num_elements or inp.shape[-1] != out.shape[-1]:
        raise ctx.fail(op, "input and output shapes differ")
    if inp.dtype == "int16":
        lower_softmax16(op, ctx, inp, out)
        return
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


LOWERINGS = {"SOFTMAX": lower_softmax, "LOG_SOFTMAX": lower_log_softmax}
# the tensor types each op accepts (`tinykiln ops`, the README's table): "int8" for int8 in
# and out, "a->b" where they differ
TYPES = {"SOFTMAX": ("int8->int8", "int8->int16", "int16->int16"), "LOG_SOFTMAX": ("int8",)}
# operands as the validator checks them (context.Operands)
OPERANDS = {op: UNARY for op in LOWERINGS}
