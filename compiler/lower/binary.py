"""SUB, MINIMUM, MAXIMUM, SQUARED_DIFFERENCE (broadcast, int8 and int16; MINIMUM and MAXIMUM int32
too) and ABS, each as TFLM's Prepare computes its parameters (sub_common.cc,
maximum_minimum.cc, squared_difference.cc, elementwise.cc). NEG is not lowered: TFLM runs it
in float32 only."""
from __future__ import annotations

import numpy as np

from ..errors import UnsupportedError
from .context import UNARY, Operands
from .elementwise import INT_RANGE, NDIM, broadcast_plan, lower_add_s8
from .multipliers import activation_range, quantize_multiplier

F32 = np.float32


def bcast_fields(op, ctx, a, b, out) -> dict:
    """The tk_bcast block of a two-input op whose inputs broadcast to its output's shape."""
    try:
        plan = broadcast_plan(a.shape, b.shape, out.shape)
    except ValueError as e:
        raise ctx.fail(op, str(e)) from None
    if plan is None:
        raise ctx.fail(op, f"the broadcast needs more than {NDIM} dims after merging")
    return {"dims": carr(plan[0]), "stride1": carr(plan[1]), "stride2": carr(plan[2])}


def carr(values) -> str:
    return "{" + ", ".join(str(int(v)) for v in values) + "}"


def same_types(op, ctx, tensors, allowed, what="inputs and output") -> str:
    """The one type all `tensors` share, which must be among `allowed`."""
    dtypes = {t.dtype for t in tensors}
    if len(dtypes) != 1 or next(iter(dtypes)) not in allowed:
        raise ctx.fail(op, f"its {what} must be all {' or all '.join(allowed)}, not "
                           f"{', '.join(t.dtype for t in tensors)}")
    return next(iter(dtypes))


def qparams(t) -> tuple[float, int]:
    return float(t.quant.scale[0]), int(t.quant.zero_point[0])


def zero_points_zero(op, ctx, tensors) -> None:
    if any(t.quant.zero_point[0] for t in tensors):
        raise ctx.fail(op, f"int16 {op.opcode} needs zero point 0 on its inputs and output, as "
                           f"TFLM requires")


def multiplier(op, ctx, m: float, what: str, below_one: bool = False) -> tuple[int, int]:
    """TFLM QuantizeMultiplier (below_one: QuantizeMultiplierSmallerThanOneExp, which aborts
    unless 0 < m < 1 and the shift is <= 0), refused with a sentence naming the op."""
    if below_one and not 0.0 < m < 1.0:
        raise ctx.fail(op, f"its {what} multiplier (a ratio of quantization scales) is {m:g}; "
                           f"TFLM needs it strictly between 0 and 1")
    try:
        q, shift = quantize_multiplier(m)
    except UnsupportedError as e:
        raise ctx.fail(op, f"for its {what} scaling, {str(e).rstrip('.')}") from None
    if below_one and shift > 0:
        raise ctx.fail(op, f"its {what} multiplier {m:g} rounds to 1; TFLM needs it below 1")
    return q, shift


def act_range(op, ctx, out) -> tuple[int, int]:
    s, z = qparams(out)
    try:
        return activation_range(op.options.get("fused_activation_function", "NONE"), s, z,
                                *INT_RANGE[out.dtype])
    except UnsupportedError as e:
        raise ctx.fail(op, str(e).rstrip(".")) from None


def io(op, ctx):
    return ctx.tensor(op.inputs[0]), ctx.tensor(op.inputs[1]), ctx.tensor(op.outputs[0])


def kind(dtype: str) -> str:
    return {"int8": "s8", "int16": "s16", "int32": "s32"}[dtype]


def lower_sub(op, ctx):
    """TFLM CalculateOpDataSub: ADD's arithmetic and multipliers (in double, as the installed
    TFLM computes them; some TFLM sources compute them in float32, which differs by one on
    some outputs)."""
    a, b, out = io(op, ctx)
    dtype = same_types(op, ctx, (a, b, out), ("int8", "int16"))
    if dtype == "int16":
        zero_points_zero(op, ctx, (a, b, out))
    (s1, z1), (s2, z2), (so, zo) = qparams(a), qparams(b), qparams(out)
    left_shift = 20 if dtype == "int8" else 15
    twice_max = 2.0 * max(s1, s2)
    m1 = multiplier(op, ctx, s1 / twice_max, "input 1", True)
    m2 = multiplier(op, ctx, s2 / twice_max, "input 2", True)
    mo = multiplier(op, ctx, twice_max / ((1 << left_shift) * so), "output", True)
    lo, hi = act_range(op, ctx, out)
    fields = {
        "bcast": bcast_fields(op, ctx, a, b, out),
        "input1_offset": -z1, "input2_offset": -z2, "left_shift": left_shift,
        "input1_multiplier": m1[0], "input1_shift": m1[1],
        "input2_multiplier": m2[0], "input2_shift": m2[1],
        "output_multiplier": mo[0], "output_shift": mo[1],
        "quant": {"output_offset": zo, "act_min": lo, "act_max": hi}}
    if dtype == "int8":         # ADD's kernel, input 2's table negated
        return lower_add_s8(op, ctx, fields, -1)
    p = ctx.params(op, "tk_add_params", fields)
    k = kind(dtype)
    ctx.call(op, f"tk_sub_{k}", [p, ctx.ptr(op.inputs[0]), ctx.ptr(op.inputs[1]),
                                 ctx.ptr(op.outputs[0])], [f"sub_{k}.c"])


def lower_minmax(op, ctx):
    """TFLM MAXIMUM / MINIMUM compare the stored values; tinykiln asks that the inputs and the
    output share one quantization, as converters write it, so that the result means something."""
    a, b, out = io(op, ctx)
    dtype = same_types(op, ctx, (a, b, out), ("int8", "int16", "int32"))
    if dtype != "int32" and not (qparams(a) == qparams(b) == qparams(out)):
        raise ctx.fail(op, "its inputs and output must share one scale and zero point")
    p = ctx.params(op, "tk_minmax_params", {"bcast": bcast_fields(op, ctx, a, b, out),
                                            "is_max": int(op.opcode == "MAXIMUM")})
    k = kind(dtype)
    ctx.call(op, f"tk_minmax_{k}", [p, ctx.ptr(op.inputs[0]), ctx.ptr(op.inputs[1]),
                                    ctx.ptr(op.outputs[0])], [f"minmax_{k}.c"])


def lower_squared_difference(op, ctx):
    """TFLM squared_difference.cc PrepareQuantized: left shift 7 (int8) or 0 (int16)."""
    a, b, out = io(op, ctx)
    dtype = same_types(op, ctx, (a, b, out), ("int8", "int16"))
    if dtype == "int16":
        zero_points_zero(op, ctx, (a, b, out))
    (s1, z1), (s2, z2), (so, zo) = qparams(a), qparams(b), qparams(out)
    left_shift = 7 if dtype == "int8" else 0
    twice_max = 2.0 * float(max(F32(s1), F32(s2)))
    m1 = multiplier(op, ctx, s1 / twice_max, "input 1", True)
    m2 = multiplier(op, ctx, s2 / twice_max, "input 2", True)
    # TFLM: (1 << 2 * left_shift) * output scale in float32, the rest in double
    mo = multiplier(op, ctx, twice_max * twice_max / float(F32(1 << 2 * left_shift) * F32(so)),
                    "output")
    lo, hi = INT_RANGE[dtype]
    p = ctx.params(op, "tk_add_params", {
        "bcast": bcast_fields(op, ctx, a, b, out),
        "input1_offset": -z1, "input2_offset": -z2, "left_shift": left_shift,
        "input1_multiplier": m1[0], "input1_shift": m1[1],
        "input2_multiplier": m2[0], "input2_shift": m2[1],
        "output_multiplier": mo[0], "output_shift": mo[1],
        "quant": {"output_offset": zo, "act_min": lo, "act_max": hi}})
    k = kind(dtype)
    ctx.call(op, f"tk_squared_diff_{k}", [p, ctx.ptr(op.inputs[0]), ctx.ptr(op.inputs[1]),
                                          ctx.ptr(op.outputs[0])], [f"squared_diff_{k}.c"])


def lower_abs(op, ctx):
    """TFLM elementwise.cc AbsPrepare: |x - zp_in|, rescaled only when the float32 scales
    differ, plus zp_out, clamped to the type's range."""
    x, out = ctx.tensor(op.inputs[0]), ctx.tensor(op.outputs[0])
    dtype = same_types(op, ctx, (x, out), ("int8", "int16"), "input and output")
    if x.num_elements != out.num_elements:
        raise ctx.fail(op, f"its output holds {out.num_elements} elements, its input "
                           f"{x.num_elements}")
    if dtype == "int16":
        zero_points_zero(op, ctx, (x, out))
    (si, zi), (so, zo) = qparams(x), qparams(out)
    rescale = F32(si) != F32(so)
    m, sh = multiplier(op, ctx, float(F32(si) / F32(so)), "rescaling") if rescale else (0, 0)
    p = ctx.params(op, "tk_abs_params", {"size": x.num_elements, "input_zp": zi,
                                         "output_zp": zo, "multiplier": m, "shift": sh,
                                         "rescale": int(rescale)})
    ctx.call(op, f"tk_abs_{kind(dtype)}", [p, ctx.ptr(op.inputs[0]), ctx.ptr(op.outputs[0])],
             [f"abs_{kind(dtype)}.c"])


LOWERINGS = {"SUB": lower_sub, "MINIMUM": lower_minmax, "MAXIMUM": lower_minmax,
             "SQUARED_DIFFERENCE": lower_squared_difference, "ABS": lower_abs}
TYPES = {"SUB": ("int8", "int16"), "MINIMUM": ("int8", "int16", "int32"),
         "MAXIMUM": ("int8", "int16", "int32"), "SQUARED_DIFFERENCE": ("int8", "int16"),
         "ABS": ("int8", "int16")}
_TWO = Operands(("a", "a"), ("input 1", "input 2"))
OPERANDS = {"SUB": _TWO, "MINIMUM": _TWO, "MAXIMUM": _TWO, "SQUARED_DIFFERENCE": _TWO,
            "ABS": UNARY}
