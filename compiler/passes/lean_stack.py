"""Kernels that trade instructions for stack.

tk_fully_connected_s8_pairs splits one batch's input into int16 lanes on the stack: 2 bytes per
input and its state words (targets/stack.py VLA_KERNELS), 1,320 bytes for ad01's 640 inputs,
where the rest of the image's deepest path takes about 300. tk_fully_connected_s8_quads widens
each input word as it reads it, with no buffer, at 16 instructions per 16 multiply-accumulates
where the pair kernel takes 14, plus an output stage per four rows.

--optimize ram marks every int8 FULLY_CONNECTED the pair kernel may take (op.lean); balanced marks
them from the largest buffer down, all calls of one buffer size at once (the peak drops only
when each of them goes), while the estimated extra instructions stay within 5% of the model's
multiply-accumulates (below its instruction count on every model measured, so the estimate
errs towards speed); speed marks none. The lowering takes the quad kernel only where it would
take the pair kernel (lower/fully_connected.py)."""
from __future__ import annotations

from itertools import groupby

from ..lower.fully_connected import PAIRS_MAX_DEPTH, SMALL_MAX_DEPTH, lanes_bytes

BUDGET = 0.05           # balanced: extra instructions per model multiply-accumulate
STAGE = 48              # instructions of a row quad's output stage and call, about
WEIGHTED = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV")


def _dims(graph, op):
    """(depth, rows, batches) of an int8 FULLY_CONNECTED the pair kernel may take, else None."""
    if op.opcode != "FULLY_CONNECTED" or len(op.inputs) < 2 or op.run_at is not None:
        return None
    x, w = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
    if x.dtype != "int8" or w.data is None or len(w.shape) != 2:
        return None
    rows, depth = int(w.shape[0]), int(w.shape[1])
    if not SMALL_MAX_DEPTH < depth <= PAIRS_MAX_DEPTH or rows < 1:
        return None
    return depth, rows, graph.tensors[op.outputs[0]].num_elements // rows


def op_macs(graph, op) -> int:
    """Multiply-accumulates of an op with weights: output values times weights per output
    channel (0 for other ops)."""
    if op.opcode in WEIGHTED and len(op.inputs) > 1 and op.outputs:
        w, y = graph.tensors[op.inputs[1]], graph.tensors[op.outputs[0]]
        if w.shape and y.shape and int(y.shape[-1]):
            return y.num_elements * w.num_elements // int(y.shape[-1])
    return 0


def model_macs(graph) -> int:
    """Multiply-accumulates of the ops with weights (op_macs)."""
    return sum(op_macs(graph, op) for op in graph.ops)


def run(graph, kinds: frozenset):
    """Graph -> Graph: op.lean on the FULLY_CONNECTED ops whose pair kernel's buffer goes
    ("lean": all of them; "lean_balanced": within the budget)."""
    found = [(op, d) for op in graph.ops if (d := _dims(graph, op)) is not None]
    if "lean" in kinds:
        for op, _ in found:
            op.lean = True
    elif "lean_balanced" in kinds and found:
        budget = BUDGET * model_macs(graph)
        found.sort(key=lambda f: -lanes_bytes(f[1][0]))
        for _, group in groupby(found, key=lambda f: lanes_bytes(f[1][0])):
            group = list(group)
            cost = sum(b * (d * r / 8 + STAGE * -(-r // 4)) for _, (d, r, b) in group)
            if cost > budget:
                break
            budget -= cost
            for op, _ in group:
                op.lean = True
    return graph
