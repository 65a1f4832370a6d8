"""Convolution geometry shared by the CONV_2D, DEPTHWISE_CONV_2D (int8 and int16) and
TRANSPOSE_CONV lowerings: TFLM's output size and padding (padding.h), the checks that keep the
kernels' int32 index arithmetic in range, and the nesting of the params structs (tk_nn.h)."""
from __future__ import annotations

ACTIVATIONS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")


def out_size_and_pad(op, ctx, padding: str, stride: int, dil: int, in_size: int, filt: int,
                     what: str) -> tuple[int, int]:
    """TFLM ComputeOutSizeChecked + ComputePaddingWithOffset: (output size, leading padding)."""
    if stride <= 0 or dil <= 0:
        raise ctx.fail(op, f"the {what} stride ({stride}) and dilation ({dil}) must be positive")
    eff = (filt - 1) * dil + 1
    if eff + in_size + stride >= 1 << 30:
        raise ctx.fail(op, f"the {what} stride ({stride}) or the filter ({filt} with dilation "
                           f"{dil}) is too large for int32 index arithmetic")
    if padding == "SAME":
        out = (in_size + stride - 1) // stride
    elif padding == "VALID":
        out = (in_size + stride - eff) // stride
    else:
        raise ctx.fail(op, f"padding {padding} is not supported")
    if out <= 0:
        raise ctx.fail(op, f"the filter ({eff} {what} with dilation) is larger than the input "
                           f"({in_size})")
    total = max((out - 1) * stride + eff - in_size, 0)
    return out, total // 2


def lead_pad(padding: str, size: int, out: int, stride: int, dil: int, filt: int) -> int:
    """The leading padding of out_size_and_pad, for a size and output already checked."""
    if padding != "SAME":
        return 0
    return max((out - 1) * stride + (filt - 1) * dil + 1 - size, 0) // 2


def geometry(op, ctx, inp, out, k_h: int, k_w: int, out_c: int) -> dict:
    """CONV_2D / DEPTHWISE_CONV_2D shapes, strides, dilation and padding, checked."""
    o = op.options
    sh, sw = int(o.get("stride_h", 1)), int(o.get("stride_w", 1))
    dh, dw = int(o.get("dilation_h_factor", 1)), int(o.get("dilation_w_factor", 1))
    pad = o.get("padding", "SAME")
    n, ih, iw, ic = (int(d) for d in inp.shape)
    oh, ph = out_size_and_pad(op, ctx, pad, sh, dh, ih, k_h, "height")
    ow, pw = out_size_and_pad(op, ctx, pad, sw, dw, iw, k_w, "width")
    if tuple(out.shape) != (n, oh, ow, out_c):
        raise ctx.fail(op, f"the output shape {list(out.shape)} is not the [{n}, {oh}, {ow}, "
                           f"{out_c}] that {pad} padding gives")
    # the kernels form offsets of taps in the padding area: the padded image must fit int32
    span = (ih + (k_h - 1) * dh + 1) * (iw + (k_w - 1) * dw + 1) * ic
    if span >= 1 << 30:
        raise ctx.fail(op, f"the input with the dilated filter's reach spans {span} positions; "
                           f"int32 offsets need fewer than 2^30")
    return {"batches": n, "in_h": ih, "in_w": iw, "in_c": ic, "out_h": oh, "out_w": ow,
            "out_c": out_c, "stride_h": sh, "stride_w": sw, "dil_h": dh, "dil_w": dw,
            "pad_h": ph, "pad_w": pw}


# flat lowering field -> (nested struct in tk_nn.h, its field): tk_dims input/output/filter,
# tk_conv_geom geom, tk_quant_io quant
_NESTED = {"batches": ("input", "n"), "in_h": ("input", "h"), "in_w": ("input", "w"),
           "in_c": ("input", "c"), "out_h": ("output", "h"), "out_w": ("output", "w"),
           "out_c": ("output", "c"), "k_h": ("filter", "h"), "k_w": ("filter", "w"),
           "k_c": ("filter", "c"),
           **{g: ("geom", g) for g in ("stride_h", "stride_w", "pad_h", "pad_w", "dil_h", "dil_w")},
           **{q: ("quant", q) for q in ("input_offset", "output_offset", "act_min", "act_max")}}


def nest_conv_fields(fields: dict) -> dict:
    """The conv / depthwise params struct's initializer: shapes, geometry and quantization in
    their shared sub-structs (tk_nn.h), the rest (tables, depth_multiplier) at the top."""
    out: dict = {}
    for k, v in fields.items():
        if k in _NESTED:
            sub, f = _NESTED[k]
            out.setdefault(sub, {})[f] = v
        else:
            out[k] = v
    return out
