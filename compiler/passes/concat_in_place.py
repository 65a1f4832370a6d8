"""Zero-copy CONCATENATION: where the concatenation axis has no dimension above it but ones of
size 1, the output is its inputs' bytes one after another; each input (the root of its storage,
with any RESHAPE of it) is then written where its bytes go in the output, and the op copies
nothing. int8 inputs are quantized as the output (TFLM requires it; lower/shape_ops.py), and
int16 ones are copied unscaled as TFLM does, so the bytes are the copy's.

The inputs' storage lives from the first input's writing to the output's last read, which may
raise the bytes live before the concatenation while lowering them at it: a concatenation is
aliased only where that lowers the measure (compile: each step's live bytes, largest first)."""
from __future__ import annotations

import math


def outer(graph, op) -> int | None:
    """The rows of a CONCATENATION's output above its axis (the product of the dims before it),
    each its inputs' rows one after another; None where the axis is out of range."""
    y = graph.tensors[op.outputs[0]]
    rank = len(y.shape)
    axis = int(op.options.get("axis", 0))
    axis = axis + rank if axis < 0 else axis
    return math.prod(int(d) for d in y.shape[:axis]) if 0 <= axis < rank else None


def _offsets(graph, op) -> list[tuple[int, int]] | None:
    """(root tensor, byte offset in the output) of each input, where every input may share
    the output's storage; else None."""
    y = graph.tensors[op.outputs[0]]
    if outer(graph, op) != 1:
        return None
    if y.is_const or y.is_variable or y.alias_of is not None or op.outputs[0] in graph.outputs \
            or op.outputs[0] in graph.inputs:
        return None
    produced = {t for o in graph.ops for t in o.outputs}
    out, off, roots = [], 0, set()
    for a in op.inputs:
        if a < 0:
            return None
        r = graph.root(a)
        tr, ta = graph.tensors[r], graph.tensors[a]
        if r in roots or r == op.outputs[0] or tr.is_const or tr.is_variable \
                or r in graph.inputs or r not in produced or graph.root_offset(a) != 0 \
                or tr.nbytes != ta.nbytes or tr.in_place \
                or any(graph.root(o) == r for o in graph.outputs):
            return None
        roots.add(r)
        out.append((r, off))
        off += ta.nbytes
    return out if off == y.nbytes else None


def run(graph, kinds: frozenset, measure=None):
    """Graph -> Graph: alias each concatenation's inputs into its output (in_place "concat" on
    their roots) where _offsets allows and measure(graph) drops."""
    if "concat" not in kinds or graph.subgraphs:
        return graph
    before = measure(graph) if measure else None
    for op in graph.ops:
        if op.opcode != "CONCATENATION" or len(op.outputs) != 1:
            continue
        found = _offsets(graph, op)
        if found is None:
            continue
        for r, off in found:
            t = graph.tensors[r]
            t.alias_of, t.alias_offset, t.in_place = op.outputs[0], off, "concat"
        after = measure(graph) if measure else None
        if before is not None and not after < before:
            for r, _ in found:
                t = graph.tensors[r]
                t.alias_of, t.alias_offset, t.in_place = None, 0, False
            continue
        before = after
    return graph
