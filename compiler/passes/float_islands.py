"""Float islands in an int8 model become int8 tables. TensorFlow's converter leaves an op it has
no int8 kernel for in float, between a DEQUANTIZE and a QUANTIZE (a Keras LayerNormalization's
NEG). Where every op of such a chain is elementwise, exact in float32 and its input is int8, the
whole chain is a function of one int8 value: this pass replaces it by one TK_LUT op whose table
emulates TFLM's kernels bit for bit (dequantize: float32 scale times (q - zero point); the ops;
quantize: float32 division, rounding half away from zero, clamp). The float tensors disappear, so
the model stays an int8 model."""
from __future__ import annotations

import numpy as np

import copy
import dataclasses

from ..ir import Graph, Op

# float32 ops whose result is exact (no rounding), as TFLM computes them
EXACT = {"NEG": lambda x: -x, "ABS": np.abs}
# float32 ops that only move values (opcode -> index of the data input): DEQUANTIZE -> such an op
# -> a QUANTIZE on each output runs the op on the int8 input and requantizes each output by table
# (TensorFlow's converter now and then leaves an unrolled GRU's SPLIT in float)
MOVES = {"SPLIT": 1, "SPLIT_V": 0, "RESHAPE": 0, "SQUEEZE": 0, "EXPAND_DIMS": 0,
         "STRIDED_SLICE": 0, "SLICE": 0, "TRANSPOSE": 0}


def _one_consumer(graph: Graph, consumers: dict, t: int) -> Op | None:
    users = consumers.get(t, [])
    if len(users) != 1 or t in graph.outputs:
        return None
    return graph.ops[users[0]]


def _chain(graph: Graph, consumers: dict, deq: Op) -> list[Op] | None:
    """[DEQUANTIZE, exact float ops..., QUANTIZE] starting at deq, or None."""
    src = graph.tensors[deq.inputs[0]] if deq.inputs and deq.inputs[0] >= 0 else None
    if (src is None or src.dtype != "int8" or src.quant is None or src.quant.per_channel
            or len(deq.outputs) != 1 or graph.tensors[deq.outputs[0]].dtype != "float32"):
        return None
    chain = [deq]
    t = deq.outputs[0]
    while True:
        nxt = _one_consumer(graph, consumers, t)
        if nxt is None or len(nxt.inputs) != 1 or len(nxt.outputs) != 1:
            return None
        out = graph.tensors[nxt.outputs[0]]
        if nxt.opcode == "QUANTIZE":
            if out.dtype != "int8" or out.quant is None or out.quant.per_channel:
                return None
            return chain + [nxt] if len(chain) > 1 else None
        if nxt.opcode not in EXACT or out.dtype != "float32":
            return None
        chain.append(nxt)
        t = nxt.outputs[0]


def table(graph: Graph, chain: list[Op]) -> list[int]:
    """The int8 output of the chain for each int8 input -128..127, as TFLM's float kernels give
    it."""
    qi = graph.tensors[chain[0].inputs[0]].quant
    qo = graph.tensors[chain[-1].outputs[0]].quant
    x = np.arange(-128, 128, dtype=np.int32)
    v = np.float32(qi.scale[0]) * (x - qi.zero_point[0]).astype(np.float32)
    for op in chain[1:-1]:
        v = EXACT[op.opcode](v).astype(np.float32)
    with np.errstate(all="ignore"):
        q = (v / np.float32(qo.scale[0])).astype(np.float64)
    out = []
    for f in q:
        if not f > -512.0:
            r = -128
        elif f > 512.0:
            r = 127
        else:
            r = int(f)
            frac = f - r
            r += 1 if frac >= 0.5 else (-1 if frac <= -0.5 else 0)
            r = min(127, max(-128, r + qo.zero_point[0]))
        out.append(r)
    return out


def _move_island(graph: Graph, consumers: dict, deq: Op):
    """(the moving op, its QUANTIZE ops) if deq feeds one op of MOVES, as its data input only,
    whose every output is read by one QUANTIZE to int8 alone (or by nothing); else None."""
    src = graph.tensors[deq.inputs[0]] if deq.inputs and deq.inputs[0] >= 0 else None
    if (src is None or src.dtype != "int8" or src.quant is None or src.quant.per_channel
            or len(deq.outputs) != 1):
        return None
    mover = _one_consumer(graph, consumers, deq.outputs[0])
    if mover is None or mover.opcode not in MOVES or not mover.outputs:
        return None
    k = MOVES[mover.opcode]
    if [i for i, t in enumerate(mover.inputs) if t == deq.outputs[0]] != [k]:
        return None
    quants = []
    for t in mover.outputs:
        if not consumers.get(t) and t not in graph.outputs:
            quants.append(None)         # an output nothing reads (a GRU's unused gate)
            continue
        q = _one_consumer(graph, consumers, t)
        out = graph.tensors[q.outputs[0]] if q is not None and len(q.outputs) == 1 else None
        if (q is None or q.opcode != "QUANTIZE" or graph.tensors[t].dtype != "float32"
                or out.dtype != "int8" or out.quant is None or out.quant.per_channel):
            return None
        quants.append(q)
    return mover, quants


def run(graph: Graph) -> Graph:
    """Graph -> Graph with each float island replaced by int8 ops: a TK_LUT for a chain of exact
    ops, the moving op on int8 then a TK_LUT per output for a move (ops renumbered in order; the
    graph given is not changed)."""
    consumers = graph.consumers()
    replace: dict[int, Op] = {}         # position of an op -> the op that takes its place
    drop: set[int] = set()
    retype: dict[int, int] = {}         # float tensor -> the int8 tensor whose type it takes
    pos = {id(op): i for i, op in enumerate(graph.ops)}
    for op in graph.ops:
        if op.opcode != "DEQUANTIZE":
            continue
        chain = _chain(graph, consumers, op)     # scales: finite and positive (validated)
        if chain is not None:
            drop.update(pos[id(o)] for o in chain[:-1])
            replace[pos[id(chain[-1])]] = _lut(graph, chain, chain[0].inputs[0])
            continue
        island = _move_island(graph, consumers, op)
        if island is None:
            continue
        mover, quants = island
        drop.add(pos[id(op)])
        ins = list(mover.inputs)
        ins[MOVES[mover.opcode]] = op.inputs[0]
        replace[pos[id(mover)]] = Op(0, mover.opcode, ins, list(mover.outputs), mover.options)
        for t, q in zip(mover.outputs, quants):
            retype[t] = op.inputs[0]
            if q is not None:
                replace[pos[id(q)]] = _lut(graph, [op, q], op.inputs[0], t)
    if not replace:
        return graph
    graph = copy.copy(graph)
    graph.tensors = list(graph.tensors)
    for t, like in retype.items():
        src = graph.tensors[like]
        graph.tensors[t] = dataclasses.replace(graph.tensors[t], dtype=src.dtype,
                                               quant=copy.deepcopy(src.quant))
    ops = []
    for i, op in enumerate(graph.ops):
        if i in drop:
            continue
        new = replace.get(i, op)
        ops.append(Op(len(ops), new.opcode, new.inputs, new.outputs, new.options))
    graph.ops = ops
    return graph


def _lut(graph: Graph, chain: list[Op], source: int, reads: int | None = None) -> Op:
    """The TK_LUT op standing for chain (DEQUANTIZE ... QUANTIZE of the int8 tensor source),
    reading `reads` (default: source itself)."""
    return Op(0, "TK_LUT", [source if reads is None else reads], list(chain[-1].outputs),
              {"table": table(graph, chain), "island": [o.opcode for o in chain]})
