"""Resource variables: READ_VARIABLE and ASSIGN_VARIABLE as byte copies between a variable tensor
(state kept across invokes, in the variables' own buffer beside the arena) and an activation, as
TFLM's memcpy. The importer (frontend/tflite_resources.py) has already resolved each VAR_HANDLE to
its variable tensor and run the CALL_ONCE init subgraph into its reset value, so READ_VARIABLE
reads the variable (its input) and ASSIGN_VARIABLE writes it (its output).

A lowering reads or writes any variable tensor through ctx.ptr(index), like any tensor: the
pointer is its persistent storage (TK_T<index>, in tk_vars), which no other tensor shares."""
from __future__ import annotations

from .context import Operands


def _copy(op, ctx, src: int, dst: int, variable: int) -> None:
    a, b, v = ctx.tensor(src), ctx.tensor(dst), ctx.tensor(variable)
    if not v.is_variable:
        raise ctx.fail(op, f"'{v.name}' is not a variable tensor")
    if a.dtype != b.dtype or a.nbytes != b.nbytes:
        raise ctx.fail(op, f"it copies {a.nbytes} bytes of {a.dtype} into {b.nbytes} bytes of "
                           f"{b.dtype}; the variable and the value must match")
    ctx.call(op, "tk_copy", [ctx.ptr(src), ctx.ptr(dst), f"{a.nbytes}u"], ["copy.c"])


def lower_read(op, ctx):
    _copy(op, ctx, op.inputs[0], op.outputs[0], op.inputs[0])


def lower_assign(op, ctx):
    _copy(op, ctx, op.inputs[0], op.outputs[0], op.outputs[0])


def lower_resolved(op, ctx):
    # the importer removes these ops (a VAR_HANDLE names a variable tensor, CALL_ONCE's init
    # subgraph becomes the variables' reset values): one left here is a graph built otherwise
    raise ctx.fail(op, "it is resolved when a .tflite file is read; build the model as a file")


LOWERINGS = {"READ_VARIABLE": lower_read, "ASSIGN_VARIABLE": lower_assign,
             "VAR_HANDLE": lower_resolved, "CALL_ONCE": lower_resolved}
_ANY = ("int8", "int16", "int32", "int64", "uint8", "bool", "float32")     # bytes moved as they are
TYPES = {"READ_VARIABLE": _ANY, "ASSIGN_VARIABLE": _ANY, "VAR_HANDLE": ("resource",),
         "CALL_ONCE": ("init subgraph of constant assigns",)}
OPERANDS = {
    "READ_VARIABLE": Operands(("a",), ("variable",)),
    "ASSIGN_VARIABLE": Operands(("a",), ("value",)),
    "VAR_HANDLE": Operands((), ()),
    "CALL_ONCE": Operands((), ()),
}
