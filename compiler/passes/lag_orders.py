"""The walks of the kernels beyond CONV_2D's (in_place.conv_steps) that may write an output over
their input from D bytes before it (a lag): which kernel an op runs, and that kernel's steps
(reads, writes), from which in_place.least_lag sizes D and proves it.

- Raster kernels, output pixels in order, each pixel's channels from its window:
  tk_depthwise_conv2d_s8 and tk_depthwise_conv2d_s8_ref (DEPTHWISE_CONV_2D off the line kernel),
  tk_max_pool_s8 and tk_avg_pool_s8 (Helium: sixteen channels of a pixel at a time); conv_steps
  models them. Helium's group kernel (tk_dwg_mve) walks bands channel by channel: with its
  output over its input it hands the op to the raster C kernel (depthwise_conv2d_s8_mve.h).
- The line kernel tk_depthwise3x3_s8 (depthwise3x3_s8.c): per batch image, per group of channels
  (four while four remain, then one), per chunk of output positions along a line, per output
  line o: the padded input lines up to s * o + 2 are widened into the ring (read), then line o's
  chunk is written. Helium's form copies a channel's plane per band: with a lag it hands the op
  to that C kernel (depthwise3x3_s8_mve.h).
- tk_concat_s8 (concat_s8.c): per output row, each input's row copied in turn; the output may
  start before any one input (concat_walks).
- Helium's CONV_2D keeps its speed with a lag only in some layers (lags_ok)."""
from __future__ import annotations

import numpy as np

from ..lower.conv_geometry import lead_pad
from ..lower import conv as conv_lowering
from ..lower.depthwise3x3 import line_kernel, lines_are_rows
from ..lower.shape_ops import pad_dims
from . import concat_in_place, lean_stack

DW3_CHUNK = 32              # TK_DW3_CHUNK: outputs per line in one chunk at stride 1
POOLS = ("MAX_POOL_2D", "AVERAGE_POOL_2D")
# conv, raster, line, pad and concatenation walks
LAGS = ("lag", "lag_raster", "lag_lines", "lag_pad", "lag_concat")
# the kernels each walk is documented for (in_place.check_kernels)
RASTER = frozenset({"tk_depthwise_conv2d_s8", "tk_depthwise_conv2d_s8_ref", "tk_max_pool_s8",
                    "tk_avg_pool_s8"})
LINES = frozenset({"tk_depthwise3x3_s8"})
PAD = frozenset({"tk_pad_s8"})
CONCAT = frozenset({"tk_concat_s8"})


def _window(op):
    """(k, stride, dil, pad) of a DEPTHWISE_CONV_2D or pooling op, each (rows, columns)."""
    o = op.options
    stride = (int(o.get("stride_h", 1)), int(o.get("stride_w", 1)))
    if op.opcode in POOLS:
        k, dil = (int(o.get("filter_height", 0)), int(o.get("filter_width", 0))), (1, 1)
    else:
        k, dil = None, (int(o.get("dilation_h_factor", 1)), int(o.get("dilation_w_factor", 1)))
    return k, stride, dil, o.get("padding", "SAME")


def walk(graph, op, conv_steps):
    """(kind, steps_for) of an int8 DEPTHWISE_CONV_2D or pooling op: "lag_raster" with
    steps_for(block) the raster walk, or "lag_lines" with the line kernel's; else None."""
    if op.opcode in ("PAD", "PADV2"):
        return _pad_walk(graph, op)
    if op.opcode not in POOLS + ("DEPTHWISE_CONV_2D",) or not op.inputs or op.inputs[0] < 0:
        return None
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    if x.dtype != "int8" or y.dtype != "int8" or len(x.shape) != 4 or len(y.shape) != 4:
        return None
    xs, ys = tuple(int(d) for d in x.shape), tuple(int(d) for d in y.shape)
    k, stride, dil, padding = _window(op)
    if k is None:
        if len(op.inputs) < 2 or op.inputs[1] < 0:
            return None
        w = graph.tensors[op.inputs[1]]
        if len(w.shape) != 4:
            return None
        k = (int(w.shape[1]), int(w.shape[2]))
    if min(k + stride + dil) < 1 or xs[0] != ys[0]:
        return None
    pad = tuple(lead_pad(padding, xs[1 + i], ys[1 + i], stride[i], dil[i], k[i])
                for i in (0, 1))
    if op.opcode == "DEPTHWISE_CONV_2D" and _lines(op, xs, ys, k, stride, dil, pad):
        return "lag_lines", lambda b: line_steps(xs, ys, stride[0], pad)
    return "lag_raster", lambda b: conv_steps(xs, ys, k, stride, dil, pad, b)


def _pad_walk(graph, op):
    """("lag_pad", steps_for) of an int8 PAD with constant paddings (tk_pad_s8), else None."""
    if len(op.inputs) < 2 or min(op.inputs[:2]) < 0:
        return None
    x, p, y = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]], graph.tensors[op.outputs[0]]
    if x.dtype != "int8" or y.dtype != "int8" or p.data is None or not x.shape:
        return None
    pads = [int(v) for v in p.data.reshape(-1)]
    if len(pads) != 2 * len(x.shape) or len(y.shape) != len(x.shape) or min(pads) < 0 or any(
            int(n) + pads[2 * d] + pads[2 * d + 1] != int(y.shape[d])
            for d, n in enumerate(x.shape)):
        return None         # (the lowering names what is wrong)
    dims = pad_dims([int(n) for n in x.shape], pads)
    if dims is None:
        return None
    return "lag_pad", lambda b: pad_steps(dims)


def pad_steps(dims):
    """tk_pad_s8's walk (pad_s8.c): per output row, the padding before, the input row (read,
    then written), the padding after; rows of padding alone. Byte ranges of input and output."""
    (i0, o0, b0), (i1, o1, b1), (i2, o2, b2), (in_row, row, left) = dims
    o = i = 0
    for a in range(o0):
        for b in range(o1):
            for c in range(o2):
                if b0 <= a < b0 + i0 and b1 <= b < b1 + i1 and b2 <= c < b2 + i2:
                    if left:
                        yield [], [(o, o + left)]
                    yield [(i, i + in_row)], [(o + left, o + left + in_row)]
                    if row > left + in_row:
                        yield [], [(o + left + in_row, o + row)]
                    i += in_row
                else:
                    yield [], [(o, o + row)]
                o += row


def concat_walks(graph, op) -> list:
    """(position, steps_for) of each input of a CONCATENATION (tk_concat_s8's copy) that its
    output may be written over: the inputs' storages apart, none constant or a variable, their
    rows whole bytes; [] where none may."""
    if op.opcode != "CONCATENATION" or len(op.outputs) != 1 or op.outputs[0] < 0 \
            or min(op.inputs, default=-1) < 0:
        return []
    y, rows = graph.tensors[op.outputs[0]], concat_in_place.outer(graph, op)
    if rows is None or y.is_variable or y.is_const:
        return []
    roots = [graph.root(a) for a in op.inputs]
    if rows < 2 or len(set(roots)) != len(roots) or graph.root(op.outputs[0]) in roots or any(
            graph.tensors[r].is_const or graph.tensors[r].is_variable for r in roots):
        return []
    blocks = [graph.tensors[a].nbytes // rows for a in op.inputs]
    if sum(blocks) * rows != y.nbytes or any(b * rows != graph.tensors[a].nbytes
                                             for a, b in zip(op.inputs, blocks)):
        return []
    return [(i, lambda b, i=i: concat_steps(blocks, rows, i)) for i in range(len(blocks))]


def concat_steps(blocks: list[int], outer: int, pos: int):
    """tk_concat_s8's walk (concat_s8.c) as seen by input `pos`: per output row, the rows of the
    inputs before it (written), its own row (read, then written), the rows after it."""
    row, before, n = sum(blocks), sum(blocks[:pos]), blocks[pos]
    for r in range(outer):
        o = r * row
        if before:
            yield [], [(o, o + before)]
        yield [(r * n, r * n + n)], [(o + before, o + before + n)]
        if row > before + n:
            yield [], [(o + before + n, o + row)]


def _lines(op, xs, ys, k, stride, dil, pad) -> bool:
    """Whether the lowering runs the op on the line kernel (lower/conv.py)."""
    return line_kernel(op, xs, ys, k, stride, dil, pad, conv_lowering.USE_FAST_KERNELS) \
        is not None


def line_steps(xs, ys, s: int, pad: tuple[int, int]):
    """tk_depthwise3x3_s8's walk (module docstring) as (reads, writes) of byte offset arrays;
    lines are rows where the output is at least as wide as tall, else columns
    (lower/depthwise3x3.py)."""
    n, _, _, c = xs
    xi = np.arange(int(np.prod(xs))).reshape(xs)
    yi = np.arange(int(np.prod(ys))).reshape(ys)
    pad_line, pad_pos = pad
    if not lines_are_rows(ys[1], ys[2]):        # columns
        xi, yi, pad_line, pad_pos = xi.transpose(0, 2, 1, 3), yi.transpose(0, 2, 1, 3), \
            pad[1], pad[0]
    lines_in, pos_in = xi.shape[1:3]
    lines_out, pos_out = yi.shape[1:3]
    chunk = DW3_CHUNK // s
    for b in range(n):
        c0 = 0
        while c0 < c:
            g = 4 if c - c0 >= 4 else 1
            for i0 in range(0, pos_out, chunk):
                m = min(chunk, pos_out - i0)
                p0 = s * i0 - pad_pos
                lo, hi = max(p0, 0), min(p0 + ((s * m + 5) & ~1), pos_in)
                nxt = 0
                for o in range(lines_out):
                    reads = []
                    while nxt <= s * o + 2:
                        line = nxt - pad_line
                        if 0 <= line < lines_in and lo < hi:
                            reads.append(xi[b, line, lo:hi, c0:c0 + g].reshape(-1))
                        nxt += 1
                    yield reads, [yi[b, o, i0:i0 + m, c0:c0 + g].reshape(-1)]
            c0 += g


EXACT_TRIES = 64            # lags below the range bound tried byte by byte, 16 bytes apart


def exact_lag(walks, in_bytes: int, out_bytes: int, bound: int) -> int:
    """The least multiple of 16 below `bound` (tried up to EXACT_TRIES of them) at which, in
    every walk, each output byte is written no earlier than the step of the last read of the
    input byte it lands on (a step reads, then writes: as in_place.safe checks); else bound.
    The line kernel writes one channel group's bytes while the others' are still to be read:
    the ranges' bound is then nearly the whole output, the bytes' own far lower."""
    last = np.full(in_bytes, -1, np.int64)
    first = np.full(out_bytes, 1 << 62, np.int64)
    for walk in walks:
        for k, (reads, writes) in enumerate(walk):
            for r in reads:
                last[_index(r)] = np.maximum(last[_index(r)], k)
            for w in writes:
                first[_index(w)] = np.minimum(first[_index(w)], k)
    for d in range(0, min(bound, 16 * EXACT_TRIES), 16):
        n = min(out_bytes - d, in_bytes)
        if n <= 0 or (last[:n] <= first[d:d + n]).all():
            return d
    return bound


def _index(r):
    return np.arange(r[0], r[1]) if isinstance(r, tuple) else r


# balanced: a depthwise op may leave the line kernel for the raster one (about 1.3x its
# instructions at stride 2) where it holds at most this share of the model's MACs
RASTER_SHARE = 0.02


MVE_BUF, MVE_CAP, MVE_KMAX = 4224, 64, 576  # TK_CMV_BUF, TK_CMV_CAP, TK_CMV_KMAX (conv2d_s8_mve.h)


def lags_ok(graph, op, kinds) -> bool:
    """Whether op may write its output with a lag: any op with "lag" in kinds; with "lag_mve"
    (Helium's balanced default) a CONV_2D whose output channels make one block of Helium's
    kernel (conv2d_s8_mve.h), which then walks the pixels in order at its speed. Other layers'
    lags leave the Helium kernels (the DSP path: two to four times slower) or copy each batch
    of pixels first and decode the filter again per batch (1x1 layers: about 12% slower)."""
    if "lag" in kinds:
        return True
    if "lag_mve" not in kinds or op.opcode != "CONV_2D" or len(op.inputs) < 2 \
            or min(op.inputs[:2]) < 0 or not op.outputs or op.outputs[0] < 0:
        return False
    w, x = graph.tensors[op.inputs[1]], graph.tensors[op.inputs[0]]
    if len(w.shape) != 4 or not x.shape:
        return False
    oc, kh, kw, ic = (int(d) for d in w.shape[:3] + x.shape[-1:])
    kr = (kh * kw * ic + 15) // 16 * 16
    return kh * kw * ic <= MVE_KMAX and oc <= min((MVE_BUF - 2 * kr) // kr // 4 * 4, MVE_CAP)


MVE_PLANE, MVE_BAND = 1024, 40     # TK_DWM_PLANE; 2 TK_DWM_BAND lines at stride 1


def mve_dw3_ok(graph, op, kind, kinds) -> bool:
    """Whether a 3x3 depthwise op in place ("dw3") runs so on Helium's line kernel at its speed
    ("dw3_mve" in kinds: Helium's balanced default): in one band and one chunk, each channel's
    plane copied whole first (tk_dw3_mve, depthwise3x3_s8_mve.h); else that kernel hands it to
    the C one, several times slower."""
    if kind != "dw3" or "dw3_mve" not in kinds:
        return False
    _, h, w, c = (int(d) for d in graph.tensors[op.outputs[0]].shape)
    lines, pos, in_pos = (h, w, c) if lines_are_rows(h, w) else (w, h, w * c)
    chunk = (MVE_PLANE // (lines + 2) - 5) // 4 * 4
    return 7 * in_pos <= 65535 and lines <= MVE_BAND and pos <= chunk


def raster_ok(graph, op, kinds) -> bool:
    """Whether a depthwise op may run on the raster kernel to lag its output ("dw_raster":
    any; "dw_raster_balanced": within RASTER_SHARE of the model's MACs)."""
    if "dw_raster" in kinds:
        return True
    if "dw_raster_balanced" not in kinds or op.opcode != "DEPTHWISE_CONV_2D":
        return False
    return lean_stack.op_macs(graph, op) <= RASTER_SHARE * lean_stack.model_macs(graph)


def prune_lags(graph, steps: list[int]) -> None:
    """Each output written with a lag starts D bytes before its input, so a run of lagged ops
    drifts down one buffer that the planner must place whole: the run spans the sum of their
    lags. An op whose step stays within the peak without its lag gets its own buffer back,
    which ends the run there. So does a model's output written over its op's input where no
    peak needs it (its storage then apart from the activations', as the user reads it)."""
    peak = max(steps, default=0)
    for i, op in enumerate(graph.ops):
        y = graph.tensors[op.outputs[0]] if op.outputs and op.outputs[0] >= 0 else None
        if y is None or i >= len(steps) or not (
                y.in_place in LAGS and y.alias_offset
                or y.in_place and y.index in graph.outputs and y.in_place != "concat"):
            continue
        x, d = graph.tensors[y.alias_of], -y.alias_offset
        saved = x.nbytes + y.nbytes - max(y.nbytes, d + x.nbytes)
        if steps[i] + saved <= peak:
            y.alias_of, y.alias_offset, y.in_place = None, 0, False
            op.lean = False
            steps[i] += saved
