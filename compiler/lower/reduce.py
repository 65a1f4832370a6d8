"""MEAN, int8: TFLM PrepareMeanOrSumHelper + reference_ops::QuantizedMeanOrSum. The 1/count
factor is folded into the multiplier exactly as TFLM does it at run time; the input is collapsed
into kept and reduced dim groups so the kernel needs no scratch."""
from __future__ import annotations

from .multipliers import quantize_multiplier
from .context import Operands


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


def lower_mean(op, ctx):
    inp, out = ctx.tensor(op.inputs[0]), ctx.tensor(op.outputs[0])
    axis_t = ctx.tensor(op.inputs[1])
    if inp.dtype != "int8" or out.dtype != "int8":
        raise ctx.fail(op, "only int8 input and output are supported")
    if not axis_t.is_const or axis_t.dtype != "int32":
        raise ctx.fail(op, "the axis operand must be a constant int32 tensor")
    rank = len(inp.shape)
    axes: list[int] = []
    for a in axis_t.data.reshape(-1).tolist():
        a = int(a) + rank if int(a) < 0 else int(a)
        if not 0 <= a < rank:
            raise ctx.fail(op, f"axis {a} is out of range for a {rank}-D input")
        if a not in axes:
            axes.append(a)
    count = 1
    for a in axes:
        count *= int(inp.shape[a])
    kept = 1
    for i, d in enumerate(inp.shape):
        if i not in axes:
            kept *= int(d)
    if out.num_elements != kept:
        raise ctx.fail(op, f"the output should have {kept} elements")
    if count == 0 or count >= 1 << 23:         # |sum - zp * count| <= 255 * count < 2^31
        raise ctx.fail(op, f"{count} reduced elements per output are not supported")
    groups = _groups(inp.shape, set(axes))
    keep = [(g[0], g[1]) for g in groups if not g[2]]
    red = [(g[0], g[1]) for g in groups if g[2]]
    if len(keep) > 3 or len(red) > 3:
        raise ctx.fail(op, "the reduced axes are too scattered (more than 3 separate groups)")
    keep = [(1, 0)] * (3 - len(keep)) + keep
    red = [(1, 0)] * (3 - len(red)) + red
    mult, shift = mean_multiplier(inp.quant.scale[0], out.quant.scale[0], count)
    zp = inp.quant.zero_point[0]
    p = ctx.params(op, "tk_mean_params", {
        "keep_dims": _arr(d for d, _ in keep), "keep_stride": _arr(s for _, s in keep),
        "red_dims": _arr(d for d, _ in red), "red_stride": _arr(s for _, s in red),
        "zp_times_count": zp * count, "multiplier": mult, "shift": shift,
        "output_offset": out.quant.zero_point[0],
    })
    ctx.call(op, "tk_mean_s8", [p, ctx.ptr(op.inputs[0]), ctx.ptr(op.outputs[0])],
             ["mean_s8.c"])


def _arr(values) -> str:
    return "{" + ", ".join(str(int(v)) for v in values) + "}"


LOWERINGS = {"MEAN": lower_mean}
# the tensor types each op accepts (`tinykiln ops`, the README's table): "int8" for int8 in
# and out, "a->b" where they differ
TYPES = {op: ("int8",) for op in LOWERINGS}
# operands as the validator checks them (context.Operands)
OPERANDS = {"MEAN": Operands(("a", "c"), ("input", "axis operand"))}

