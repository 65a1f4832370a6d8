"""What a lowering function records: constant arrays, parameter structs and one kernel call.
The code generator turns these records into C through the templates; nothing here is C layout
beyond the expressions a call passes."""
from __future__ import annotations

import re

from dataclasses import dataclass, field

import numpy as np

from ..errors import UnsupportedError
from ..ir import C_TYPES, Graph, Op, Tensor


# Operand roles, as the validator (passes/validate.py) checks them before any lowering runs:
#   a  activation (a constant is allowed): quantized per tensor if int8/int16
#   w  constant weights: quantized (per channel allowed), int8 weights symmetric
#   b  constant int32 bias
#   c  constant operand (axis, paddings, begin/end, perm, sizes)
#   v  constant scalar in the output's quantization (PADV2's pad value)
#   s  RESHAPE's shape operand: ignored (the output tensor's shape is used, as TFLM does)
# A trailing "?" marks an optional operand (absent or -1).
@dataclass(frozen=True)
class Operands:
    roles: tuple[str, ...]
    names: tuple[str, ...]
    variadic: bool = False      # the last role repeats (CONCATENATION, PACK)
    outputs: int = 1            # how many outputs; 0: one or more (SPLIT, UNPACK)

    def outputs_ok(self, n: int) -> bool:
        return n == self.outputs if self.outputs else n >= 1

    def outputs_text(self) -> str:
        return {0: "one or more", 1: "one"}.get(self.outputs, str(self.outputs))


UNARY = Operands(("a",), ("input",))


@dataclass
class ConstArray:
    name: str
    ctype: str
    values: np.ndarray          # flat
    comment: str = ""           # what it holds (op, tensor, layout); may hold model names
    # another form of the same table for the builds where the C macro `alt[0]` is true:
    # (macro, ctype, values); model.c then holds both, and each build compiles one
    alt: tuple[str, str, np.ndarray] | None = None


@dataclass
class Struct:
    ctype: str
    name: str
    fields: list[tuple[str, object]]   # (field, C expression or a nested struct's pairs)
    comment: str = ""


@dataclass
class Call:
    op_index: int
    opcode: str
    func: str
    args: list[str]
    comment: str
    macs: int = 0
    is_copy_free: bool = False      # an alias (reshape): no call emitted


@dataclass
class Lowered:
    sources: set[str] = field(default_factory=set)     # runtime_c files (.c with their .h)
    consts: list[ConstArray] = field(default_factory=list)
    structs: list[Struct] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    scratch: dict[int, int] = field(default_factory=dict)   # op index -> scratch bytes
    functions: list[str] = field(default_factory=list)    # static C functions (depth first)
    scratch_ctype: dict[int, str] = field(default_factory=dict)     # op index -> element type
    warnings: list[str] = field(default_factory=list)       # bit-exact with TFLM, but worth a look


def op_error(graph: Graph, op: Op, what: str, cls=UnsupportedError) -> Exception:
    """One sentence naming the op, its index and its tensors, then what is wrong with it."""
    def desc(t: int) -> str:
        if not 0 <= t < len(graph.tensors):
            return f"tensor {t} (none such)"
        tt = graph.tensors[t]
        return f"'{short_name(tt.name, 60)}' {tt.dtype}{list(tt.shape)}"
    ins = tensor_list(op.inputs, desc)
    outs = tensor_list(op.outputs, desc)
    return cls(f"op {op.index} ({op.opcode}, inputs {ins}; outputs {outs}): {what}.")


def tensor_list(indices, desc, limit: int = 4) -> str:
    """The first `limit` tensors of an op's list as desc(t) gives them, then how many more (an
    unrolled RNN's UNPACK has dozens of outputs, converted names run to hundreds of characters)."""
    shown = [desc(t) for t in indices if t != -1]
    if not shown:
        return "none"
    more = len(shown) - limit
    return ", ".join(shown[:limit]) + (f" and {more} more" if more > 0 else "")


INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1


def _check_int32(op: Op, graph: Graph, what: str, values) -> None:
    """Every integer a lowering hands to the C (struct fields, int32 tables) must fit int32."""
    a = np.asarray(values)
    if not a.size or a.dtype.kind not in "iuO":
        return
    lo, hi = int(a.min()), int(a.max())
    if lo < INT32_MIN or hi > INT32_MAX:
        bad = hi if hi > INT32_MAX else lo
        raise op_error(graph, op, f"its kernel parameter {what} would be {bad}, outside int32")


def tensor_macro(index: int) -> str:
    """The name model.c gives activation tensor `index` (a macro for its place in the arena);
    derived from the index only, never from the model's names."""
    return f"TK_T{index}"


def scratch_macro(op_index: int) -> str:
    return f"TK_SCRATCH{op_index}"


def short_name(name: str, limit: int = 40) -> str:
    """A model's tensor name cut to `limit` characters for a comment (still to be escaped)."""
    name = str(name)
    return name if len(name) <= limit else name[:limit - 3] + "..."


def tensor_desc(t: Tensor, index: int) -> str:
    """t<index> 'name' dtype [shape], for comments (the name still to be escaped)."""
    return f"t{index} '{short_name(t.name)}' {t.dtype} {list(t.shape)}"


class LowerContext:
    """Handed to each lowering function, which runs once, after planning: `offsets` maps buffer
    keys to arena offsets (a tensor's ("t", root index), an op's scratch ("s", op index));
    `no_scratch` holds the ops the planner left without scratch, `planned_scratch` (op index ->
    bytes) what it reserved for the others."""

    def __init__(self, graph: Graph, offsets: dict, no_scratch: frozenset = frozenset(),
                 planned_scratch: dict | None = None):
        self.graph = graph
        self.planned_scratch = planned_scratch or {}
        self.no_scratch = no_scratch
        self.offsets = offsets
        self.out = Lowered()
        self._const_names: dict[int, str] = {}
        self._by_content: dict[tuple, ConstArray] = {}     # identical arrays are emitted once
        self._sharers: dict[str, int] = {}

    # ---- reading the graph
    def tensor(self, index: int) -> Tensor:
        return self.graph.tensors[index]

    def fail(self, op: Op, what: str) -> UnsupportedError:
        """An UnsupportedError naming the op, its index and its tensors."""
        return op_error(self.graph, op, what)

    def warn(self, op: Op, what: str) -> None:
        """Record a warning about op (the model compiles; report.json and the CLI show it)."""
        msg = f"op {op.index} ({op.opcode}): {what}."
        if msg not in self.out.warnings:
            self.out.warnings.append(msg)

    # ---- producing C
    def ptr(self, index: int) -> str:
        """A C expression for tensor `index`'s data: a const array, or the macro that codegen
        defines for its place in the arena."""
        t = self.graph.tensors[index]
        if t.is_const:
            return self.const_tensor(index)
        if ("t", self.graph.root(index)) not in self.offsets:     # the planner's bug
            raise AssertionError(f"tensor {index} has no place in the arena plan")
        return tensor_macro(index)

    def scratch_allowed(self, op: Op) -> bool:
        """False when the planner found that this op's scratch would enlarge the arena: the
        lowering must then pick a kernel that needs none."""
        return op.index not in self.no_scratch

    def scratch(self, op: Op, nbytes: int, ctype: str = "int32_t") -> str:
        """The `nbytes` of arena that live only during `op`, which the planner reserved from the
        family's scratch query (lower.scratch_bytes)."""
        self.out.scratch[op.index] = max(self.out.scratch.get(op.index, 0), int(nbytes))
        key = ("s", op.index)
        if key not in self.offsets or self.planned_scratch.get(op.index, 0) < nbytes:
            # a family's scratch query disagrees with its lowering: our bug, never the user's
            raise AssertionError(f"op {op.index} asks for {nbytes} bytes of scratch; the plan "
                                 f"holds {self.planned_scratch.get(op.index, 0)}")
        self.out.scratch_ctype[op.index] = ctype
        return scratch_macro(op.index)

    def const_tensor(self, index: int) -> str:
        if index not in self._const_names:
            t = self.graph.tensors[index]
            users = [f"op {o.index} {o.opcode} input {k}" for o in self.graph.ops
                     for k, i in enumerate(o.inputs) if i == index]
            self._const_names[index] = self._add_const(ConstArray(
                f"tk_c{index}", C_TYPES[t.dtype], t.data.reshape(-1),
                comment=f"{tensor_desc(t, index)}, the model's constant as stored (row-major "
                        f"{list(t.shape)}); read by {', '.join(users)}"))
        return self._const_names[index]

    def _add_const(self, arr: ConstArray) -> str:
        """Emit arr, or name the identical array emitted before (an unrolled RNN repeats its
        weights at every step); returns the C name to use."""
        values = np.ascontiguousarray(arr.values)
        key = (arr.ctype, values.dtype.str, values.tobytes())
        if arr.alt is not None:
            alt = np.ascontiguousarray(arr.alt[2])
            key += (arr.alt[0], arr.alt[1], alt.dtype.str, alt.tobytes())
        first = self._by_content.get(key)
        if first is None:
            self._by_content[key] = arr
            self.out.consts.append(arr)
            return arr.name
        n = self._sharers.get(first.name, 0) + 1
        self._sharers[first.name] = n
        base = first.comment.split("; shared by ")[0]
        first.comment = f"{base}; shared by {n} other identical array{'s' if n > 1 else ''}"
        return first.name

    def const(self, op: Op, suffix: str, ctype: str, values, what: str = "",
              alt: tuple[str, str, np.ndarray] | None = None) -> str:
        """A compile-time table belonging to `op` (multipliers, shifts, lookup tables); `what`
        says what it holds and in which layout (the comment above it in model.c). `alt`: (C
        macro, ctype, values), the form of the table that builds where the macro is true use
        instead (the runtime header that defines the macro says which form its kernel reads)."""
        name = f"tk_op{op.index}_{suffix}"
        values = np.asarray(values).reshape(-1)
        if ctype == "int32_t":
            _check_int32(op, self.graph, suffix, values)
        if alt is not None:
            if not re.fullmatch(r"[A-Z][A-Z0-9_]*", alt[0]):    # a runtime macro, never a name
                raise AssertionError(f"not a runtime macro: {alt[0]!r}")
            alt = (alt[0], alt[1], np.asarray(alt[2]).reshape(-1))
        return self._add_const(ConstArray(
            name, ctype, values, comment=f"op {op.index} {op.opcode}: {what or suffix + ' table'}",
            alt=alt))

    def params(self, op: Op, ctype: str, fields: dict) -> str:
        """A const parameter struct for `op`; returns the C expression of its address."""
        name = f"tk_op{op.index}_params"
        self.out.structs.append(Struct(ctype, name, self._initializers(op, fields),
                                       f"op {op.index} {op.opcode}"))
        return "&" + name

    def _initializers(self, op: Op, fields: dict, outer: str = "") -> list[tuple[str, object]]:
        """(field, C expression) pairs; a dict value is a nested struct, whose value is then a
        list of such pairs (printed {.a = 1, .b = 2} by csource)."""
        out = []
        for k, v in fields.items():
            if isinstance(v, dict):
                out.append((k, self._initializers(op, v, f"{outer}{k}.")))
                continue
            if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
                _check_int32(op, self.graph, outer + k, [int(v)])
            out.append((k, _cexpr(v)))
        return out

    def call(self, op: Op, func: str, args: list[str], sources: list[str], macs: int = 0):
        self.out.sources.update(sources)
        ins = ", ".join(f"t{t}" for t in op.inputs if t >= 0)
        outs = ", ".join(f"t{t}" for t in op.outputs)
        self.out.calls.append(Call(op.index, op.opcode, func, args,
                                   f"op {op.index}: {op.opcode} ({ins}) -> ({outs})", macs))

    def alias(self, op: Op):
        """Record an op that needs no code (its output shares its input's storage)."""
        self.out.calls.append(Call(op.index, op.opcode, "", [],
                                   f"op {op.index}: {op.opcode} t{op.inputs[0]} -> t{op.outputs[0]} "
                                   f"(no copy: shared storage)", 0, True))


def _cexpr(v) -> str:
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, (int, np.integer)):
        v = int(v)
        if v == -(1 << 31):
            return "INT32_MIN"
        return str(v)
    return str(v)
