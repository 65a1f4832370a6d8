"""CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED with int16 activations and int8 weights (16x8,
TensorFlow's EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8): TFLM's Prepare for
them. conv.py and fully_connected.py send their int16 ops here; TRANSPOSE_CONV uses the same
requantization (requant16). The accumulator follows the bias type as in TFLM (tk_conv16.h)."""
from __future__ import annotations

import numpy as np

from .conv_geometry import ACTIVATIONS, geometry, nest_conv_fields
from .multipliers import activation_range, quantize_multiplier

# Set to False (tests do) to send CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED to their
# reference kernels.
USE_FAST_KERNELS = True
DW_FAST_TAPS = 256      # depthwise_conv2d_s16_fast.h TK_DW16_FAST_TAPS: int32 sums stay exact

INT16_MIN, INT16_MAX = -(1 << 15), (1 << 15) - 1
ACC64_LIMIT = 1 << 47       # TFLM's int64 MultiplyByQuantizedMultiplier holds |x| < 2^47
TENSOR_TYPE_INT32 = 2       # the schema's TensorType INT32 (quantized_bias_type)


def bias_mode(op, ctx, int32_ok: bool) -> tuple[int, bool]:
    """(bias tensor index or -1, whether TFLM sums in int64). TFLM's 16x8 CONV_2D and
    FULLY_CONNECTED sum in the bias's type (int32 or int64; without a bias, int32 only when the
    options' quantized_bias_type says INT32); DEPTHWISE_CONV_2D and TRANSPOSE_CONV read the bias
    as int64 whatever it is, so an int32 bias is refused there."""
    bias_i = op.inputs[2] if len(op.inputs) > 2 else -1
    if op.opcode == "TRANSPOSE_CONV":
        bias_i = op.inputs[3] if len(op.inputs) > 3 else -1
    if bias_i < 0:
        wants32 = int32_ok and op.options.get("quantized_bias_type", 0) == TENSOR_TYPE_INT32
        return -1, not wants32
    bt = ctx.tensor(bias_i)
    if bt.dtype == "int64":
        return bias_i, True
    if bt.dtype == "int32" and int32_ok:
        return bias_i, False
    allowed = "int64 or int32" if int32_ok else "int64"
    raise ctx.fail(op, f"with int16 activations the bias must be {allowed} (it is {bt.dtype})")


def check_types(op, ctx, inp, w, out, zero_points: bool) -> None:
    """int16 in and out, constant int8 weights; zero points 0 unless the kernel applies them
    (TFLM's 16x8 conv kernels ignore them, so a model relying on one is refused)."""
    if inp.dtype != "int16" or out.dtype != "int16" or w.dtype != "int8":
        raise ctx.fail(op, "with int16 activations the input and output must be int16 and the "
                           "weights int8")
    if inp.quant is None or w.quant is None or out.quant is None:
        raise ctx.fail(op, "input, weights and output must be quantized")
    if not zero_points:
        for name, t in (("input", inp), ("output", out)):
            if int(t.quant.zero_point[0]) != 0:
                raise ctx.fail(op, f"the int16 {name} has zero point {t.quant.zero_point[0]}; "
                                   f"TFLM's 16x8 {op.opcode} kernel ignores zero points, so "
                                   f"tinykiln takes only 0 (symmetric)")


def requant16(op, ctx, inp, w, out, n_ch: int, acc64: bool, bound: np.ndarray):
    """The per-channel requantization table (two int32 per entry) and the activation clamp.
    int64 mode: {m16, t} with m16 TFLM's multiplier rounded to Q15 and t = 15 - shift; int32
    mode: {multiplier, shift} as tk_requant takes them. `bound` (per entry) is the largest
    |accumulator|, which the int64 mode keeps below 2^47 as TFLM asserts."""
    in_s, out_s = float(inp.quant.scale[0]), float(out.quant.scale[0])
    act = op.options.get("fused_activation_function", "NONE")
    if act not in ACTIVATIONS:
        raise ctx.fail(op, f"fused activation {act} is not supported")
    pairs = []
    for ch in range(n_ch):
        ws = float(w.quant.scale[ch if len(w.quant.scale) > 1 else 0])
        m, s = quantize_multiplier(in_s * ws / out_s)
        if acc64:
            if s >= 8:
                raise ctx.fail(op, f"the requantization multiplier {in_s * ws / out_s:g} is 128 "
                                   f"or more; TFLM's int64 requantization takes shifts below 8")
            pairs.append(((m + (1 << 15)) >> 16 if m < 0x7FFF0000 else 0x7FFF, 15 - s))
        else:
            pairs.append((m, s))
    if acc64 and int(np.max(bound)) >= ACC64_LIMIT:
        raise ctx.fail(op, f"the int64 accumulator could reach {int(np.max(bound))}; TFLM's "
                           f"int64 requantization takes magnitudes below 2^47")
    zp = int(out.quant.zero_point[0])
    lo, hi = activation_range(act, out_s, zp, INT16_MIN, INT16_MAX)
    what = ("{m16, t}: TFLM's multiplier rounded to Q15 and 15 - shift (int64 accumulator)"
            if acc64 else "{multiplier Q31, shift} (int32 accumulator)")
    rq = ctx.const(op, "rq", "int32_t", np.array(pairs, np.int64).reshape(-1),
                   f"requantization per output channel, {what}; tk_conv16.h")
    return rq, lo, hi


def bias_table(op, ctx, bias_i: int, n: int, emit: bool = True) -> tuple[str, np.ndarray]:
    """The bias widened to int64 (C expression, values; "0" and zeros without one); with
    `emit` False only its values (a kernel that takes a folded bias instead)."""
    if bias_i < 0:
        return "0", np.zeros(n, np.int64)
    b = ctx.tensor(bias_i).data.reshape(-1).astype(np.int64)
    if b.size != n:
        raise ctx.fail(op, f"the bias has {b.size} values for {n} output channels")
    if not emit:
        return "", b
    return ctx.const(op, "bias", "int64_t", b,
                     f"bias t{bias_i} ({ctx.tensor(bias_i).dtype}) as int64, one per output "
                     f"channel"), b


def quad_swapped(w2d: np.ndarray) -> np.ndarray:
    """[runs, n] weights in the order tk_dot_s16_s8 (tk_conv16.h) reads them: in every group of
    four taps of a run w0 w2 w1 w3, a last group of fewer than four as it is."""
    runs, n = w2d.shape
    n4 = n - n % 4
    head = w2d[:, :n4].reshape(runs, -1, 4)[:, :, [0, 2, 1, 3]].reshape(runs, n4)
    return np.concatenate([head, w2d[:, n4:]], axis=1).reshape(-1).astype(np.int8)


def _bound(bias: np.ndarray, w2d: np.ndarray, reach: int) -> np.ndarray:
    """|bias| + reach * sum|w| per output channel (w2d [channels, taps])."""
    return np.abs(bias) + reach * np.abs(w2d.astype(np.int64)).sum(axis=1)


def _conv_common(op, ctx, channels_dim: int, quant_axis: int, int32_ok: bool):
    inp, w, out = ctx.tensor(op.inputs[0]), ctx.tensor(op.inputs[1]), ctx.tensor(op.outputs[0])
    check_types(op, ctx, inp, w, out, zero_points=False)
    if len(inp.shape) != 4 or len(w.shape) != 4 or len(out.shape) != 4:
        raise ctx.fail(op, "input, filter and output must be 4-D (NHWC)")
    n_ch = int(w.shape[channels_dim])
    if len(w.quant.scale) > 1 and (len(w.quant.scale) != n_ch or w.quant.axis != quant_axis):
        raise ctx.fail(op, f"per-channel filter quantization must have {n_ch} scales along "
                           f"dimension {quant_axis}")
    bias_i, acc64 = bias_mode(op, ctx, int32_ok)
    return inp, w, out, n_ch, bias_i, acc64


def lower_conv2d_s16(op, ctx):
    inp, w, out, out_c, bias_i, acc64 = _conv_common(op, ctx, 0, 0, True)
    _, k_h, k_w, k_c = (int(d) for d in w.shape)
    g = geometry(op, ctx, inp, out, k_h, k_w, out_c)
    in_c = g["in_c"]
    if k_c <= 0 or in_c % k_c or out_c % (in_c // k_c):
        raise ctx.fail(op, f"filter depth {k_c} does not divide the input depth {in_c} into "
                           f"groups that divide the {out_c} output channels")
    b, bias = bias_table(op, ctx, bias_i, out_c)
    w2d = w.data.reshape(out_c, -1)
    rq, lo, hi = requant16(op, ctx, inp, w, out, out_c, acc64, _bound(bias, w2d, 1 << 15))
    fields = {**g, "k_h": k_h, "k_w": k_w, "k_c": k_c, "act_min": lo, "act_max": hi, "rq": rq,
              "acc64": int(acc64)}
    p = ctx.params(op, "tk_conv_s16_params", nest_conv_fields(fields))
    macs = g["batches"] * g["out_h"] * g["out_w"] * out_c * k_h * k_w * k_c
    x, y = ctx.ptr(op.inputs[0]), ctx.ptr(op.outputs[0])
    if USE_FAST_KERNELS and k_c == in_c and g["dil_w"] == 1:
        f = ctx.const(op, "w", "int8_t", quad_swapped(w.data.reshape(out_c * k_h, k_w * k_c)),
                      f"filter t{op.inputs[1]} [{out_c}][{k_h}][{k_w}][{k_c}], each filter row "
                      f"of {k_w * k_c} taps quad-swapped (w0 w2 w1 w3 per 4; tk_conv16.h)")
        ctx.call(op, "tk_conv2d_s16_fast", [p, x, f, b, y], ["conv2d_s16_fast.c"], macs=macs)
    else:
        ctx.call(op, "tk_conv2d_s16", [p, x, ctx.ptr(op.inputs[1]), b, y], ["conv2d_s16.c"],
                 macs=macs)


def lower_depthwise_conv2d_s16(op, ctx):
    inp, w, out, out_c, bias_i, acc64 = _conv_common(op, ctx, 3, 3, False)
    one, k_h, k_w, _ = (int(d) for d in w.shape)
    if one != 1:
        raise ctx.fail(op, f"the filter's first dimension must be 1 (it is {one})")
    g = geometry(op, ctx, inp, out, k_h, k_w, out_c)
    dm = int(op.options.get("depth_multiplier", 1))
    if dm <= 0 or g["in_c"] * dm != out_c:
        raise ctx.fail(op, f"depth multiplier {dm} times input depth {g['in_c']} is not the "
                           f"{out_c} output channels")
    b, bias = bias_table(op, ctx, bias_i, out_c)
    w2d = w.data.reshape(-1, out_c).T
    rq, lo, hi = requant16(op, ctx, inp, w, out, out_c, acc64, _bound(bias, w2d, 1 << 15))
    fields = {**g, "k_h": k_h, "k_w": k_w, "act_min": lo, "act_max": hi,
              "depth_multiplier": dm, "rq": rq, "acc64": int(acc64)}
    p = ctx.params(op, "tk_conv_s16_params", nest_conv_fields(fields))
    x, y, macs = ctx.ptr(op.inputs[0]), ctx.ptr(op.outputs[0]), \
        g["batches"] * g["out_h"] * g["out_w"] * out_c * k_h * k_w
    if USE_FAST_KERNELS and dm == 1 and k_h * k_w <= DW_FAST_TAPS:
        wx = ctx.const(op, "wx", "int32_t", lane_pairs(w.data.reshape(k_h * k_w, out_c)),
                       f"filter t{op.inputs[1]} [{k_h * k_w} taps][{out_c}] as int16 pairs of "
                       f"channels (depthwise_conv2d_s16_fast.h)")
        ctx.call(op, "tk_depthwise_conv2d_s16_fast", [p, x, wx, b, y],
                 ["depthwise_conv2d_s16_fast.c"], macs=macs)
        return
    ctx.call(op, "tk_depthwise_conv2d_s16", [p, x, ctx.ptr(op.inputs[1]), b, y],
             ["depthwise_conv2d_s16.c"], macs=macs)


def lane_pairs(w2d: np.ndarray) -> np.ndarray:
    """[taps, channels] int8 weights as int32 words of two int16 lanes per row: (w[c], w[c+1]),
    lane 0 low; an odd last channel alone in lane 0."""
    w = w2d.astype(np.int64)
    if w.shape[1] % 2:
        w = np.concatenate([w, np.zeros((w.shape[0], 1), np.int64)], axis=1)
    u = ((w[:, 1::2] & 0xFFFF) << 16) | (w[:, 0::2] & 0xFFFF)
    return u.astype(np.uint32).view(np.int32).reshape(-1)


def lower_fully_connected_s16(op, ctx):
    inp, w, out = ctx.tensor(op.inputs[0]), ctx.tensor(op.inputs[1]), ctx.tensor(op.outputs[0])
    check_types(op, ctx, inp, w, out, zero_points=True)
    if op.options.get("weights_format", 0) != 0:
        raise ctx.fail(op, "shuffled weights formats are not supported")
    if len(w.shape) != 2:
        raise ctx.fail(op, f"the weights must be 2-D [output depth, input depth], not "
                           f"{list(w.shape)}")
    out_depth, depth = int(w.shape[0]), int(w.shape[1])
    if not out.shape or int(out.shape[-1]) != out_depth:
        raise ctx.fail(op, f"the output's last dimension must be the weights' {out_depth} rows")
    batches = out.num_elements // out_depth
    if inp.num_elements != batches * depth:
        raise ctx.fail(op, f"the input holds {inp.num_elements} values, not the {batches} "
                           f"batches x {depth} that the output and weights need")
    per_channel = len(w.quant.scale) > 1
    if per_channel and (len(w.quant.scale) != out_depth or w.quant.axis != 0):
        raise ctx.fail(op, f"per-channel weights must have {out_depth} scales along dimension "
                           f"0, one per row")
    bias_i, acc64 = bias_mode(op, ctx, True)
    b, bias = bias_table(op, ctx, bias_i, out_depth, emit=not USE_FAST_KERNELS)
    in_zp = int(inp.quant.zero_point[0])
    bound = _bound(bias, w.data.reshape(out_depth, depth), max(abs(-32768 - in_zp),
                                                              abs(32767 - in_zp)))
    rq, lo, hi = requant16(op, ctx, inp, w, out, out_depth if per_channel else 1, acc64, bound)
    p = ctx.params(op, "tk_fc_s16_params", {
        "batches": batches, "accum_depth": depth, "output_depth": out_depth,
        "quant": {"input_offset": -in_zp, "output_offset": int(out.quant.zero_point[0]),
                  "act_min": lo, "act_max": hi},
        "per_channel": int(per_channel), "rq": rq, "acc64": int(acc64)})
    x, y, macs = ctx.ptr(op.inputs[0]), ctx.ptr(op.outputs[0]), batches * depth * out_depth
    if USE_FAST_KERNELS:
        w2d = w.data.reshape(out_depth, depth)
        folded = bias - in_zp * w2d.astype(np.int64).sum(axis=1)    # |.| < 2^47 (bound)
        fb = ctx.const(op, "fbias", "int64_t", folded,
                       f"folded bias per output row: {'bias t%d' % bias_i if bias_i >= 0 else 0}"
                       f" + input_offset * sum of the row's weights (int64)")
        f = ctx.const(op, "w", "int8_t", quad_swapped(w2d),
                      f"weights t{op.inputs[1]} [{out_depth}][{depth}], each row quad-swapped "
                      f"(w0 w2 w1 w3 per 4; tk_conv16.h)")
        ctx.call(op, "tk_fully_connected_s16_fast", [p, x, f, fb, y],
                 ["fully_connected_s16_fast.c"], macs=macs)
    else:
        ctx.call(op, "tk_fully_connected_s16", [p, x, ctx.ptr(op.inputs[1]), b, y],
                 ["fully_connected_s16.c"], macs=macs)
