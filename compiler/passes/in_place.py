"""In-place execution: an op whose kernel may write its output over its input (the input's last
use, the same bytes) gets its output aliased to the input's storage, so that the two never
need room at once and the arena can go below the max-live bound of whole tensors.

Which ops: 1x1 CONV_2D (stride 1, out_c <= in_c) and 3x3 DEPTHWISE_CONV_2D (stride 1, the
output the input's shape) on their fast kernels, whose headers (conv2d_s8.h, depthwise3x3_s8.h)
document the order in which every build reads and writes in place; and int8 elementwise ops
(ADD, SUB, MUL over an input of the output's shape; the activations run as one table lookup per
element), whose kernels (add_s8.c, mul_s8.c, ew_s8_mve.h, lut_s8.c) walk the output in order,
reading the elements of a block (1, 2, 4 or 16) before writing them. Each candidate is then
proved safe by simulating that order on its geometry (`safe`): no byte of the shared buffer may
be written before the last read of the input byte it holds. Only what is proved is aliased."""
from __future__ import annotations

import numpy as np

from ..lower import conv as conv_lowering
from ..lower.conv_geometry import lead_pad
from ..lower.depthwise3x3 import MIN_POSITIONS
from . import lag_orders
from .lag_orders import DW3_CHUNK, LAGS

DW3_GROUP = 4               # channels per ring of the C line kernel
CONV_1X1_MAX = 256          # TK_CONV_1X1_WIDE_MAX: the largest input depth copied whole
CONV_1X1_BLOCK = (1, 2, 3)  # pixels a 1x1 step reads whole before writing (per build)
LAG_ALIGN = 4               # lags keep tensors word-aligned, as the planner's offsets do
EW_BLOCK = (1, 2, 4, 16)    # elements an elementwise step reads before writing them (per build)
# the largest tensor whose in-place order is simulated (bytes): larger ones, far beyond any
# board's RAM, keep their own buffers rather than make the compiler simulate for long
MAX_PROVED_BYTES = 1 << 18
LAG_BLOCK = (1, 2, 3, 4)    # pixels a conv step may write before reading them (walks: 1-3)
EW_BINARY = ("ADD", "SUB", "MUL")
# int8 activations and int8 -> int8 requantization, lowered to tk_lut_s8 (lower/activations.py,
# lower/unary.py, lower/quantize.py)
EW_TABLE = ("LOGISTIC", "TANH", "RELU", "RELU6", "RELU_N1_TO_1", "HARD_SWISH", "LEAKY_RELU",
            "QUANTIZE", "SOFTMAX")    # (SOFTMAX: each row read whole, then written in order)
# the kernels each kind's order is documented for; compile checks every in-place op's call
KERNELS = {"elementwise": frozenset({"tk_add_s8", "tk_mul_s8", "tk_lut_s8", "tk_softmax_s8"}),
           "lag": frozenset({"tk_conv2d_s8_cols", "tk_conv2d_s8_lines", "tk_conv2d_s8_im2col",
                             "tk_conv2d_s8_ref"}),
           "lag_raster": lag_orders.RASTER, "lag_lines": lag_orders.LINES,
           "lag_pad": lag_orders.PAD, "lag_concat": lag_orders.CONCAT,
           "pointwise": frozenset({"tk_conv2d_s8_cols"}), "dw3": frozenset({"tk_depthwise3x3_s8"})}


def elementwise_steps(n: int, block: int):
    """An elementwise kernel in place: blocks of `block` elements in order, read then written
    at the same positions."""
    for i in range(0, n, block):
        yield [(i, min(i + block, n))], [(i, min(i + block, n))]


def pointwise_steps(pixels: int, ic: int, oc: int, block: int):
    """tk_conv2d_s8_cols in place (conv2d_s8.h): blocks of `block` pixels in order, each read
    whole, then its outputs written. Yields (read byte ranges, written byte ranges)."""
    for p0 in range(0, pixels, block):
        ps = range(p0, min(p0 + block, pixels))
        yield [(p * ic, (p + 1) * ic) for p in ps], [(p * oc, (p + 1) * oc) for p in ps]


def dw3_steps(shape: tuple[int, int, int, int], group: int):
    """tk_depthwise3x3_s8 in place (depthwise3x3_s8.h), stride 1, one chunk per line: per batch
    image, per group of channels, output line o is written after input lines up to o + 1 are
    read (into the ring); lines run along the longer side. Yields (reads, writes) as arrays of
    byte offsets."""
    n, h, w, c = shape
    rows = w >= h                       # lines are rows (else columns)
    lines, pos = (h, w) if rows else (w, h)
    idx = np.arange(n * h * w * c).reshape(n, h, w, c)
    for b in range(n):
        for c0 in range(0, c, group):
            img = idx[b, :, :, c0:c0 + group]
            line = (lambda i: img[i]) if rows else (lambda i: img[:, i])
            read = 0
            for o in range(lines):
                reads = []
                while read <= min(o + 1, lines - 1):
                    reads.append(line(read).reshape(-1))
                    read += 1
                yield reads, [line(o).reshape(-1)]


def safe(steps, nbytes: int) -> bool:
    """Whether, executing `steps` (reads then writes, each a list of byte ranges (lo, hi) or of
    offset arrays) on one buffer of nbytes, every byte is written no earlier than the step that
    last reads it."""
    last_read = np.full(nbytes, -1, np.int64)
    first_write = np.full(nbytes, 1 << 62, np.int64)
    for k, (reads, writes) in enumerate(steps):
        for r in reads:
            last_read[_bytes(r)] = k
        for wr in writes:
            sel = _bytes(wr)
            first_write[sel] = np.minimum(first_write[sel], k)
    return bool((last_read <= first_write).all())


def _bytes(r):
    return np.arange(r[0], r[1]) if isinstance(r, tuple) else r


def _sole_use(graph, op, t: int) -> bool:
    """t's storage is read by no op after `op`, and is none of the model's outputs. (A model's
    input may be overwritten once read, as the arena's plan reuses its bytes anyway: invoke
    leaves the input buffers undefined, as TFLM's planner does.)"""
    root = graph.root(t)
    tt = graph.tensors[root]
    if tt.is_const or tt.is_variable or root in graph.outputs:
        return False
    if any(graph.root(x) == root for x in graph.outputs):
        return False
    later = graph.ops[graph.ops.index(op) + 1:]     # the ops run after it, in order
    return all(graph.root(x) != root for o in later for x in o.inputs if x >= 0)


def _elementwise(graph, op) -> int | None:
    """The position among op.inputs of an input an int8 elementwise op may write over: of the
    output's shape and type, read by nothing later; else None."""
    if op.opcode not in EW_BINARY + EW_TABLE or len(op.outputs) != 1 or op.outputs[0] < 0:
        return None
    y = graph.tensors[op.outputs[0]]
    data = op.inputs[:2] if op.opcode in EW_BINARY else op.inputs[:1]
    for k, t in enumerate(data):
        x = graph.tensors[t] if t >= 0 else None
        if (x is not None and x.dtype == "int8" == y.dtype and tuple(x.shape) == tuple(y.shape)
                and _sole_use(graph, op, t)):
            return k
    return None


def least_lag(steps_for, in_bytes: int, out_bytes: int, exact: bool = False) -> int | None:
    """The lag D (a multiple of LAG_ALIGN) at which an output may start D bytes before its
    input in one buffer: the least D that keeps every group's writes (taken before its reads)
    below the reads of its group and the later ones, for every group size (steps_for(block) ->
    steps),
    then proved by simulating each order (`safe`); None where no D saves a byte or the proof
    fails. exact: a walk that reads each step's input before writing its output (the line
    kernel's ring), searched below that bound byte by byte (lag_orders.exact_lag)."""
    d = max(_least_lag(steps_for(b)) for b in LAG_BLOCK)
    d = (d + LAG_ALIGN - 1) // LAG_ALIGN * LAG_ALIGN
    if exact and d:     # channel-interleaved walks: the byte-exact least D below that bound
        d = min(d, lag_orders.exact_lag([steps_for(b) for b in LAG_BLOCK], in_bytes, out_bytes,
                                        d))
    if d >= out_bytes:
        return None
    size = max(out_bytes, d + in_bytes)
    if not all(safe(_shifted_steps(steps_for(b), d, not exact), size) for b in LAG_BLOCK):
        return None
    return d


def _shifted_steps(steps, d: int, split: bool = True):
    """steps with every read moved d bytes on (the input placed d bytes after the output), and
    (split) each block's writes taken before its reads: the builds differ in how they interleave
    the two within a block (output-channel groups re-read the block's pixels), so none is
    assumed."""
    for reads, writes in steps:
        moved = [(r[0] + d, r[1] + d) if isinstance(r, tuple) else r + d for r in reads]
        if split:
            yield [], writes
            yield moved, []
        else:
            yield moved, writes


def conv_steps(x_shape, y_shape, k: tuple[int, int], stride: tuple[int, int],
               dil: tuple[int, int], pad: tuple[int, int], block: int):
    """Every int8 CONV_2D kernel's order (conv2d_s8.c's pixel walk, conv2d_s8_ref.c): output
    pixels in raster order, in groups of `block`, each group reading its pixels' windows and
    writing their outputs. Yields (reads, writes) as byte ranges of the input and the output;
    a window's row is one range from its first tap to its last (with dilation, a superset)."""
    n, h, w, c = x_shape
    _, oh, ow, oc = y_shape
    pixels = [(b, oy, ox) for b in range(n) for oy in range(oh) for ox in range(ow)]
    for g0 in range(0, len(pixels), block):
        group = pixels[g0:g0 + block]
        reads = []
        for b, oy, ox in group:
            x0 = max(ox * stride[1] - pad[1], 0)
            x1 = min(ox * stride[1] - pad[1] + (k[1] - 1) * dil[1], w - 1)
            for ky in range(k[0]):
                iy = oy * stride[0] - pad[0] + ky * dil[0]
                if 0 <= iy < h and x0 <= x1:
                    at = ((b * h + iy) * w) * c
                    reads.append((at + x0 * c, at + (x1 + 1) * c))
        yield reads, [(g0 * oc, (g0 + len(group)) * oc)]


def _least_lag(steps) -> int:
    """The least D for which every write range (each step's writes before its reads) ends at
    or before every read range of its step and the later ones, D bytes on (the suffix minimum
    of the reads' starts)."""
    steps = list(steps)
    need, low = 0, None
    for reads, writes in reversed(steps):
        for r in reads:
            lo = r[0] if isinstance(r, tuple) else int(r.min())
            low = lo if low is None else min(low, lo)
        if low is not None and writes:
            need = max(need, max(w[1] if isinstance(w, tuple) else int(w.max()) + 1
                                 for w in writes) - low)
    return need


def _lagged(graph, op, raster: bool = False) -> tuple[str, int] | None:
    """(kind, lag) of an op whose output may be written over its input from D bytes before it
    (the output's pixel groups overwrite input bytes no later group reads): an int8 CONV_2D
    ("lag"), DEPTHWISE_CONV_2D or pooling op (lag_orders: "lag_raster", "lag_lines"); else
    None. The least D is taken from the reads' and writes' ranges, then proved by simulating
    every group size with each group's writes before its reads (`safe`). raster: a depthwise
    op whose line kernel's walk lags by more than half its output may move to the raster kernel
    (op.lean) where that lags less."""
    if not op.outputs or op.outputs[0] < 0:
        return None
    found = lag_orders.walk(graph, op, conv_steps)
    if found is not None:
        x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
        if max(x.nbytes, y.nbytes) > MAX_PROVED_BYTES:
            return None
        lag = least_lag(found[1], x.nbytes, y.nbytes, exact=found[0] == "lag_lines")
        if found[0] == "lag_lines" and (lag is None or 2 * lag > y.nbytes) and raster:
            op.lean = True      # the raster kernel, whose walk may lag less (lag_orders)
            lag2 = least_lag(lag_orders.walk(graph, op, conv_steps)[1], x.nbytes, y.nbytes)
            if lag2 is not None and (lag is None or lag2 < lag):
                return "lag_raster", lag2
            op.lean = False
        return None if lag is None else (found[0], lag)
    lag = _conv_lag(graph, op)
    return None if lag is None else ("lag", lag)


def _concat_lag(graph, op) -> tuple[str, int, int] | None:
    """("lag_concat", position, D) of a CONCATENATION whose output may be written over one of
    its inputs from D bytes before it (lag_orders.concat_walks; the input whose lag saves the
    most bytes), else None."""
    y, best = graph.tensors[op.outputs[0]], None
    for pos, steps_for in lag_orders.concat_walks(graph, op):
        x = graph.tensors[op.inputs[pos]]
        if not _sole_use(graph, op, op.inputs[pos]) or max(x.nbytes, y.nbytes) > MAX_PROVED_BYTES:
            continue
        d = least_lag(steps_for, x.nbytes, y.nbytes)
        saved = 0 if d is None else x.nbytes + y.nbytes - max(y.nbytes, d + x.nbytes)
        if saved > 0 and (best is None or saved > best[0]):
            best = (saved, pos, d)
    return None if best is None else ("lag_concat", best[1], best[2])


def _conv_lag(graph, op) -> int | None:
    """The lag of an int8 CONV_2D (conv_steps), else None."""
    if op.opcode != "CONV_2D" or len(op.inputs) < 2 or min(op.inputs[:2]) < 0:
        return None
    x, w, y = (graph.tensors[i] for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    if x.dtype != "int8" or y.dtype != "int8" or len(x.shape) != 4 or len(y.shape) != 4 \
            or len(w.shape) != 4 or max(x.nbytes, y.nbytes) > MAX_PROVED_BYTES:
        return None
    o = op.options
    k = (int(w.shape[1]), int(w.shape[2]))
    stride = (int(o.get("stride_h", 1)), int(o.get("stride_w", 1)))
    dil = (int(o.get("dilation_h_factor", 1)), int(o.get("dilation_w_factor", 1)))
    pad = tuple(lead_pad(o.get("padding", "SAME"), int(x.shape[1 + i]), int(y.shape[1 + i]),
                          stride[i], dil[i], k[i]) for i in (0, 1))
    if min(stride + dil) < 1:
        return None
    shapes = (tuple(int(d) for d in x.shape), tuple(int(d) for d in y.shape))
    return least_lag(lambda b: conv_steps(*shapes, k, stride, dil, pad, b), x.nbytes, y.nbytes)


def _candidate(graph, op) -> str | None:
    """'pointwise' or 'dw3' where the op's kernel runs in place, else None."""
    if not conv_lowering.USE_FAST_KERNELS or len(op.inputs) < 2 or op.inputs[0] < 0 or op.inputs[1] < 0:
        return None
    x, w, y = (graph.tensors[i] for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    if x.dtype != "int8" or y.dtype != "int8" or len(x.shape) != 4 or len(y.shape) != 4:
        return None
    o = op.options
    if int(o.get("stride_h", 1)) != 1 or int(o.get("stride_w", 1)) != 1:
        return None
    n, h, wd, ic = (int(d) for d in x.shape)
    if op.opcode == "CONV_2D":
        oc = int(w.shape[0])
        path = conv_lowering.fast_conv_path(w.shape, x.shape)
        if (path == conv_lowering.PATH_COLS and tuple(y.shape) == (n, h, wd, oc) and oc % 4 == 0
                and oc <= ic <= CONV_1X1_MAX and ic % 4 == 0):
            return "pointwise"
        return None
    if op.opcode == "DEPTHWISE_CONV_2D":
        dil = (int(o.get("dilation_h_factor", 1)), int(o.get("dilation_w_factor", 1)))
        if (tuple(w.shape) == (1, 3, 3, ic) and int(o.get("depth_multiplier", 1)) == 1
                and dil == (1, 1) and o.get("padding", "SAME") == "SAME"
                and tuple(y.shape) == tuple(x.shape)
                and MIN_POSITIONS[1] <= max(h, wd) <= DW3_CHUNK):
            return "dw3"
    return None


def proved(graph, op, kind: str) -> bool:
    """The candidate's in-place order, simulated on its geometry, never writes a byte before its
    last read (every build's order: pixel blocks of 1 to 3; channel groups of 4 and of 1)."""
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    if max(x.nbytes, y.nbytes) > MAX_PROVED_BYTES:
        return False
    if kind == "elementwise":
        return all(safe(elementwise_steps(y.nbytes, b), y.nbytes) for b in EW_BLOCK)
    if kind == "pointwise":
        n, h, w, ic = (int(d) for d in x.shape)
        oc = int(y.shape[3])
        return all(safe(pointwise_steps(n * h * w, ic, oc, b), x.nbytes)
                   for b in CONV_1X1_BLOCK)
    shape = tuple(int(d) for d in x.shape)
    return all(safe(dw3_steps(shape, g), x.nbytes) for g in (DW3_GROUP, 1))


# --optimize: which kinds run in place. balanced (the default) takes the lowest RAM whose
# instructions stay within 5% of the fastest: in place costs nothing measurable on the DSP and
# portable builds (kws_ref_model: 3,539,281 instructions in place on mps2-an386, 3,540,177 not),
# but 1x1 layers on Helium copy their pixels first (kws on mps3-an547: 795,616 against 735,859,
# +8%), so a Helium target keeps them out of place, and lags only those its CONV_2D keeps at
# its speed ("lag_mve": lag_orders.lags_ok) and 3x3 depthwise layers in place only where its
# line kernel runs them so ("dw3_mve": lag_orders.mve_dw3_ok); "lag_concat": a concatenation's
# output over one input with a lag (_concat_lag). "lean" / "lean_balanced": the
# FULLY_CONNECTED kernel without a stack buffer, everywhere or within balanced's budget
# (passes/lean_stack.py); "dw_raster" / "dw_raster_balanced": a depthwise op off the line
# kernel where the raster one lags its output less (lag_orders.raster_ok); "prune_lags": lags
# no peak needs dropped (lag_orders.prune_lags); "depth_first_dw": depth-first chains through
# a depthwise (ram only: balanced's lags already take those peaks, for less stack)
OPTIMIZE = ("balanced", "ram", "speed")


def kinds_for(optimize: str, helium: bool) -> frozenset:
    """The kinds of op run in place for an --optimize choice and target."""
    if optimize == "speed":
        return frozenset()
    if optimize == "balanced" and helium:
        return frozenset({"dw3_mve", "elementwise", "concat", "lag_concat", "lag_mve",
                          "prune_lags"})
    if helium:      # (the Helium build's pair kernel keeps no lanes: nothing to trade)
        return frozenset({"pointwise", "dw3", "elementwise", "lag", "depth_first",
                          "prune_lags", "concat", "lag_concat"})
    if optimize == "ram":
        return frozenset({"pointwise", "dw3", "elementwise", "lag", "depth_first", "lean",
                          "dw_raster", "prune_lags", "depth_first_dw", "concat",
                          "lag_concat"})
    return frozenset({"pointwise", "dw3", "elementwise", "lag", "depth_first", "lean_balanced",
                      "dw_raster_balanced", "prune_lags", "depth_first_peak",
                      "depth_first_balanced", "concat", "lag_concat"})


def run(graph, kinds: frozenset = frozenset({"pointwise", "dw3", "elementwise", "lag"}),
        live=None):
    """Graph -> Graph: alias the output of every op of `kinds` proved to run in place to its
    input. A model with subgraphs (control flow, whose bodies read tensors of the main graph) is
    left as it is. live(graph): the bytes live at each step, from which, with "prune_lags" in
    kinds, the lags that no peak needs are dropped (lag_orders.prune_lags)."""
    if graph.subgraphs:
        return graph
    for op in graph.ops:
        if not op.outputs or op.outputs[0] < 0 or op.chain or op.run_at is not None:
            continue            # a depth-first chain's ops (passes/depth_first.py)
        if any(graph.tensors[t].df_rows for t in op.inputs + op.outputs if t >= 0):
            continue
        kind, over, lag = _candidate(graph, op), 0, 0
        if kind not in kinds and not lag_orders.mve_dw3_ok(graph, op, kind, kinds):
            kind = None                             # (then a lag may be taken)
        if kind is None and "elementwise" in kinds:
            found = _elementwise(graph, op)
            kind, over = (None, 0) if found is None else ("elementwise", found)
        if kind is None and "lag_concat" in kinds and op.opcode == "CONCATENATION":
            kind, over, lag = _concat_lag(graph, op) or (None, 0, 0)
        lags = lag_orders.lags_ok(graph, op, kinds)
        if kind is None and lags and _sole_use(graph, op, op.inputs[0]):
            kind, lag = _lagged(graph, op, lag_orders.raster_ok(graph, op, kinds)) or (None, 0)
        if kind is not None and \
                _sole_use(graph, op, op.inputs[over]) and (kind in LAGS or proved(graph, op, kind)):
            y = graph.tensors[op.outputs[0]]
            if y.alias_of is None and not y.is_variable:    # (a model's output too: kept
                # where it lowers the peak, lag_orders.prune_lags)
                y.alias_of, y.alias_offset = op.inputs[over], -lag
                y.in_place = kind
            elif kind == "lag_raster":
                op.lean = False
    if live is not None and "prune_lags" in kinds:
        lag_orders.prune_lags(graph, live(graph))
    return graph


def check_kernels(graph, calls) -> None:
    """Every op run in place calls a kernel whose in-place order is documented (KERNELS); a
    lowering that picked another is tinykiln's bug, refused before any C is written."""
    func = {c.op_index: c.func for c in calls}
    for op in graph.ops:
        kind = op.outputs and op.outputs[0] >= 0 and graph.tensors[op.outputs[0]].in_place
        if kind in KERNELS and func.get(op.index) not in KERNELS[kind]:
            raise AssertionError(f"op {op.index} {op.opcode} runs in place ({kind}) but calls "
                                 f"{func.get(op.index)}")
