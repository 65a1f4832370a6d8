"""Depth-first execution of convolution chains: CONV_2D -> CONV_2D (-> ADD), row by row.

The first convolution's output `a` is read by the second alone; instead of all of `a`, a
buffer holds the few rows of it that the second convolution's window reaches (`df_rows`): for
each output row r of the second, the rows of `a` it reads are computed (each once, in order,
none again) and those no later row reads are dropped. Where the second's output `b` is read by
one ADD alone, whose other input `p` (of b's shape, computed before the chain) is complete when
the chain starts, the ADD runs row by row too and `b` is one row; its output may overwrite `p`
(in place) where nothing else reads p later. When p is the chain's own input x, row r of the
ADD's output is written after the chain has read the last of x it needs for row r; `safe`
simulates that schedule on the shared bytes before the alias is kept.

The chain runs at its first op's step (op.run_at), all of its tensors live then; its ops'
kernels are called on row bands (lower/depth_first.py emits the loop). Nothing is recomputed,
and the arithmetic of every output is the kernels' own: bit-exact as without the chain."""
from __future__ import annotations

from ..lower.depth_first import geometry
from .in_place import MAX_PROVED_BYTES, safe


def rows_for(j: int, stride: int, pad: int, k: int, size: int) -> tuple[int, int, int]:
    """The input rows an output row j of a window of k rows reads: (first row, row count,
    rows of padding above it), clipped to the input's `size` rows (tk_df_rows in C)."""
    first = j * stride - pad
    start = max(first, 0)
    h = min(first + k - 1, size - 1) - start + 1
    return start, h, start - first


def schedule(g1: dict, g2: dict):
    """The chain's events in order: ("a", j) computes row j of the first conv's output,
    ("b", r, start, h) row r of the second's from a rows [start, start + h) (then the
    shortcut's row r and the ADD's, where the chain has them). g1, g2: stride, pad, k (rows)
    and the input rows of each conv; g2["out"]: output rows."""
    lo, hi = 0, -1
    for r in range(g2["out"]):
        start, h, _ = rows_for(r, g2["stride"], g2["pad"], g2["k"], g2["size"])
        if start > hi:
            lo, hi = start, start - 1
        elif start > lo:
            lo = start
        while hi < start + h - 1:
            hi += 1
            yield ("a", hi)
        yield ("b", r, start, h)


def held_rows(g1: dict, g2: dict) -> int:
    """The most rows of `a` held at once."""
    return max((e[3] for e in schedule(g1, g2) if e[0] == "b"), default=1)


def over_input_safe(g1: dict, g2: dict, gs: dict | None, row_x: int, row_y: int,
                    nbytes: int) -> bool:
    """Whether the ADD's output may overwrite the chain's input x: each output row r written
    after the rows of x the chain reads for it (the first conv's bands, the shortcut's band of
    row r, or row r of x itself where x is the ADD's other input), and never over a byte some
    later step still reads."""
    steps = []
    for e in schedule(g1, g2):
        if e[0] == "a":
            start, h, _ = rows_for(e[1], g1["stride"], g1["pad"], g1["k"], g1["size"])
            steps.append(([(start * row_x, (start + h) * row_x)], []))
            continue
        r = e[1]
        if gs is not None:          # the shortcut's band of x, then the ADD
            start, h, _ = rows_for(r, gs["stride"], gs["pad"], gs["k"], gs["size"])
            reads = [(start * row_x, (start + h) * row_x)]
        else:                       # the ADD reads row r of x itself
            reads = [(r * row_y, (r + 1) * row_y)]
        steps.append((reads, [(r * row_y, (r + 1) * row_y)]))
    return safe(steps, nbytes)


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


def run(graph, kinds: frozenset, bound=None):
    """Graph -> Graph: mark every chain (op.chain on its first op, op.run_at on the others,
    df_rows on the tensors held by rows). bound(graph): the max-live bound of the graph as
    marked; a chain that does not lower it (running at its first op's step keeps the chain's
    input alive beside the second conv's output) is left unmarked."""
    if "depth_first" not in kinds or graph.subgraphs:
        return graph
    before = bound(graph) if bound else None
    pos = {op.index: i for i, op in enumerate(graph.ops)}
    taken: set[int] = set()
    for op1 in graph.ops:
        g1 = geometry(graph, op1)
        if g1 is None or op1.index in taken:
            continue
        a = op1.outputs[0]
        readers = _readers(graph, a)
        if not _plain(graph, a) or len(readers) != 1 or readers[0].index in taken:
            continue
        op2 = readers[0]
        g2 = geometry(graph, op2)
        b = graph.tensors[op2.outputs[0]]
        if g2 is None or op2.inputs[0] != a or b.is_variable:
            continue
        if "DEPTHWISE_CONV_2D" in (op1.opcode, op2.opcode) and "depth_first_dw" not in kinds:
            continue            # (balanced: lags already take those peaks, for less stack)
        held = held_rows(g1, g2)
        if held >= g1["out"]:
            continue            # every row of `a` at once: nothing to save
        chain = [op1.index, op2.index]
        found = _add_of(graph, op1, op2, pos) if _plain(graph, op2.outputs[0]) else None
        if found is not None and found[0].index not in taken and \
                (found[2] is None or found[2].index not in taken):
            add, p, sc = found
            chain += ([sc.index] if sc is not None else []) + [add.index]
            graph.tensors[op2.outputs[0]].df_rows = 1
            if sc is not None:
                graph.tensors[p].df_rows = 1
            _alias_output(graph, op1, add, p, g1, g2, sc, pos)
        graph.tensors[a].df_rows = held
        op1.chain = chain
        for i in chain[1:]:
            graph.ops[pos[i]].run_at = op1.index
        after = bound(graph) if bound else None
        if before is not None and after >= before:
            _unmark(graph, chain, pos)
            continue
        before = after
        taken.update(chain)
    return graph


def _unmark(graph, chain: list[int], pos: dict) -> None:
    for i in chain:
        op = graph.ops[pos[i]]
        op.chain, op.run_at = [], None
        for t in op.outputs:
            tt = graph.tensors[t]
            tt.df_rows = 0
            if tt.in_place == "depth_first":
                tt.alias_of, tt.in_place = None, False


def _alias_output(graph, op1, add, p: int, g1: dict, g2: dict, sc, pos: dict) -> None:
    """The ADD's output over the storage of the tensor it replaces: its other input p, or with
    a shortcut in the chain, the chain's input x; where nothing reads that after the chain
    starts (but the chain), it is an activation of its own, and the row order is proved safe."""
    y = add.outputs[0]
    x = op1.inputs[0]
    over = x if sc is not None else p
    ty, to = graph.tensors[y], graph.tensors[over]
    if not _plain(graph, y) or to.is_const or to.is_variable or to.df_rows \
            or graph.root(over) in graph.inputs or graph.root(over) in graph.outputs \
            or ty.nbytes > to.nbytes:
        return
    chain = {op1.index, add.index} | ({sc.index} if sc is not None else set())
    if any(o.index not in chain and pos[o.index] > pos[op1.index]
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
                not over_input_safe(g1, g2, gs, row_x, row_y, max(tx.nbytes, ty.nbytes)):
            return
    ty.alias_of, ty.in_place = over, "depth_first"
