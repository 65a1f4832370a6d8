"""Resource variables resolved at import, as TFLM resolves them when it prepares the model: each
VAR_HANDLE (container, shared_name) names one variable, which becomes one variable tensor of the
IR (persistent storage, Tensor.is_variable). READ_VARIABLE becomes a copy from it, ASSIGN_VARIABLE
a copy into it (the variable is then that op's output), VAR_HANDLE and CALL_ONCE disappear: the
init subgraphs CALL_ONCE names are run here, at compile time, and what they assign becomes the
variable's reset value (Tensor.init). Every structural problem is one sentence.

<prefix>_reset() restores that value: the next invoke is the first one of a fresh TFLM
interpreter. (TFLM's own MicroInterpreter::Reset() refills resource variables with their
zero-point byte but does not rerun CALL_ONCE, whose has_run flag it keeps; we follow the fresh
interpreter, which is what a power cycle gives.)"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..errors import ModelError, UnsupportedError
from ..ir import DTYPE_SIZE, NP_TYPES, Graph, Op, Tensor

RESOURCE_OPS = ("VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE", "CALL_ONCE")


class _Variable:
    def __init__(self, key: tuple[str, str], value: Tensor):
        self.key = key
        self.dtype, self.shape, self.quant = value.dtype, value.shape, value.quant
        # TFLM fills a new resource buffer with the (int8-cast) zero point of the first value
        # assigned to it, in prepare order (subgraph 0, then the others), and so does Reset()
        zp = value.quant.zero_point[0] if value.quant and value.quant.zero_point else 0
        self.nbytes = value.nbytes
        self.bytes = np.full(value.nbytes, zp & 0xFF, np.uint8)

    def fits(self, t: Tensor) -> bool:
        return t.dtype == self.dtype and t.nbytes == self.nbytes


def _where(number: int, op: Op) -> str:
    return f"{'' if number == 0 else f'subgraph {number}: '}op {op.index} ({op.opcode})"


def resolve_resources(graph: Graph, read: Callable[[int], Graph], count: int) -> Graph:
    """Graph -> Graph without resource ops (unchanged if it has none). `read(k)` reads subgraph
    k of the file, which has `count` subgraphs."""
    if not any(op.opcode in RESOURCE_OPS for op in graph.ops):
        return graph
    inits = _init_subgraphs(graph, read, count)
    variables: dict[tuple[str, str], _Variable] = {}
    handles: dict[tuple[int, int], tuple[str, str]] = {}
    for number, g in [(0, graph)] + inits:
        _declare(number, g, variables, handles)
    for number, g in [(0, graph)] + inits:
        _check_uses(number, g, variables, handles)
    for number, g in inits:
        _run_init(number, g, variables, handles)
    return _rewrite(graph, variables, handles)


def _init_subgraphs(graph: Graph, read, count: int) -> list[tuple[int, Graph]]:
    """The subgraphs CALL_ONCE ops name, in the order they run (before any variable's use)."""
    out: dict[int, Graph] = {}
    used = False
    for op in graph.ops:
        if op.opcode in ("READ_VARIABLE", "ASSIGN_VARIABLE"):
            used = True
        if op.opcode != "CALL_ONCE":
            continue
        k = op.options.get("init_subgraph_index", 0)
        if op.inputs or op.outputs:
            raise ModelError(f"{_where(0, op)} has inputs or outputs; CALL_ONCE has none.")
        if not 1 <= k < count:
            raise ModelError(f"{_where(0, op)} names init subgraph {k}, but the model has "
                             f"subgraphs 0 to {count - 1} and subgraph 0 is the main one.")
        if used:
            raise UnsupportedError(f"{_where(0, op)} runs after a variable is read or assigned; "
                                   f"tinykiln runs init subgraphs before the first use.")
        if k not in out:
            out[k] = read(k)
    return list(out.items())


def _declare(number: int, g: Graph, variables: dict, handles: dict) -> None:
    """VAR_HANDLE names a variable; the first ASSIGN_VARIABLE (prepare order) gives its type,
    size and fill byte; every read and assign must then agree with it."""
    for op in g.ops:
        where = _where(number, op)
        if op.opcode == "VAR_HANDLE":
            if op.inputs or len(op.outputs) != 1 or g.tensors[op.outputs[0]].dtype != "resource":
                raise ModelError(f"{where} must have no inputs and one resource output.")
            key = (str(op.options.get("container") or ""), str(op.options.get("shared_name") or ""))
            handles[(number, op.outputs[0])] = key
        elif op.opcode in ("READ_VARIABLE", "ASSIGN_VARIABLE"):
            want = (2, 0) if op.opcode == "ASSIGN_VARIABLE" else (1, 1)
            if (len(op.inputs), len(op.outputs)) != want or min(op.inputs + op.outputs) < 0:
                raise ModelError(f"{where} has {len(op.inputs)} inputs and {len(op.outputs)} "
                                 f"outputs; {op.opcode} has {want[0]} and {want[1]}.")
            key = handles.get((number, op.inputs[0]))
            if key is None:
                raise ModelError(f"{where} uses tensor {op.inputs[0]} as its variable, which no "
                                 f"earlier VAR_HANDLE of its subgraph made.")
            value = g.tensors[op.inputs[1] if op.opcode == "ASSIGN_VARIABLE" else op.outputs[0]]
            if value.dtype not in DTYPE_SIZE:
                raise UnsupportedError(f"{where} moves a {value.dtype} value; tinykiln's "
                                       f"variables hold {', '.join(sorted(DTYPE_SIZE))}.")
            if op.opcode == "ASSIGN_VARIABLE" and key not in variables:
                variables[key] = _Variable(key, value)
        elif op.opcode == "CALL_ONCE" and number != 0:
            raise UnsupportedError(f"{where} is inside an init subgraph; tinykiln runs init "
                                   f"subgraphs only from the main subgraph.")
        elif number != 0:
            raise UnsupportedError(f"{where} is in an init subgraph; tinykiln runs init "
                                   f"subgraphs of VAR_HANDLE and ASSIGN_VARIABLE of constants "
                                   f"only.")


def _check_uses(number: int, g: Graph, variables: dict, handles: dict) -> None:
    """Every read and assign of a variable moves exactly its type and size."""
    for op in g.ops:
        if op.opcode not in ("READ_VARIABLE", "ASSIGN_VARIABLE"):
            continue
        key = handles[(number, op.inputs[0])]
        value = g.tensors[op.inputs[1] if op.opcode == "ASSIGN_VARIABLE" else op.outputs[0]]
        var = variables.get(key)
        if var is None:
            raise ModelError(f"{_where(number, op)} reads variable '{key[1]}', which no "
                             f"ASSIGN_VARIABLE ever assigns (TFLM leaves it unallocated).")
        if not var.fits(value):
            raise ModelError(f"{_where(number, op)} moves {value.nbytes} bytes of {value.dtype} "
                             f"('{value.name}'), but variable '{key[1]}' holds {var.nbytes} "
                             f"bytes of {var.dtype}.")


def _run_init(number: int, g: Graph, variables: dict, handles: dict) -> None:
    """An init subgraph's assignments, in order, into the variables' reset values."""
    for op in g.ops:
        if op.opcode != "ASSIGN_VARIABLE":
            continue
        value = g.tensors[op.inputs[1]]
        if value.data is None:
            raise UnsupportedError(f"{_where(number, op)} assigns a computed value; tinykiln "
                                   f"runs init subgraphs that assign constants only.")
        var = variables[handles[(number, op.inputs[0])]]
        raw = np.ascontiguousarray(np.asarray(value.data).astype(NP_TYPES[value.dtype]))
        var.bytes = np.frombuffer(raw.tobytes(), np.uint8).copy()


def _rewrite(graph: Graph, variables: dict, handles: dict) -> Graph:
    """Subgraph 0 with one variable tensor per variable and its resource ops as copies."""
    tensors = list(graph.tensors)
    index: dict[tuple[str, str], int] = {}
    for key, var in variables.items():
        init = None
        if var.bytes.any():
            init = np.frombuffer(var.bytes.tobytes(), NP_TYPES[var.dtype]).reshape(var.shape)
        index[key] = len(tensors)
        tensors.append(Tensor(len(tensors), key[1] or f"variable{len(index)}", var.shape,
                              var.dtype, var.quant, is_variable=True, init=init))
    ops = []
    for op in graph.ops:
        if op.opcode in ("VAR_HANDLE", "CALL_ONCE"):
            continue
        if op.opcode == "READ_VARIABLE":
            op = Op(0, op.opcode, [index[handles[(0, op.inputs[0])]]], op.outputs, {})
        elif op.opcode == "ASSIGN_VARIABLE":
            op = Op(0, op.opcode, [op.inputs[1]], [index[handles[(0, op.inputs[0])]]], {})
        ops.append(Op(len(ops), op.opcode, op.inputs, op.outputs, op.options))
    return Graph(tensors, ops, graph.inputs, graph.outputs, graph.name)
