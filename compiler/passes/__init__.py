"""The compiler's passes, in the order they run. Each is a function Graph -> Graph in its own file."""
from . import (validate, fold_constants, float_islands, check_types, check_supported,
               alias_reshapes, depth_first, in_place, lean_stack, concat_in_place)

PIPELINE = [
    validate.run,           # structure, types, sizes and quantization as TFLite/TFLM check them
    fold_constants.run,     # SHAPE, FILL, ... and moves of constants become constants
    float_islands.run,      # DEQUANTIZE -> exact float ops -> QUANTIZE: one int8 table
    check_types.run,        # int8 model (float only at QUANTIZE/DEQUANTIZE edges)
    check_supported.run,    # every op is one tinykiln lowers
    alias_reshapes.run,     # RESHAPE/SQUEEZE share their input's storage: no copy
]
# run by compile_graph after the pipeline, with the --optimize choice: ops proved to run in place
# write over their input's storage
IN_PLACE = in_place.run
# before it: convolution chains run depth first, row by row (their tensors held by rows)
DEPTH_FIRST = depth_first.run
# before both: concatenations whose inputs are written where the output holds them (no copy)
CONCAT_IN_PLACE = concat_in_place.run
# with it: FULLY_CONNECTED kernels that need no stack buffer where RAM weighs more than time
LEAN_STACK = lean_stack.run


def run_pipeline(graph):
    for p in PIPELINE:
        graph = p(graph)
    return graph
