"""DEPTHWISE_CONV_2D int8, 3x3, stride 1 or 2, depth multiplier 1: the line kernel
tk_depthwise3x3_s8 (depthwise3x3_s8.c). Not a family of its own: conv.py's lowering hands it the
ops it covers, with their quantization fields and folded bias already computed.

The kernel runs along "lines" of the image: rows, or columns when the image is taller than wide
(kws_ref_model's 25x5 maps), so that its per-line setup is spread over the longer dimension. For
columns the geometry's strides are swapped and the filter transposed here."""
from __future__ import annotations

import numpy as np


# outputs along the longer side from which the line kernel beats the group kernel, per stride
# (exact instruction counts on mps2-an386: at stride 1 a 3x3 output takes 1.5x the group kernel's,
# 4x4 the same, 5x5 0.88x; at stride 2 a 4x4 output 1.25x, 6x6 1.04x, 8x8 0.80x)
MIN_POSITIONS = {1: 5, 2: 8}


def dw3x3_applies(fields: dict) -> bool:
    """Whether the line kernel covers the op whose flat conv fields these are, and pays."""
    f = fields
    return (f["k_h"] == 3 and f["k_w"] == 3 and f["stride_h"] == f["stride_w"]
            and f["stride_h"] in MIN_POSITIONS and f["dil_h"] == 1 and f["dil_w"] == 1
            and f["pad_h"] in (0, 1) and f["pad_w"] in (0, 1) and f["in_c"] == f["out_c"]
            and max(f["out_h"], f["out_w"]) >= MIN_POSITIONS[f["stride_h"]])


def lines_are_rows(out_h: int, out_w: int) -> bool:
    """The line kernel's lines: the output's rows where it is at least as wide as tall, else
    its columns."""
    return out_w >= out_h


def line_kernel(op, xs, ys, k, stride, dil, pad, fast: bool) -> str | None:
    """"rows" or "columns" (its lines) where the lowering runs a DEPTHWISE_CONV_2D of these
    shapes (n, h, w, c) and (row, column) geometry on the line kernel, else None (op.lean: the
    raster kernel, passes/in_place.py). fast: conv.USE_FAST_KERNELS."""
    if not fast or int(op.options.get("depth_multiplier", 1)) != 1 or op.lean:
        return None
    fields = {"k_h": k[0], "k_w": k[1], "stride_h": stride[0], "stride_w": stride[1],
              "dil_h": dil[0], "dil_w": dil[1], "pad_h": pad[0], "pad_w": pad[1],
              "in_c": xs[3], "out_c": ys[3], "out_h": ys[1], "out_w": ys[2]}
    if not dw3x3_applies(fields):
        return None
    return "rows" if lines_are_rows(ys[1], ys[2]) else "columns"


def filter_words(w2d: np.ndarray, transposed: bool) -> np.ndarray:
    """[channels, 9] weights (tap = ky * 3 + kx) as the kernel's six words per channel: per filter
    row a, {w[a][0] | w[a][1] << 16, w[a][1] | w[a][2] << 16} as int32 (two int16 lanes)."""
    w = w2d.astype(np.int64).reshape(-1, 3, 3)
    if transposed:
        w = w.transpose(0, 2, 1)
    lo = np.stack([w[:, :, 0], w[:, :, 1]], axis=2) & 0xFFFF       # [c, a, 2]
    hi = np.stack([w[:, :, 1], w[:, :, 2]], axis=2) & 0xFFFF
    words = (lo | (hi << 16)).reshape(-1)
    return np.where(words >= 1 << 31, words - (1 << 32), words).astype(np.int32)


def lower_dw3x3(op, ctx, fields: dict, w2d, fb, fb_what: str, macs: int) -> None:
    f = fields
    c = f["in_c"]
    rows = lines_are_rows(f["out_h"], f["out_w"])     # lines along the longer dimension
    row_bytes, out_row = f["in_w"] * c, f["out_w"] * c
    if rows:
        geo = {"lines_in": f["in_h"], "pos_in": f["in_w"], "lines_out": f["out_h"],
               "pos_out": f["out_w"], "pad_line": f["pad_h"], "pad_pos": f["pad_w"],
               "in_line": row_bytes, "in_pos": c, "out_line": out_row, "out_pos": c}
    else:
        geo = {"lines_in": f["in_w"], "pos_in": f["in_h"], "lines_out": f["out_w"],
               "pos_out": f["out_h"], "pad_line": f["pad_w"], "pad_pos": f["pad_h"],
               "in_line": c, "in_pos": row_bytes, "out_line": c, "out_pos": out_row}
    params = {"batches": f["batches"], "channels": c, "stride": f["stride_h"], **geo,
              "in_image": f["in_h"] * row_bytes, "out_image": f["out_h"] * out_row,
              "input_zp": -f["input_offset"], "output_offset": f["output_offset"],
              "act_min": f["act_min"], "act_max": f["act_max"], "rq": f["rq"],
              "rq_fast": f["rq_fast"]}
    p = ctx.params(op, "tk_dw3_params", params)
    w = ctx.const(op, "w", "int32_t", filter_words(w2d, not rows),
                  f"filter t{op.inputs[1]} [1][3][3][{c}] as int16 pairs, six words per channel "
                  f"(depthwise3x3_s8.h)" + ("" if rows else ", transposed: lines are columns"))
    fbias = ctx.const(op, "fbias", "int32_t", fb, fb_what)
    ctx.call(op, "tk_depthwise3x3_s8", [p, ctx.ptr(op.inputs[0]), w, fbias,
                                        ctx.ptr(op.outputs[0])],
             ["depthwise3x3_s8.c"], macs=macs)
