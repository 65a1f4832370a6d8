"""TK_LUT: an int8 -> int8 table that stands for a float island the converter left in an int8
model, DEQUANTIZE -> float op(s) -> QUANTIZE (passes/float_islands.py finds them; e.g. the NEG
of a Keras LayerNormalization, which has no int8 kernel in TFLite). The pass computes the table
by emulating TFLM's float kernels in float32 on all 256 inputs, so the result is bit-exact with
TFLM's three ops and needs no float at run time. Internal: no model names this op."""
from __future__ import annotations

from .activations import emit_lut, unary_int8
from .context import UNARY


def lower_lut(op, ctx):
    unary_int8(op, ctx)
    emit_lut(op, ctx, op.options["table"])


LOWERINGS = {"TK_LUT": lower_lut}
# the tensor types each op accepts (`tinykiln ops` leaves out internal TK_ ops)
TYPES = {"TK_LUT": ("int8",)}
# operands as the validator checks them (context.Operands)
OPERANDS = {"TK_LUT": UNARY}
