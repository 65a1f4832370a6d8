"""Lowering: each supported op becomes one kernel call with its parameters computed here, at
compile time (TFLM's Prepare). One module per kernel family; LOWERINGS maps an opcode to its
function `lower(op, ctx)`, which reads the graph through `ctx` and records what the C needs.
A family whose kernels need arena scratch also answers `scratch(op, graph, allowed) -> bytes`
(SCRATCH), without lowering, so the planner can size the arena before the one lowering that emits
the C with every offset known."""
from __future__ import annotations

import functools

import numpy as np

from . import fully_connected, pooling, elementwise, reduce, shape_ops, conv
from . import activations, softmax, quantize


def _quiet(lower):
    """Float32 scale arithmetic of a hostile model may overflow to inf (or NaN); the checks that
    follow refuse such values with a sentence, so numpy's RuntimeWarnings would only add noise to
    the user's one-line error."""
    @functools.wraps(lower)
    def run(op, ctx):
        with np.errstate(all="ignore"):
            return lower(op, ctx)
    return run


LOWERINGS = {}
SCRATCH = {}
for _mod in (fully_connected, pooling, elementwise, reduce, shape_ops, conv,
             activations, softmax, quantize):
    LOWERINGS.update({k: _quiet(f) for k, f in _mod.LOWERINGS.items()})
    SCRATCH.update(getattr(_mod, "SCRATCH", {}))


def scratch_bytes(op, graph, allowed: bool = True) -> int:
    """Bytes of arena op's kernel needs while it runs (0: none), the kernel it would get with
    scratch `allowed` or not; what its lowering will ask for."""
    query = SCRATCH.get(op.opcode)
    if query is None:
        return 0
    with np.errstate(all="ignore"):
        return int(query(op, graph, allowed))
