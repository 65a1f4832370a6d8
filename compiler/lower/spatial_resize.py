"""RESIZE_NEAREST_NEIGHBOR (int8, int16) and RESIZE_BILINEAR (int8), bit-exact with TFLM: the
source rows and columns (and bilinear weights in 1/1024 steps) are computed here with TFLM's own
arithmetic (float32 for nearest, its integer fixed point for bilinear), so the kernels only
copy (remap.c) or blend four neighbours (resize_bilinear_s8.c)."""
from __future__ import annotations

import math

import numpy as np

from .context import Operands
from .spatial import const_ints, emit_remap, same_type_io

INT32_MAX = (1 << 31) - 1


def _sizes(op, ctx, types):
    """Input, output and the constant output (height, width); the output must be
    [batch, height, width, depth] of the 4D input."""
    inp, out = same_type_io(op, ctx, types)
    if len(inp.shape) != 4:
        raise ctx.fail(op, "the input must be 4D (NHWC), as TFLM requires")
    oh, ow = (int(v) for v in const_ints(op, ctx, 1, (2,), "size"))
    if oh < 1 or ow < 1:
        raise ctx.fail(op, f"the size ({oh}, {ow}) must be positive")
    n, h, w, c = (int(d) for d in inp.shape)
    if tuple(int(d) for d in out.shape) != (n, oh, ow, c):
        raise ctx.fail(op, f"the output shape should be {[n, oh, ow, c]}")
    return inp, (n, h, w, c), (oh, ow)


def nearest_index(out_size: int, in_size: int, align: bool, half: bool) -> list[int]:
    """TFLM GetNearestNeighbor for every output index, in its float32 arithmetic."""
    f32 = np.float32
    if align and out_size > 1:
        scale = f32(in_size - 1) / f32(out_size - 1)
    else:
        scale = f32(in_size) / f32(out_size)
    offset = f32(0.5) if half else f32(0.0)
    out = []
    for o in range(out_size):
        v = float((f32(o) + offset) * scale)       # >= 0: std::round is floor(v + 0.5)
        i = math.floor(v + 0.5) if align else math.floor(v)
        i = min(i, in_size - 1)
        out.append(max(i, 0) if half else i)
    return out


def lower_resize_nearest(op, ctx):
    inp, (n, h, w, c), (oh, ow) = _sizes(op, ctx, ("int8", "int16"))
    align = bool(op.options.get("align_corners", False))
    half = bool(op.options.get("half_pixel_centers", False))
    ys = np.array(nearest_index(oh, h, align, half))
    xs = np.array(nearest_index(ow, w, align, half))
    if min(ys.min(), xs.min()) < 0:
        raise ctx.fail(op, "a source index would be negative")
    emit_remap(op, ctx, [np.arange(n) * h * w * c, ys * w * c, xs * c], c,
               "RESIZE_NEAREST_NEIGHBOR")


def _cdiv(a: int, b: int) -> int:
    """C's int32 division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def bilinear_axis(out_size: int, in_size: int, align: bool, half: bool):
    """TFLM ComputeInterpolationValuesInteger along one axis: (lo, hi, frac) per output index,
    frac = scaled - 1024 * lo (the weight of hi in 1/1024 steps); None if TFLM would read
    outside the input (it does not check)."""
    scale = ((1 << 10) * in_size + out_size // 2) // out_size
    if align and out_size > 1:
        scale = ((1 << 10) * (in_size - 1) + (out_size - 1) // 2) // (out_size - 1)
    rows = []
    for o in range(out_size):
        v = o * scale + scale // 2 - (1 << 9) if half else o * scale
        lo = max(_cdiv(v, 1 << 10), 0)
        hi = min(_cdiv(v + (1 << 10) - 1, 1 << 10), in_size - 1)
        if not (0 <= lo < in_size and 0 <= hi < in_size) or abs(v) > INT32_MAX:
            return None
        rows.append((lo, hi, v - (1 << 10) * lo))
    return rows


def lower_resize_bilinear(op, ctx):
    inp, (n, h, w, c), (oh, ow) = _sizes(op, ctx, ("int8",))
    align = bool(op.options.get("align_corners", False))
    half = bool(op.options.get("half_pixel_centers", False))
    if align and half:
        raise ctx.fail(op, "align_corners and half_pixel_centers are both set; TFLM refuses "
                           "that")
    ys, xs = bilinear_axis(oh, h, align, half), bilinear_axis(ow, w, align, half)
    if ys is None or xs is None:
        raise ctx.fail(op, f"resizing {h}x{w} to {oh}x{ow} makes TFLM's fixed-point source "
                           f"index pass the input's edge")

    def spread(rows):      # sum of |weights| along the axis, in 1/1024 steps
        return max(abs(1024 - f) + abs(f) for _, _, f in rows)
    if 128 * spread(ys) * spread(xs) + (1 << 19) > INT32_MAX:   # resize_bilinear_s8.c's bound
        raise ctx.fail(op, "its interpolation weights would overflow the int32 accumulator")
    ty = ctx.const(op, "ys", "int32_t", np.array(ys).reshape(-1),
                   what="per output row: source rows y0, y1 and the weight of y1 (/1024)")
    tx = ctx.const(op, "xs", "int32_t", np.array(xs).reshape(-1),
                   what="per output column: source columns x0, x1 and the weight of x1 (/1024)")
    p = ctx.params(op, "tk_resize_bilinear_params", {
        "batches": n, "in_h": h, "in_w": w, "depth": c, "out_h": oh, "out_w": ow,
        "y": ty, "x": tx})
    ctx.call(op, "tk_resize_bilinear_s8", [p, ctx.ptr(op.inputs[0]), ctx.ptr(op.outputs[0])],
             ["resize_bilinear_s8.c"], macs=4 * n * oh * ow * c)


LOWERINGS = {"RESIZE_NEAREST_NEIGHBOR": lower_resize_nearest,
             "RESIZE_BILINEAR": lower_resize_bilinear}
TYPES = {"RESIZE_NEAREST_NEIGHBOR": ("int8", "int16"), "RESIZE_BILINEAR": ("int8",)}
OPERANDS = {k: Operands(("a", "c"), ("input", "size")) for k in LOWERINGS}
