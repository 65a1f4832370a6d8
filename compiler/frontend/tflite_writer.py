"""Write an IR Graph as a .tflite flatbuffer (schema version 3). Used to make test models and the
built-in demo model; the inverse of tflite_import, and tested against it and against TFLM."""
from __future__ import annotations

import flatbuffers
import numpy as np

from ..ir import Graph, Tensor
from .tflite_schema import (ACTIVATIONS, BUILTIN_OPERATORS, BUILTIN_OPTIONS, OPTIONS, PADDING,
                            TENSOR_TYPES)

_NP = {"int8": "<i1", "uint8": "<u1", "int16": "<i2", "int32": "<i4", "int64": "<i8",
       "float32": "<f4", "bool": "<u1"}


def _bytes_vector(b: flatbuffers.Builder, data: bytes, align: int = 16) -> int:
    b.StartVector(1, len(data), align)
    b.head = b.head - len(data)
    b.Bytes[b.head:b.head + len(data)] = data
    return b.EndVector()


def _vec(b: flatbuffers.Builder, values, dtype: str) -> int:
    return b.CreateNumpyVector(np.asarray(values, dtype=dtype))


def _offsets_vector(b: flatbuffers.Builder, offs: list[int]) -> int:
    b.StartVector(4, len(offs), 4)
    for o in reversed(offs):
        b.PrependUOffsetTRelative(o)
    return b.EndVector()


def _tensor(b, t: Tensor, buffer_index: int) -> int:
    name = b.CreateString(t.name)
    shape = _vec(b, list(t.shape), "<i4")
    q = None
    if t.quant is not None:
        scale = _vec(b, t.quant.scale, "<f4")
        zp = _vec(b, t.quant.zero_point, "<i8")
        b.StartObject(7)
        b.PrependUOffsetTRelativeSlot(2, scale, 0)
        b.PrependUOffsetTRelativeSlot(3, zp, 0)
        b.PrependInt32Slot(6, t.quant.axis, 0)
        q = b.EndObject()
    b.StartObject(8)
    b.PrependUOffsetTRelativeSlot(0, shape, 0)
    b.PrependInt8Slot(1, TENSOR_TYPES.index(t.dtype), 0)
    b.PrependUint32Slot(2, buffer_index, 0)
    b.PrependUOffsetTRelativeSlot(3, name, 0)
    if q is not None:
        b.PrependUOffsetTRelativeSlot(4, q, 0)
    if t.is_variable:
        b.PrependBoolSlot(5, True, False)
    return b.EndObject()


def _options(b, opcode: str, options: dict) -> tuple[int, int | None]:
    spec = OPTIONS.get(opcode)
    if spec is None or not spec[1]:
        return 0, None
    table, fields = spec
    vectors = {}
    for slot, (fname, kind, _default) in enumerate(fields):
        if kind == "vi32" and options.get(fname) is not None:
            vectors[slot] = _vec(b, options[fname], "<i4")
        elif kind == "str" and options.get(fname):
            vectors[slot] = b.CreateString(str(options[fname]))
    b.StartObject(len(fields))
    for slot, (fname, kind, default) in enumerate(fields):
        v = options.get(fname, default)
        if kind in ("vi32", "str"):
            if slot in vectors:
                b.PrependUOffsetTRelativeSlot(slot, vectors[slot], 0)
        elif kind == "pad":
            b.PrependUint8Slot(slot, PADDING.index(v), 0)
        elif kind == "act":
            b.PrependUint8Slot(slot, ACTIVATIONS.index(v), 0)
        elif kind == "u8":
            b.PrependUint8Slot(slot, int(v), int(default))
        elif kind == "i8":
            b.PrependInt8Slot(slot, int(v), int(default))
        elif kind == "i32":
            b.PrependInt32Slot(slot, int(v), int(default))
        elif kind == "bool":
            b.PrependBoolSlot(slot, bool(v), bool(default))
        elif kind == "f32":
            b.PrependFloat32Slot(slot, float(v), float(default))
    return BUILTIN_OPTIONS[table], b.EndObject()


def _buffers(b, graph: Graph, buffer_offs: list[int]) -> dict[int, int]:
    """A buffer for each constant tensor of graph (appended to buffer_offs): index -> buffer."""
    buffer_of: dict[int, int] = {}
    for t in graph.tensors:
        if t.data is not None:
            raw = np.ascontiguousarray(np.asarray(t.data).astype(_NP[t.dtype])).tobytes()
            data = _bytes_vector(b, raw)
            b.StartObject(3)
            b.PrependUOffsetTRelativeSlot(0, data, 0)
            buffer_of[t.index] = len(buffer_offs)
            buffer_offs.append(b.EndObject())
    return buffer_of


def _subgraph(b, graph: Graph, opcodes: list[str], buffer_of: dict[int, int]) -> int:
    tensor_offs = [_tensor(b, t, buffer_of.get(t.index, 0)) for t in graph.tensors]
    op_offs = []
    for op in graph.ops:
        ins = _vec(b, op.inputs, "<i4")
        outs = _vec(b, op.outputs, "<i4")
        otype, opts = _options(b, op.opcode, op.options)
        b.StartObject(5)
        b.PrependUint32Slot(0, opcodes.index(op.opcode), 0)
        b.PrependUOffsetTRelativeSlot(1, ins, 0)
        b.PrependUOffsetTRelativeSlot(2, outs, 0)
        if opts is not None:
            b.PrependUint8Slot(3, otype, 0)
            b.PrependUOffsetTRelativeSlot(4, opts, 0)
        op_offs.append(b.EndObject())
    tv = _offsets_vector(b, tensor_offs)
    ov = _offsets_vector(b, op_offs)
    iv = _vec(b, graph.inputs, "<i4")
    outv = _vec(b, graph.outputs, "<i4")
    sg_name = b.CreateString(graph.name)
    b.StartObject(5)
    b.PrependUOffsetTRelativeSlot(0, tv, 0)
    b.PrependUOffsetTRelativeSlot(1, iv, 0)
    b.PrependUOffsetTRelativeSlot(2, outv, 0)
    b.PrependUOffsetTRelativeSlot(3, ov, 0)
    b.PrependUOffsetTRelativeSlot(4, sg_name, 0)
    return b.EndObject()


def write_tflite(graph: Graph, description: str = "tinykiln") -> bytes:
    b = flatbuffers.Builder(1024)
    # buffers: 0 is the empty sentinel; each constant tensor gets its own
    buffer_offs = []
    b.StartObject(3)
    buffer_offs.append(b.EndObject())
    buffer_of = _buffers(b, graph, buffer_offs)
    graphs = [graph] + list(graph.subgraphs)
    opcodes: list[str] = []
    for g in graphs:
        for op in g.ops:
            if op.opcode not in opcodes:
                opcodes.append(op.opcode)
    sgs = [_subgraph(b, g, opcodes, buffer_of if g is graph else _buffers(b, g, buffer_offs))
           for g in graphs]
    oc_offs = []
    for name in opcodes:
        code = BUILTIN_OPERATORS.index(name)
        b.StartObject(4)
        b.PrependInt8Slot(0, min(code, 127), 0)
        b.PrependInt32Slot(2, 1, 1)
        b.PrependInt32Slot(3, code, 0)
        oc_offs.append(b.EndObject())
    ocv = _offsets_vector(b, oc_offs)
    sgv = _offsets_vector(b, sgs)
    bv = _offsets_vector(b, buffer_offs)
    desc = b.CreateString(description)
    b.StartObject(5)
    b.PrependUint32Slot(0, 3, 0)
    b.PrependUOffsetTRelativeSlot(1, ocv, 0)
    b.PrependUOffsetTRelativeSlot(2, sgv, 0)
    b.PrependUOffsetTRelativeSlot(3, desc, 0)
    b.PrependUOffsetTRelativeSlot(4, bv, 0)
    model = b.EndObject()
    b.Finish(model, file_identifier=b"TFL3")
    return bytes(b.Output())
