"""Ops whose outputs are known at compile time become constant tensors: SHAPE (shapes are static),
ZEROS_LIKE, FILL and BROADCAST_ARGS, and data movement (TRANSPOSE, STRIDED_SLICE, SLICE,
BROADCAST_TO, EXPAND_DIMS, SPLIT, SPLIT_V, UNPACK, PACK, GATHER) of constant inputs, in graph
order, so chains fold (SHAPE -> STRIDED_SLICE -> PACK -> RESHAPE's shape operand). A folded op
stays in the graph (op indices stay the model's) and its lowering emits no code; a model output
is never folded (it stays an activation tensor, written by a copy of the constant)."""
from __future__ import annotations

import dataclasses

import numpy as np

from ..errors import ModelError, UnsupportedError
from ..ir import NP_TYPES, Graph
from ..lower import datamove, datamove_fold, datamove_split

FOLDERS = {**datamove.FOLD, **datamove_split.FOLD, **datamove_fold.FOLD}
MAX_FOLD_BYTES = datamove_fold.MAX_FOLD_BYTES   # larger outputs are computed at run time


def run(graph: Graph) -> Graph:
    """Graph -> Graph: a copy whose tensor list holds the folded outputs as constants (the
    input graph's tensors are not changed, so it can be compiled again)."""
    tensors = list(graph.tensors)
    out = dataclasses.replace(graph, tensors=tensors)
    outputs = set(graph.outputs)
    for op in graph.ops:
        fold = FOLDERS.get(op.opcode)
        if fold is None or outputs.intersection(op.outputs) \
                or any(tensors[t].is_variable for t in op.outputs):     # state is never folded
            continue
        try:
            values = fold(op, out)
        except (ModelError, UnsupportedError):
            values = None       # the lowering refuses it, after the checks that run first
        if values is None:
            continue
        for t, v in zip(op.outputs, values):
            tt = tensors[t]
            data = np.ascontiguousarray(np.asarray(v).astype(NP_TYPES[tt.dtype]))
            tensors[t] = dataclasses.replace(tt, data=data.reshape(tt.shape))
    return out
