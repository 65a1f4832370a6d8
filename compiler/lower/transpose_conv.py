"""TRANSPOSE_CONV, int8 and 16x8 (int16 activations), int8 weights per output channel: TFLM's
Prepare (transpose_conv.cc: padding from the output's size as a convolution of the output would
have it, PopulateConvolutionQuantizationParams). Inputs (output_shape, filter, input, bias?);
TFLM reads the output tensor's shape and ignores output_shape, and so do we. The kernels gather
per output pixel (transpose_conv.h), so they need no scratch."""
from __future__ import annotations

import numpy as np

from .context import Operands
from .conv import acc_bound, requant_table, requant_what
from .conv16 import bias_mode, bias_table, check_types, requant16
from .conv_geometry import ACTIVATIONS, nest_conv_fields
from .multipliers import activation_range, quantize_multiplier

MAX_TAPS = 1 << 16      # int8: |w * (x + input_offset)| < 2^15 per tap, the int32 sum holds 2^16
USE_FAST_KERNELS = True     # int8: tk_transpose_conv_s8_fast where it applies (tests toggle it)
FAST_TAPS = 64              # transpose_conv.h TK_TCONV_FAST_TAPS: filter taps reaching one output
FAST_PRODUCTS = 1 << 15     # TK_TCONV_FAST_PRODUCTS: products per output (partial sums < 2^31)


def _c_div(a: int, b: int) -> int:
    """C's integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def tflm_padding(padding: str, stride: int, size: int, filt: int) -> tuple[int, bool]:
    """(padding, ok) as TFLM's ComputePaddingHeightWidthChecked gives it for one axis: the
    output size a convolution of `size` would have, then the padding that reaches it; ok is
    False where TFLM's checked output size fails (a negative size), and then every padding of
    the op stays 0."""
    if padding == "SAME":
        out = _c_div(size + stride - 1, stride)
    else:
        out = _c_div(size + stride - filt, stride)
    if out < 0:
        return 0, False
    total = max((out - 1) * stride + filt - size, 0)
    return total // 2, True


def _geometry(op, ctx, inp, w, out) -> dict:
    """Shapes, strides and padding of a TRANSPOSE_CONV, checked."""
    if len(inp.shape) != 4 or len(w.shape) != 4 or len(out.shape) != 4:
        raise ctx.fail(op, "input, filter and output must be 4-D (NHWC)")
    n, ih, iw, ic = (int(d) for d in inp.shape)
    oc, kh, kw, kc = (int(d) for d in w.shape)
    on, oh, ow, occ = (int(d) for d in out.shape)
    if kc != ic or occ != oc or on != n:
        raise ctx.fail(op, f"the filter {list(w.shape)} must be [output channels, h, w, input "
                           f"channels] matching input {list(inp.shape)} and output "
                           f"{list(out.shape)}, with as many batches in both")
    o = op.options
    sh, sw = int(o.get("stride_h", 1)), int(o.get("stride_w", 1))
    pad = o.get("padding", "SAME")
    if pad not in ("SAME", "VALID"):
        raise ctx.fail(op, f"padding {pad} is not supported")
    if sh <= 0 or sw <= 0:
        raise ctx.fail(op, f"the strides ({sh}, {sw}) must be positive")
    if oh + kh + sh >= 1 << 30 or ow + kw + sw >= 1 << 30:
        raise ctx.fail(op, "the output, filter and stride are too large for int32 index "
                           "arithmetic")
    pw, ok_w = tflm_padding(pad, sw, ow, kw)
    ph, ok_h = tflm_padding(pad, sh, oh, kh)
    if not (ok_w and ok_h):
        ph = pw = 0
    return {"batches": n, "in_h": ih, "in_w": iw, "in_c": ic, "out_h": oh, "out_w": ow,
            "out_c": oc, "k_h": kh, "k_w": kw, "stride_h": sh, "stride_w": sw,
            "pad_h": ph, "pad_w": pw}


def _check_quant(op, ctx, w, oc: int) -> None:
    if len(w.quant.scale) > 1 and (len(w.quant.scale) != oc or w.quant.axis != 0):
        raise ctx.fail(op, f"per-channel filter quantization must have {oc} scales along "
                           f"dimension 0")
    act = op.options.get("fused_activation_function", "NONE")
    if act not in ACTIVATIONS:
        raise ctx.fail(op, f"fused activation {act} is not supported")


def _lower_s8(op, ctx, inp, w, out, g: dict) -> None:
    if inp.dtype != "int8" or out.dtype != "int8" or w.dtype != "int8":
        raise ctx.fail(op, "only int8 (or int16 with int8 weights) input, filter and output "
                           "are supported")
    oc = g["out_c"]
    taps = -(-g["k_h"] // g["stride_h"]) * -(-g["k_w"] // g["stride_w"]) * g["in_c"]
    if taps > MAX_TAPS:
        raise ctx.fail(op, f"each output sums up to {taps} products; the int32 accumulator "
                           f"holds at most {MAX_TAPS}")
    bias_i = op.inputs[3] if len(op.inputs) > 3 else -1
    if bias_i >= 0:
        bt = ctx.tensor(bias_i)
        if bt.dtype != "int32":
            raise ctx.fail(op, f"with int8 activations the bias must be int32 (it is "
                               f"{bt.dtype})")
        if bt.num_elements != oc:
            raise ctx.fail(op, f"the bias has {bt.num_elements} values for {oc} output "
                               f"channels")
    in_s, out_s = float(inp.quant.scale[0]), float(out.quant.scale[0])
    pairs = [quantize_multiplier(in_s * float(w.quant.scale[c if len(w.quant.scale) > 1 else 0])
                                 / out_s) for c in range(oc)]
    zp = int(out.quant.zero_point[0])
    lo, hi = activation_range(op.options.get("fused_activation_function", "NONE"), out_s, zp)
    fields = {**g, "input_offset": -int(inp.quant.zero_point[0]), "output_offset": zp,
              "act_min": lo, "act_max": hi}
    b = ctx.ptr(bias_i) if bias_i >= 0 else "0"
    x, y = ctx.ptr(op.inputs[2]), ctx.ptr(op.outputs[0])
    tap_n = -(-g["k_h"] // g["stride_h"]) * -(-g["k_w"] // g["stride_w"])
    if USE_FAST_KERNELS and g["in_c"] >= 4 and tap_n <= FAST_TAPS and taps <= FAST_PRODUCTS:
        _emit_fast_s8(op, ctx, w, bias_i, pairs, fields, [x, b, y])
        return
    fields["rq"] = ctx.const(op, "rq", "int32_t", np.array(pairs, np.int64).reshape(-1),
                             "requantization per output channel: {multiplier Q31, shift} "
                             "(tk_requant)")
    p = ctx.params(op, "tk_tconv_params", nest_conv_fields(fields))
    ctx.call(op, "tk_transpose_conv_s8", [p, x, ctx.ptr(op.inputs[1]), b, y],
             ["transpose_conv_s8.c"], macs=_macs(g))


def _emit_fast_s8(op, ctx, w, bias_i: int, pairs: list, fields: dict, xby: list) -> None:
    """tk_transpose_conv_s8_fast: the expanded weights and the fast conv kernels' output stage
    (tk_requant_fast where the accumulator bound allows it)."""
    oc = fields["out_c"]
    bias = ctx.tensor(bias_i).data.astype(np.int64) if bias_i >= 0 else None
    bound = acc_bound(bias, w.data.reshape(oc, -1), -fields["input_offset"])
    rq, fast = requant_table(*zip(*pairs), bound)
    fields = {**fields, "rq": ctx.const(op, "rq", "int32_t", rq, requant_what(fast)),
              "rq_fast": int(fast)}
    p = ctx.params(op, "tk_tconv_params", nest_conv_fields(fields))
    wx = ctx.const(op, "wx", "int32_t", expand_weights(w.data, fields["input_offset"]),
                   f"filter t{op.inputs[1]} {list(w.shape)} expanded for "
                   f"tk_transpose_conv_s8_fast (layout in transpose_conv.h)")
    x, b, y = xby
    ctx.call(op, "tk_transpose_conv_s8_fast", [p, x, wx, b, y], ["transpose_conv_s8_fast.c"],
             macs=_macs(fields))


def _pairs(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """int16 pairs (lo in bits 0..15) as int32 words."""
    u = ((hi.astype(np.int64) & 0xFFFF) << 16) | (lo.astype(np.int64) & 0xFFFF)
    return u.astype(np.uint32).view(np.int32).astype(np.int64)


def expand_weights(w: np.ndarray, input_offset: int) -> np.ndarray:
    """The int8 filter [oc][h][w][ic] as tk_transpose_conv_s8_fast reads it (transpose_conv.h):
    per group of four output channels (then single ones), per tap: the input offset's terms,
    the int16 pairs of each block of four input channels, the ic % 4 last weights."""
    oc, kh, kw, ic = w.shape
    taps, ic4 = kh * kw, ic - ic % 4
    wt = w.astype(np.int64).reshape(oc, taps, ic)
    offs = input_offset * wt.sum(2)                                   # (oc, taps)
    blk = wt[:, :, :ic4].reshape(oc, taps, ic4 // 4, 4)
    pairs = np.stack([_pairs(blk[..., 0], blk[..., 2]), _pairs(blk[..., 1], blk[..., 3])], -1)
    tail = wt[:, :, ic4:]
    parts, o0 = [], 0
    while o0 < oc:
        gs = 4 if o0 + 4 <= oc - oc % 4 else 1
        sl = slice(o0, o0 + gs)
        parts.append(np.concatenate([
            offs[sl].T, pairs[sl].transpose(1, 2, 0, 3).reshape(taps, -1),
            tail[sl].transpose(1, 2, 0).reshape(taps, -1)], axis=1).reshape(-1))
        o0 += gs
    return np.concatenate(parts)


def _lower_s16(op, ctx, inp, w, out, g: dict) -> None:
    check_types(op, ctx, inp, w, out, zero_points=False)
    oc = g["out_c"]
    bias_i, _ = bias_mode(op, ctx, int32_ok=False)
    b, bias = bias_table(op, ctx, bias_i, oc)
    bound = np.abs(bias) + (1 << 15) * np.abs(w.data.reshape(oc, -1).astype(np.int64)).sum(1)
    rq, lo, hi = requant16(op, ctx, inp, w, out, oc, True, bound)
    fields = {**g, "act_min": lo, "act_max": hi, "rq": rq}
    p = ctx.params(op, "tk_tconv_params", nest_conv_fields(fields))
    ctx.call(op, "tk_transpose_conv_s16", [p, ctx.ptr(op.inputs[2]), ctx.ptr(op.inputs[1]), b,
                                           ctx.ptr(op.outputs[0])], ["transpose_conv_s16.c"],
             macs=_macs(g))


def _macs(g: dict) -> int:
    return g["batches"] * g["in_h"] * g["in_w"] * g["in_c"] * g["k_h"] * g["k_w"] * g["out_c"]


def lower_transpose_conv(op, ctx):
    inp, w, out = ctx.tensor(op.inputs[2]), ctx.tensor(op.inputs[1]), ctx.tensor(op.outputs[0])
    if inp.quant is None or w.quant is None or out.quant is None:
        raise ctx.fail(op, "input, filter and output must be quantized")
    g = _geometry(op, ctx, inp, w, out)
    _check_quant(op, ctx, w, g["out_c"])
    if inp.dtype == "int16":
        _lower_s16(op, ctx, inp, w, out, g)
    else:
        _lower_s8(op, ctx, inp, w, out, g)


LOWERINGS = {"TRANSPOSE_CONV": lower_transpose_conv}
# the tensor types each op accepts (`tinykiln ops`, the README's table)
TYPES = {"TRANSPOSE_CONV": ("int8", "int16")}
# operands as the validator checks them (context.Operands): output_shape is not read (TFLM
# takes the output tensor's shape)
OPERANDS = {"TRANSPOSE_CONV": Operands(("s", "w", "a", "b?"),
                                       ("output_shape", "filter", "input", "bias"))}
