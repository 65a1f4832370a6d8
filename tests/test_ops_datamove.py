"""Data movement (TRANSPOSE, STRIDED_SLICE, SLICE, SPLIT, SPLIT_V, PACK, UNPACK, GATHER, EXPAND_DIMS,
BROADCAST_TO) and compile-time folding (SHAPE, FILL, ZEROS_LIKE, BROADCAST_ARGS): bit-exact with TFLM.

Each table row is one single-op case; all rows of a family become independent ops of one model,
compiled once, built with ASan+UBSan and run on 50 input rows (two of them the type's extremes)
against TFLM's interpreter."""
import numpy as np
import pytest

from casemodel import CaseModel
from modelgen import ModelBuilder
from tflm_oracle import assert_cases_match_tflm
from tinykiln.compile import compile_graph
from tinykiln.errors import UnsupportedError
from tinykiln.frontend.tflite_import import parse_tflite
from tinykiln.targets.hostrun import HostBuild

ROWS = 50
LIMITS = {"int8": (-128, 127), "int16": (-32768, 32767), "int32": (-(1 << 31), (1 << 31) - 1),
          "int64": (-(1 << 63), (1 << 63) - 1), "bool": (0, 1)}

# ---- TRANSPOSE: input shape, perm, type
TRANSPOSE = [
    ((1, 4, 5, 3), [0, 3, 1, 2], "int8"),
    ((2, 3, 4), [2, 0, 1], "int16"),
    ((2, 3, 4, 5, 2), [4, 2, 0, 3, 1], "int8"),
    ((6, 7), [1, 0], "int16"),
    ((3, 4, 5, 2), [0, 1, 3, 2], "int8"),
    ((1, 8, 3), [0, 1, 2], "int8"),
]

# ---- STRIDED_SLICE: input shape, begin, end, strides, options, type
STRIDED_SLICE = [
    ((1, 10, 8), [0, 2, 1], [1, 9, 7], [1, 2, 3], {}, "int8"),
    ((4, 6), [-1, -2], [-5, 0], [-1, -2], {}, "int16"),
    ((3, 5, 4), [1, 9, 2], [0, 1, 0], [1, -1, 1], {"begin_mask": 0b001, "end_mask": 0b101},
     "int8"),
    ((1, 5, 6), [0, 2, 0], [1, 3, 6], [1, 1, 1], {"shrink_axis_mask": 0b011}, "int8"),
    ((2, 7, 3), [0, -1, 0], [2, 0, 3], [1, 1, 1], {"shrink_axis_mask": 0b010}, "int16"),
    ((2, 3, 4, 5), [1, 0, -3, 4], [2, 100, -1, 0], [1, 2, 1, -2], {}, "int8"),
    ((9,), [-100], [100], [4], {}, "int32"),
    ((1, 49, 10), [0, 0, 0], [1, 1, 10], [1, 1, 1], {"begin_mask": 7, "end_mask": 5,
                                                     "shrink_axis_mask": 2}, "int8"),
    ((3, 4), [0, 1], [3, 3], [1, 1], {"offset": True}, "int8"),     # TFLM ignores offset
    ((3, 4), [1, 1], [3, 3], [1, 1], {"ellipsis_mask": 1, "new_axis_mask": 2}, "int8"),  # and these
    ((5, 6), [4, 1], [0, 6], [-2, 2], {}, "bool"),
    ((6,), [-1], [0], [-1], {"end_mask": 1}, "int16"),                  # reversed, to the start
    ((2, 3, 4, 5), [1, 0, 0, -2], [2, 3, 4, -1], [1, 1, 3, 1], {"shrink_axis_mask": 9}, "int16"),
]

# ---- SLICE: input shape, begin, size, type, begin/size type
SLICE = [
    ((1, 6, 7, 3), [0, 1, 2, 0], [1, 3, -1, 2], "int8", np.int32),
    ((5, 4), [1, 0], [3, -1], "int16", np.int64),
    ((2, 3, 4, 5, 6), [1, 0, 1, 2, 3], [1, 3, 2, 2, 3], "int8", np.int32),
    ((10,), [3], [4], "int32", np.int32),
    ((4, 6), [1, 2], [2, -1], "bool", np.int32),
]

# ---- SPLIT / SPLIT_V: op, input shape, axis, num_splits or size_splits, type
SPLIT = [
    ("SPLIT", (1, 8, 6), 2, 3, "int8"),
    ("SPLIT", (4, 6), -2, 2, "int16"),
    ("SPLIT", (2, 4, 3), 0, 1, "int32"),
    ("SPLIT_V", (1, 10, 3), 1, [2, -1, 5], "int8"),
    ("SPLIT_V", (6, 4), 0, [1, 1, 4], "int16"),
    ("UNPACK", (1, 5, 3), 1, 5, "int8"),
    ("UNPACK", (3, 4), -1, 4, "int16"),
    ("UNPACK", (2, 3), 0, 2, "int32"),
]

# ---- PACK: input shape, count, axis, type
PACK = [
    ((2, 3), 3, 0, "int8"),
    ((4, 5), 2, -1, "int16"),
    ((2, 2, 3), 4, 1, "int32"),
    ((), 5, 0, "int8"),
    ((3,), 2, 1, "int64"),
]

# ---- GATHER: input shape, indices (a list: constant; a shape: computed), axis, batch_dims
GATHER = [
    ((5, 4), [4, 0, 2], 0, 0),
    ((2, 6, 3), [[1, 5], [0, 0]], 1, 0),
    ((2, 6, 3), (4,), -2, 0),
    ((7,), (2, 3), 0, 0),
    ((2, 5, 3), [[1, 4, 0, 1], [2, 2, 3, 0]], 1, 1),
    ((2, 5, 3), (2, 3), 1, -1),
    ((3, 4), 2, 1, 0),
]

# ---- BROADCAST_TO: input shape, output shape, type
BROADCAST_TO = [
    ((1, 3), (4, 3), "int8"),
    ((3, 1, 2), (2, 3, 5, 2), "int16"),
    ((5,), (2, 5), "int32"),
    ((2, 1, 3, 1), (2, 4, 3, 2), "int8"),
]

# ---- EXPAND_DIMS: input shape, axis, type
EXPAND_DIMS = [((1, 5, 3), -1, "int8"), ((4,), 0, "int16"), ((2, 3), 1, "int8")]


class _Model(CaseModel):
    def input(self, shape, dtype="int8", lo=None, hi=None):
        quant = {} if dtype not in ("int8", "int16") else {
            "scale": 0.05, "zero_point": 0 if dtype == "int16" else -3}
        return self.feed(shape, dtype, lo, hi, extremes=lo is None, **quant)

    def tensor(self, shape, dtype):
        if dtype not in ("int8", "int16"):
            return self.b.tensor(shape, dtype=dtype)
        return self.b.tensor(shape, scale=0.05, zero_point=0 if dtype == "int16" else -3,
                             dtype=dtype)


def _i32(values, dtype=np.int32):
    return np.array(values, dtype)


def _transpose_cases(m):
    for k, (shape, perm, dt) in enumerate(TRANSPOSE):
        x = m.input(shape, dt)
        y = m.tensor([shape[p] for p in perm], dt)
        m.b.op("TRANSPOSE", [x, m.b.const(_i32(perm))], [y])
        m.output(y, f"transpose{k}")


def _strided_slice_cases(m):
    for k, (shape, begin, end, strides, opts, dt) in enumerate(STRIDED_SLICE):
        x = m.input(shape, dt)
        ref = np.arange(int(np.prod(shape))).reshape(shape)
        idx = []
        for d in range(len(shape)):
            b = None if opts.get("begin_mask", 0) >> d & 1 else begin[d]
            e = None if opts.get("end_mask", 0) >> d & 1 else end[d]
            idx.append(begin[d] if opts.get("shrink_axis_mask", 0) >> d & 1
                       else slice(b, e, strides[d]))
        y = m.tensor(ref[tuple(idx)].shape, dt)
        m.b.op("STRIDED_SLICE", [x, m.b.const(_i32(begin)), m.b.const(_i32(end)),
                                 m.b.const(_i32(strides))], [y], **opts)
        m.output(y, f"strided_slice{k}")


def _slice_cases(m):
    for k, (shape, begin, size, dt, it) in enumerate(SLICE):
        x = m.input(shape, dt)
        oshape = [n - b if z == -1 else z for n, b, z in zip(shape, begin, size)]
        y = m.tensor(oshape, dt)
        m.b.op("SLICE", [x, m.b.const(_i32(begin, it)), m.b.const(_i32(size, it))], [y])
        m.output(y, f"slice{k}")


def _split_cases(m):
    for k, (opc, shape, axis, n, dt) in enumerate(SPLIT):
        x = m.input(shape, dt)
        a = axis % len(shape)
        if opc == "UNPACK":
            oshape = [d for i, d in enumerate(shape) if i != a]
            outs = [m.tensor(oshape, dt) for _ in range(n)]
            m.b.op("UNPACK", [x], outs, num=n, axis=axis)
        else:
            sizes = [shape[a] // n] * n if opc == "SPLIT" else list(n)
            if -1 in sizes:
                sizes[sizes.index(-1)] = shape[a] - sum(s for s in sizes if s != -1)
            outs = [m.tensor(shape[:a] + (s,) + shape[a + 1:], dt) for s in sizes]
            if opc == "SPLIT":
                m.b.op("SPLIT", [m.b.const(_i32([axis])), x], outs, num_splits=n)
            else:
                m.b.op("SPLIT_V", [x, m.b.const(_i32(n)), m.b.const(_i32(axis))], outs,
                       num_splits=len(n))
        for j, t in enumerate(outs):
            m.output(t, f"{opc.lower()}{k}_{j}")


def _pack_cases(m):
    for k, (shape, n, axis, dt) in enumerate(PACK):
        xs = [m.input(shape, dt) for _ in range(n)]
        a = axis % (len(shape) + 1)
        y = m.tensor(shape[:a] + (n,) + shape[a:], dt)
        m.b.op("PACK", xs, [y], values_count=n, axis=axis)
        m.output(y, f"pack{k}")


def _gather_cases(m):
    for k, (shape, ix, axis, bd) in enumerate(GATHER):
        x = m.input(shape, "int8")
        a = axis % len(shape)
        if isinstance(ix, tuple):
            ishape = ix
            i = m.input(ix, "int32", 0, shape[a] - 1)
        else:
            ishape = np.array(ix).shape
            i = m.b.const(_i32(ix))
        b = bd % len(ishape) if bd < 0 else bd
        y = m.tensor(shape[:a] + tuple(ishape[b:]) + shape[a + 1:], "int8")
        m.b.op("GATHER", [x, i], [y], axis=axis, batch_dims=bd)
        m.output(y, f"gather{k}")


def _broadcast_cases(m):
    for k, (shape, oshape, dt) in enumerate(BROADCAST_TO):
        x = m.input(shape, dt)
        y = m.tensor(oshape, dt)
        m.b.op("BROADCAST_TO", [x, m.b.const(_i32(oshape))], [y])
        m.output(y, f"broadcast_to{k}")


def _expand_dims_cases(m):
    for k, (shape, axis, dt) in enumerate(EXPAND_DIMS):
        x = m.input(shape, dt)
        a = axis + len(shape) + 1 if axis < 0 else axis
        oshape = shape[:a] + (1,) + shape[a:]
        y = m.tensor(oshape, dt)
        m.b.op("EXPAND_DIMS", [x, m.b.const(_i32([axis]))], [y])
        if k == 2:          # an aliased EXPAND_DIMS read by another op
            z = m.tensor(oshape[::-1], dt)
            m.b.op("TRANSPOSE", [y, m.b.const(_i32(list(range(len(oshape)))[::-1]))], [z])
            y = z
        m.output(y, f"expand_dims{k}")


def _fold_cases(m):
    """A converter's Flatten (SHAPE -> STRIDED_SLICE -> PACK -> RESHAPE), FILL (one of them
    of int8 -128) feeding CONCATENATION, and SHAPE, ZEROS_LIKE, FILL, BROADCAST_ARGS as model outputs."""
    b = m.b
    x = m.input((1, 4, 4, 3))
    s = b.tensor((4,), dtype="int32")
    b.op("SHAPE", [x], [s], out_type=2)
    n = b.tensor((), dtype="int32")
    b.op("STRIDED_SLICE", [s, b.const(_i32([0])), b.const(_i32([1])), b.const(_i32([1]))], [n],
         shrink_axis_mask=1)
    shp = b.tensor((2,), dtype="int32")
    b.op("PACK", [n, b.const(_i32(-1))], [shp], values_count=2, axis=0)
    r = m.tensor((1, 48), "int8")
    b.op("RESHAPE", [x, shp], [r], new_shape=[1, 48])
    f = m.tensor((1, 5), "int8")
    b.op("FILL", [b.const(_i32([1, 5])), b.const(np.array(7, np.int8), scale=0.05,
                                                   zero_point=-3)], [f])
    f3 = m.tensor((1, 2), "int8")
    b.op("FILL", [b.const(_i32([1, 2])), b.const(np.array(-128, np.int8), scale=0.05, zero_point=-3)], [f3])
    y = m.tensor((1, 55), "int8")
    b.op("CONCATENATION", [r, f, f3], [y], axis=1)
    m.output(y, "flatten_fill")
    z = b.tensor((2,), dtype="int32")
    b.op("ZEROS_LIKE", [shp], [z])
    m.output(z, "zeros_like_of_folded")
    x2 = m.input((2, 3), "int16")
    s2 = b.tensor((2,), dtype="int32")
    b.op("SHAPE", [x2], [s2], out_type=2)
    m.output(s2, "shape_output")
    z2 = b.tensor((3, 2), dtype="int32")
    b.op("ZEROS_LIKE", [m.input((3, 2), "int32")], [z2])
    m.output(z2, "zeros_like_output")
    f2 = b.tensor((3, 2), dtype="int32")
    b.op("FILL", [b.const(_i32([3, 2])), b.const(_i32(-9))], [f2])
    m.output(f2, "fill_output")
    ba = b.tensor((3,), dtype="int32")
    b.op("BROADCAST_ARGS", [b.const(_i32([2, 1, 5])), b.const(_i32([4, 1]))], [ba])
    m.output(ba, "broadcast_args_output")
    pk = m.tensor((2, 3), "int16")
    b.op("PACK", [b.const(np.array([1, -2, 3], np.int16), scale=0.05, zero_point=0),
                  b.const(np.array([-32768, 0, 32767], np.int16), scale=0.05, zero_point=0)],
         [pk], values_count=2, axis=0)
    m.output(pk, "pack_of_constants_output")


FAMILIES = {"transpose": (_transpose_cases, len(TRANSPOSE)),
            "strided_slice": (_strided_slice_cases, len(STRIDED_SLICE)),
            "slice": (_slice_cases, len(SLICE)),
            "split": (_split_cases, sum(c[3] if isinstance(c[3], int) else len(c[3])
                                        for c in SPLIT)),
            "pack": (_pack_cases, len(PACK)), "gather": (_gather_cases, len(GATHER)),
            "broadcast_to": (_broadcast_cases, len(BROADCAST_TO)),
            "expand_dims": (_expand_dims_cases, len(EXPAND_DIMS)),
            "fold": (_fold_cases, 7)}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_bit_exact_with_tflm(family):
    build, n_cases = FAMILIES[family]
    m = _Model(seed=sum(map(ord, family)))
    build(m)
    assert len(m.names) == n_cases
    assert m.check() > 0


def test_folding_leaves_no_code():
    """The Flatten chain and FILL of the fold model compile to no kernel call (RESHAPE aliases)."""
    m = _Model(seed=1)
    _fold_cases(m)
    c = compile_graph(parse_tflite(m.b.build()))
    assert "tk_slice_copy" not in c.files["model.c"]
    kernels = {k["opcode"]: k["kernel"] for k in c.report["layers"] if k["op"] < 7}
    assert kernels == {"SHAPE": None, "STRIDED_SLICE": None, "PACK": None, "RESHAPE": None,
                       "FILL": None, "CONCATENATION": "tk_concat_s8"}


def test_strided_slice_warns_of_ignored_options():
    m = _Model(seed=2)
    _strided_slice_cases(m)
    c = compile_graph(parse_tflite(m.b.build()))
    assert any("offset ignored, as TFLM ignores them" in w for w in c.report["warnings"])


def test_gather_clamps_computed_indices():
    """TFLM's GATHER does not check computed indices (it reads outside the input); tinykiln's
    kernel clamps each into [0, axis size). int32 and int64 indices (TFLM reads int32 only)."""
    for itype in ("int32", "int64"):
        b = ModelBuilder()
        x = b.input((4, 3), scale=0.05, zero_point=0)
        i = b.input((6,), dtype=itype)
        y = b.tensor((6, 3), scale=0.05, zero_point=0)
        b.op("GATHER", [x, i], [y], axis=0)
        b.output(y)
        xs = np.arange(12, dtype=np.int8).reshape(1, 4, 3)
        ix = np.array([[-5, -1, 0, 3, 4, 1 << 20]], dtype=itype)
        with HostBuild(compile_graph(b.g), sanitize=True) as hb:
            out = hb.run([xs, ix])[0]
        assert out[0].tolist() == xs[0][[0, 0, 0, 3, 3, 3]].tolist()


def _bad_perm(b):
    x = b.input((2, 3), 0.05, 0)
    y = b.tensor((2, 2), scale=0.05)
    b.op("TRANSPOSE", [x, b.const(_i32([0, 0]))], [y])
    b.output(y)


def _bad_stride(b):
    x = b.input((4, 3), 0.05, 0)
    y = b.tensor((4, 3), scale=0.05)
    b.op("STRIDED_SLICE", [x, b.const(_i32([0, 0])), b.const(_i32([4, 3])),
                           b.const(_i32([1, 0]))], [y])
    b.output(y)


def _bad_gather_index(b):
    x = b.input((4, 3), 0.05, 0)
    y = b.tensor((2, 3), scale=0.05)
    b.op("GATHER", [x, b.const(_i32([1, 4]))], [y], axis=0)
    b.output(y)


def _bad_split_sizes(b):
    x = b.input((1, 10), 0.05, 0)
    outs = [b.tensor((1, 3), scale=0.05), b.tensor((1, 4), scale=0.05)]
    b.op("SPLIT_V", [x, b.const(_i32([3, 4])), b.const(_i32(1))], outs, num_splits=2)
    for t in outs:
        b.output(t)


def _bad_pack_const(b):
    x = b.input((2, 3), 0.05, 0)
    c = b.const(np.zeros((2, 3), np.int8), scale=0.05, zero_point=0)
    y = b.tensor((2, 2, 3), scale=0.05)
    b.op("PACK", [x, c], [y], values_count=2, axis=0)
    b.output(y)


def _bad_slice_shape(b):
    x = b.input((4, 3), 0.05, 0)
    y = b.tensor((3, 3), scale=0.05)
    b.op("SLICE", [x, b.const(_i32([2, 0])), b.const(_i32([3, -1]))], [y])
    b.output(y)


def _bad_fill_dims(b):
    d = b.input((2,), dtype="int32")
    y = b.tensor((2, 3), dtype="int32")
    b.op("FILL", [d, b.const(_i32(1))], [y])
    b.output(y)


def _bad_shrink_backwards(b):
    x = b.input((4, 3), 0.05, 0)
    y = b.tensor((3,), scale=0.05)
    b.op("STRIDED_SLICE", [x, b.const(_i32([1, 0])), b.const(_i32([2, 3])),
                           b.const(_i32([-1, 1]))], [y], shrink_axis_mask=1)
    b.output(y)


UNSUPPORTED = [
    (_bad_shrink_backwards, UnsupportedError, "dim 0 keeps no element"),
    (_bad_perm, UnsupportedError, "is not a permutation"),
    (_bad_stride, UnsupportedError, "stride of dim 1 is 0"),
    (_bad_gather_index, UnsupportedError, "index 4 is outside the axis of 4"),
    (_bad_split_sizes, UnsupportedError, "add up to 7, the input's is 10"),
    (_bad_pack_const, UnsupportedError, "moves between activation tensors only"),
    (_bad_slice_shape, UnsupportedError, "do not fit dim 0 of 4"),
    (_bad_fill_dims, UnsupportedError, "dims operand must be a constant"),
]


@pytest.mark.parametrize("build,cls,message", UNSUPPORTED)
def test_unsupported_is_named(build, cls, message):
    b = ModelBuilder()
    build(b)
    with pytest.raises(cls, match=message) as e:
        compile_graph(b.g)
    assert "op 0 (" in str(e.value) and "\n" not in str(e.value)


# ---- models from TensorFlow's converter: Flatten without a fixed batch (SHAPE, STRIDED_SLICE,
# PACK folded), Permute and Cropping2D (TRANSPOSE, STRIDED_SLICE), keras.ops split, take, stack,
# transpose, expand_dims and slice (SPLIT, GATHER, PACK, TRANSPOSE, SLICE)
_KERAS = r'''
import sys
import numpy as np
import keras
from keras import layers, ops
sys.path.insert(0, sys.argv[2])
from keras_models import convert
keras.utils.set_random_seed(1)
rng = np.random.default_rng(0)
data = lambda shape: [rng.uniform(-1, 1, (1, *shape)).astype(np.float32) for _ in range(20)]
m = keras.Sequential([keras.Input((6, 6, 3)), layers.Conv2D(4, 3), layers.Flatten(),
                      layers.Dense(5)])
open(sys.argv[1] + "/flatten.tflite", "wb").write(convert(m, data((6, 6, 3))))
m = keras.Sequential([keras.Input((8, 5), batch_size=1), layers.Permute((2, 1)), layers.Dense(4),
                      layers.Reshape((5, 4, 1)), layers.Cropping2D(((1, 1), (0, 1)))])
open(sys.argv[1] + "/permute.tflite", "wb").write(convert(m, data((8, 5))))
x = keras.Input((6, 8), batch_size=1)
a, b = ops.split(x, 2, axis=-1)
g = ops.take(a, np.array([3, 0, 0, 2], np.int32), axis=1)
e = ops.expand_dims(ops.transpose(b, (0, 2, 1)), 1)
s = ops.stack([a[:, 0], b[:, -1], a[:, 2]], axis=1)
sl = ops.slice(x, (0, 1, 2), (1, 3, 4))
m = keras.Model(x, [layers.Flatten()(g), layers.Flatten()(e), layers.Flatten()(s), sl])
open(sys.argv[1] + "/ops.tflite", "wb").write(convert(m, data((6, 8))))
'''


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    import subprocess
    import sys
    from pathlib import Path
    pytest.importorskip("tensorflow")
    d = tmp_path_factory.mktemp("keras")
    r = subprocess.run([sys.executable, "-c", _KERAS, str(d), str(Path(__file__).parent)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    return d


def _keras_rows(g):
    x = np.random.default_rng(0).integers(-128, 128, (ROWS, *g.tensors[g.inputs[0]].shape))
    x = x.astype(np.int8)
    x[0], x[1] = -128, 127
    return x


def test_converted_keras_models(converted):
    seen = set()
    for name in ("flatten", "permute", "ops"):
        buf = (converted / f"{name}.tflite").read_bytes()
        g = parse_tflite(buf)
        seen.update(op.opcode for op in g.ops)
        n = len(g.outputs)
        assert assert_cases_match_tflm(buf, [_keras_rows(g)], [f"{name}{k}" for k in range(n)]) > 0
    assert {"SHAPE", "STRIDED_SLICE", "PACK", "TRANSPOSE", "SPLIT", "GATHER", "SLICE"} <= seen


@pytest.mark.parametrize("board", ["mps2-an386", "sifive_e"])
def test_converted_keras_model_on_board(converted, board, tmp_path):
    """The keras.ops model (SPLIT, GATHER, TRANSPOSE, STRIDED_SLICE, PACK, SLICE) under QEMU."""
    import shutil
    from tflm_oracle import tflm_run
    from tinykiln.targets.board import get_board
    from tinykiln.targets.firmware import build_firmware
    from tinykiln.targets.qemu import run_firmware
    b = get_board(board)
    tools = {"mps2-an386": ("arm-none-eabi-gcc", "qemu-system-arm"),
             "sifive_e": ("riscv64-unknown-elf-gcc", "qemu-system-riscv32")}[board]
    if not all(shutil.which(t) for t in tools):
        pytest.skip(f"{' or '.join(tools)} is not installed")
    buf = (converted / "ops.tflite").read_bytes()
    c = compile_graph(parse_tflite(buf))
    x = _keras_rows(c.graph)[:8]
    ref = tflm_run(buf, [x], len(c.graph.outputs))
    build_firmware(c, b, tmp_path / "fw")
    res = run_firmware(tmp_path / "fw", b, c.graph, [x])
    for k, (o, r) in enumerate(zip(res.outputs, ref)):
        assert int((o.reshape(r.shape) != r).sum()) == 0, f"{board}: output {k} differs"
