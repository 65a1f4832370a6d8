"""Reject float (or otherwise non-int8) models with one sentence before anything is generated."""
from ..errors import UnsupportedError

_EDGE_OPS = {"QUANTIZE", "DEQUANTIZE", "READ_VARIABLE", "ASSIGN_VARIABLE"}   # (byte copies)
_SHAPE_OPERANDS = {"RESHAPE", "SQUEEZE", "MEAN", "PAD", "CONCATENATION"}


def run(graph):
    """Graph -> Graph: raise if any compute op works on float tensors."""
    for op in graph.ops:
        if op.opcode in _EDGE_OPS:
            continue
        for t in op.inputs + op.outputs:
            if t < 0:
                continue
            tt = graph.tensors[t]
            if tt.dtype in ("float32", "float16", "float64") and not tt.is_const:
                raise UnsupportedError(
                    f"the model is a float model (op {op.index} {op.opcode} works on {tt.dtype} "
                    f"tensor '{tt.name}'); tinykiln compiles int8-quantized models: convert it with "
                    f"full-integer quantization, or give the Keras model with --calibration.")
            if tt.dtype in ("float32", "float16", "float64") and tt.is_const:
                raise UnsupportedError(
                    f"op {op.index} {op.opcode} has float weights ('{tt.name}'); tinykiln needs "
                    f"a fully int8-quantized model.")
    return graph
