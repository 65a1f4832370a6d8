"""Lowering: each supported op becomes one kernel call with its parameters computed here, at
compile time (TFLM's Prepare). One module per kernel family; LOWERINGS maps an opcode to its
function `lower(op, ctx)`, which reads the graph through `ctx` and records what the C needs."""
from __future__ import annotations

from . import fully_connected, pooling, elementwise, reduce, shape_ops, conv
from . import activations, softmax, quantize

LOWERINGS = {}
for _mod in (fully_connected, pooling, elementwise, reduce, shape_ops, conv,
             activations, softmax, quantize):
    LOWERINGS.update(_mod.LOWERINGS)
