"""Every op must have a lowering; name the first one that does not, with its index and tensors."""
from ..errors import UnsupportedError
from ..lower.context import short_name, tensor_list


def run(graph):
    """Graph -> Graph: raise UnsupportedError for an op outside tinykiln's set."""
    from ..lower import LOWERINGS
    for op in graph.ops:
        if op.opcode not in LOWERINGS:
            def desc(t):
                return f"'{short_name(graph.tensors[t].name, 60)}'"
            ins, outs = tensor_list(op.inputs, desc), tensor_list(op.outputs, desc)
            raise UnsupportedError(
                f"op {op.index} is {op.opcode}, which tinykiln does not support "
                f"(inputs {ins}; outputs {outs}); `tinykiln ops` lists the {len(LOWERINGS)} ops it "
                f"compiles.")
    return graph
