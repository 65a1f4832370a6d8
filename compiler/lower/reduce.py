"""MEAN, SUM, REDUCE_MAX and REDUCE_MIN: TFLM PrepareMeanOrSumHelper / PrepareMinMaxHelper and
reference_ops::QuantizedMeanOrSum / ReduceGeneric. MEAN's 1/count factor is folded into the
multiplier exactly as TFLM does it at run time; the input is collapsed into kept and reduced dim
groups so the kernels need no scratch."""
from __future__ import annotations

from ..errors import UnsupportedError
from .multipliers import quantize_multiplier
from .context import Operands

# reduced elements per output: |sum - zp * count| <= 255 * count (int8), 65535 * count (int16)
# must stay below 2^31, TFLM's int32 accumulator
MAX_COUNT = {"int8": 1 << 23, "int16": 1 << 15}
SUM_KERNEL = {"int8": ("tk_mean_s8", "mean_s8.c"), "int16": ("tk_reduce_sum_s16",
                                                             "reduce_sum_s16.c")}


def mean_multiplier(in_scale: float, out_scale: float, count: int) -> tuple[int, int]:
    """TFLM: QuantizeMultiplier(s_in / s_out), then fold 1/count into it (QuantizedMeanOrSum)."""
    mult, shift = quantize_multiplier(float(in_scale) / float(out_scale))
    s = count.bit_length() - 1                  # 63 - CountLeadingZeros(count)
    s = min(s, 32, 31 + shift)
    mult = (mult << s) // count                 # both non-negative: C++ truncation = floor
    return mult, shift - s


def _groups(shape, axes):
    """Merge adjacent dims of the same kind (kept / reduced), dropping size-1 dims; each group
    is (size, element stride of its innermost dim, reduced)."""
    strides, acc = [0] * len(shape), 1
    for i in range(len(shape) - 1, -1, -1):
        strides[i] = acc
        acc *= int(shape[i])
    groups: list[list] = []
    for i, d in enumerate(shape):
        d = int(d)
        if d == 1:
            continue
        red = i in axes
        if groups and groups[-1][2] == red:     # adjacent (size-1 dims between are stride-free)
            groups[-1][0] *= d
            groups[-1][1] = strides[i]
        else:
            groups.append([d, strides[i], red])
    return groups


def _axes(op, ctx, inp):
    """TFLM ResolveAxis: negative axes count from the end, duplicates are dropped."""
    axis_t = ctx.tensor(op.inputs[1])
    if not axis_t.is_const or axis_t.dtype != "int32":
        raise ctx.fail(op, "the axis operand must be a constant int32 tensor")
    rank = len(inp.shape)
    axes: list[int] = []
    for given in axis_t.data.reshape(-1).tolist():
        a = int(given) + rank if int(given) < 0 else int(given)
        if not 0 <= a < rank:
            raise ctx.fail(op, f"axis {int(given)} is out of range for a {rank}-D input")
        if a not in axes:
            axes.append(a)
    return axes


def _plan(op, ctx):
    """(input, output, count, walk fields) after the checks every reduction shares."""
    inp, out = ctx.tensor(op.inputs[0]), ctx.tensor(op.outputs[0])
    axes = _axes(op, ctx, inp)
    count = 1
    for a in axes:
        count *= int(inp.shape[a])
    kept = inp.num_elements // count
    if out.num_elements != kept:
        raise ctx.fail(op, f"the output should have {kept} elements")
    groups = _groups(inp.shape, set(axes))
    keep = [(g[0], g[1]) for g in groups if not g[2]]
    red = [(g[0], g[1]) for g in groups if g[2]]
    if len(keep) > 3 or len(red) > 3:
        raise ctx.fail(op, "the reduced axes are too scattered (more than 3 separate groups)")
    keep = [(1, 0)] * (3 - len(keep)) + keep
    red = [(1, 0)] * (3 - len(red)) + red
    walk = {"keep_dims": _arr(d for d, _ in keep), "keep_stride": _arr(s for _, s in keep),
            "red_dims": _arr(d for d, _ in red), "red_stride": _arr(s for _, s in red)}
    return inp, out, count, walk


def _types(op, ctx, inp, out, allowed):
    if inp.dtype not in allowed or out.dtype != inp.dtype:
        raise ctx.fail(op, f"TFLM runs {op.opcode} only with {' or '.join(allowed)} input and "
                           f"an output of the same type, not {inp.dtype} -> {out.dtype}")


def _lower_mean_or_sum(op, ctx, is_mean: bool):
    inp, out = ctx.tensor(op.inputs[0]), ctx.tensor(op.outputs[0])
    _types(op, ctx, inp, out, ("int8", "int16"))
    inp, out, count, walk = _plan(op, ctx)
    if count >= MAX_COUNT[inp.dtype]:
        raise ctx.fail(op, f"{count} reduced elements per output are not supported "
                           f"(TFLM's int32 sum of {inp.dtype} values could overflow)")
    try:
        if is_mean:
            mult, shift = mean_multiplier(inp.quant.scale[0], out.quant.scale[0], count)
        else:
            mult, shift = quantize_multiplier(float(inp.quant.scale[0]) /
                                              float(out.quant.scale[0]))
    except UnsupportedError as e:
        raise ctx.fail(op, str(e).rstrip(".")) from None
    zp = inp.quant.zero_point[0]
    p = ctx.params(op, "tk_mean_params", dict(walk, **{
        "zp_times_count": zp * count, "multiplier": mult, "shift": shift,
        "output_offset": out.quant.zero_point[0]}))
    func, src = SUM_KERNEL[inp.dtype]
    ctx.call(op, func, [p, ctx.ptr(op.inputs[0]), ctx.ptr(op.outputs[0])], [src])


def lower_mean(op, ctx):
    _lower_mean_or_sum(op, ctx, True)


def lower_sum(op, ctx):
    _lower_mean_or_sum(op, ctx, False)


def lower_min_max(op, ctx):
    inp, out = ctx.tensor(op.inputs[0]), ctx.tensor(op.outputs[0])
    _types(op, ctx, inp, out, ("int8",))
    qi, qo = inp.quant, out.quant
    if float(qi.scale[0]) != float(qo.scale[0]) or qi.zero_point[0] != qo.zero_point[0]:
        raise ctx.fail(op, "the input and output must share scale and zero point (TFLM "
                           "requires them equal)")
    inp, out, _, walk = _plan(op, ctx)
    p = ctx.params(op, "tk_reduce_params", walk)
    func = "tk_reduce_max_s8" if op.opcode == "REDUCE_MAX" else "tk_reduce_min_s8"
    ctx.call(op, func, [p, ctx.ptr(op.inputs[0]), ctx.ptr(op.outputs[0])],
             ["reduce_minmax_s8.c"])


def _arr(values) -> str:
    return "{" + ", ".join(str(int(v)) for v in values) + "}"


LOWERINGS = {"MEAN": lower_mean, "SUM": lower_sum, "REDUCE_MAX": lower_min_max,
             "REDUCE_MIN": lower_min_max}
# the tensor types each op accepts (`tinykiln ops`, the README's table): "int8" for int8 in
# and out, "a->b" where they differ. TFLM runs REDUCE_MAX / REDUCE_MIN in int8 (and float) only.
TYPES = {"MEAN": ("int8", "int16"), "SUM": ("int8", "int16"), "REDUCE_MAX": ("int8",),
         "REDUCE_MIN": ("int8",)}
# operands as the validator checks them (context.Operands)
OPERANDS = {op: Operands(("a", "c"), ("input", "axis operand")) for op in LOWERINGS}
