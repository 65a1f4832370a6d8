"""Spatial data movement, bit-exact with TFLM: SPACE_TO_DEPTH, DEPTH_TO_SPACE,
BATCH_TO_SPACE_ND, SPACE_TO_BATCH_ND and MIRROR_PAD. Each op's index arithmetic runs here, once,
into per-dim offset tables that runtime_c/remap.c walks (copies only); SPACE_TO_BATCH_ND, whose
padding depends on two output dims at once, has a kernel of its own."""
from __future__ import annotations

import math

import numpy as np

from .context import Operands

REMAP_DIMS = 4              # TK_REMAP_DIMS in remap.h
MAX_TABLE = 1 << 16         # offset table entries per op (4 bytes each, in flash)


def _arr(values) -> str:
    return "{" + ", ".join(str(v) for v in values) + "}"


def same_type_io(op, ctx, types):
    """The input and output tensors, of one type among `types`; values are copied as stored, so
    an output quantized unlike the input (TFLM does not compare them) only gets a warning."""
    inp, out = ctx.tensor(op.inputs[0]), ctx.tensor(op.outputs[0])
    if inp.dtype not in types or out.dtype != inp.dtype:
        raise ctx.fail(op, f"only {' or '.join(types)} input and output of the same type are "
                           f"supported")
    qi, qo = inp.quant, out.quant
    if qi is not None and qo is not None and (
            float(qi.scale[0]) != float(qo.scale[0]) or qi.zero_point[0] != qo.zero_point[0]):
        ctx.warn(op, "the output is quantized unlike the input; values are copied as stored, "
                     "as TFLM does")
    return inp, out


def const_ints(op, ctx, k: int, shape: tuple, what: str, dtypes=("int32",)) -> np.ndarray:
    """Operand k as an int64 array of `shape`: a constant integer tensor (TFLM reads it at run
    time; here it fixes the loop bounds, so it must be known)."""
    if len(op.inputs) <= k or op.inputs[k] < 0:
        raise ctx.fail(op, f"its {what} operand is missing")
    t = ctx.tensor(op.inputs[k])
    if not t.is_const or t.dtype not in dtypes:
        raise ctx.fail(op, f"the {what} operand must be a constant {' or '.join(dtypes)} tensor")
    if tuple(int(d) for d in t.shape) != tuple(shape):
        raise ctx.fail(op, f"the {what} operand has shape {list(t.shape)}, expected "
                           f"{list(shape)}")
    return t.data.astype(np.int64).reshape(shape)


def _want_shape(op, ctx, out, want) -> None:
    if tuple(int(d) for d in out.shape) != tuple(int(d) for d in want):
        raise ctx.fail(op, f"the output shape should be {[int(d) for d in want]}")


def emit_remap(op, ctx, tables, inner: int, what: str) -> None:
    """One tk_remap call: output dims outermost first, tables[d][i] the input element offset
    of index i along output dim d, `inner` contiguous elements per innermost step. Single-entry
    dims fold into a base offset, a trailing dim that is contiguous joins `inner`, and the two
    adjacent dims with the fewest entries merge until REMAP_DIMS remain."""
    inp, out = ctx.tensor(op.inputs[0]), ctx.tensor(op.outputs[0])
    esize = inp.nbytes // max(inp.num_elements, 1)
    tabs = [np.asarray(t, np.int64).reshape(-1) * esize for t in tables]
    inner *= esize
    if math.prod(len(t) for t in tabs) * inner != out.nbytes:
        raise AssertionError(f"op {op.index}: remap tables do not cover the output")
    base = sum(int(t[0]) for t in tabs if len(t) == 1)
    keep = [t for t in tabs if len(t) > 1]
    while keep and np.array_equal(keep[-1], np.arange(len(keep[-1])) * inner):
        inner *= len(keep.pop())
    while len(keep) > REMAP_DIMS:
        k = min(range(len(keep) - 1), key=lambda i: len(keep[i]) * len(keep[i + 1]))
        keep[k:k + 2] = [(keep[k][:, None] + keep[k + 1][None, :]).reshape(-1)]
    keep = [np.zeros(1, np.int64) for _ in range(REMAP_DIMS - len(keep))] + keep
    keep[0] = keep[0] + base
    entries = sum(len(t) for t in keep)
    if entries > MAX_TABLE:
        raise ctx.fail(op, f"its offset tables would hold {entries} entries, over the "
                           f"{MAX_TABLE} tinykiln allows")
    lo, hi = sum(int(t.min()) for t in keep), sum(int(t.max()) for t in keep) + inner
    if lo < 0 or hi > inp.nbytes:       # a shape check above missed a case: never read outside
        raise ctx.fail(op, f"it would read bytes {lo} to {hi} of an input of {inp.nbytes}")
    name = ctx.const(op, "remap", "int32_t", np.concatenate(keep),
                     what=f"{what}: input byte offsets per output index, {REMAP_DIMS} dims of "
                          f"{[len(t) for t in keep]} entries, outermost first")
    starts = np.cumsum([0] + [len(t) for t in keep[:-1]])
    p = ctx.params(op, "tk_remap_params", {
        "dims": _arr(len(t) for t in keep), "offset": _arr(f"{name} + {s}" for s in starts),
        "inner": inner})
    cin, cout = ("", "") if inp.dtype == "int8" else ("(const int8_t *)", "(int8_t *)")
    ctx.call(op, "tk_remap", [p, cin + ctx.ptr(op.inputs[0]), cout + ctx.ptr(op.outputs[0])],
             ["remap.c"])


def _block_size(op, ctx) -> int:
    b = int(op.options.get("block_size", 0))
    if b < 1:
        raise ctx.fail(op, f"block_size is {b}; it must be at least 1")
    return b


def lower_space_to_depth(op, ctx):
    inp, out = same_type_io(op, ctx, ("int8",))
    b = _block_size(op, ctx)
    if len(inp.shape) != 4:
        raise ctx.fail(op, "the input must be 4D (NHWC), as TFLM requires")
    n, h, w, c = (int(d) for d in inp.shape)
    if h % b or w % b:
        raise ctx.fail(op, f"the input height {h} and width {w} must be multiples of "
                           f"block_size {b}")
    _want_shape(op, ctx, out, (n, h // b, w // b, c * b * b))
    # output [n][oy][ox][by][bx][c] reads input [n][oy * b + by][ox * b + bx][c]
    ar = np.arange
    emit_remap(op, ctx, [ar(n) * h * w * c, ar(h // b) * b * w * c, ar(w // b) * b * c,
                         ar(b) * w * c, ar(b) * c], c, "SPACE_TO_DEPTH")


def lower_depth_to_space(op, ctx):
    inp, out = same_type_io(op, ctx, ("int8",))
    b = _block_size(op, ctx)
    if len(inp.shape) != 4:
        raise ctx.fail(op, "the input must be 4D (NHWC), as TFLM requires")
    n, h, w, ci = (int(d) for d in inp.shape)
    if ci % (b * b):
        raise ctx.fail(op, f"the input depth {ci} must be a multiple of block_size^2 = {b * b}")
    c = ci // (b * b)
    _want_shape(op, ctx, out, (n, h * b, w * b, c))
    # output [n][y][by][x][bx][c] reads input [n][y][x][(by * b + bx) * c + c]
    ar = np.arange
    emit_remap(op, ctx, [ar(n) * h * w * ci, ar(h) * w * ci, ar(b) * b * c, ar(w) * ci,
                         ar(b) * c], c, "DEPTH_TO_SPACE")


def _batch_space_common(op, ctx, what: str):
    """(input, output, [N, H, W, C] of the input (W = 1 for 3D), (block_h, block_w), the
    (top, bottom, left, right) amounts of operand 2) for the two *_ND ops."""
    inp, out = same_type_io(op, ctx, ("int8",))
    rank = len(inp.shape)
    if rank not in (3, 4) or len(out.shape) != rank:
        raise ctx.fail(op, "the input and output must both be 3D or both 4D, as TFLM requires")
    block = const_ints(op, ctx, 1, (rank - 2,), "block shape")
    amounts = const_ints(op, ctx, 2, (rank - 2, 2), what)
    if block.min() < 1:
        raise ctx.fail(op, f"the block shape {block.tolist()} must be positive")
    if amounts.min() < 0:
        raise ctx.fail(op, f"the {what} {amounts.tolist()} must not be negative")
    dims = [int(d) for d in inp.shape]
    if rank == 3:
        dims.insert(2, 1)
        block = np.append(block, 1)
        amounts = np.vstack([amounts, [[0, 0]]])
    return inp, out, dims, [int(v) for v in block], [int(v) for v in amounts.reshape(-1)]


def _shaped(inp, n, h, w, c):
    return (n, h, w, c) if len(inp.shape) == 4 else (n, h, c)


def lower_batch_to_space(op, ctx):
    inp, out, (bn, h, w, c), (bh, bw), (ct, cb, cl, cr) = _batch_space_common(op, ctx, "crops")
    if bn % (bh * bw):
        raise ctx.fail(op, f"the input batch {bn} is not a multiple of the block size {bh * bw}")
    n, oh, ow = bn // (bh * bw), h * bh - ct - cb, w * bw - cl - cr
    if oh < 1 or ow < 1:
        raise ctx.fail(op, "the crops leave no output")
    _want_shape(op, ctx, out, _shaped(inp, n, oh, ow, c))
    # output [b][y][x] reads input batch ((y + ct) % bh * bw + (x + cl) % bw) * n + b at row
    # (y + ct) / bh, column (x + cl) / bw: what TFLM's walk over the input writes there
    img, ys, xs = h * w * c, np.arange(oh) + ct, np.arange(ow) + cl
    emit_remap(op, ctx, [np.arange(n) * img, ys // bh * w * c + ys % bh * bw * n * img,
                         xs // bw * c + xs % bw * n * img], c, "BATCH_TO_SPACE_ND")


def lower_space_to_batch(op, ctx):
    inp, out, (n, h, w, c), (bh, bw), (pt, pb, pl, pr) = \
        _batch_space_common(op, ctx, "paddings")
    if max(h + pt + pb, w + pl + pr) >= 1 << 31:     # the kernel's row and column indices
        raise ctx.fail(op, "the padded height or width would exceed int32")
    if (h + pt + pb) % bh or (w + pl + pr) % bw:
        raise ctx.fail(op, f"the padded height {h + pt + pb} and width {w + pl + pr} must be "
                           f"multiples of the block shape ({bh}, {bw})")
    oh, ow = (h + pt + pb) // bh, (w + pl + pr) // bw
    _want_shape(op, ctx, out, _shaped(inp, n * bh * bw, oh, ow, c))
    if pt + pb + pl + pr:
        # TFLM's kernel pads with its params' output_offset, which its Prepare never sets: the
        # padding holds whatever was on its stack (0 in one run, other bytes in another)
        raise ctx.fail(op, "it pads, and TFLM fills SPACE_TO_BATCH_ND's padding with a value its "
                           "kernel never sets, so no padded output can be checked against it; "
                           "only paddings of 0 are supported")
    p = ctx.params(op, "tk_space_to_batch_params", {
        "in_b": n, "in_h": h, "in_w": w, "depth": c, "out_b": n * bh * bw, "out_h": oh,
        "out_w": ow, "block_h": bh, "block_w": bw, "pad_top": pt, "pad_left": pl,
        "pad_value": 0})
    ctx.call(op, "tk_space_to_batch_s8", [p, ctx.ptr(op.inputs[0]), ctx.ptr(op.outputs[0])],
             ["space_to_batch_s8.c"])


MIRROR_MODES = {0: ("REFLECT", 1), 1: ("SYMMETRIC", 0)}    # mode -> (name, TFLM's offset)


def lower_mirror_pad(op, ctx):
    inp, out = same_type_io(op, ctx, ("int8",))
    mode = int(op.options.get("mode", 0))
    if mode not in MIRROR_MODES:
        raise ctx.fail(op, f"mode {mode} is neither 0 (REFLECT) nor 1 (SYMMETRIC)")
    name, offset = MIRROR_MODES[mode]
    rank = len(inp.shape)
    pads = const_ints(op, ctx, 1, (rank, 2), "paddings", ("int32", "int64"))
    dims = [int(d) for d in inp.shape]
    _want_shape(op, ctx, out, [d + int(a) + int(b) for d, (a, b) in zip(dims, pads)])
    tables, stride = [], math.prod(dims)
    for d, (n, (before, after)) in enumerate(zip(dims, pads.tolist())):
        if not (0 <= before <= n - offset and 0 <= after <= n - offset):
            raise ctx.fail(op, f"{name} padding of dim {d} (size {n}) is ({before}, {after}); "
                               f"each side must be in [0, {n - offset}]")
        o = np.arange(n + before + after)
        # TFLM GetInputDimension: mirrored about the edge element (REFLECT) or the edge
        idx = np.where(o < before, before + offset - 1 - o,
                       np.where(o - before >= n, 2 * n - 1 - offset - (o - before), o - before))
        stride //= n
        tables.append(idx * stride)
    emit_remap(op, ctx, tables, 1, f"MIRROR_PAD {name}")


LOWERINGS = {"SPACE_TO_DEPTH": lower_space_to_depth, "DEPTH_TO_SPACE": lower_depth_to_space,
             "BATCH_TO_SPACE_ND": lower_batch_to_space, "SPACE_TO_BATCH_ND": lower_space_to_batch,
             "MIRROR_PAD": lower_mirror_pad}
# the tensor types each op accepts: TFLM runs all of these in int8 only (and float32)
TYPES = {op: ("int8",) for op in LOWERINGS}
OPERANDS = {
    "SPACE_TO_DEPTH": Operands(("a",), ("input",)),
    "DEPTH_TO_SPACE": Operands(("a",), ("input",)),
    "BATCH_TO_SPACE_ND": Operands(("a", "c", "c"), ("input", "block shape", "crops")),
    "SPACE_TO_BATCH_ND": Operands(("a", "c", "c"), ("input", "block shape", "paddings")),
    "MIRROR_PAD": Operands(("a", "c"), ("input", "paddings")),
}
