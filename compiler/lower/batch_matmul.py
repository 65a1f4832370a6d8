"""BATCH_MATMUL, int8 (zero points allowed) and int16 (zero points 0): TFLM batch_matmul.cc and
reference_ops::BatchMatMul. Operands of rank 2 to 5, batch dims broadcast; adj_x / adj_y become
strides (a constant operand is transposed here, once, so its depth is contiguous). The output is
requantized as TFLM does: int8 by the int32 double rounding, int16 by the int64 single rounding
(MultiplyByQuantizedMultiplier(int64_t, ...)), whose 16-bit multiplier and total shift are
computed here."""
from __future__ import annotations

import numpy as np

from ..errors import UnsupportedError
from .multipliers import quantize_multiplier
from .context import Operands

# products per accumulator: int8 |(a - za)(b - zb)| <= 255^2, 2^15 of them < 2^31; int16
# |a * b| <= 2^30, 2^16 of them < 2^47 (TFLM's int64 requantization assumes |x| < 2^47)
MAX_DEPTH = {"int8": 1 << 15, "int16": 1 << 16}
C_TYPE = {"int8": "int8_t", "int16": "int16_t"}


def _extend(shape):
    return [1] * (5 - len(shape)) + [int(d) for d in shape]


def _batch_strides(ext, out_batch):
    """Element strides of an operand's 3 batch dims, 0 along a broadcast one."""
    strides, acc = [0, 0, 0], ext[3] * ext[4]
    for i in (2, 1, 0):
        strides[i] = acc if ext[i] == out_batch[i] else 0
        acc *= ext[i]
    return strides


def _check(op, ctx):
    lhs, rhs, out = (ctx.tensor(op.inputs[0]), ctx.tensor(op.inputs[1]),
                     ctx.tensor(op.outputs[0]))
    if lhs.dtype not in MAX_DEPTH or rhs.dtype != lhs.dtype or out.dtype != lhs.dtype:
        raise ctx.fail(op, f"TFLM runs BATCH_MATMUL with both inputs and the output all int8 or "
                           f"all int16, not {lhs.dtype} x {rhs.dtype} -> {out.dtype}")
    for t in (lhs, rhs):
        if not 2 <= len(t.shape) <= 5:
            raise ctx.fail(op, f"its inputs must have rank 2 to 5, not {len(t.shape)} "
                               f"('{t.name}')")
    if lhs.dtype == "int16" and any(t.quant.zero_point[0] for t in (lhs, rhs, out)):
        raise ctx.fail(op, "int16 inputs and output must have zero point 0 (TFLM requires it)")
    return lhs, rhs, out


def _geometry(op, ctx, lhs, rhs, out):
    """(lhs ext shape, rhs ext shape, output batch dims, rows, cols, depth)."""
    le, re = _extend(lhs.shape), _extend(rhs.shape)
    batch = []
    for i in range(3):
        if le[i] != re[i] and 1 not in (le[i], re[i]):
            raise ctx.fail(op, f"the batch dimensions of {list(lhs.shape)} and "
                               f"{list(rhs.shape)} do not broadcast")
        batch.append(max(le[i], re[i]))
    adj_x, adj_y = bool(op.options.get("adj_x", False)), bool(op.options.get("adj_y", False))
    rows, depth = (le[4], le[3]) if adj_x else (le[3], le[4])
    depth_r, cols = (re[4], re[3]) if adj_y else (re[3], re[4])
    if depth != depth_r:
        raise ctx.fail(op, f"the inputs' inner dimensions differ ({depth} and {depth_r}, with "
                           f"adj_x={adj_x}, adj_y={adj_y})")
    n = batch[0] * batch[1] * batch[2] * rows * cols
    if out.num_elements != n:
        raise ctx.fail(op, f"the output should have {n} elements")
    if depth > MAX_DEPTH[lhs.dtype]:
        raise ctx.fail(op, f"each output sums {depth} products; the accumulator holds at most "
                           f"{MAX_DEPTH[lhs.dtype]}")
    return le, re, batch, rows, cols, depth, adj_x, adj_y


def _operand(op, ctx, k, ext, transposed, suffix):
    """C pointer, (outer stride, depth stride) for an operand stored [.., outer, depth] when not
    transposed, [.., depth, outer] when it is; a constant is transposed here to the first form."""
    t = ctx.tensor(op.inputs[k])
    if not transposed:
        return ctx.ptr(op.inputs[k]), (ext[4], 1)
    if t.is_const:
        data = np.swapaxes(t.data.reshape(ext), 3, 4)
        return ctx.const(op, suffix, C_TYPE[t.dtype], data,
                         f"'{t.name}' with its last two dims swapped, depth contiguous"), \
            (ext[3], 1)
    return ctx.ptr(op.inputs[k]), (1, ext[4])


def _requant(op, ctx, lhs, rhs, out):
    # TFLM GetQuantizedConvolutionMultipler: the scale product in float32, the ratio in double
    prod = float(np.float32(lhs.quant.scale[0]) * np.float32(rhs.quant.scale[0]))
    try:
        mult, shift = quantize_multiplier(prod / float(out.quant.scale[0]))
    except UnsupportedError as e:
        raise ctx.fail(op, str(e).rstrip(".")) from None
    if lhs.dtype == "int8":
        return mult, shift
    if shift >= 8:
        raise ctx.fail(op, f"the requantization multiplier is 2^{shift - 1} or more; TFLM's "
                           f"int16 kernel takes shifts below 8")
    reduced = (mult + (1 << 15)) >> 16 if mult < 0x7FFF0000 else 0x7FFF
    return reduced, 15 - shift            # x * reduced, rounded right shift by 15 - shift


def _copy_bytes(lhs, rhs, options) -> int:
    """Scratch for the int8 kernel's DSP path: one computed rhs matrix stored [depth, cols] (no
    adj_y), copied [cols, depth] so both operands are read in depth order (TFLM transposes it
    too); 0 where the kernel reads the operands in place (or the matrices are too small)."""
    if lhs.dtype != "int8" or rhs.is_const or options.get("adj_x") or options.get("adj_y"):
        return 0
    if not 2 <= len(rhs.shape) <= 5 or int(rhs.shape[-2]) < 4 or int(rhs.shape[-1]) < 4:
        return 0
    return int(rhs.shape[-2]) * int(rhs.shape[-1])


def batch_matmul_scratch(op, graph, allowed: bool) -> int:
    """Bytes of arena BATCH_MATMUL's kernel needs during the op (its lowering asks for the same)."""
    if not allowed or len(op.inputs) < 2 or min(op.inputs[:2]) < 0:
        return 0
    return _copy_bytes(graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]], op.options)


def lower_batch_matmul(op, ctx):
    lhs, rhs, out = _check(op, ctx)
    le, re, batch, rows, cols, depth, adj_x, adj_y = _geometry(op, ctx, lhs, rhs, out)
    lptr, (lrs, lks) = _operand(op, ctx, 0, le, adj_x, "lhs")
    rptr, (rcs, rks) = _operand(op, ctx, 1, re, not adj_y, "rhs")
    mult, shift = _requant(op, ctx, lhs, rhs, out)
    p = ctx.params(op, "tk_batch_matmul_params", {
        "batch_dims": _arr(batch), "lhs_batch_stride": _arr(_batch_strides(le, batch)),
        "rhs_batch_stride": _arr(_batch_strides(re, batch)),
        "rows": rows, "cols": cols, "depth": depth,
        "lhs_row_stride": lrs, "lhs_depth_stride": lks,
        "rhs_col_stride": rcs, "rhs_depth_stride": rks,
        "lhs_offset": -lhs.quant.zero_point[0], "rhs_offset": -rhs.quant.zero_point[0],
        "output_offset": out.quant.zero_point[0], "multiplier": mult, "shift": shift})
    macs = batch[0] * batch[1] * batch[2] * rows * cols * depth
    args = [p, lptr, rptr, ctx.ptr(op.outputs[0])]
    if lhs.dtype == "int16":
        ctx.call(op, "tk_batch_matmul_s16", args, ["batch_matmul_s16.c"], macs=macs)
        return
    nbytes = _copy_bytes(lhs, rhs, op.options) if ctx.scratch_allowed(op) else 0
    args.append(ctx.scratch(op, nbytes, "int8_t") if nbytes else "0")
    ctx.call(op, "tk_batch_matmul_s8", args, ["batch_matmul_s8.c"], macs=macs)


def _arr(values) -> str:
    return "{" + ", ".join(str(int(v)) for v in values) + "}"


LOWERINGS = {"BATCH_MATMUL": lower_batch_matmul}
# the tensor types each op accepts (`tinykiln ops`, the README's table)
TYPES = {"BATCH_MATMUL": ("int8", "int16")}
# operands as the validator checks them (context.Operands)
OPERANDS = {"BATCH_MATMUL": Operands(("a", "a"), ("lhs", "rhs"))}
SCRATCH = {"BATCH_MATMUL": batch_matmul_scratch}
