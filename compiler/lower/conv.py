"""CONV_2D and DEPTHWISE_CONV_2D, int8: TFLM's Prepare (conv_common.cc, depthwise_conv_common.cc,
PopulateConvolutionQuantizationParams, padding.h) done here; the C kernels only do arithmetic.
Each op goes to its fast kernel when that kernel covers it, else to the reference loop nest."""
from __future__ import annotations

import numpy as np

from .multipliers import activation_range, quantize_multiplier
from .context import Operands
from .conv_geometry import ACTIVATIONS, geometry, nest_conv_fields
from .conv16 import lower_conv2d_s16, lower_depthwise_conv2d_s16
from .depthwise3x3 import dw3x3_applies, lower_dw3x3

# Set to False (tests do) to send every op to the reference kernels.
USE_FAST_KERNELS = True


MAX_TAPS = 1 << 16      # |w * (x + input_offset)| < 2^15 per tap: the int32 sum cannot overflow


def _check_taps(op, ctx, taps: int) -> None:
    if taps > MAX_TAPS:
        raise ctx.fail(op, f"each output sums {taps} products; the int32 accumulator (TFLM's "
                           f"too) holds at most {MAX_TAPS}")


def _common(op, ctx, quant_axis: int, channels_dim: int):
    """Checks and quantization parameters shared by both ops."""
    inp, w, out = ctx.tensor(op.inputs[0]), ctx.tensor(op.inputs[1]), ctx.tensor(op.outputs[0])
    bias_i = op.inputs[2] if len(op.inputs) > 2 else -1
    if inp.dtype != "int8" or w.dtype != "int8" or out.dtype != "int8":
        raise ctx.fail(op, "only int8 input, weights and output are supported")
    if len(inp.shape) != 4 or len(w.shape) != 4 or len(out.shape) != 4:
        raise ctx.fail(op, "input, filter and output must be 4-D (NHWC)")
    if not w.is_const:
        raise ctx.fail(op, "the filter must be a constant tensor")
    if inp.quant is None or w.quant is None or out.quant is None:
        raise ctx.fail(op, "input, filter and output must be quantized")
    bias = None
    if bias_i >= 0:
        bt = ctx.tensor(bias_i)
        if bt.dtype != "int32":
            raise ctx.fail(op, f"the bias must be int32 (it is {bt.dtype})")
        if not bt.is_const:
            raise ctx.fail(op, "the bias must be a constant tensor")
        bias = bt.data.reshape(-1).astype(np.int64)
    n_ch = w.shape[channels_dim]
    if bias is not None and bias.size != n_ch:
        raise ctx.fail(op, f"the bias has {bias.size} values for {n_ch} output channels")
    if w.quant.per_channel and (len(w.quant.scale) != n_ch or w.quant.axis != quant_axis):
        raise ctx.fail(op, f"per-channel filter quantization must have {n_ch} scales along "
                           f"dimension {quant_axis}")
    act = op.options.get("fused_activation_function", "NONE")
    if act not in ACTIVATIONS:
        raise ctx.fail(op, f"fused activation {act} is not supported")
    in_s, out_s = float(inp.quant.scale[0]), float(out.quant.scale[0])
    mults, shifts = [], []
    for ch in range(n_ch):
        ws = w.quant.scale[ch if w.quant.per_channel else 0]
        # TFLM: static_cast<double>(input_scale) * filter_scale / static_cast<double>(output_scale)
        m, s = quantize_multiplier(in_s * float(ws) / out_s)
        mults.append(m)
        shifts.append(s)
    act_min, act_max = activation_range(act, out_s, int(out.quant.zero_point[0]))
    return inp, w, out, bias, mults, shifts, act_min, act_max


def _folded_bias(bias, w2d: np.ndarray, input_offset: int) -> np.ndarray:
    """bias + input_offset * sum of each output channel's weights, wrapped to int32 like TFLM's
    int32 accumulator. w2d is [out_c, taps]."""
    acc = w2d.astype(np.int64).sum(axis=1) * input_offset
    if bias is not None:
        acc = acc + bias
    return ((acc + (1 << 31)) % (1 << 32) - (1 << 31)).astype(np.int32)


def acc_bound(bias, w2d: np.ndarray, input_zp: int) -> np.ndarray:
    """Per output channel, the largest |accumulator| TFLM can form: |bias| + max|x + input_offset|
    * sum|w| (padding taps add nothing). w2d is [channels, taps]."""
    reach = max(abs(-128 - input_zp), abs(127 - input_zp))
    b = np.abs(np.asarray(bias, np.int64)) if bias is not None else 0
    return b + reach * np.abs(w2d.astype(np.int64)).sum(axis=1)


def requant_table(mults, shifts, bound: np.ndarray) -> tuple[np.ndarray, bool]:
    """{multiplier, shift} per channel, interleaved (one 8-byte read per channel), and whether
    tk_requant_fast (tk_nn.h) is exact for every channel: every shift a right shift (multiplier 0
    gives 0 whatever its shift, so it takes shift -1) and every |accumulator| below 2^30. The
    fast table holds -shift - 1 in place of the shift (tk_out_stage)."""
    m = np.asarray(mults, np.int64)
    s = np.where(m == 0, -1, np.asarray(shifts, np.int64))
    fast = bool((s <= -1).all() and (np.asarray(bound) < (1 << 30)).all())
    if fast:
        s = -s - 1
    return np.stack([m, s], axis=1).reshape(-1).astype(np.int32), fast


def requant_what(fast: bool, scope: str = "one pair per output channel") -> str:
    """What a requant_table holds, for the comment above it in model.c."""
    if fast:
        return (f"requantization, {scope}: {{multiplier Q31, -shift - 1}} (every shift a right "
                f"shift, stored as -shift - 1 for tk_requant_fast, tk_nn.h)")
    return (f"requantization, {scope}: {{multiplier Q31, shift}} (shift > 0: left shift; "
            f"tk_out_stage, tk_nn.h)")


def pair_blocked(w2d: np.ndarray) -> np.ndarray:
    """[channels, K] weights in the pair-blocked order of tk_conv2d_s8 (conv2d_s8.h): per channel
    pair, four taps of one channel then the same four of the other, then the remaining taps
    interleaved; an odd last channel as it is."""
    n, k = w2d.shape
    k4 = k - k % 4
    parts = []
    for j in range(0, n - 1, 2):
        a, b = w2d[j], w2d[j + 1]
        parts.append(np.stack([a[:k4].reshape(-1, 4), b[:k4].reshape(-1, 4)], axis=1).reshape(-1))
        parts.append(np.stack([a[k4:], b[k4:]], axis=1).reshape(-1))
    if n % 2:
        parts.append(w2d[-1])
    return np.concatenate(parts).astype(np.int8)


def pair_blocked_w16(w2d: np.ndarray) -> np.ndarray:
    """pair_blocked(w2d) as int16 with each paired channel's group of four taps in the order 0, 2,
    1, 3: the widened filter of tk_conv2d_s8 (TK_CONV_W16, conv2d_s8.h)."""
    n, k = w2d.shape
    k4 = k - k % 4
    order = np.arange(k)
    order[:k4] = (np.arange(k4).reshape(-1, 4)[:, [0, 2, 1, 3]]).reshape(-1)
    w = w2d[:, order]
    if n % 2:
        w[-1] = w2d[-1]         # an odd last channel keeps its taps in order
    return pair_blocked(w).astype(np.int16)


def group_blocked(w2d: np.ndarray) -> np.ndarray:
    """[channels, taps] depthwise weights in the group-blocked order of tk_depthwise_conv2d_s8:
    channels in groups of four (the last one shorter), each group tap by tap."""
    parts = [w2d[c:c + 4].T.reshape(-1) for c in range(0, w2d.shape[0], 4)]
    return np.concatenate(parts).astype(np.int8)


def _quant_fields(op, ctx, inp, out, mults, shifts, act_min, act_max) -> dict:
    return {"input_offset": -int(inp.quant.zero_point[0]),
            "output_offset": int(out.quant.zero_point[0]),
            "act_min": act_min, "act_max": act_max,
            "multiplier": ctx.const(op, "mult", "int32_t", mults,
                                    "requantization multiplier per output channel (Q31)"),
            "shift": ctx.const(op, "shift", "int32_t", shifts,
                               "requantization shift per output channel (> 0: left shift)")}


def _fast_quant_fields(op, ctx, inp, out, mults, shifts, act_min, act_max, bound) -> dict:
    """The fast kernels' quantization fields: the interleaved rq table instead of the
    multiplier and shift arrays (which they ignore, so they stay unset: null)."""
    rq, fast = requant_table(mults, shifts, bound)
    return {"input_offset": -int(inp.quant.zero_point[0]),
            "output_offset": int(out.quant.zero_point[0]),
            "act_min": act_min, "act_max": act_max,
            "rq": ctx.const(op, "rq", "int32_t", rq, requant_what(fast)), "rq_fast": int(fast)}


# tk_conv2d_s8's paths (conv2d_s8.h): where an output pixel's taps are read from
PATH_COLS, PATH_LINES, PATH_IM2COL = 0, 1, 2
STACK_BYTES = 256       # TK_CONV_STACK_BYTES: the largest im2col buffer on the kernel's stack
BORDER_COLS = 288       # TK_CONV_WIDE_BYTES: the in-place path's border columns on the stack
# In-place convolutions whose border pixels do not fit BORDER_COLS take arena im2col columns
# instead where the planner finds room (set to False to keep them in place, as tests do), unless
# the in-place path widens their windows on the stack (LINES_WIDE_TAPS, below), which is faster.
ARENA_IM2COL = True
LINES_WIDE_TAPS = 576   # TK_CONV_LINES_WIDE_MAX / 4 (conv2d_s8.h)


def lines_widened(k_h: int, k_w: int, k_c: int, out_c: int, dil_w: int) -> bool:
    """Whether tk_conv2d_s8's in-place path widens two pixels' windows on the stack (DSP cores:
    tk_conv_lines_widen, which also asks for the fast requantization)."""
    return (k_h * k_w * k_c <= LINES_WIDE_TAPS and (dil_w == 1 or k_w == 1) and out_c >= 8
            and out_c % 2 == 0)


def _conv2d_kernel(w_shape, in_shape, allowed: bool, dil_w: int = 1) -> tuple[bool, int, int]:
    """(whether CONV_2D goes to the fast kernel tk_conv2d_s8, its path, bytes of arena scratch):
    the fast kernel covers ungrouped convolutions; 1x1 filters read the input's pixels, input
    depths that are multiples of 4 read the taps in place (or, deep ones with `allowed` arena,
    from two im2col columns there), others copy two im2col columns of taps (rounded up to a
    multiple of 4) to the stack when they fit, else to arena scratch (so only those, without
    `allowed` scratch, take the reference kernel)."""
    if len(w_shape) != 4 or len(in_shape) != 4:
        return False, PATH_COLS, 0
    _, k_h, k_w, k_c = (int(d) for d in w_shape)
    if not USE_FAST_KERNELS or k_c != int(in_shape[3]):
        return False, PATH_COLS, 0
    if k_h == 1 and k_w == 1:
        return True, PATH_COLS, 0
    if k_c % 4 == 0:
        taps = k_h * k_w * k_c
        if (allowed and ARENA_IM2COL and 2 * taps > BORDER_COLS
                and not lines_widened(k_h, k_w, k_c, int(w_shape[0]), dil_w)):
            return True, PATH_IM2COL, 2 * taps     # ~7% faster where the arena has room
        return True, PATH_LINES, 0
    cols = 2 * _round4(k_h * k_w * k_c)
    if cols <= STACK_BYTES:
        return True, PATH_IM2COL, 0
    return allowed, PATH_IM2COL, cols if allowed else 0


def fast_conv_path(w_shape, in_shape) -> int | None:
    """The path of tk_conv2d_s8 a CONV_2D of these shapes takes without arena scratch, None
    where it takes the reference kernel (the in-place pass asks)."""
    fast, path, _ = _conv2d_kernel(w_shape, in_shape, False)
    return path if fast else None


def _round4(n: int) -> int:
    return (n + 3) // 4 * 4


def _conv2d_weights(op, ctx, w: np.ndarray, path: int) -> str:
    """tk_conv2d_s8's filter table: pair-blocked, each channel's taps followed by zero weights up
    to a multiple of 4 on the im2col path (its columns are that long)."""
    out_c, k_h, k_w, in_c = w.shape
    w2d = w.reshape(out_c, -1)
    taps = w2d.shape[1]
    kw = _round4(taps) if path == PATH_IM2COL else taps
    padded = np.zeros((out_c, kw), np.int8)
    padded[:, :taps] = w2d
    pad = f" + {kw - taps} zero taps" if kw > taps else ""
    return ctx.const(op, "w", "int8_t", pair_blocked(padded),
                     f"filter t{op.inputs[1]} [{out_c}][{k_h}][{k_w}][{in_c}]{pad} pair-blocked: "
                     f"per pair of output channels, 4 taps of one then the same 4 of the other; "
                     f"widened to int16 (taps 0, 2, 1, 3 of each 4) where TK_CONV_W16 "
                     f"(conv2d_s8.h)",
                     alt=("TK_CONV_W16", "int16_t", pair_blocked_w16(padded)))


def conv2d_scratch(op, graph, allowed: bool) -> int:
    """Bytes of arena CONV_2D's kernel needs during the op (its lowering asks for the same)."""
    if len(op.inputs) < 2 or min(op.inputs[:2]) < 0:
        return 0
    w, inp = graph.tensors[op.inputs[1]], graph.tensors[op.inputs[0]]
    if inp.dtype != "int8":
        return 0        # int16: tk_conv2d_s16 needs none
    return _conv2d_kernel(w.shape, inp.shape, allowed,
                          int(op.options.get("dilation_w_factor", 1)))[2]


_FOLDED_WHAT = ("folded bias per output channel: {b} + input_offset * sum of the channel's "
                "weights, wrapped to int32")


def _bias_name(op) -> str:
    return f"bias t{op.inputs[2]}" if len(op.inputs) > 2 and op.inputs[2] >= 0 else "0 (no bias)"


def _int16(op, ctx) -> bool:
    return ctx.tensor(op.inputs[0]).dtype == "int16"


def lower_conv2d(op, ctx):
    if _int16(op, ctx):
        return lower_conv2d_s16(op, ctx)
    inp, w, out, bias, mults, shifts, act_min, act_max = _common(op, ctx, 0, 0)
    out_c, k_h, k_w, k_c = (int(d) for d in w.shape)
    g = geometry(op, ctx, inp, out, k_h, k_w, out_c)
    in_c = g["in_c"]
    if k_c <= 0 or in_c % k_c or out_c % (in_c // k_c):
        raise ctx.fail(op, f"filter depth {k_c} does not divide the input depth {in_c} into "
                           f"groups that divide the {out_c} output channels")
    _check_taps(op, ctx, k_h * k_w * k_c)
    fields = {**g, "k_h": k_h, "k_w": k_w, "k_c": k_c}
    macs = g["batches"] * g["out_h"] * g["out_w"] * out_c * k_h * k_w * k_c
    x, y = ctx.ptr(op.inputs[0]), ctx.ptr(op.outputs[0])
    fast, path, scratch_bytes = _conv2d_kernel(w.shape, inp.shape, ctx.scratch_allowed(op),
                                               g["dil_w"])
    if fast:
        w2d = w.data.reshape(out_c, -1)
        fields["path"] = path
        fields.update(_fast_quant_fields(op, ctx, inp, out, mults, shifts, act_min, act_max,
                                         acc_bound(bias, w2d, int(inp.quant.zero_point[0]))))
        del fields["k_c"]       # = in_c; tk_conv2d_s8 does not read it
        p = ctx.params(op, "tk_conv2d_params", nest_conv_fields(fields))
        fb = _folded_bias(bias, w2d, fields["input_offset"])
        scratch = ctx.scratch(op, scratch_bytes, "int8_t") if scratch_bytes else "0"
        f = _conv2d_weights(op, ctx, w.data, path)
        fbias = ctx.const(op, "fbias", "int32_t", fb, _FOLDED_WHAT.format(b=_bias_name(op)))
        entry = {PATH_COLS: "cols", PATH_LINES: "lines", PATH_IM2COL: "im2col"}[path]
        ctx.call(op, f"tk_conv2d_s8_{entry}", [p, x, f, fbias, y, scratch], ["conv2d_s8.c"],
                 macs=macs)
    else:
        fields.update(_quant_fields(op, ctx, inp, out, mults, shifts, act_min, act_max))
        p = ctx.params(op, "tk_conv2d_params", nest_conv_fields(fields))
        f = ctx.ptr(op.inputs[1])
        b = ctx.ptr(op.inputs[2]) if bias is not None else "0"
        ctx.call(op, "tk_conv2d_s8_ref", [p, x, f, b, y], ["conv2d_s8_ref.c"], macs=macs)


def lower_depthwise_conv2d(op, ctx):
    if _int16(op, ctx):
        return lower_depthwise_conv2d_s16(op, ctx)
    inp, w, out, bias, mults, shifts, act_min, act_max = _common(op, ctx, 3, 3)
    one, k_h, k_w, out_c = (int(d) for d in w.shape)
    if one != 1:
        raise ctx.fail(op, f"the filter's first dimension must be 1 (it is {one})")
    g = geometry(op, ctx, inp, out, k_h, k_w, out_c)
    dm = int(op.options.get("depth_multiplier", 1))
    if dm <= 0 or g["in_c"] * dm != out_c:
        raise ctx.fail(op, f"depth multiplier {dm} times input depth {g['in_c']} is not the "
                           f"{out_c} output channels")
    _check_taps(op, ctx, k_h * k_w)
    fields = {**g, "k_h": k_h, "k_w": k_w, "depth_multiplier": dm}
    macs = g["batches"] * g["out_h"] * g["out_w"] * out_c * k_h * k_w
    x, y = ctx.ptr(op.inputs[0]), ctx.ptr(op.outputs[0])
    if USE_FAST_KERNELS and dm == 1:
        w2d = w.data.reshape(-1, out_c).T          # [channels, taps]
        fields.update(_fast_quant_fields(op, ctx, inp, out, mults, shifts, act_min, act_max,
                                         acc_bound(bias, w2d, int(inp.quant.zero_point[0]))))
        del fields["depth_multiplier"]      # 1; tk_depthwise_conv2d_s8 does not read it
        fb = _folded_bias(bias, w2d, fields["input_offset"])
        if dw3x3_applies(fields) and not op.lean:   # (lean: the raster kernel, for a lag)
            return lower_dw3x3(op, ctx, fields, w2d, fb, _FOLDED_WHAT.format(b=_bias_name(op)),
                               macs)
        p = ctx.params(op, "tk_dwconv_params", nest_conv_fields(fields))
        f = ctx.const(op, "w", "int8_t", group_blocked(w2d),
                      f"filter t{op.inputs[1]} [1][{k_h}][{k_w}][{out_c}] group-blocked: channels "
                      f"in groups of 4, each group tap by tap (depthwise_conv2d_s8.h)")
        fbias = ctx.const(op, "fbias", "int32_t", fb, _FOLDED_WHAT.format(b=_bias_name(op)))
        ctx.call(op, "tk_depthwise_conv2d_s8", [p, x, f, fbias, y], ["depthwise_conv2d_s8.c"],
                 macs=macs)
    else:
        fields.update(_quant_fields(op, ctx, inp, out, mults, shifts, act_min, act_max))
        p = ctx.params(op, "tk_dwconv_params", nest_conv_fields(fields))
        f = ctx.ptr(op.inputs[1])
        b = ctx.ptr(op.inputs[2]) if bias is not None else "0"
        ctx.call(op, "tk_depthwise_conv2d_s8_ref", [p, x, f, b, y],
                 ["depthwise_conv2d_s8_ref.c"], macs=macs)


LOWERINGS = {"CONV_2D": lower_conv2d, "DEPTHWISE_CONV_2D": lower_depthwise_conv2d}
SCRATCH = {"CONV_2D": conv2d_scratch}
# the tensor types each op accepts (`tinykiln ops`, the README's table): "int8" for int8 in
# and out, "a->b" where they differ
TYPES = {op: ("int8", "int16") for op in LOWERINGS}
# operands as the validator checks them (context.Operands)
OPERANDS = {"CONV_2D": Operands(("a", "w", "b?"), ("input", "filter", "bias")),
            "DEPTHWISE_CONV_2D": Operands(("a", "w", "b?"), ("input", "filter", "bias"))}

