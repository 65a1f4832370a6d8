"""RESHAPE, SQUEEZE and EXPAND_DIMS change no bytes: their output aliases their input's storage."""


def run(graph):
    """Graph -> Graph: mark reshape outputs as aliases so the planner and C share one buffer."""
    for op in graph.ops:
        if op.opcode in ("RESHAPE", "SQUEEZE", "EXPAND_DIMS"):
            src, dst = op.inputs[0], op.outputs[0]
            if graph.tensors[src].is_const or graph.tensors[src].is_variable \
                    or graph.tensors[dst].is_variable:
                continue        # a reshape of a constant or of state is lowered as a copy
            if src in graph.inputs and dst in graph.outputs:
                continue        # keep the model's input and output buffers distinct
            graph.tensors[dst].alias_of = src
    return graph
