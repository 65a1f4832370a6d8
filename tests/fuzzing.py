"""The project's model fuzzer: mutate seed .tflite models (byte flips, truncation, integer
overwrites and structure-aware edits through the flatbuffer object API), compile every mutant
in-process in worker processes under a wall-clock timeout, build a share of the accepted ones on
the host with ASan+UBSan and run them, and classify each outcome. Used by tests/test_fuzz.py and
benchmarks/fuzz.py.

A mutant is a pure function of (seed models, fuzz seed, index): `make_mutant` gives the same bytes
on every machine, so any finding is reproduced from those three numbers alone."""
from __future__ import annotations

import hashlib
import importlib.util
import math
import multiprocessing
import os
import random
import re
import resource
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import traceback
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from pathlib import Path

import flatbuffers
import numpy as np

SEED_MODELS = ("kws_ref_model.tflite", "ad01_int8.tflite")

# outcomes of compiling a mutant
CLEAN, ACCEPTED, CRASH, HANG = "clean error", "accepted", "crash", "hang"
COMPILE_OUTCOMES = (CLEAN, ACCEPTED, CRASH, HANG)
# outcomes of building and running an accepted mutant on the host
RAN, SANITIZER, RUN_CRASHED, BUILD_FAILED, RUN_HANG = (
    "ran clean", "sanitizer report", "crashed", "build failed", "hang")
SKIP_LARGE, SKIP_DUP, SKIP_NO_CC = "skipped (too large)", "skipped (duplicate)", "skipped (no gcc)"
HOST_OUTCOMES = (RAN, SANITIZER, RUN_CRASHED, BUILD_FAILED, RUN_HANG, SKIP_LARGE, SKIP_DUP)
HOST_FAILURES = (SANITIZER, RUN_CRASHED, BUILD_FAILED, RUN_HANG)

# a host run is skipped (counted) above these: three input rows must run in a second or two
MAX_RUN_MACS = 50_000_000
MAX_RUN_ARENA = 16 << 20


# ---------------------------------------------------------------------------------------------
# The TFLite schema's generated object API (ModelT with Pack/Unpack), from tflite-micro's package
# (or TensorFlow's), loaded by file so that the TFLM interpreter is not imported with it.

_SCHEMA = None


def schema():
    global _SCHEMA
    if _SCHEMA is None:
        for pkg, rel in (("tflite_micro", "tensorflow/lite/micro/python/schema_py_generated.py"),
                         ("tensorflow", "lite/python/schema_py_generated.py")):
            try:
                spec = importlib.util.find_spec(pkg)
            except (ImportError, ValueError):
                spec = None
            if spec is None or not spec.submodule_search_locations:
                continue
            path = Path(list(spec.submodule_search_locations)[0]) / rel
            if path.is_file():
                s = importlib.util.spec_from_file_location("_tk_fuzz_tflite_schema", path)
                mod = importlib.util.module_from_spec(s)
                s.loader.exec_module(mod)
                _SCHEMA = mod
                break
        else:
            raise ImportError("the fuzzer's structure-aware mutators need the TFLite schema's "
                              "generated Python classes (pip install tflite-micro)")
    return _SCHEMA


def unpack(buf: bytes):
    return schema().ModelT.InitFromPackedBuf(bytearray(buf), 0)


def pack(model) -> bytes:
    b = flatbuffers.Builder(1 << 16)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


# ---------------------------------------------------------------------------------------------
# Mutators. Each takes (rng, seed bytes, seed info) and returns (mutant bytes, one-line detail).

INTERESTING32 = (0, 1, -1, 2, 15, 16, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 1 << 20,
                 2**31 - 1, -2**31, 2**32 - 1, -129, 1000)
INTERESTING16 = (0, 1, 0xffff, 0x7fff, 0x8000, 15, 0x7f, 0xff, 0x100)
INTERESTING8 = (0, 1, 0xff, 0x7f, 0x80, 15, 0x10)
DIMS = (0, -1, 15, 2, 3, 1 << 20, 2**31 - 1, -2**31, 65536, 1000)
SCALES = (0.0, math.nan, math.inf, -math.inf, 3.4e38, 1e-38, 1e-45, -0.5, 1e10, 1e-10, 65536.0)
ZERO_POINTS = (128, -129, 255, -1, 127, -128, 2**31 - 1, -2**31, 2**40, 32768)
NAMES = (b"evil */ #error injected /*", b"line\nbreak", b"a \"quoted\" name", b"back\\slash\\",
         b"#define main evil", b"*/", b"trigraph ??/", b"", b"\xff\xfe not utf-8",
         b"x" * 5000, b"$(touch /tmp/pwned)", b"%s%n%x", "\u2211 sum".encode(), b"tab\there",
         b"cr\rreturn", b"nul\x00byte", b"// line comment", b"\\\nsplice")
TENSOR_TYPES = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 15, 16, 17, 100, -1, 127)
OPCODES = (0, 1, 2, 3, 4, 6, 9, 14, 17, 18, 19, 21, 22, 25, 28, 32, 34, 40, 43, 60, 114, 117,
           5, 39, 41, 42, 49, 53, 67, 82, 126, 127, 150, 200, 1000, -1)


@dataclass
class SeedInfo:
    """Per-seed facts the mutators use: byte ranges of buffer data (weights), to aim some byte-level
    edits at the flatbuffer structure instead of the weights that fill most of the file."""
    name: str
    data: bytes
    weight_ranges: list[tuple[int, int]]
    meta_positions: np.ndarray          # byte offsets outside any buffer's data


def seed_info(name: str, data: bytes) -> SeedInfo:
    S = schema()
    m = S.Model.GetRootAs(data, 0)
    ranges = []
    for i in range(m.BuffersLength()):
        b = m.Buffers(i)
        o = b._tab.Offset(4)
        if o:
            start = b._tab.Vector(o)
            n = b._tab.VectorLen(o)
            if n:
                ranges.append((start, start + n))
    mask = np.ones(len(data), bool)
    for a, z in ranges:
        mask[a:z] = False
    return SeedInfo(name, data, sorted(ranges), np.flatnonzero(mask))


def _position(rng: random.Random, info: SeedInfo, align: int = 1) -> int:
    """A byte offset: half the time anywhere, half the time in the flatbuffer structure."""
    n = len(info.data)
    if rng.random() < 0.5 or not len(info.meta_positions):
        p = rng.randrange(n)
    else:
        p = int(info.meta_positions[rng.randrange(len(info.meta_positions))])
    p -= p % align
    return min(p, n - align)


def mut_byte_flip(rng, info):
    b = bytearray(info.data)
    edits = []
    for _ in range(rng.choice((1, 1, 2, 4, 8))):
        p = _position(rng, info)
        if rng.random() < 0.5:
            b[p] ^= 1 << rng.randrange(8)
        else:
            b[p] = rng.randrange(256)
        edits.append(f"{p}:{b[p]:02x}")
    return bytes(b), "bytes " + " ".join(edits)


def mut_truncate(rng, info):
    n = len(info.data)
    k = rng.choice((rng.randrange(n), rng.randrange(min(n, 4096)), n - 1 - rng.randrange(64)))
    return info.data[:max(k, 0)], f"truncated to {max(k, 0)} of {n} bytes"


def mut_int_overwrite(rng, info):
    b = bytearray(info.data)
    width = rng.choice((4, 4, 2, 1))
    p = _position(rng, info, align=width)
    pool = {4: INTERESTING32, 2: INTERESTING16, 1: INTERESTING8}[width]
    v = rng.choice(pool)
    if width == 4:
        if rng.random() < 0.3:                                  # small delta of what is there
            v = struct.unpack_from("<i", b, p)[0] + rng.choice((-1, 1, -4, 4, 16))
        b[p:p + 4] = struct.pack("<I", v & 0xffffffff)
    elif width == 2:
        b[p:p + 2] = struct.pack("<H", v & 0xffff)
    else:
        b[p] = v & 0xff
    return bytes(b), f"int{width * 8} at {p} := {v}"


# --- structure-aware edits on a ModelT; each returns a detail string, or None if not applicable ---

def _sg(m):
    return m.subgraphs[0]


def _const_tensors(m):
    return [i for i, t in enumerate(_sg(m).tensors)
            if 0 < t.buffer < len(m.buffers) and m.buffers[t.buffer].data is not None
            and len(m.buffers[t.buffer].data)]


def _pick_tensor(rng, m, io_bias: float = 0.3) -> int:
    sg = _sg(m)
    io = [int(t) for t in list(sg.inputs) + list(sg.outputs) if 0 <= t < len(sg.tensors)]
    if io and rng.random() < io_bias:
        return int(rng.choice(io))
    return rng.randrange(len(sg.tensors))


def edit_shape(rng, m):
    sg = _sg(m)
    t = _pick_tensor(rng, m)
    ten = sg.tensors[t]
    shape = [int(d) for d in (ten.shape if ten.shape is not None else [])]
    old = list(shape)
    how = rng.choice(("dim", "dim", "dim", "drop", "add", "scalar", "batch", "batch_all"))
    if how == "batch_all":          # every activation gets the same batch: consistent per op
        n = rng.choice((2, 15))
        consts = set(_const_tensors(m))
        for u, tu in enumerate(sg.tensors):
            if u not in consts and tu.shape is not None and len(tu.shape):
                tu.shape = [n] + [int(d) for d in tu.shape[1:]]
        return f"every activation tensor gets batch {n}"
    if how == "dim" and shape:
        k = rng.randrange(len(shape))
        shape[k] = rng.choice(DIMS + (shape[k] + 1, shape[k] - 1, shape[k] * 2))
    elif how == "batch" and shape:
        shape[0] = rng.choice((15, 2, 0, 1 << 16))
    elif how == "drop" and shape:
        del shape[rng.randrange(len(shape))]
    elif how == "add":
        shape.insert(rng.randrange(len(shape) + 1), rng.choice((1, 1, 15, 2)))
    else:
        shape = []
    ten.shape = shape
    if ten.shapeSignature is not None and rng.random() < 0.5:
        ten.shapeSignature = list(shape)
    return f"tensor {t} shape {old} -> {shape}"


_ITEMSIZE = {0: 4, 1: 2, 2: 4, 3: 1, 4: 8, 6: 1, 7: 2, 9: 1, 10: 8}


def edit_const_shape(rng, m):
    """A constant's shape and its data changed together (data tiled or cut to fit): the file stays
    self-consistent, so only the per-op shape checks stand between it and the kernels."""
    sg = _sg(m)
    consts = _const_tensors(m)
    if not consts:
        return None
    t = rng.choice(consts)
    ten = sg.tensors[t]
    shape = [int(d) for d in (ten.shape if ten.shape is not None else [])]
    if not shape or ten.type not in _ITEMSIZE:
        return None
    old = list(shape)
    k = rng.randrange(len(shape))
    shape[k] = max(1, rng.choice((shape[k] + 1, shape[k] - 1, shape[k] * 2, 1, 2, 3, 15)))
    if rng.random() < 0.2:
        shape.insert(0, 1) if rng.random() < 0.5 else shape.append(1)
    n = int(np.prod(shape)) * _ITEMSIZE[ten.type]
    if n > 4 << 20:
        return None
    data = np.asarray(m.buffers[ten.buffer].data, np.uint8)
    m.buffers[ten.buffer].data = np.resize(data, n)
    ten.shape = shape
    return f"constant tensor {t} shape {old} -> {shape} with {n} bytes of data"


def edit_buffer_index(rng, m):
    sg = _sg(m)
    t = _pick_tensor(rng, m)
    ten = sg.tensors[t]
    old = ten.buffer
    consts = _const_tensors(m)
    how = rng.choice(("range", "range_max", "empty", "other_const", "swap", "random"))
    if how == "range":
        ten.buffer = len(m.buffers) + rng.choice((0, 1, 100))
    elif how == "range_max":
        ten.buffer = 2**32 - 1
    elif how == "empty":
        ten.buffer = 0
    elif how == "other_const" and consts:
        ten.buffer = sg.tensors[rng.choice(consts)].buffer
    elif how == "swap":
        u = rng.randrange(len(sg.tensors))
        ten.buffer, sg.tensors[u].buffer = sg.tensors[u].buffer, ten.buffer
        return f"tensors {t} and {u} swap buffers ({old}, {ten.buffer})"
    else:
        ten.buffer = rng.randrange(len(m.buffers))
    return f"tensor {t} buffer {old} -> {ten.buffer}"


def _operand_value(rng, m, cur: int, op) -> tuple[int, str]:
    sg = _sg(m)
    nt = len(sg.tensors)
    consts = _const_tensors(m)
    how = rng.choice(("range", "range", "neg", "random", "model_in", "model_out", "const",
                      "self", "self"))
    if how == "range":
        return rng.choice((nt, nt + 1, 2**31 - 1)), "out of range"
    if how == "neg":
        return rng.choice((-1, -2, -2**31)), "negative"
    if how == "model_in" and len(sg.inputs):
        return int(sg.inputs[0]), "model input"
    if how == "model_out" and len(sg.outputs):
        return int(sg.outputs[0]), "model output"
    if how == "const" and consts:
        return rng.choice(consts), "a constant"
    if how == "self":
        other = list(op.outputs) if cur in list(op.inputs) else list(op.inputs)
        if other:
            return int(rng.choice(other)), "the op's own other side"
    return rng.randrange(nt), "another tensor"


def edit_operand(rng, m):
    sg = _sg(m)
    if not sg.operators:
        return None
    i = rng.randrange(len(sg.operators))
    op = sg.operators[i]
    side = rng.choice(("inputs", "inputs", "outputs"))
    lst = [int(x) for x in (getattr(op, side) if getattr(op, side) is not None else [])]
    old = list(lst)
    how = rng.choice(("set", "set", "set", "set", "drop", "add", "empty"))
    if how == "set" and lst:
        k = rng.randrange(len(lst))
        lst[k], why = _operand_value(rng, m, lst[k], op)
    elif how == "drop" and lst:
        del lst[rng.randrange(len(lst))]
        why = "dropped"
    elif how == "add":
        v, why = _operand_value(rng, m, -1, op)
        lst.append(v)
        why = "added " + why
    else:
        lst, why = [], "emptied"
    setattr(op, side, lst)
    return f"op {i} {side} {old} -> {lst} ({why})"


def edit_subgraph_io(rng, m):
    sg = _sg(m)
    side = rng.choice(("inputs", "outputs"))
    lst = [int(x) for x in getattr(sg, side)]
    old = list(lst)
    nt = len(sg.tensors)
    consts = _const_tensors(m)
    how = rng.choice(("range", "const", "intermediate", "dup", "empty", "swap", "extra", "neg"))
    if how == "range":
        lst = [rng.choice((nt, nt + 7, 2**31 - 1))]
    elif how == "neg":
        lst = [-1]
    elif how == "const" and consts:
        lst = [rng.choice(consts)]
    elif how == "dup" and lst:
        lst = lst + lst
    elif how == "empty":
        lst = []
    elif how == "swap":
        sg.inputs, sg.outputs = list(sg.outputs), list(sg.inputs)
        was = old if side == "inputs" else list(sg.outputs)
        return f"subgraph inputs {was} and outputs swapped"
    elif how == "extra":
        lst = lst + [rng.randrange(nt)]
    else:
        lst = [rng.randrange(nt)]
    setattr(sg, side, lst)
    return f"subgraph {side} {old} -> {lst}"


def edit_graph(rng, m):
    """The op list itself: order, missing or repeated ops, no ops, no or extra subgraphs."""
    import copy
    sg = _sg(m)
    ops = sg.operators or []
    how = rng.choice(("swap", "swap", "delete", "delete", "duplicate", "reverse", "no_ops",
                      "no_subgraphs", "extra_subgraph"))
    if how == "swap" and len(ops) > 1:
        i, j = rng.sample(range(len(ops)), 2)
        ops[i], ops[j] = ops[j], ops[i]
        return f"ops {i} and {j} swap places"
    if how == "delete" and ops:
        i = rng.randrange(len(ops))
        del ops[i]
        return f"op {i} deleted (its output is never written)"
    if how == "duplicate" and ops:
        i = rng.randrange(len(ops))
        ops.insert(rng.randrange(len(ops) + 1), copy.deepcopy(ops[i]))
        return f"op {i} appears twice"
    if how == "reverse" and len(ops) > 1:
        ops.reverse()
        return "ops in reverse order"
    if how == "no_subgraphs":
        m.subgraphs = [] if rng.random() < 0.5 else None
        return "no subgraphs"
    if how == "extra_subgraph":
        m.subgraphs.append(copy.deepcopy(sg))
        return "a second subgraph"
    sg.operators = []
    if rng.random() < 0.5:
        sg.outputs = list(sg.inputs)
    return f"no ops (outputs {list(sg.outputs)})"


def edit_quantization(rng, m):
    S = schema()
    sg = _sg(m)
    t = _pick_tensor(rng, m, io_bias=0.4)
    ten = sg.tensors[t]
    q = ten.quantization
    how = rng.choice(("scale", "scale", "scale", "zp", "zp", "remove", "no_scale", "count",
                      "zp_count", "dim", "add"))
    if how == "add" or q is None:
        q = S.QuantizationParametersT()
        q.scale = np.array([rng.choice((0.5, 1e-3) + SCALES)], np.float32)
        q.zeroPoint = np.array([rng.choice((0, -128) + ZERO_POINTS)], np.int64)
        ten.quantization = q
        return f"tensor {t} quantization set to scale {q.scale[0]} zero point {q.zeroPoint[0]}"
    scale = [float(s) for s in (q.scale if q.scale is not None else [])]
    zp = [int(z) for z in (q.zeroPoint if q.zeroPoint is not None else [])]
    if how == "remove":
        ten.quantization = None
        return f"tensor {t} quantization removed"
    if how == "no_scale":
        q.scale, q.zeroPoint = None, None
        return f"tensor {t} quantization has no scale"
    if how == "scale" and scale:
        k = rng.randrange(len(scale))
        v = rng.choice(SCALES + (scale[k] * 1e6, scale[k] / 1e6, -scale[k]))
        old, scale[k] = scale[k], v
        if rng.random() < 0.3:
            scale = [v] * len(scale)
        q.scale = np.array(scale, np.float32)
        return f"tensor {t} scale[{k}] {old:g} -> {v:g}" + (" (all)" if len(set(scale)) == 1
                                                             and len(scale) > 1 else "")
    if how == "zp" and zp:
        k = rng.randrange(len(zp))
        v = rng.choice(ZERO_POINTS)
        old, zp[k] = zp[k], v
        q.zeroPoint = np.array(zp, np.int64)
        return f"tensor {t} zero_point[{k}] {old} -> {v}"
    if how == "count" and scale:
        scale = scale[:-1] if len(scale) > 1 and rng.random() < 0.5 else scale + [scale[-1]]
        q.scale = np.array(scale, np.float32)
        if rng.random() < 0.5:
            q.zeroPoint = np.zeros(len(scale), np.int64)
        return f"tensor {t} has {len(scale)} scales and {len(q.zeroPoint)} zero points"
    if how == "zp_count" and zp:
        q.zeroPoint = np.array(zp + [0, 0] if rng.random() < 0.5 else [], np.int64)
        return f"tensor {t} has {len(scale)} scales and {len(q.zeroPoint)} zero points"
    old = q.quantizedDimension
    q.quantizedDimension = rng.choice((-1, 1, 2, 3, 4, 100, 2**31 - 1))
    return f"tensor {t} quantized_dimension {old} -> {q.quantizedDimension}"


def _option_values(name: str, cur):
    n = name.lower()
    if isinstance(cur, bool):
        return (not cur,)
    if isinstance(cur, float):
        return (0.0, math.nan, math.inf, -1.0, 1e30, 1e-30, -math.inf)
    if "stride" in n:
        return (0, -1, 1 << 20, 2**31 - 1, 3, 100, -2**31)
    if "dilation" in n:
        return (0, -1, 2, 1000, 2**31 - 1)
    if "filter" in n:
        return (0, -1, 1, 1000, 2**31 - 1, 2)
    if n == "padding":
        return (2, 3, 7, 127, -1, -128, 1 - (cur or 0))
    if "activation" in n:
        return (0, 1, 2, 3, 4, 5, 6, 7, 100, -1, 127)
    if "multiplier" in n:
        return (0, -1, 2, 1000, 2**31 - 1)
    if "axis" in n:
        return (-5, -1, 0, 1, 3, 4, 100, 2**31 - 1)
    if isinstance(cur, int):
        return INTERESTING32 + (-5, 3)
    return None


def edit_options(rng, m):
    S = schema()
    sg = _sg(m)
    if not sg.operators:
        return None
    i = rng.randrange(len(sg.operators))
    op = sg.operators[i]
    opts = op.builtinOptions
    how = rng.choice(("field", "field", "field", "field", "field", "remove", "mistype", "reshape"))
    if how == "remove" and opts is not None:
        op.builtinOptions, op.builtinOptionsType = None, 0
        return f"op {i} options removed"
    if how == "mistype":
        old = op.builtinOptionsType
        op.builtinOptionsType = rng.choice((1, 2, 3, 5, 8, 9, 0, 17, 200))
        if opts is None:
            op.builtinOptions = S.ReshapeOptionsT()
            op.builtinOptions.newShape = [rng.choice((1, 64, 12, 0, -1, 15))]
        return f"op {i} options type {old} -> {op.builtinOptionsType}"
    if how == "reshape" or opts is None:
        o = S.ReshapeOptionsT()
        o.newShape = [rng.choice((1, 64, 12, 0, -1, 15, 2**31 - 1)) for _ in
                      range(rng.choice((0, 1, 2, 4, 5)))]
        op.builtinOptions, op.builtinOptionsType = o, S.BuiltinOptions.ReshapeOptions
        return f"op {i} options := ReshapeOptions(new_shape={o.newShape})"
    fields = [(k, v) for k, v in vars(opts).items() if isinstance(v, (bool, int, float))]
    if not fields:
        return None
    k, cur = rng.choice(fields)
    vals = _option_values(k, cur)
    if not vals:
        return None
    v = rng.choice(vals)
    setattr(opts, k, v)
    return f"op {i} {type(opts).__name__[:-1]}.{k} {cur} -> {v}"


def edit_opcode(rng, m):
    S = schema()
    sg = _sg(m)
    if not sg.operators:
        return None
    how = rng.choice(("code", "code", "code", "index", "index_range", "new", "swap"))
    if how == "code":
        k = rng.randrange(len(m.operatorCodes))
        oc = m.operatorCodes[k]
        old = max(oc.deprecatedBuiltinCode, oc.builtinCode)
        v = rng.choice(OPCODES)
        oc.builtinCode = v
        oc.deprecatedBuiltinCode = v if 0 <= v < 127 else 127
        return f"opcode {k} builtin {old} -> {v}"
    i = rng.randrange(len(sg.operators))
    op = sg.operators[i]
    old = op.opcodeIndex
    if how == "index":
        op.opcodeIndex = rng.randrange(len(m.operatorCodes))
    elif how == "index_range":
        op.opcodeIndex = rng.choice((len(m.operatorCodes), 2**32 - 1))
    elif how == "new":
        oc = S.OperatorCodeT()
        oc.builtinCode = rng.choice(OPCODES)
        oc.deprecatedBuiltinCode = oc.builtinCode if 0 <= oc.builtinCode < 127 else 127
        if oc.builtinCode == 32:
            oc.customCode = rng.choice((b"TFLite_Detection_PostProcess", b"evil */", b""))
        m.operatorCodes.append(oc)
        op.opcodeIndex = len(m.operatorCodes) - 1
        return f"op {i} uses a new opcode {oc.builtinCode}"
    else:
        j = rng.randrange(len(sg.operators))
        op.opcodeIndex, sg.operators[j].opcodeIndex = sg.operators[j].opcodeIndex, op.opcodeIndex
        return f"ops {i} and {j} swap opcodes"
    return f"op {i} opcode index {old} -> {op.opcodeIndex}"


def edit_buffer_data(rng, m):
    sg = _sg(m)
    consts = _const_tensors(m)
    if rng.random() < 0.15 or not consts:          # give data to a tensor that had none
        t = _pick_tensor(rng, m)
        ten = sg.tensors[t]
        if not 0 <= ten.buffer < len(m.buffers):
            return None
        n = rng.choice((1, 4, 64, 640, 1960, 8))
        m.buffers[ten.buffer].data = np.frombuffer(bytes(rng.randrange(256) for _ in range(n)),
                                                   np.uint8).copy()
        return f"tensor {t} buffer {ten.buffer} given {n} bytes of data"
    t = rng.choice(consts)
    bidx = sg.tensors[t].buffer
    b = m.buffers[bidx]
    data = np.array(b.data, np.uint8)
    n = len(data)
    how = rng.choice(("empty", "shorter", "shorter1", "longer", "fill", "fill", "int32"))
    if how == "empty":
        b.data = None if rng.random() < 0.5 else np.zeros(0, np.uint8)
        return f"tensor {t} buffer {bidx} emptied (was {n} bytes)"
    if how in ("shorter", "shorter1"):
        k = n - 1 if how == "shorter1" else rng.randrange(n)
        b.data = data[:k].copy()
        return f"tensor {t} buffer {bidx} cut to {k} of {n} bytes"
    if how == "longer":
        b.data = np.concatenate([data, np.full(rng.choice((1, 4, 100)), 0x7f, np.uint8)])
        return f"tensor {t} buffer {bidx} grown from {n} to {len(b.data)} bytes"
    if how == "fill":
        v = rng.choice((0x7f, 0x80, 0xff, 0x00))
        b.data = np.full(n, v, np.uint8)
        return f"tensor {t} buffer {bidx} filled with 0x{v:02x}"
    if n >= 4:                                      # int32 extremes (biases, shape operands)
        w = data[: n - n % 4].view("<i4").copy()
        v = rng.choice((2**31 - 1, -2**31, 0, -1, 1 << 20))
        if rng.random() < 0.5:
            w[:] = v
        else:
            w[rng.randrange(len(w))] = v
        data[: n - n % 4] = w.view(np.uint8)
        b.data = data
        return f"tensor {t} buffer {bidx} int32 values := {v}"
    return None


def edit_name(rng, m):
    sg = _sg(m)
    t = _pick_tensor(rng, m, io_bias=0.5)
    name = rng.choice(NAMES)
    if rng.random() < 0.3:
        name = sg.tensors[t].name + name
    sg.tensors[t].name = name
    if rng.random() < 0.2:
        sg.name = name
    return f"tensor {t} named {name[:40]!r}"


def edit_tensor_type(rng, m):
    sg = _sg(m)
    t = _pick_tensor(rng, m)
    old = sg.tensors[t].type
    sg.tensors[t].type = rng.choice(TENSOR_TYPES)
    return f"tensor {t} type {old} -> {sg.tensors[t].type}"


EDITS = {
    "shape": edit_shape, "const_shape": edit_const_shape, "buffer_index": edit_buffer_index,
    "operand": edit_operand, "subgraph_io": edit_subgraph_io, "graph": edit_graph,
    "quantization": edit_quantization, "options": edit_options,
    "opcode": edit_opcode, "buffer_data": edit_buffer_data, "name": edit_name,
    "tensor_type": edit_tensor_type,
}


def _structural(edits):
    def mutate(rng, info):
        for _ in range(20):
            m = unpack(info.data)
            details = []
            for e in edits(rng):
                try:
                    d = EDITS[e](rng, m)
                except (IndexError, ValueError, TypeError, AttributeError):
                    d = None        # an earlier stacked edit left nothing this one applies to
                if d:
                    details.append(d)
            if not details:
                continue
            try:
                return pack(m), "; ".join(details)
            except (struct.error, OverflowError, TypeError, ValueError):
                continue                    # a value the field cannot hold: draw again
        return pack(unpack(info.data)), "no applicable edit (seed repacked)"
    return mutate


def _stacked_edits(rng):
    return [rng.choice(list(EDITS)) for _ in range(rng.choice((2, 2, 3, 4)))]


# name -> (weight, function(rng, SeedInfo) -> (bytes, detail))
MUTATORS = {
    "byte_flip": (1.0, mut_byte_flip),
    "truncate": (0.5, mut_truncate),
    "int_overwrite": (1.0, mut_int_overwrite),
    **{name: (1.0, _structural(lambda rng, _n=name: [_n])) for name in EDITS},
    "stacked": (2.0, _structural(_stacked_edits)),
}
BYTE_LEVEL = frozenset({"byte_flip", "truncate", "int_overwrite"})
# how much likelier than a byte-level mutant an accepted mutant is to be built and run on the host:
# byte edits mostly land in weights; names exist only to reach the generated C
RUN_WEIGHT = {**{n: 1.0 for n in BYTE_LEVEL}, **{n: 4.0 for n in EDITS}, "stacked": 4.0,
              "name": 10.0}


@dataclass
class Mutant:
    model: str
    seed: int
    index: int
    mutator: str
    detail: str
    data: bytes = field(repr=False)

    @property
    def label(self) -> str:
        if self.mutator == "replay":
            return Path(self.model).stem
        return f"{Path(self.model).stem}-s{self.seed}-{self.index:06d}"


def _rng(seed: int, index: int, purpose: str = "mutate") -> random.Random:
    # random.Random seeded with a str hashes it with SHA-512: the same on every run and machine
    return random.Random(f"tinykiln-fuzz/{seed}/{index}/{purpose}")


@dataclass
class Replay:
    """Saved model files, classified as they are instead of mutants (benchmarks/fuzz.py --replay):
    reproducers of an earlier campaign checked against today's compiler."""
    paths: list[Path]


def make_mutant(seeds: list[SeedInfo] | Replay, seed: int, index: int) -> Mutant:
    """Mutant `index` of the campaign `seed`: the seed model alternates with the index, the mutator
    and every edit come from an RNG seeded by (seed, index) alone."""
    if isinstance(seeds, Replay):
        p = Path(seeds.paths[index])
        return Mutant(p.name, seed, index, "replay", str(p), p.read_bytes())
    info = seeds[index % len(seeds)]
    rng = _rng(seed, index)
    names = list(MUTATORS)
    name = rng.choices(names, weights=[MUTATORS[n][0] for n in names])[0]
    data, detail = MUTATORS[name][1](rng, info)
    return Mutant(info.name, seed, index, name, detail, data)


def load_seeds(paths) -> list[SeedInfo]:
    return [seed_info(Path(p).name, Path(p).read_bytes()) for p in paths]


def seed_paths(models_dir: Path) -> list[Path]:
    """The standard seeds found in models_dir, else every .tflite there."""
    found = [models_dir / n for n in SEED_MODELS if (models_dir / n).is_file()]
    return found or sorted(models_dir.glob("*.tflite"))


# ---------------------------------------------------------------------------------------------
# Classification of one mutant (runs in a worker process; callable directly in tests).

def _frame(fs) -> str:
    import tinykiln
    pkg = Path(tinykiln.__file__).resolve().parent
    p = Path(fs.filename).resolve()
    try:
        where = f"{pkg.name}/{p.relative_to(pkg)}"
    except ValueError:
        parts = p.parts
        where = "/".join(parts[-2:])
    return f"{where}:{fs.lineno} in {fs.name}"


def _where(tb) -> tuple[str, str]:
    """(the last frame inside tinykiln, the last frame overall)."""
    import tinykiln
    pkg = str(Path(tinykiln.__file__).resolve().parent)
    frames = traceback.extract_tb(tb)
    ours = [f for f in frames if str(Path(f.filename).resolve()).startswith(pkg)]
    return (_frame(ours[-1]) if ours else "(outside tinykiln)",
            _frame(frames[-1]) if frames else "?")


def files_hash(c) -> str:
    """Hash of the generated files with the model's own hash taken out, so mutants that generate
    the same C share one host build."""
    h = hashlib.sha256()
    sha = c.report.get("model_sha256") or ""
    for rel in sorted(c.files):
        h.update(rel.encode() + b"\0")
        text = c.files[rel]
        h.update((text.replace(sha, "") if sha else text).encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def compile_one(data: bytes, name: str, parent: Path) -> tuple[dict, object]:
    """Import, compile and write one model into parent/"out" (parent must be an empty folder).
    Returns (classification dict, Compiled or None)."""
    import tinykiln.compile
    import tinykiln.frontend.tflite_import
    from tinykiln.errors import TinykilnError
    out = parent / "out"
    res: dict = {}
    c = None
    t0 = time.perf_counter()
    try:
        g = tinykiln.frontend.tflite_import.parse_tflite(data, name=name)
        c = tinykiln.compile.compile_graph(g)
        tinykiln.compile.write_output(c, out)
        res["outcome"] = ACCEPTED
        res["macs"] = int(c.report.get("macs", 0))
        res["arena"] = int(c.report.get("arena_bytes", 0))
        res["files_hash"] = files_hash(c)
    except TinykilnError as e:
        msg = str(e)
        res.update(outcome=CLEAN, error=type(e).__name__, message=msg,
                   one_line=bool(msg.strip()) and "\n" not in msg and "\r" not in msg)
        c = None
    except Exception as e:              # noqa: BLE001 -- anything else is the compiler's crash
        where, last = _where(e.__traceback__)
        res.update(outcome=CRASH, error=type(e).__name__, message=str(e)[:500], where=where,
                   last_frame=last)
        c = None
    res["seconds"] = round(time.perf_counter() - t0, 4)
    left = sorted(os.listdir(parent))
    expected = ["out"] if res["outcome"] == ACCEPTED else []
    # tinykiln may add a marker file inside out/, but nothing else may remain beside it
    res["half_written"] = left != expected
    if res["half_written"]:
        res["leftovers"] = left
    return res, c


def _rows(c, seed: int, index: int) -> tuple[bytes, int, int]:
    """Three input rows (all minimum, all maximum, random) -> (bytes, rows, output bytes)."""
    from tinykiln.ir import NP_TYPES
    g = c.graph
    rng = np.random.default_rng([seed, index])
    rows = []
    for r in range(3):
        row = b""
        for t in g.inputs:
            tt = g.tensors[t]
            dt = np.dtype(NP_TYPES.get(tt.dtype, "u1"))
            if dt.kind == "b":
                dt = np.dtype("u1")         # bool: bytes 0 and 255 as well as 1
            n = int(np.prod(tt.shape)) if len(tt.shape) else 1
            if dt.kind == "f":
                lo, hi = np.finfo(dt).min, np.finfo(dt).max
                x = [np.full(n, lo, dt), np.full(n, hi, dt),
                     rng.normal(0, 100, n).astype(dt)][r]
            else:
                lo, hi = np.iinfo(dt).min, np.iinfo(dt).max
                x = [np.full(n, lo, dt), np.full(n, hi, dt),
                     rng.integers(lo, hi, n, endpoint=True).astype(dt)][r]
            row += x.astype(dt.newbyteorder("<")).tobytes()
        rows.append(row)
    out_bytes = sum(g.tensors[t].nbytes for t in g.outputs) * 3
    return b"".join(rows), 3, out_bytes


def _first(text: str, keys) -> str:
    """The first line holding one of keys, without the build folder's temp path."""
    text = re.sub(r"/\S*tinykiln-host-[^/\s]+/", "", text)
    for line in text.splitlines():
        if any(k in line for k in keys):
            return line.strip()[:300]
    return text.strip().splitlines()[-1][:300] if text.strip() else ""


def _sanitizer_line(err: str) -> str:
    """'AddressSanitizer: <kind> in <function> (<file>:<line>)' or UBSan's 'file:line: runtime
    error: ...' line."""
    m = re.search(r"ERROR: (\w+Sanitizer): (\S+)", err)
    if m:
        f = re.search(r"#0 0x[0-9a-f]+ in (\S+) (\S+)", err[m.end():])
        where = f" in {f.group(1)} ({Path(f.group(2)).name})" if f else ""
        return f"{m.group(1)}: {m.group(2)}{where}"
    return _first(err, ("runtime error:", "Sanitizer"))


def host_run(c, seed: int, index: int, run_timeout: float = 60.0) -> dict:
    """Build c on the host with ASan+UBSan (-Wall -Wextra -Werror) and run three input rows."""
    from tinykiln.errors import TinykilnError
    from tinykiln.targets.hostrun import HostBuild
    t0 = time.perf_counter()
    try:
        hb = HostBuild(c, sanitize=True)
    except TinykilnError as e:
        return {"host": SKIP_NO_CC, "host_detail": str(e)}
    except RuntimeError as e:           # tinykiln.targets.hostrun.HostFailure: str() + .log
        text = (getattr(e, "log", "") or "") + "\n" + str(e)
        return {"host": BUILD_FAILED, "host_detail": _first(text, ("error:",)),
                "host_log": text[-3000:]}
    except Exception as e:              # noqa: BLE001 -- a Python failure while preparing the build
        where, last = _where(e.__traceback__)
        return {"host": BUILD_FAILED, "host_detail": f"{type(e).__name__}: {e} at {where}"[:300]}
    try:
        data, n, want = _rows(c, seed, index)
        fin, fout = hb.dir / "in.bin", hb.dir / "out.bin"
        fin.write_bytes(data)
        env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0:abort_on_error=0",
                   UBSAN_OPTIONS="print_stacktrace=1")
        try:
            r = subprocess.run([str(hb.exe), str(fin), str(fout), str(n)], capture_output=True,
                               text=True, errors="replace", timeout=run_timeout, env=env)
        except subprocess.TimeoutExpired:
            return {"host": RUN_HANG, "host_detail": f"no exit within {run_timeout:g} s"}
        err = r.stderr
        if "Sanitizer" in err or "runtime error:" in err:
            return {"host": SANITIZER, "host_detail": _sanitizer_line(err), "host_log": err[-3000:]}
        if r.returncode < 0:
            return {"host": RUN_CRASHED, "host_detail": f"killed by signal {-r.returncode}",
                    "host_log": err[-3000:]}
        if r.returncode != 0:
            return {"host": RUN_CRASHED, "host_detail": f"exit status {r.returncode}: "
                    + _first(err, ("",)), "host_log": err[-3000:]}
        got = fout.stat().st_size if fout.exists() else -1
        if got != want:
            return {"host": RUN_CRASHED,
                    "host_detail": f"wrote {got} output bytes, expected {want}"}
        return {"host": RAN, "host_seconds": round(time.perf_counter() - t0, 3)}
    finally:
        hb.close()


# ---------------------------------------------------------------------------------------------
# Worker processes: each mutant under a wall-clock timeout; a worker that overruns is killed and
# replaced and the mutant classified "hang".

def _vm_size() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _set_memory_limit(limit: int | None):
    """Address-space cap on a worker: `limit` bytes above what the process already maps (a forked
    pytest process may map gigabytes), so a mutant that makes the compiler allocate without bound
    gets a MemoryError instead of taking the machine's memory."""
    if limit is None:
        return
    limit += _vm_size()
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _unlimit_memory():
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (hard, hard))


def _task(kind: str, seeds, seed: int, index: int, root: Path, mem_limit):
    m = make_mutant(seeds, seed, index)
    parent = root / f"m{index}"
    parent.mkdir()
    try:
        res, c = compile_one(m.data, f"{m.label}.tflite", parent)
        if kind == "compile":
            return res
        if c is None:
            return {"host": BUILD_FAILED, "host_detail": "the mutant no longer compiles"}
        _unlimit_memory()                 # ASan reserves terabytes of address space
        try:
            return host_run(c, seed, index)
        finally:
            _set_memory_limit(mem_limit)
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def _worker_main(conn, seeds, root, mem_limit):
    _set_memory_limit(mem_limit)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        kind, seed, index = task
        try:
            res = _task(kind, seeds, seed, index, root, mem_limit)
        except BaseException as e:          # noqa: BLE001 -- a fault of the fuzzer itself
            res = {"internal": f"{type(e).__name__}: {e}\n{traceback.format_exc()[-2000:]}"}
        try:
            conn.send(res)
        except (EOFError, OSError, BrokenPipeError):
            return


class _Worker:
    def __init__(self, ctx, seeds, root, mem_limit):
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, seeds, root, mem_limit),
                                daemon=True)
        self.proc.start()
        child.close()
        self.task = None
        self.deadline = 0.0

    def send(self, task, timeout):
        self.task = task
        self.deadline = time.monotonic() + timeout
        self.conn.send(task)

    def kill(self):
        try:
            self.proc.kill()
        except Exception:       # noqa: BLE001
            pass
        self.proc.join(5)
        self.conn.close()


@dataclass
class Result:
    """One mutant's classification."""
    model: str
    seed: int
    index: int
    mutator: str
    detail: str
    outcome: str
    info: dict = field(default_factory=dict)    # error, message, where, files_hash, host ...

    @property
    def host(self) -> str | None:
        return self.info.get("host")

    @property
    def label(self) -> str:
        if self.mutator == "replay":
            return Path(self.model).stem
        return f"{Path(self.model).stem}-s{self.seed}-{self.index:06d}"

    def failures(self) -> list[str]:
        out = []
        if self.outcome == CRASH:
            out.append(f"crash: {self.info.get('error')}: {self.info.get('message', '')[:160]} "
                       f"at {self.info.get('where')}")
        if self.outcome == HANG:
            out.append(f"hang: {self.info.get('message', '')}")
        if self.info.get("half_written"):
            out.append(f"half-written output: {self.info.get('leftovers')}")
        if self.host in HOST_FAILURES:
            out.append(f"host run {self.host}: {self.info.get('host_detail')}")
        if "internal" in self.info:
            out.append(f"fuzzer error: {self.info['internal'].splitlines()[0]}")
        return out


@dataclass
class Campaign:
    seed: int
    results: list[Result]
    seconds: float
    saved: dict = field(default_factory=dict)       # index -> saved .tflite path

    def failing(self) -> list[Result]:
        return [r for r in self.results if r.failures()]

    def count(self, outcome: str) -> int:
        return sum(r.outcome == outcome for r in self.results)

    def host_count(self, outcome: str) -> int:
        return sum(r.host == outcome for r in self.results)


def run_campaign(seeds: list[SeedInfo], count: int, seed: int = 0, start: int = 0, jobs: int = 2,
                 run_share: float = 0.05, timeout: float = 20.0,
                 host_timeout: float = 180.0, save: Path | None = None,
                 mem_limit: int | None = 4 << 30, progress=None) -> Campaign:
    """Mutants start..start+count-1 of campaign `seed`. A share of the accepted ones (run_share for
    byte-level mutants, RUN_WEIGHT times that for the others; 1 runs them all) is built and run on
    the host, one build per distinct set of generated files. Failing mutants are saved to `save`
    as .tflite + .txt."""
    ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods()
                                      else "spawn")
    root = Path(tempfile.mkdtemp(prefix="tinykiln-fuzz-"))
    t0 = time.monotonic()
    results: dict[int, Result] = {}
    meta: dict[int, Mutant] = {}
    pending = deque(range(start, start + count))
    host_queue: deque[int] = deque()
    seen_builds: set[str] = set()
    can_build = shutil.which("gcc") is not None
    workers = [_Worker(ctx, seeds, root, mem_limit) for _ in range(max(1, jobs))]
    campaign = Campaign(seed, [], 0.0)
    done = 0

    def describe(index: int) -> Mutant:
        if index not in meta:
            m = make_mutant(seeds, seed, index)
            meta[index] = Mutant(m.model, m.seed, m.index, m.mutator, m.detail, b"")
        return meta[index]

    def selected(index: int, mutator: str) -> bool:
        share = run_share * RUN_WEIGHT.get(mutator, 1.0)
        return _rng(seed, index, "run").random() < min(1.0, share)

    def finish_compile(index: int, res: dict):
        nonlocal done
        m = describe(index)
        if "internal" in res:
            res.update(outcome=CRASH, error="FuzzerError", where="tests/fuzzing.py",
                       message=res["internal"].splitlines()[0])
        outcome = res.pop("outcome", CRASH)
        r = Result(m.model, seed, index, m.mutator, m.detail, outcome, res)
        results[index] = r
        if outcome == ACCEPTED and selected(index, m.mutator):
            if not can_build:
                r.info["host"] = SKIP_NO_CC
            elif res.get("macs", 0) > MAX_RUN_MACS or res.get("arena", 0) > MAX_RUN_ARENA:
                r.info["host"] = SKIP_LARGE
            elif res.get("files_hash") in seen_builds:
                r.info["host"] = SKIP_DUP
            else:
                seen_builds.add(res.get("files_hash"))
                host_queue.append(index)
                return
        done += 1
        _report(r)

    def finish_host(index: int, res: dict):
        nonlocal done
        r = results[index]
        r.info.update(res)
        done += 1
        _report(r)

    def _report(r: Result):
        if r.failures() and save is not None:
            campaign.saved[r.index] = save_reproducer(seeds, r, save)
        if progress is not None:
            progress(done, count, r)

    try:
        while pending or host_queue or any(w.task for w in workers):
            for w in workers:
                if w.task is None:
                    if host_queue:
                        w.send(("host", seed, host_queue.popleft()), host_timeout)
                    elif pending:
                        w.send(("compile", seed, pending.popleft()), timeout)
            busy = [w for w in workers if w.task]
            if not busy:
                continue
            left = max(0.0, min(w.deadline for w in busy) - time.monotonic())
            ready = wait([w.conn for w in busy], timeout=left)
            for i, w in enumerate(workers):
                if w.task is None:
                    continue
                kind, _, index = w.task
                res = None
                if w.conn in ready:
                    try:
                        res = w.conn.recv()
                    except (EOFError, OSError):
                        w.proc.join(5)
                        code = w.proc.exitcode
                        res = {"outcome": CRASH, "error": "WorkerDied",
                               "message": f"the worker process died (exit code {code}, e.g. "
                                          f"killed for memory or a fault in native code)",
                               "where": "(process)", "last_frame": "?"}
                        if kind == "host":
                            res = {"host": RUN_CRASHED, "host_detail": res["message"]}
                        w.kill()
                        workers[i] = _Worker(ctx, seeds, root, mem_limit)
                elif time.monotonic() >= w.deadline:
                    w.kill()
                    workers[i] = _Worker(ctx, seeds, root, mem_limit)
                    lim = timeout if kind == "compile" else host_timeout
                    if kind == "compile":
                        res = {"outcome": HANG, "message": f"no result within {lim:g} s"}
                    else:
                        res = {"host": RUN_HANG,
                               "host_detail": f"build and run took over {lim:g} s"}
                    shutil.rmtree(root / f"m{index}", ignore_errors=True)
                else:
                    continue
                w.task = None
                if kind == "compile":
                    finish_compile(index, res)
                else:
                    finish_host(index, res)
    finally:
        for w in workers:
            try:
                w.conn.send(None)
            except Exception:       # noqa: BLE001
                pass
        for w in workers:
            w.proc.join(2)
            if w.proc.is_alive():
                w.kill()
        shutil.rmtree(root, ignore_errors=True)
    campaign.results = [results[i] for i in sorted(results)]
    campaign.seconds = time.monotonic() - t0
    return campaign


def save_reproducer(seeds: list[SeedInfo], r: Result, folder: Path) -> Path:
    """Write the failing mutant as <label>-<class>.tflite with a .txt saying what happened."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    m = make_mutant(seeds, r.seed, r.index)
    kind = (r.outcome if r.outcome in (CRASH, HANG) else
            "half-written" if r.info.get("half_written") else
            (r.host or "failure")).replace(" ", "-")
    path = folder / f"{r.label}-{kind}.tflite"
    path.write_bytes(m.data)
    lines = [
        f"seed model: {r.model}; fuzz seed {r.seed}, mutant index {r.index}",
        f"mutator: {r.mutator}",
        f"edit: {r.detail}",
        f"compile: {r.outcome}" + (f" ({r.info.get('error')})" if r.info.get("error") else ""),
    ]
    for f in r.failures():
        lines.append(f"failure: {f}")
    for k in ("message", "where", "last_frame", "host_detail"):
        if r.info.get(k):
            lines.append(f"{k}: {r.info[k]}")
    if r.info.get("host_log"):
        lines.append("host log (tail):\n" + r.info["host_log"])
    lines.append(f"reproduce: tinykiln compile {path.name} -o /tmp/fuzz-out  (or: python "
                 f"benchmarks/fuzz.py --seed {r.seed} --start {r.index} --count 1 --run-share 1)")
    path.with_suffix(".txt").write_text("\n".join(lines) + "\n", errors="replace")
    return path


# ---------------------------------------------------------------------------------------------
# Tables

def _table(title: str, header: list[str], rows: list[list]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    fmt = lambda row: "  ".join(str(x).ljust(w) if i == 0 else str(x).rjust(w)  # noqa: E731
                                for i, (x, w) in enumerate(zip(row, widths)))
    sep = "  ".join("-" * w for w in widths)
    return "\n".join([title, fmt(header), sep, *(fmt(r) for r in rows), sep])


def tables(c: Campaign) -> list[tuple[str, list[str], list[list]]]:
    """(title, header, rows) of the compile table, the host-run table and the failure classes."""
    muts = list(MUTATORS) + ["replay"]
    by = {m: [r for r in c.results if r.mutator == m] for m in muts}
    h1 = ["mutator", "mutants", CLEAN, ACCEPTED, CRASH, HANG, "half-written", "multi-line error"]

    def row1(name, rs):
        return [name, len(rs), *(sum(r.outcome == o for r in rs) for o in COMPILE_OUTCOMES),
                sum(bool(r.info.get("half_written")) for r in rs),
                sum(r.outcome == CLEAN and not r.info.get("one_line", True) for r in rs)]
    rows1 = [row1(m, by[m]) for m in muts if by[m]] + [row1("total", c.results)]
    h2 = ["mutator", "selected", *HOST_OUTCOMES]

    def row2(name, rs):
        return [name, sum(r.host is not None for r in rs),
                *(sum(r.host == o for r in rs) for o in HOST_OUTCOMES)]
    rows2 = [row2(m, by[m]) for m in muts if by[m]] + [row2("total", c.results)]
    classes: dict[tuple, list[Result]] = {}
    for r in c.failing():
        if r.outcome == CRASH:
            key = ("crash", f"{r.info.get('error')} at {r.info.get('where')}")
        elif r.outcome == HANG:
            key = ("hang", r.mutator)
        elif r.info.get("half_written"):
            key = ("half-written", str(r.info.get("error")))
        elif r.host:      # one class per message shape: numbers (lines, tensors) masked
            key = (r.host, re.sub(r"\d+", "N", str(r.info.get("host_detail", "")))[:100])
        else:
            key = ("fuzzer error", r.info.get("internal", "")[:90])
        classes.setdefault(key, []).append(r)
    errs: dict[str, list[Result]] = {}
    for r in c.results:
        if r.outcome == CLEAN:
            errs.setdefault(r.info.get("error", "?"), []).append(r)
    h4 = ["error class", "count", "not one line", "example message"]
    rows4 = [[k, len(v), sum(not r.info.get("one_line", True) for r in v),
              _one_line(next((r for r in v if not r.info.get("one_line", True)), v[0])
                        .info.get("message", ""))[:110]]
             for k, v in sorted(errs.items(), key=lambda kv: -len(kv[1]))]
    h3 = ["class", "detail", "count", "example"]
    rows3 = [[k[0], k[1], len(v), str(c.saved.get(v[0].index, v[0].label))]
             for k, v in sorted(classes.items(), key=lambda kv: (kv[0][0], -len(kv[1])))]
    return [("compile outcomes per mutator", h1, rows1),
            ("clean errors (TinykilnError) by class", h4, rows4),
            ("host runs (ASan+UBSan) of accepted mutants", h2, rows2),
            ("failure classes", h3, rows3)]


def _one_line(msg: str) -> str:
    return msg.replace("\r", "\\r").replace("\n", "\\n")


def render_tables(c: Campaign, use_rich: bool = False) -> str | None:
    if use_rich:
        try:
            from rich.console import Console
            from rich.table import Table
        except ImportError:
            use_rich = False
    if not use_rich:
        return "\n\n".join(_table(t, h, r) for t, h, r in tables(c))
    console = Console()
    for title, header, rows in tables(c):
        tab = Table(title=title)
        for i, h in enumerate(header):
            text = i == 0 or h in ("detail", "example", "example message")
            tab.add_column(h, justify="left" if text else "right", no_wrap=i == 0)
        for r in rows:
            tab.add_row(*(str(x) for x in r))
        console.print(tab)
    return None


def failure_summary(c: Campaign, limit: int = 8) -> str:
    """The first few failures with what reproduces them."""
    lines = []
    for r in c.failing()[:limit]:
        saved = c.saved.get(r.index)
        how = (f"tinykiln compile {r.detail} -o OUT" if r.mutator == "replay" else
               f"python benchmarks/fuzz.py --seed {r.seed} --start {r.index} --count 1 "
               f"--run-share 1")
        lines.append(f"- {r.label} [{r.mutator}: {r.detail[:150]}] " + "; ".join(r.failures())
                     + (f" -> {saved}" if saved else "") + f" (reproduce: {how})")
    more = len(c.failing()) - limit
    if more > 0:
        lines.append(f"... and {more} more")
    return "\n".join(lines)


if __name__ == "__main__":         # pragma: no cover
    sys.exit("run benchmarks/fuzz.py")
