"""Lowering: each supported op becomes one kernel call with its parameters computed here, at
compile time (TFLM's Prepare). One module per kernel family; LOWERINGS maps an opcode to its
function `lower(op, ctx)`, which reads the graph through `ctx` and records what the C needs."""
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
for _mod in (fully_connected, pooling, elementwise, reduce, shape_ops, conv,
             activations, softmax, quantize):
    LOWERINGS.update({k: _quiet(f) for k, f in _mod.LOWERINGS.items()})
