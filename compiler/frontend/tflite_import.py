"""Read a .tflite flatbuffer into the IR, without TensorFlow: our own bounds-checked reader walks
the schema's tables; every structural problem becomes one ModelError sentence."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from ..errors import ModelError
from .flatbuf import FlatbufferError, Table, root
from ..ir import Graph, Op, QuantParams, Tensor
from .tflite_resources import resolve_resources
from .tflite_schema import ACTIVATIONS, BUILTIN_OPERATORS, OPTIONS, PADDING, TENSOR_TYPES

_SCALAR_FMT = {"i32": "i", "u8": "B", "i8": "b", "bool": "B", "f32": "f", "pad": "B", "act": "B"}
_NP_TYPES = {"float32": "f4", "int32": "i4", "uint8": "u1", "int64": "i8", "int16": "i2",
             "int8": "i1", "bool": "u1", "float64": "f8", "float16": "f2"}


def load_tflite(path: str | Path) -> Graph:
    path = Path(path)
    try:
        buf = path.read_bytes()
    except OSError as e:
        raise ModelError(f"cannot read model file {path}: {e.strerror}.") from None
    return parse_tflite(buf, name=path.name)


# A tensor of this many bytes or more is refused: kernels index with int32 arithmetic and the
# arena must stay addressable on a 32-bit target.
MAX_TENSOR_BYTES = 1 << 31


def parse_tflite(buf: bytes, name: str = "model") -> Graph:
    if len(buf) < 8 or buf[4:8] != b"TFL3":
        raise ModelError(f"{name} is not a TFLite model (no 'TFL3' file identifier); "
                         f"give a .tflite file written by TensorFlow's converter.")
    try:
        graph = _parse(buf)
    except FlatbufferError as e:
        raise ModelError(f"{name} is malformed or truncated: {e}, so it cannot be read as a "
                         f"TFLite flatbuffer.") from None
    except _TensorError as e:
        raise ModelError(f"{name}: {e}.") from None
    graph.source_sha256 = hashlib.sha256(buf).hexdigest()
    return graph


class _TensorError(Exception):
    """A tensor whose declaration is impossible (shape, type, buffer): not a reading error."""


def _parse(buf: bytes) -> Graph:
    model = root(buf)
    version = model.scalar(0, "I", 0)
    if version != 3:
        raise FlatbufferError(f"its schema version is {version}, not 3")
    opcodes = []
    for oc in model.tables(1):
        code = max(oc.scalar(0, "b", 0), oc.scalar(3, "i", 0))
        if oc.has(1) and code == 32:
            opcodes.append("CUSTOM:" + (oc.string(1) or ""))
        else:
            opcodes.append(BUILTIN_OPERATORS[code] if 0 <= code < len(BUILTIN_OPERATORS)
                           and BUILTIN_OPERATORS[code] else f"BUILTIN_{code}")
    subgraphs = model.tables(2)
    if not subgraphs:
        raise FlatbufferError("it has no subgraph")
    buffers = model.tables(4)
    graph = _subgraph(subgraphs[0], 0, opcodes, buffers, buf)
    # the subgraphs CALL_ONCE names (resource variables' init), read on demand, bounds-checked
    return resolve_resources(graph, lambda k: _subgraph(subgraphs[k], k, opcodes, buffers, buf),
                             len(subgraphs))


def _subgraph(sg: Table, number: int, opcodes: list[str], buffers: list[Table],
              buf: bytes) -> Graph:
    where = "" if number == 0 else f"subgraph {number}: "
    tensor_tables = sg.tables(0)
    nt = len(tensor_tables)
    ops = []
    for i, o in enumerate(sg.tables(3)):
        idx = o.scalar(0, "I", 0)
        if idx >= len(opcodes):
            raise FlatbufferError(f"{where}op {i} names opcode {idx}, but the model has "
                                  f"{len(opcodes)} opcodes")
        opcode = opcodes[idx]
        ins = [int(x) for x in _ivec(o, 1)]
        outs = [int(x) for x in _ivec(o, 2)]
        for kind, lst in (("input", ins), ("output", outs)):
            for k, t in enumerate(lst):
                if t == -1 and kind == "output":
                    raise FlatbufferError(f"{where}op {i} ({opcode}) leaves its output {k} "
                                          f"empty (-1)")
                if t >= nt or t < -1:
                    raise FlatbufferError(f"{where}op {i} ({opcode}) names tensor {t} as its "
                                          f"{kind} {k}, but the subgraph has {nt} tensors")
        ops.append(Op(i, opcode, ins, outs, _options(opcode, o.table(4))))
    inputs = [int(x) for x in _ivec(sg, 1)]
    outputs = [int(x) for x in _ivec(sg, 2)]
    for kind, lst in (("input", inputs), ("output", outputs)):
        for t in lst:
            if not 0 <= t < nt:
                raise FlatbufferError(f"{where}the subgraph names tensor {t} as a model {kind}, "
                                      f"but it has {nt} tensors")
    users: dict[int, str] = {}
    for op in reversed(ops):
        for k, t in enumerate(op.inputs):
            users[t] = f"{where}input {k} of op {op.index} ({op.opcode})"
        for k, t in enumerate(op.outputs):
            users[t] = f"{where}output {k} of op {op.index} ({op.opcode})"
    for kind, lst in (("input", inputs), ("output", outputs)):
        for k, t in enumerate(lst):
            users.setdefault(t, f"{where}model {kind} {k}")
    tensors = [_tensor(i, t, buffers, buf, users.get(i)) for i, t in enumerate(tensor_tables)]
    return Graph(tensors, ops, inputs, outputs)


def _ivec(t: Table, slot: int) -> np.ndarray:
    v = t.vector_np(slot, "i4")
    return np.zeros(0, np.int32) if v is None else v


def _tensor(index: int, t: Table, buffers: list[Table], buf: bytes, user: str | None) -> Tensor:
    shape = tuple(int(d) for d in _ivec(t, 0))
    tcode = t.scalar(1, "b", 0)
    dtype = TENSOR_TYPES[tcode] if 0 <= tcode < len(TENSOR_TYPES) else f"type{tcode}"
    name = t.string(3) or f"tensor_{index}"
    if user is None:        # used by no op and not a model input or output: never read
        return Tensor(index, name, shape, dtype)
    variable = bool(t.scalar(5, "B", 0))
    where = f"tensor {index} {name!r} ({user})"
    if any(d < 0 for d in shape):
        raise _TensorError(f"{where} has shape {list(shape)}; dimensions cannot be negative")
    n = 1
    for d in shape:
        n *= d
    itemsize = np.dtype(_NP_TYPES[dtype]).itemsize if dtype in _NP_TYPES else 1
    if n * itemsize >= MAX_TENSOR_BYTES:
        raise _TensorError(f"{where} has shape {list(shape)}, {n * itemsize} bytes of {dtype}; "
                           f"tinykiln handles tensors below 2^31 bytes")
    quant = None
    q = t.table(4)
    if q is not None:
        scale = q.vector_np(2, "f4")
        zp = q.vector_np(3, "i8")
        if scale is not None and len(scale):
            zps = [int(z) for z in zp] if zp is not None and len(zp) else [0] * len(scale)
            if len(zps) == 1 and len(scale) > 1:
                zps = zps * len(scale)
            if len(zps) != len(scale):
                raise _TensorError(f"{where} has {len(scale)} quantization scales but "
                                   f"{len(zps)} zero points")
            quant = QuantParams([float(s) for s in scale], zps, int(q.scalar(6, "i", 0)))
    data = None
    if variable:            # TFLM ignores a variable's buffer: persistent, reset by Reset()
        return Tensor(index, name, shape, dtype, quant, is_variable=True,
                      init=_variable_reset(shape, dtype, quant))
    bidx = t.scalar(2, "I", 0)
    if bidx >= len(buffers):
        raise _TensorError(f"{where} names buffer {bidx}, but the model has {len(buffers)} "
                           f"buffers")
    if bidx:
        b = buffers[bidx]
        raw = b.vector_np(0, "u1")
        if (raw is None or not len(raw)) and b.scalar(1, "Q", 0) > 1:
            off, size = b.scalar(1, "Q", 0), b.scalar(2, "Q", 0)
            if off + size > len(buf):
                raise FlatbufferError(f"buffer {bidx} (of {where}) lies at bytes {off} to "
                                      f"{off + size}, past the end of the {len(buf)}-byte file")
            raw = np.frombuffer(buf, np.uint8, count=size, offset=off)
        if raw is not None and len(raw):
            npt = _NP_TYPES.get(dtype)
            if npt is None:
                raise _TensorError(f"{where} is a constant of type {dtype}, which tinykiln "
                                   f"cannot read")
            if len(raw) != n * itemsize:
                raise _TensorError(f"{where} is a constant holding {len(raw)} bytes, but its "
                                   f"shape {list(shape)} of {dtype} needs {n * itemsize}")
            data = np.frombuffer(raw.tobytes(), dtype=np.dtype(npt).newbyteorder("<")) \
                .astype(npt).reshape(shape)
    return Tensor(index, name, shape, dtype, quant, data)


def _options(opcode: str, t: Table | None) -> dict:
    spec = OPTIONS.get(opcode)
    if spec is None:
        return {}
    out = {}
    for slot, (fname, kind, default) in enumerate(spec[1]):
        if t is None:
            out[fname] = default
            continue
        if kind == "vi32":
            v = t.vector_np(slot, "i4")
            out[fname] = None if v is None else [int(x) for x in v]
            continue
        if kind == "str":
            out[fname] = t.string(slot) or default
            continue
        if not t.has(slot):
            out[fname] = default
            continue
        val = t.scalar(slot, _SCALAR_FMT[kind])
        if kind == "pad":
            val = PADDING[val] if val < len(PADDING) else f"PADDING_{val}"
        elif kind == "act":
            val = ACTIVATIONS[val] if val < len(ACTIVATIONS) else f"ACTIVATION_{val}"
        elif kind == "bool":
            val = bool(val)
        out[fname] = val
    return out


def _variable_reset(shape, dtype: str, quant: QuantParams | None) -> np.ndarray | None:
    """A variable tensor's contents after TFLM's Reset(): an int8 one filled with its zero point,
    any other all zero bytes (None)."""
    if dtype != "int8" or quant is None or not quant.zero_point or quant.zero_point[0] == 0 \
            or not -128 <= quant.zero_point[0] <= 127:      # out of range: the validator refuses
        return None
    return np.full(shape, quant.zero_point[0], np.int8)
