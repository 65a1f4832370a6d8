"""Spatial data movement bit-exact with TFLM: SPACE_TO_DEPTH, DEPTH_TO_SPACE, BATCH_TO_SPACE_ND,
SPACE_TO_BATCH_ND, MIRROR_PAD, RESIZE_NEAREST_NEIGHBOR, RESIZE_BILINEAR, and the int16 / int32
forms of PAD, PADV2, CONCATENATION, RESHAPE and SQUEEZE.

As in test_ops_misc.py: each table row is one single-op case, all rows of a family become
independent ops of one model, compiled once, built with ASan+UBSan and run on 50 input rows (two
of them the type's extremes) against TFLM's interpreter, byte for byte."""
import importlib.util
import subprocess
import sys

import numpy as np
import pytest

from casemodel import CaseModel
from modelgen import ModelBuilder
from tflm_oracle import assert_cases_match_tflm
from tinykiln.compile import compile_graph
from tinykiln.errors import TinykilnError
from tinykiln.frontend.tflite_import import parse_tflite

ROWS = 50
LIMITS = {"int8": (-128, 127), "int16": (-32768, 32767), "int32": (-(1 << 31), (1 << 31) - 1),
          "int64": (-(1 << 63), (1 << 63) - 1), "bool": (0, 1)}
QUANTIZED = ("int8", "int16")

# ---- SPACE_TO_DEPTH / DEPTH_TO_SPACE: op, input shape, block size, zero point
DEPTH = [
    ("SPACE_TO_DEPTH", (1, 4, 4, 3), 2, -3),
    ("SPACE_TO_DEPTH", (2, 6, 9, 1), 3, 0),
    ("SPACE_TO_DEPTH", (1, 4, 6, 5), 1, 7),
    ("SPACE_TO_DEPTH", (3, 8, 4, 2), 4, -128),
    ("DEPTH_TO_SPACE", (1, 2, 2, 12), 2, -3),
    ("DEPTH_TO_SPACE", (2, 3, 2, 9), 3, 5),
    ("DEPTH_TO_SPACE", (1, 3, 5, 4), 1, 0),
    ("DEPTH_TO_SPACE", (3, 2, 3, 4), 2, 127),
]

# ---- BATCH_TO_SPACE_ND / SPACE_TO_BATCH_ND: op, input shape, block shape, crops / paddings,
# zero point (SPACE_TO_BATCH_ND without padding: TFLM's padding value is unset, see below)
BATCH = [
    ("BATCH_TO_SPACE_ND", (4, 2, 2, 3), [2, 2], [[0, 0], [0, 0]], -3),
    ("BATCH_TO_SPACE_ND", (8, 3, 2, 2), [2, 2], [[1, 0], [0, 1]], 0),
    ("BATCH_TO_SPACE_ND", (6, 2, 3, 1), [3, 2], [[2, 1], [1, 2]], 9),
    ("BATCH_TO_SPACE_ND", (4, 3, 3, 2), [1, 4], [[0, 1], [3, 0]], -128),
    ("BATCH_TO_SPACE_ND", (6, 4, 2), [3], [[1, 2]], 4),                  # 3D
    ("SPACE_TO_BATCH_ND", (1, 4, 4, 3), [2, 2], [[0, 0], [0, 0]], -3),
    ("SPACE_TO_BATCH_ND", (2, 6, 3, 2), [3, 1], [[0, 0], [0, 0]], 7),
    ("SPACE_TO_BATCH_ND", (2, 4, 3), [2], [[0, 0]], -7),                   # 3D
]

# ---- MIRROR_PAD: input shape, paddings, mode (0 REFLECT, 1 SYMMETRIC), paddings dtype
MIRROR = [
    ((1, 5, 5, 3), [[0, 0], [1, 1], [2, 2], [0, 0]], 0, "int32"),
    ((1, 5, 5, 3), [[0, 0], [1, 1], [2, 2], [0, 0]], 1, "int32"),
    ((1, 4, 6, 2), [[0, 0], [3, 0], [0, 5], [0, 0]], 0, "int32"),
    ((1, 4, 6, 2), [[0, 0], [4, 1], [6, 6], [0, 0]], 1, "int32"),
    ((2, 3, 4), [[1, 1], [2, 0], [3, 3]], 0, "int32"),        # every dim, channels too
    ((2, 3, 4), [[2, 1], [0, 3], [4, 4]], 1, "int64"),
    ((7,), [[6, 6]], 0, "int32"),
    ((1, 1, 3, 1), [[0, 0], [0, 0], [1, 1], [0, 0]], 1, "int32"),
    ((2, 2, 2, 2, 3), [[1, 1], [1, 0], [0, 1], [1, 1], [2, 2]], 0, "int32"),   # 5D
]

# ---- RESIZE_NEAREST_NEIGHBOR / RESIZE_BILINEAR: op, dtype, input shape, size, align_corners,
# half_pixel_centers, (scale, zero point)
RESIZE = [
    ("RESIZE_NEAREST_NEIGHBOR", "int8", (1, 4, 4, 3), (8, 8), False, False, (0.05, -3)),
    ("RESIZE_NEAREST_NEIGHBOR", "int8", (1, 4, 4, 3), (8, 8), False, True, (0.05, -3)),
    ("RESIZE_NEAREST_NEIGHBOR", "int8", (2, 5, 3, 2), (7, 11), True, False, (0.1, 0)),
    ("RESIZE_NEAREST_NEIGHBOR", "int8", (1, 5, 7, 1), (3, 4), True, True, (0.1, 127)),
    ("RESIZE_NEAREST_NEIGHBOR", "int8", (1, 6, 6, 4), (4, 9), False, False, (0.1, 5)),
    ("RESIZE_NEAREST_NEIGHBOR", "int8", (1, 3, 3, 2), (1, 1), True, False, (0.1, 5)),
    ("RESIZE_NEAREST_NEIGHBOR", "int16", (1, 4, 4, 3), (8, 8), False, True, (0.001, 0)),
    ("RESIZE_NEAREST_NEIGHBOR", "int16", (2, 5, 3, 2), (7, 11), True, False, (0.001, 0)),
    ("RESIZE_NEAREST_NEIGHBOR", "int16", (1, 6, 6, 1), (4, 9), False, False, (0.001, 0)),
    ("RESIZE_NEAREST_NEIGHBOR", "int16", (1, 3, 5, 2), (6, 5), True, True, (0.001, 5)),
    ("RESIZE_BILINEAR", "int8", (1, 4, 4, 3), (8, 8), False, True, (0.05, -3)),   # UpSampling2D
    ("RESIZE_BILINEAR", "int8", (1, 4, 4, 3), (8, 8), False, False, (0.05, -3)),
    ("RESIZE_BILINEAR", "int8", (2, 5, 3, 2), (7, 11), True, False, (0.1, 0)),
    ("RESIZE_BILINEAR", "int8", (1, 6, 7, 2), (4, 3), False, True, (0.1, 127)),   # shrink
    ("RESIZE_BILINEAR", "int8", (1, 6, 7, 2), (4, 3), False, False, (0.1, -128)),
    ("RESIZE_BILINEAR", "int8", (1, 3, 5, 4), (10, 13), False, True, (0.1, 4)),
    ("RESIZE_BILINEAR", "int8", (1, 3, 5, 4), (1, 1), True, False, (0.1, 4)),
    ("RESIZE_BILINEAR", "int8", (1, 1, 1, 3), (5, 2), False, True, (0.1, 4)),
    ("RESIZE_BILINEAR", "int8", (2, 2, 3, 2), (8, 12), False, True, (0.1, 0)),    # weights < 0
    ("RESIZE_BILINEAR", "int8", (1, 7, 5, 3), (3, 2), True, False, (0.1, 0)),
]

# ---- PAD / PADV2, int16: op, input shape, paddings, zero point, PADV2 constant value
PAD16 = [
    ("PAD", (1, 5, 5, 3), [[0, 0], [1, 1], [1, 1], [0, 0]], 0, None),
    ("PAD", (2, 3, 4, 5), [[1, 0], [0, 2], [1, 1], [2, 1]], 0, None),
    ("PAD", (1, 4, 6), [[0, 0], [2, 3], [0, 0]], 0, None),
    ("PAD", (1, 3, 3, 2, 2), [[0, 0], [1, 0], [0, 1], [1, 1], [0, 0]], 0, None),
    ("PAD", (1, 4, 3), [[0, 0], [1, 1], [1, 1]], 40, None),      # TFLM pads 0, not the zp
    ("PADV2", (1, 5, 5, 3), [[0, 0], [1, 2], [3, 0], [0, 0]], 0, -32768),
    ("PADV2", (1, 4, 8), [[0, 0], [0, 0], [1, 1]], 0, 1234),
]

# ---- CONCATENATION, int16 (zero points 0), int32, int64 and bool: dtype, input shapes
# (("const", shape) for a constant), axis
CONCAT = [
    ("int16", [(1, 4, 4, 3), (1, 4, 4, 5)], -1),
    ("int16", [(1, 2, 4, 3), (1, 3, 4, 3), (1, 1, 4, 3)], 1),
    ("int16", [(1, 4, 4, 3), ("const", (1, 4, 4, 2))], 3),
    ("int16", [(2, 3), (2, 3)], 0),
    ("int32", [(1, 5, 2), (1, 5, 3), (1, 5, 1)], 2),
    ("int32", [(3, 2), ("const", (3, 4))], -1),
    ("int64", [(2, 2, 3), (2, 1, 3)], 1),
    ("bool", [(4, 3), ("const", (4, 2)), (4, 1)], 1),
]


class _Model(CaseModel):
    def input(self, shape, dtype="int8", scale=0.05, zp=0):
        quant = {"scale": scale, "zero_point": zp} if dtype in QUANTIZED else {}
        return self.feed(shape, dtype, **quant)


def _depth_cases(m):
    for k, (opc, shape, bs, zp) in enumerate(DEPTH):
        x = m.input(shape, zp=zp)
        n, h, w, c = shape
        oshape = (n, h // bs, w // bs, c * bs * bs) if opc == "SPACE_TO_DEPTH" else \
            (n, h * bs, w * bs, c // (bs * bs))
        y = m.b.tensor(oshape, scale=0.05, zero_point=zp)
        m.b.op(opc, [x], [y], block_size=bs)
        m.output(y, f"{opc.lower()}{k}")


def _batch_cases(m):
    for k, (opc, shape, block, amounts, zp) in enumerate(BATCH):
        x = m.input(shape, zp=zp)
        spatial = list(shape[1:1 + len(block)])
        if opc == "BATCH_TO_SPACE_ND":
            n = shape[0] // int(np.prod(block))
            spatial = [d * b - a - z for d, b, (a, z) in zip(spatial, block, amounts)]
        else:
            n = shape[0] * int(np.prod(block))
            spatial = [(d + a + z) // b for d, b, (a, z) in zip(spatial, block, amounts)]
        y = m.b.tensor((n, *spatial, shape[-1]), scale=0.05, zero_point=zp)
        m.b.op(opc, [x, m.b.const(np.array(block, np.int32)),
                     m.b.const(np.array(amounts, np.int32))], [y])
        m.output(y, f"{opc.lower()}{k}")


def _mirror_cases(m):
    for k, (shape, pads, mode, pdtype) in enumerate(MIRROR):
        x = m.input(shape, zp=-2)
        oshape = [d + a + b for d, (a, b) in zip(shape, pads)]
        y = m.b.tensor(oshape, scale=0.05, zero_point=-2)
        m.b.op("MIRROR_PAD", [x, m.b.const(np.array(pads, pdtype))], [y], mode=mode)
        m.output(y, f"mirror{k}")


def _resize_cases(m):
    for k, (opc, dtype, shape, size, align, half, (s, zp)) in enumerate(RESIZE):
        x = m.input(shape, dtype, s, zp)
        y = m.b.tensor((shape[0], *size, shape[3]), scale=s, zero_point=zp, dtype=dtype)
        m.b.op(opc, [x, m.b.const(np.array(size, np.int32))], [y], align_corners=align,
               half_pixel_centers=half)
        m.output(y, f"{opc.lower()}{k}")


def _pad16_cases(m):
    for k, (opc, shape, pads, zp, value) in enumerate(PAD16):
        x = m.input(shape, "int16", 0.001, zp)
        oshape = [d + a + b for d, (a, b) in zip(shape, pads)]
        y = m.b.tensor(oshape, scale=0.001, zero_point=zp, dtype="int16")
        ins = [x, m.b.const(np.array(pads, np.int32))]
        if opc == "PADV2":
            ins.append(m.b.const(np.array([value], np.int16), scale=0.001, zero_point=zp))
        m.b.op(opc, ins, [y])
        m.output(y, f"pad16_{k}")


def _concat_cases(m):
    for k, (dtype, shapes, axis) in enumerate(CONCAT):
        quant = {"scale": 0.001, "zero_point": 0} if dtype in QUANTIZED else {}
        ins = [m.b.const(m.rand(sh[1], dtype), dtype=dtype, **quant) if sh[0] == "const" else
               m.input(sh, dtype, 0.001, 0) for sh in shapes]
        shapes = [sh[1] if sh[0] == "const" else sh for sh in shapes]
        oshape = list(shapes[0])
        oshape[axis] = sum(sh[axis] for sh in shapes)
        y = m.b.tensor(oshape, dtype=dtype, **quant)
        m.b.op("CONCATENATION", ins, [y], axis=axis)
        m.output(y, f"concat_{dtype}_{k}")


def _reshape_cases(m):
    """Reshapes of other types than int8: an alias (input to output), a copy (of a constant),
    a squeeze."""
    b = m.b
    for dtype in ("int16", "int32", "int64", "bool"):
        quant = {"scale": 0.001, "zero_point": 0} if dtype in QUANTIZED else {}
        y = b.tensor((1, 48), dtype=dtype, **quant)
        b.op("RESHAPE", [m.input((1, 4, 4, 3), dtype, 0.001, 0),
                         b.const(np.array([1, 48], np.int32))], [y], new_shape=[1, 48])
        m.output(y, f"reshape_{dtype}")
        y = b.tensor((12,), dtype=dtype, **quant)
        b.op("RESHAPE", [b.const(m.rand((2, 6), dtype), dtype=dtype, **quant),
                         b.const(np.array([12], np.int32))], [y], new_shape=[12])
        m.output(y, f"reshape_const_{dtype}")
        y = b.tensor((1, 8), dtype=dtype, **quant)
        b.op("SQUEEZE", [m.input((1, 1, 1, 8), dtype, 0.001, 0)], [y], squeeze_dims=[1, 2])
        m.output(y, f"squeeze_{dtype}")


FAMILIES = {"depth": (_depth_cases, len(DEPTH)), "batch": (_batch_cases, len(BATCH)),
            "mirror": (_mirror_cases, len(MIRROR)), "resize": (_resize_cases, len(RESIZE)),
            "pad16": (_pad16_cases, len(PAD16)), "concat": (_concat_cases, len(CONCAT)),
            "reshape": (_reshape_cases, 12)}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_bit_exact_with_tflm(family):
    build, n_cases = FAMILIES[family]
    m = _Model(seed=sum(map(ord, family)) + 11)
    build(m)
    assert len(m.names) == n_cases
    assert m.check() > 0


# ---- what TFLM refuses, would read outside its input on, or tinykiln does not run: one
# sentence each, naming the op
def _single(b, opc, shape, oshape, operands=(), dtype="int8", zp=0, out_zp=None, **options):
    x = b.input(shape, 0.05, zp, dtype)
    y = b.tensor(oshape, scale=0.05, zero_point=zp if out_zp is None else out_zp, dtype=dtype)
    b.op(opc, [x, *(b.const(np.array(v, t)) for v, t in operands)], [y], **options)
    b.output(y)


REFUSED = [
    (dict(opc="RESIZE_BILINEAR", shape=(1, 4, 4, 3), oshape=(1, 8, 8, 3),
          operands=[([8, 8], "int32")], align_corners=True, half_pixel_centers=True),
     "both set; TFLM refuses"),
    (dict(opc="RESIZE_BILINEAR", shape=(1, 4, 4, 3), oshape=(1, 8, 8, 3), dtype="int16",
          operands=[([8, 8], "int32")]), "only int8 input and output"),
    # TFLM's fixed point would pick source row 1 of a 1-row input
    (dict(opc="RESIZE_BILINEAR", shape=(1, 1, 2, 3), oshape=(1, 2000, 2, 3),
          operands=[([2000, 2], "int32")]), "pass the input's edge"),
    (dict(opc="RESIZE_NEAREST_NEIGHBOR", shape=(1, 4, 4, 3), oshape=(1, 8, 9, 3),
          operands=[([8, 8], "int32")]), r"output shape should be \[1, 8, 8, 3\]"),
    (dict(opc="RESIZE_NEAREST_NEIGHBOR", shape=(1, 4, 4, 3), oshape=(1, 8, 8, 3),
          operands=[([8, 8, 1], "int32")]), "size operand has shape"),
    (dict(opc="MIRROR_PAD", shape=(1, 3, 3, 2), oshape=(1, 9, 3, 2),
          operands=[([[0, 0], [3, 3], [0, 0], [0, 0]], "int32")], mode=0),
     r"REFLECT padding of dim 1 \(size 3\) is \(3, 3\)"),
    (dict(opc="MIRROR_PAD", shape=(1, 3, 3, 2), oshape=(1, 5, 3, 2),
          operands=[([[0, 0], [1, 1], [0, 0], [0, 0]], "int32")], mode=2),
     "neither 0 .REFLECT. nor 1"),
    (dict(opc="SPACE_TO_DEPTH", shape=(1, 5, 4, 2), oshape=(1, 2, 2, 8), block_size=2),
     "multiples of block_size 2"),
    (dict(opc="DEPTH_TO_SPACE", shape=(1, 2, 2, 8), oshape=(1, 4, 4, 2), block_size=0),
     "block_size is 0"),
    (dict(opc="SPACE_TO_BATCH_ND", shape=(1, 5, 4, 1), oshape=(4, 2, 2, 1),
          operands=[([2, 2], "int32"), ([[0, 0], [0, 0]], "int32")]), "padded height 5"),
    (dict(opc="BATCH_TO_SPACE_ND", shape=(4, 2, 2, 3), oshape=(1, 4, 4, 3),
          operands=[([2, 2], "int32"), ([[0, -1], [0, 0]], "int32")]), "must not be negative"),
    (dict(opc="BATCH_TO_SPACE_ND", shape=(4, 2, 2, 3), oshape=(1, 4, 4, 3),
          operands=[([2, 2], "int64"), ([[0, 0], [0, 0]], "int32")]),
     "block shape operand must be a constant int32"),
    (dict(opc="SPACE_TO_DEPTH", shape=(1, 4, 4, 2), oshape=(1, 2, 2, 8), dtype="int16",
          block_size=2), "only int8 input and output"),
    (dict(opc="PAD", shape=(1, 4, 4, 2), oshape=(1, 4, 4, 2), dtype="int32",
          operands=[([[0, 0]] * 4, "int32")]), "only int8 or int16"),
]


@pytest.mark.parametrize("case,message", REFUSED)
def test_refused_with_one_sentence(case, message):
    b = ModelBuilder()
    if case.get("dtype") == "int32":
        x = b.input(case["shape"], dtype="int32")
        y = b.tensor(case["oshape"], dtype="int32")
        b.op(case["opc"], [x, b.const(np.array(case["operands"][0][0], np.int32))], [y])
        b.output(y)
    else:
        _single(b, **case)
    with pytest.raises(TinykilnError, match=message) as e:
        compile_graph(b.g)
    text = str(e.value)
    assert text.startswith(f"op 0 ({case['opc']}") and text.count(". ") == 0, text


def test_refused_int16_concat_zero_point_and_padv2_value():
    b = ModelBuilder()
    x, z = b.input((1, 2, 3), 0.001, 0, "int16"), b.input((1, 2, 3), 0.001, 3, "int16")
    y = b.tensor((1, 4, 3), scale=0.001, zero_point=0, dtype="int16")
    b.op("CONCATENATION", [x, z], [y], axis=1)
    b.output(y)
    with pytest.raises(TinykilnError, match="int16 inputs and output must have zero point 0"):
        compile_graph(b.g)
    b = ModelBuilder()
    x = b.input((1, 2, 3), 0.001, 0, "int16")
    y = b.tensor((1, 4, 3), scale=0.001, zero_point=0, dtype="int16")
    b.op("PADV2", [x, b.const(np.array([[0, 0], [1, 1], [0, 0]], np.int32)),
                   b.const(np.array([3], np.int8), scale=0.001, zero_point=0)], [y])
    b.output(y)
    with pytest.raises(TinykilnError, match="must be a constant int16 scalar"):
        compile_graph(b.g)


def test_tflm_fill_values_are_warned():
    """Where TFLM fills with 0 rather than the zero point (int16 PAD), tinykiln does the same and
    says so; a padded SPACE_TO_BATCH_ND, whose padding TFLM leaves unset (stack contents, other
    bytes from run to run), is refused."""
    b = ModelBuilder()
    _single(b, "PAD", (1, 3, 4), (1, 5, 4), [([[0, 0], [1, 1], [0, 0]], "int32")],
            dtype="int16", zp=9)
    _single(b, "SPACE_TO_DEPTH", (1, 4, 4, 2), (1, 2, 2, 8), zp=1, out_zp=2, block_size=2)
    warnings = " ".join(compile_graph(b.g).report["warnings"])
    assert "op 0 (PAD): TFLM pads int16 with 0, not the output zero point 9" in warnings
    assert "op 1 (SPACE_TO_DEPTH): the output is quantized unlike the input" in warnings
    b = ModelBuilder()
    _single(b, "SPACE_TO_BATCH_ND", (1, 3, 4, 2), (4, 2, 2, 2),
            [([2, 2], "int32"), ([[1, 0], [0, 0]], "int32")], zp=5)
    with pytest.raises(TinykilnError, match=r"op 0 \(SPACE_TO_BATCH_ND.*never sets"):
        compile_graph(b.g)


# ---- as TensorFlow's converter emits them from Keras (converted in a child process, so this
# test process never imports TensorFlow). Keras' UpSampling2D with interpolation="nearest" is
# left out: it converts to RESHAPE and TILE, and TFLM has no TILE kernel.
_CONVERT = r"""
import sys
import numpy as np
import tensorflow as tf
import keras
L = keras.layers
inp = keras.Input((6, 6, 4), batch_size=1)
x = L.Conv2D(4, 1)(inp)
outs = [L.Resizing(12, 12, interpolation="nearest")(x),
        L.UpSampling2D(2, interpolation="bilinear")(x),
        L.Lambda(lambda t: tf.nn.depth_to_space(t, 2))(x),
        L.Lambda(lambda t: tf.nn.space_to_depth(t, 2))(x),
        L.Lambda(lambda t: tf.pad(t, [[0, 0], [2, 2], [1, 1], [0, 0]], mode="REFLECT"))(x),
        L.Lambda(lambda t: tf.pad(t, [[0, 0], [1, 2], [2, 1], [0, 0]], mode="SYMMETRIC"))(x),
        L.Concatenate()([L.ZeroPadding2D(1)(x), L.ZeroPadding2D(1)(x * 2.0)])]
rng = np.random.default_rng(0)
c = tf.lite.TFLiteConverter.from_keras_model(keras.Model(inp, outs))
c.optimizations = [tf.lite.Optimize.DEFAULT]
c.representative_dataset = lambda: ([rng.normal(0, 1, (1, 6, 6, 4)).astype(np.float32)]
                                    for _ in range(20))
c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
c.inference_input_type = tf.int8
c.inference_output_type = tf.int8
open(sys.argv[1], "wb").write(c.convert())
"""


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None,
                    reason="TensorFlow is not installed: no Keras model can be converted")
def test_keras_converted_spatial_ops(tmp_path):
    path = tmp_path / "spatial.tflite"
    subprocess.run([sys.executable, "-c", _CONVERT, str(path)], check=True, capture_output=True,
                   timeout=300)
    buf = path.read_bytes()
    g = parse_tflite(buf)
    options = {op.opcode: op.options for op in g.ops}
    assert {"RESIZE_NEAREST_NEIGHBOR", "RESIZE_BILINEAR", "DEPTH_TO_SPACE", "SPACE_TO_DEPTH",
            "MIRROR_PAD", "PAD", "CONCATENATION"} <= set(options)
    for op in ("RESIZE_NEAREST_NEIGHBOR", "RESIZE_BILINEAR"):     # as the converter sets them
        assert options[op]["half_pixel_centers"] and not options[op]["align_corners"]
    assert sorted(op.options["mode"] for op in g.ops if op.opcode == "MIRROR_PAD") == [0, 1]
    x = np.random.default_rng(1).integers(-128, 128, (ROWS, 1, 6, 6, 4), dtype=np.int8)
    x[0], x[1] = -128, 127
    assert assert_cases_match_tflm(buf, [x], [f"output{k}" for k in range(len(g.outputs))]) > 0
