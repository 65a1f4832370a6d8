"""AVERAGE_POOL_2D and MAX_POOL_2D, int8 NHWC: TFLM PoolingPrepare (padding, activation clamp)."""
from __future__ import annotations

from ..errors import UnsupportedError
from .multipliers import activation_range
from .context import UNARY


def _out_size(padding: str, size: int, filt: int, stride: int) -> int:
    """TFLM ComputeOutSizeChecked without dilation."""
    if padding == "SAME":
        return (size + stride - 1) // stride
    return (size + stride - filt) // stride


def _pad(stride: int, size: int, filt: int, out: int) -> int:
    """TFLM ComputePadding: the leading half of the total padding (the odd pixel goes last)."""
    return max((out - 1) * stride + filt - size, 0) // 2


def _lower_pool(op, ctx, func: str, source: str):
    inp, out = ctx.tensor(op.inputs[0]), ctx.tensor(op.outputs[0])
    if inp.dtype != "int8" or out.dtype != "int8":
        raise ctx.fail(op, "only int8 input and output are supported")
    if len(inp.shape) != 4 or len(out.shape) != 4:
        raise ctx.fail(op, "input and output must be 4-D (NHWC)")
    o = op.options
    padding = o.get("padding", "SAME")
    sh, sw = int(o.get("stride_h", 0)), int(o.get("stride_w", 0))
    fh, fw = int(o.get("filter_height", 0)), int(o.get("filter_width", 0))
    if padding not in ("SAME", "VALID"):
        raise ctx.fail(op, f"padding {padding} is not supported")
    if min(sh, sw, fh, fw) <= 0:
        raise ctx.fail(op, f"strides ({sh}, {sw}) and filter ({fh}, {fw}) must be positive")
    n, h, w, c = (int(d) for d in inp.shape)
    if fh + h + sh >= 1 << 30 or fw + w + sw >= 1 << 30:
        raise ctx.fail(op, f"strides ({sh}, {sw}) or filter ({fh}, {fw}) too large for int32 "
                           f"index arithmetic")
    if op.opcode == "AVERAGE_POOL_2D" and min(fh, h) * min(fw, w) >= 1 << 23:
        raise ctx.fail(op, f"a window of up to {min(fh, h) * min(fw, w)} values overflows the "
                           f"int32 sum")
    oh, ow = _out_size(padding, h, fh, sh), _out_size(padding, w, fw, sw)
    if tuple(out.shape) != (n, oh, ow, c):
        raise ctx.fail(op, f"the output shape should be {[n, oh, ow, c]} for these options")
    # TFLM PoolingPrepare: pooling never rescales
    if abs(inp.quant.scale[0] - out.quant.scale[0]) > 1e-6 or \
            inp.quant.zero_point[0] != out.quant.zero_point[0]:
        raise ctx.fail(op, "input and output must have the same scale and zero point")
    ph, pw = _pad(sh, h, fh, oh), _pad(sw, w, fw, ow)
    # every window must overlap the input (TFLM's average pool fails on an empty one)
    for out_n, stride, pad, filt, size in ((oh, sh, ph, fh, h), (ow, sw, pw, fw, w)):
        for i in (0, out_n - 1):
            o0 = i * stride - pad
            if min(o0 + filt, size) <= max(o0, 0):
                raise ctx.fail(op, "a pooling window lies entirely in the padding")
    try:
        act_min, act_max = activation_range(o.get("fused_activation_function", "NONE"),
                                            out.quant.scale[0], out.quant.zero_point[0])
    except UnsupportedError as e:
        raise ctx.fail(op, str(e).rstrip(".")) from None
    p = ctx.params(op, "tk_pool_params", {
        "input": {"n": n, "h": h, "w": w, "c": c}, "output": {"h": oh, "w": ow},
        "filter": {"h": fh, "w": fw},
        "geom": {"stride_h": sh, "stride_w": sw, "pad_h": ph, "pad_w": pw},
        "quant": {"act_min": act_min, "act_max": act_max},
    })
    ctx.call(op, func, [p, ctx.ptr(op.inputs[0]), ctx.ptr(op.outputs[0])], [source],
             macs=0)     # no multiply-accumulates: kept out of the MAC count


def lower_avg_pool(op, ctx):
    _lower_pool(op, ctx, "tk_avg_pool_s8", "avg_pool_s8.c")


def lower_max_pool(op, ctx):
    _lower_pool(op, ctx, "tk_max_pool_s8", "max_pool_s8.c")


LOWERINGS = {"AVERAGE_POOL_2D": lower_avg_pool, "MAX_POOL_2D": lower_max_pool}
# the tensor types each op accepts (`tinykiln ops`, the README's table): "int8" for int8 in
# and out, "a->b" where they differ
TYPES = {op: ("int8",) for op in LOWERINGS}
# operands as the validator checks them (context.Operands)
OPERANDS = {op: UNARY for op in LOWERINGS}

