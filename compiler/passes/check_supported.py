"""Every op must have a lowering; name the first one that does not, with its index and tensors."""
from ..errors import UnsupportedError


def run(graph):
    """Graph -> Graph: raise UnsupportedError for an op outside tinykiln's set."""
    from ..lower import LOWERINGS
    for op in graph.ops:
        if op.opcode not in LOWERINGS:
            ins = ", ".join(f"'{graph.tensors[t].name}'" for t in op.inputs if t >= 0)
            outs = ", ".join(f"'{graph.tensors[t].name}'" for t in op.outputs)
            raise UnsupportedError(
                f"op {op.index} is {op.opcode}, which tinykiln does not support "
                f"(inputs {ins}; outputs {outs}); `tinykiln ops` lists the {len(LOWERINGS)} ops it "
                f"compiles.")
    return graph
