"""Depth-first execution of convolution chains, row by row: two to four CONV_2D or
DEPTHWISE_CONV_2D, each reading the one before (pointwise -> depthwise -> pointwise, an inverted
bottleneck; a first stage), then an ADD where the chain has one.

Each convolution's output but the last is read by the next alone; instead of all of it, a
buffer holds the few rows of it that the next convolution's window reaches (`df_rows`): for
each output row r of the last, the rows each level reads are computed (each once, in order,
none again, pulled through the levels before) and those no later row reads are dropped. Where
the last's output `b` is read by one ADD alone, whose other input `p` (of b's shape, computed
before the chain) is complete when the chain starts, the ADD runs row by row too and `b` holds
one step's rows; its output may overwrite `p` (in place) where nothing else reads p later.
When p is the chain's own input x, row r of the ADD's output is written after the chain has
read the last of x it needs for row r; `safe` simulates that schedule on the shared bytes
before the alias is kept. Without an ADD, the last conv's output may start 16 bytes before the
chain's input x, over the rows of x already read (simulated the same way).

The chain runs at its first op's step (op.run_at), all of its tensors live then; its ops'
kernels are called on row bands (lower/depth_first.py emits the loop). Nothing is recomputed,
and the arithmetic of every output is the kernels' own: bit-exact as without the chain."""
from __future__ import annotations

from ..lower.depth_first import geometry
from .in_place import MAX_PROVED_BYTES, safe


def rows_for(j: int, stride: int, pad: int, k: int, size: int, n: int = 1
             ) -> tuple[int, int, int]:
    """The input rows output rows j .. j + n - 1 of a window of k rows read: (first row, row
    count, rows of padding above it), clipped to the input's `size` rows (tk_df_rows in C)."""
    first = j * stride - pad
    start = max(first, 0)
    h = min((j + n - 1) * stride - pad + k - 1, size - 1) - start + 1
    return start, h, start - first


def schedule(geoms: list[dict], step: int = 1):
    """The chain's events in order, (level, j, n, start, h): rows j .. j + n - 1 of conv
    `level`'s output are computed (one kernel call) from its input rows [start, start + h)
    (level 0 reads the chain's input; the last level's rows are the chain's output, `step` at a
    time, then the shortcut's rows and the ADD's, where the chain has them). Each row of a held
    tensor is computed once, in order, when the next conv first needs it, after the rows no
    later row needs are dropped. geoms: each conv's stride, pad, k (rows), size (input rows)
    and out (output rows)."""
    levels = len(geoms)
    lo, hi = [0] * levels, [-1] * levels        # the rows of each level's output held

    def fill(i: int, upto: int):
        if hi[i] >= upto:
            return
        g, j, n = geoms[i], hi[i] + 1, upto - hi[i]
        start, h, _ = rows_for(j, g["stride"], g["pad"], g["k"], g["size"], n)
        if i > 0:
            if start > hi[i - 1]:
                lo[i - 1], hi[i - 1] = start, start - 1
            elif start > lo[i - 1]:
                lo[i - 1] = start
            yield from fill(i - 1, start + h - 1)
        hi[i] = upto
        yield (i, j, n, start, h)
    out = geoms[-1]["out"]
    for r in range(0, out, step):
        yield from fill(levels - 1, min(r + step, out) - 1)


def held_rows(geoms: list[dict], step: int = 1) -> list[int]:
    """The most rows of each held tensor (every level's output but the last) held at once."""
    held = [1] * (len(geoms) - 1)
    for level, _, _, _, h in schedule(geoms, step):
        if level:
            held[level - 1] = max(held[level - 1], h)
    return held


def over_input_safe(geoms: list[dict], gs: dict | None, row_x: int, row_y: int,
                    nbytes: int, step: int = 1, reads: bool = True, lag: int = 0) -> bool:
    """Whether the ADD's output (reads) or the last conv's (not reads) may overwrite the
    chain's input x: each output row r written after the rows of x the chain reads for it (the
    first conv's bands, the shortcut's band of row r, or row r of x itself where x is the ADD's
    other input), and never over a byte some later step still reads. lag: the output starts
    this many bytes before x (x's bytes at lag on in the simulated buffer)."""
    steps = []
    last = len(geoms) - 1
    for level, r, n, start, h in schedule(geoms, step):
        if level == 0:
            steps.append(([(lag + start * row_x, lag + (start + h) * row_x)], []))
        if level != last:
            continue
        if not reads:               # no ADD: the last conv writes its rows
            steps.append(([], [(r * row_y, (r + n) * row_y)]))
            continue
        if gs is not None:          # the shortcut's band of x, then the ADD
            start, h, _ = rows_for(r, gs["stride"], gs["pad"], gs["k"], gs["size"], n)
            band = (start * row_x, (start + h) * row_x)
        else:                       # the ADD reads rows r .. r + n - 1 of x itself
            band = (r * row_y, (r + n) * row_y)
        steps.append(([band], [(r * row_y, (r + n) * row_y)]))
    return safe(steps, nbytes + lag)


def _readers(graph, t: int) -> list:
    root = graph.root(t)
    return [op for op in graph.ops for x in op.inputs if x >= 0 and graph.root(x) == root]


def _plain(graph, t: int) -> bool:
    """An activation tensor no other tensor shares, not the model's input or output."""
    tt = graph.tensors[t]
    return (not tt.is_const and not tt.is_variable and tt.alias_of is None
            and t not in graph.inputs and t not in graph.outputs
            and not any(x.alias_of == t for x in graph.tensors))


def _add_of(graph, op1, op2, pos: dict):
    """(ADD op, its other input, the shortcut op or None) where op2's output is read by one
    int8 ADD alone whose other input has op2's output's shape and is either complete before
    the chain's first op, or the output of a CONV_2D of the chain's input (a residual block's
    shortcut) read by the ADD alone; else None."""
    b = op2.outputs[0]
    readers = _readers(graph, b)
    if len(readers) != 1 or readers[0].opcode != "ADD" or len(readers[0].inputs) != 2:
        return None
    add = readers[0]
    others = [t for t in add.inputs if t != b]
    if len(others) != 1 or len(add.outputs) != 1:
        return None
    p, y = others[0], add.outputs[0]
    tp, tb, ty = graph.tensors[p], graph.tensors[b], graph.tensors[y]
    if tp.is_const or tp.is_variable or not (tp.dtype == tb.dtype == ty.dtype == "int8") \
            or not (tuple(tp.shape) == tuple(tb.shape) == tuple(ty.shape)):
        return None
    made = [o for o in graph.ops if p in o.outputs]
    if not made or pos[made[0].index] < pos[op1.index]:
        return add, p, None
    sc = made[0]
    if (geometry(graph, sc) is not None and graph.root(sc.inputs[0]) == graph.root(op1.inputs[0])
            and _plain(graph, p) and [o.index for o in _readers(graph, p)] == [add.index]):
        return add, p, sc
    return None


MAX_CONVS = 4      # an inverted bottleneck's three, or a first stage (stem, depthwise, 1x1, ...)
# "depth_first_rows4" in kinds: the last conv's rows 4 at a time (fewer, longer kernel calls: the
# line kernel widens its window's rows once per call), else one (the fewest rows held)


def _convs(graph, op1, taken: set, most: int) -> list:
    """op1 and the convolutions after it that each read the one before alone (`most` at
    most): the ops a chain from op1 may take."""
    convs = [op1]
    while len(convs) < most:
        t = convs[-1].outputs[0]
        readers = _readers(graph, t)
        if not _plain(graph, t) or len(readers) != 1 or readers[0].index in taken:
            break
        nxt = readers[0]
        if geometry(graph, nxt) is None or nxt.inputs[0] != t \
                or graph.tensors[nxt.outputs[0]].is_variable:
            break
        convs.append(nxt)
    return convs


def _mark(graph, convs: list, taken: set, pos: dict, step: int, over: bool
          ) -> list[int] | None:
    """Mark the chain of convs (with the ADD after them where _add_of finds one), its last
    conv's output rows `step` at a time, and without an ADD, its output over its input if
    `over`; its op indices, or None where some tensor would be held whole."""
    geoms = [geometry(graph, op) for op in convs]
    step = min(step, geoms[-1]["out"])
    held = held_rows(geoms, step)
    if any(h >= g["out"] for h, g in zip(held, geoms)):
        return None             # every row of a tensor at once: nothing to save
    last = convs[-1]
    chain = [op.index for op in convs]
    found = _add_of(graph, convs[0], last, pos) if _plain(graph, last.outputs[0]) else None
    if found is not None and found[0].index not in taken and \
            (found[2] is None or found[2].index not in taken):
        add, p, sc = found
        chain += ([sc.index] if sc is not None else []) + [add.index]
        graph.tensors[last.outputs[0]].df_rows = step
        if sc is not None:
            graph.tensors[p].df_rows = step
        _alias_output(graph, convs[0], add.outputs[0], p if sc is None else convs[0].inputs[0],
                      {convs[0].index, add.index} | ({sc.index} if sc is not None else set()),
                      geoms, sc, pos, step)
    elif over:      # the last conv's output over the chain's input
        _alias_output(graph, convs[0], last.outputs[0], convs[0].inputs[0], {convs[0].index},
                      geoms, None, pos, step, lag=16)
    for op, h in zip(convs, held):
        graph.tensors[op.outputs[0]].df_rows = h
    convs[0].chain, convs[0].chain_step = chain, step
    for i in chain[1:]:
        graph.ops[pos[i]].run_at = convs[0].index
    return chain


def run(graph, kinds: frozenset, bound=None):
    """Graph -> Graph: mark every chain (op.chain on its first op, op.run_at on the others,
    df_rows on the tensors held by rows). bound(graph): the max-live bound of the graph as
    marked, or any measure that orders graphs by it first (compile: each step's live bytes,
    largest first); of the chains from an op (two to four convolutions, each with and without
    its output over its input) the one that lowers it most is kept, the shorter where two tie,
    none where none lowers it (running at its first op's step keeps the chain's input alive
    beside the last conv's output)."""
    if "depth_first" not in kinds or graph.subgraphs:
        return graph
    if bound and "depth_first_peak" in kinds:
        bound = (lambda measure: lambda g: measure(g)[:1])(bound)     # the peak alone
    most = 2 if "depth_first_peak" in kinds else MAX_CONVS
    step = 4 if "depth_first_rows4" in kinds else 1
    before = bound(graph) if bound else None
    pos = {op.index: i for i, op in enumerate(graph.ops)}
    taken: set[int] = set()
    for op1 in graph.ops:
        if op1.index in taken or geometry(graph, op1) is None:
            continue
        convs = _convs(graph, op1, taken, most)
        best = None
        for n, over in ((n, over) for n in range(2, len(convs) + 1) for over in (False, True)):
            if "depth_first_dw" not in kinds and \
                    any(op.opcode == "DEPTHWISE_CONV_2D" for op in convs[:n]):
                break           # (balanced: lags already take those peaks, for less stack)
            chain = _mark(graph, convs[:n], taken, pos, step, over)
            if chain is None:
                continue
            after = bound(graph) if bound else None
            _unmark(graph, chain, pos)
            if before is None or after < (before if best is None else best[0]):
                best = (after, n, over)
        if best is not None:
            taken.update(_mark(graph, convs[:best[1]], taken, pos, step, best[2]))
            before = best[0]
    return graph


def _unmark(graph, chain: list[int], pos: dict) -> None:
    for i in chain:
        op = graph.ops[pos[i]]
        op.chain, op.run_at, op.chain_step = [], None, 1
        for t in op.outputs:
            tt = graph.tensors[t]
            tt.df_rows = 0
            if tt.in_place == "depth_first":
                tt.alias_of, tt.alias_offset, tt.in_place = None, 0, False


def _alias_output(graph, op1, y: int, over: int, users: set, geoms: list[dict], sc, pos: dict,
                  step: int, lag: int = 0) -> None:
    """The chain's output y (the ADD's, or the last conv's where there is no ADD) over the
    storage of the tensor it replaces: the ADD's other input, or the chain's input x; where
    nothing reads that after the chain starts but the chain's `users`, it is an activation of
    its own (a model's input may be overwritten once read, passes/in_place.py), and, over x,
    the row order is proved safe. lag: y starts this many bytes before (so that x's bytes
    beyond y's are free after x's last read: compile.activation_buffers)."""
    x = op1.inputs[0]
    ty, to = graph.tensors[y], graph.tensors[over]
    if not _plain(graph, y) or to.is_const or to.is_variable or to.df_rows \
            or graph.root(over) in graph.outputs or ty.nbytes > to.nbytes:
        return
    if any(o.index not in users and pos[o.index] > pos[op1.index]
           for o in _readers(graph, over)):
        return
    if graph.root(x) == graph.root(over):
        tx = graph.tensors[x]
        if tx.nbytes > MAX_PROVED_BYTES:
            return
        row_x = int(tx.shape[2]) * int(tx.shape[3])
        row_y = int(ty.shape[2]) * int(ty.shape[3])
        gs = geometry(graph, sc) if sc is not None else None
        if graph.root_offset(x) != graph.root_offset(over) or \
                not over_input_safe(geoms, gs, row_x, row_y, max(tx.nbytes, ty.nbytes), step,
                                    reads=len(users) > 1, lag=lag):
            return
    ty.alias_of, ty.alias_offset, ty.in_place = over, -lag, "depth_first"
