"""FULLY_CONNECTED: per-tensor or per-channel int8 weights, TFLM CalculateOpDataFullyConnected."""
from __future__ import annotations

import numpy as np

from .multipliers import activation_range, quantize_multiplier
from .conv import acc_bound, requant_table, requant_what
from .context import Operands
from .conv16 import lower_fully_connected_s16


def row_blocked(w2d: np.ndarray) -> np.ndarray:
    """[rows, depth] weights in the row-blocked order of tk_fully_connected_s8
    (fully_connected_s8.h): blocks of four rows (the last one shorter); in a block, for each group
    of four inputs the rows' four weights in turn, then the remaining inputs row-interleaved."""
    rows, depth = w2d.shape
    d4 = depth - depth % 4
    parts = []
    for r in range(0, rows, 4):
        blk = w2d[r:r + 4]
        n = blk.shape[0]
        parts.append(blk[:, :d4].reshape(n, -1, 4).transpose(1, 0, 2).reshape(-1))
        parts.append(blk[:, d4:].T.reshape(-1))
    return np.concatenate(parts).astype(np.int8)


def pair_words(w2d: np.ndarray) -> np.ndarray | None:
    """[rows, depth] weights as the int16 values 256 * b + a of tk_fully_connected_s8_pairs
    (fully_connected_s8_pairs.h), or None where a row pair does not fit that layout: a value
    below -32768 (b = -128 with a < 0), or a b row whose sum can reach 2^23 in magnitude."""
    rows, depth = w2d.shape
    d8, r2 = -(-depth // 8) * 8, rows + rows % 2
    w = np.zeros((r2, d8), np.int64)
    w[:rows, :depth] = w2d
    h = 256 * w[1::2] + w[0::2]
    if h.min() < -(1 << 15) or 128 * np.abs(w[1::2]).sum(axis=1).max() >= (1 << 23):
        return None
    lanes = [0, 2, 1, 3, 4, 6, 5, 7]    # word j: inputs lanes[2j], lanes[2j + 1] of the group
    return h.reshape(r2 // 2, -1, 8)[:, :, lanes].reshape(-1).astype(np.int16)


def quad_words(words: np.ndarray, rows: int, depth: int) -> np.ndarray:
    """pair_words' table in the order of tk_fully_connected_s8_quads (fully_connected_s8_quads.h):
    a zero row pair to an even count of pairs, inputs to a multiple of 4 only; per row quad, per
    four inputs, the first pair's four values, then the second's."""
    pairs, q4 = -(-rows // 2), -(-depth // 4)
    h = words.reshape(pairs, -1, 4)[:, :q4]
    if pairs % 2:
        h = np.concatenate([h, np.zeros_like(h[:1])])
    return h.reshape(-1, 2, q4, 4).transpose(0, 2, 1, 3).reshape(-1).astype(np.int16)


def mve_row_blocks(w2d: np.ndarray) -> np.ndarray:
    """[rows, depth] int8 weights in the Helium form of tk_fully_connected_s8_pairs's table
    (fully_connected_s8_mve.h): zero-padded to a multiple of 4 rows and of 16 inputs; blocks of
    four rows, in a block per group of 16 inputs the four rows' 16 weights in turn; the bytes
    read as little-endian int16 values, two per value (the DSP form's pointer type)."""
    rows, depth = w2d.shape
    r4, d16 = -(-rows // 4) * 4, -(-depth // 16) * 16
    w = np.zeros((r4, d16), np.int8)
    w[:rows, :depth] = w2d
    blocks = w.reshape(r4 // 4, 4, d16 // 16, 16).transpose(0, 2, 1, 3)
    return np.ascontiguousarray(blocks).reshape(-1).view("<i2").astype(np.int16)


SMALL_MAX_DEPTH = 32   # tk_fully_connected_s8_g1 .. _g8 (TK_FC_SMALL_MAX_GROUPS)
# the small kernel's weights go widened to int16 (no SXTB16 at run time: 13 instructions per 16
# MACs in place of 21) up to this many weights, doubling their flash
SMALL_WIDEN_MAX = 4096
PAIRS_MAX_DEPTH = 1024  # tk_fully_connected_s8_pairs (TK_FC_PAIRS_MAX_DEPTH): its stack buffer
MAX_DEPTH = 1 << 16    # |x * w| <= 2^14 and |offset * w| <= 2^15: the int32 sums cannot overflow


def lanes_bytes(depth: int) -> int:
    """tk_fully_connected_s8_pairs' stack buffer (fully_connected_s8_pairs.c): the input's
    int16 lanes, four words per eight inputs, and its ten state words (TK_FCP_STATE)."""
    return 4 * (4 * ((depth + 7) >> 3) + 10)


def _checked_dims(op, ctx, tensors, bias_i):
    """(output depth, accum depth, batches) of an int8 FULLY_CONNECTED whose operands the
    kernels take, else the user's error."""
    inp, w, out = tensors
    if inp.dtype != "int8" or w.dtype != "int8" or out.dtype != "int8":
        raise ctx.fail(op, "only int8 input, weights and output are supported")
    if not w.is_const:
        raise ctx.fail(op, "the weights must be a constant tensor")
    if op.options.get("weights_format", 0) != 0:
        raise ctx.fail(op, "shuffled weights formats are not supported")
    if len(w.shape) != 2:
        raise ctx.fail(op, f"the weights must be 2-D [output depth, input depth], not "
                           f"{list(w.shape)}")
    out_depth, depth = int(w.shape[0]), int(w.shape[1])
    if depth > MAX_DEPTH:
        raise ctx.fail(op, f"each output sums {depth} products; the int32 accumulator holds at "
                           f"most {MAX_DEPTH}")
    # TFLM takes the batch count from the output and reads batches * depth inputs
    if not out.shape or int(out.shape[-1]) != out_depth:
        raise ctx.fail(op, f"the output's last dimension must be the weights' {out_depth} rows")
    batches = out.num_elements // out_depth
    if inp.num_elements != batches * depth:
        raise ctx.fail(op, f"the input holds {inp.num_elements} values, not the {batches} "
                           f"batches x {depth} that the output and weights need")
    if bias_i >= 0 and ctx.tensor(bias_i).dtype != "int32":
        raise ctx.fail(op, f"with int8 activations the bias must be int32 (it is "
                           f"{ctx.tensor(bias_i).dtype})")
    if bias_i >= 0 and ctx.tensor(bias_i).num_elements != out_depth:
        raise ctx.fail(op, f"the bias has {ctx.tensor(bias_i).num_elements} values for "
                           f"{out_depth} outputs")
    if w.quant.per_channel and (len(w.quant.scale) != out_depth or w.quant.axis != 0):
        raise ctx.fail(op, f"per-channel weights must have {out_depth} scales along dimension "
                           f"0, one per row")
    return out_depth, depth, batches


def lower_fully_connected(op, ctx):
    inp, w = ctx.tensor(op.inputs[0]), ctx.tensor(op.inputs[1])
    if inp.dtype == "int16":
        return lower_fully_connected_s16(op, ctx)
    bias_i = op.inputs[2] if len(op.inputs) > 2 else -1
    out = ctx.tensor(op.outputs[0])
    out_depth, depth, batches = _checked_dims(op, ctx, (inp, w, out), bias_i)
    in_s, out_s = inp.quant.scale[0], out.quant.scale[0]
    if w.quant.per_channel:
        mults, shifts = zip(*(quantize_multiplier(float(in_s) * float(ws) / float(out_s))
                              for ws in w.quant.scale))
    else:
        m = float(in_s) * float(w.quant.scale[0]) / float(out_s)
        mults, shifts = zip(quantize_multiplier(m))
    act_min, act_max = activation_range(op.options.get("fused_activation_function", "NONE"),
                                        out_s, out.quant.zero_point[0])
    wdata = w.data.reshape(out_depth, depth).astype(np.int64)
    in_zp = int(inp.quant.zero_point[0])
    folded = -in_zp * wdata.sum(axis=1)
    bias = None
    if bias_i >= 0:
        bias = ctx.tensor(bias_i).data.reshape(-1).astype(np.int64)
        folded = folded + bias
    folded = (folded + (1 << 31)) % (1 << 32) - (1 << 31)     # TFLM's int32 sum wraps alike
    bound = acc_bound(bias, wdata, in_zp)
    if len(mults) == 1:         # one requantization for every row: the largest accumulator
        bound = bound.max(keepdims=True)
    rq, fast = requant_table(mults, shifts, bound)
    if fast and depth <= SMALL_MAX_DEPTH:
        return _lower_small(op, ctx, (batches, depth, out_depth), rq, folded, (act_min, act_max))
    words = pair_words(wdata) if fast and depth <= PAIRS_MAX_DEPTH else None
    if words is not None:
        return _lower_pairs(op, ctx, (batches, depth, out_depth), (rq, words), folded,
                            (act_min, act_max))
    p = ctx.params(op, "tk_fc_params", {
        "batches": batches, "accum_depth": depth, "output_depth": out_depth,
        "quant": {"output_offset": out.quant.zero_point[0], "act_min": act_min,
                  "act_max": act_max},
        "per_channel": len(mults) > 1,
        "rq": ctx.const(op, "rq", "int32_t", rq,
                        requant_what(fast, "one pair per output row" if len(mults) > 1
                                     else "one pair for every row")),
        "rq_fast": int(fast),
        "folded_bias": ctx.const(op, "bias", "int32_t", folded.astype(np.int32),
                                 f"folded bias per output row: "
                                 f"{f'bias t{bias_i}' if bias_i >= 0 else '0 (no bias)'} + "
                                 f"input_offset * sum of the row's weights, wrapped to int32"),
    })
    wts = ctx.const(op, "w", "int8_t", row_blocked(wdata),
                    f"weights t{op.inputs[1]} [{out_depth}][{depth}] row-blocked: rows in blocks "
                    f"of 4, per 4 inputs each row's 4 weights in turn (fully_connected_s8.h)")
    ctx.call(op, "tk_fully_connected_s8", [p, ctx.ptr(op.inputs[0]), wts, ctx.ptr(op.outputs[0])],
             ["fully_connected_s8.c"], macs=batches * depth * out_depth)


def _lower_small(op, ctx, dims, rq, folded, act):
    """tk_fully_connected_s8_g<G> (fully_connected_s8_small.h) for accum_depth <= 32 with the
    fast requantization: weights padded with zero rows and columns to blocks of four rows and
    G = ceil(depth / 4) groups of four inputs, the folded bias padded alike with zeros, one
    {multiplier, -shift - 1} pair per row."""
    batches, depth, out_depth = dims
    groups, blocks = -(-depth // 4), -(-out_depth // 4)
    wpad = np.zeros((4 * blocks, 4 * groups), np.int8)
    wpad[:out_depth, :depth] = ctx.tensor(op.inputs[1]).data.reshape(out_depth, depth)
    bias = np.zeros(4 * blocks, np.int64)       # doubled: the kernel accumulates 2 * acc
    bias[:out_depth] = (2 * folded.astype(np.int64) + (1 << 31)) % (1 << 32) - (1 << 31)
    pairs = np.broadcast_to(np.asarray(rq, np.int64).reshape(-1, 2), (out_depth, 2))
    out = ctx.tensor(op.outputs[0])
    p = ctx.params(op, "tk_fc_small_params", {
        "batches": batches, "accum_depth": depth, "output_depth": out_depth,
        "rq": ctx.const(op, "rq", "int32_t", pairs.astype(np.int32),
                        requant_what(True, "one pair per output row" + (
                            "" if len(rq) > 2 else " (the tensor's pair repeated)"))),
        "folded_bias": ctx.const(op, "bias", "int32_t", bias.astype(np.int32),
                                 f"twice the folded bias per output row (bias + input_offset * "
                                 f"sum of the row's weights), wrapped to int32, zero-padded to "
                                 f"{4 * blocks} rows"),
        "k1": 1 + 2 * int(out.quant.zero_point[0]), "act_min": act[0], "act_max": act[1],
    })
    blocked = row_blocked(wpad)
    if blocked.size <= SMALL_WIDEN_MAX:     # int16, each row's four as w0, w2, w1, w3
        wts = ctx.const(op, "w", "int16_t", blocked.reshape(-1, 4)[:, [0, 2, 1, 3]],
                        f"weights t{op.inputs[1]} [{out_depth}][{depth}] zero-padded to "
                        f"[{4 * blocks}][{4 * groups}], row-blocked, widened to int16 with each "
                        f"row's four in the order w0 w2 w1 w3 (fully_connected_s8_small.h)")
        func = f"tk_fully_connected_s8_g{groups}w"
    else:
        wts = ctx.const(op, "w", "int8_t", blocked,
                        f"weights t{op.inputs[1]} [{out_depth}][{depth}] zero-padded to "
                        f"[{4 * blocks}][{4 * groups}], row-blocked (fully_connected_s8_small.h)")
        func = f"tk_fully_connected_s8_g{groups}"
    ctx.call(op, func,
             [p, ctx.ptr(op.inputs[0]), wts, ctx.ptr(op.outputs[0])],
             [func.removeprefix("tk_") + ".c"], macs=batches * depth * out_depth)


def _lower_pairs(op, ctx, dims, rq_words, folded, act):
    """tk_fully_connected_s8_pairs (fully_connected_s8_pairs.h): rows in pairs, one weight word
    per two inputs and two rows, the fast requantization."""
    batches, depth, out_depth = dims
    rq, words = rq_words
    per_channel = len(rq) > 2
    if not per_channel:     # the assembly reads both rows' pairs at once
        rq = np.tile(rq, 2)
    bias = np.zeros(out_depth + out_depth % 2, np.int64)     # doubled, like the small kernel
    bias[:out_depth] = (2 * folded.astype(np.int64) + (1 << 31)) % (1 << 32) - (1 << 31)
    out = ctx.tensor(op.outputs[0])
    p = ctx.params(op, "tk_fc_pairs_params", {
        "batches": batches, "accum_depth": depth, "output_depth": out_depth,
        "rq": ctx.const(op, "rq", "int32_t", rq,
                        requant_what(True, "one pair per output row" if per_channel
                                     else "one pair for every row, twice")),
        "per_channel": int(per_channel),
        "folded_bias": ctx.const(op, "bias", "int32_t", bias.astype(np.int32),
                                 f"twice the folded bias per output row (bias + input_offset * "
                                 f"sum of the row's weights), wrapped to int32"
                                 + (", one 0 to an even count" if out_depth % 2 else "")),
        "k1": 1 + 2 * int(out.quant.zero_point[0]), "act_min": act[0], "act_max": act[1],
    })
    if op.lean:     # one table for every build (Helium runs the DSP path: no alt form)
        wts = ctx.const(op, "w", "int16_t", quad_words(words, out_depth, depth),
                        f"weights t{op.inputs[1]} [{out_depth}][{depth}] in row quads (two pairs "
                        f"(a, b)): per four inputs d, each pair's values 256 * b[d] + a[d] in the "
                        f"order d = 0, 2, 1, 3 (fully_connected_s8_quads.h)")
    else:
        wts = ctx.const(op, "w", "int16_t", words,
                        f"weights t{op.inputs[1]} [{out_depth}][{depth}] in row pairs (a, b): per "
                        f"eight inputs d, the values 256 * b[d] + a[d] in the order d = 0, 2, 1, "
                        f"3, 4, 6, 5, 7 (fully_connected_s8_pairs.h); where TK_MVE (Helium), int8 "
                        f"rows in blocks of four, per 16 inputs each row's 16 in turn, two bytes "
                        f"per int16 (fully_connected_s8_mve.h)",
                        alt=("TK_MVE", "int16_t", mve_row_blocks(ctx.tensor(op.inputs[1]).data
                                                                 .reshape(out_depth, depth))))
    func = "tk_fully_connected_s8_quads" if op.lean else "tk_fully_connected_s8_pairs"
    ctx.call(op, func, [p, ctx.ptr(op.inputs[0]), wts, ctx.ptr(op.outputs[0])],
             [func.removeprefix("tk_") + ".c"], macs=batches * depth * out_depth)


LOWERINGS = {"FULLY_CONNECTED": lower_fully_connected}
# the tensor types each op accepts (`tinykiln ops`, the README's table): "int8" for int8 in
# and out, "a->b" where they differ
TYPES = {op: ("int8", "int16") for op in LOWERINGS}
# operands as the validator checks them (context.Operands)
OPERANDS = {"FULLY_CONNECTED": Operands(("a", "w", "b?"), ("input", "weights", "bias"))}

