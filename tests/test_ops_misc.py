"""Pooling, ADD, MUL, MEAN, PAD(V2), CONCATENATION, RESHAPE and SQUEEZE: bit-exact with TFLM.

Each table row is one single-op case; all rows of a table become independent ops of one model (one
input and one output per case, so a mismatch names its case), compiled once, built with ASan+UBSan
and run on 50 input rows (two of them all -128 / all 127) against TFLM's interpreter."""

import numpy as np
import pytest

from casemodel import CaseModel
from modelgen import ModelBuilder
from tflm_oracle import tflm_run
from tinykiln.compile import compile_graph
from tinykiln.errors import UnsupportedError
from tinykiln.targets.hostrun import HostBuild
from tinykiln.frontend.tflite_import import parse_tflite

ROWS = 50

# ---- AVERAGE_POOL_2D / MAX_POOL_2D: op, input shape, filter (h, w), stride (h, w), padding,
# activation, scale, zero point (input and output share them)
POOL = [
    ("AVERAGE_POOL_2D", (1, 8, 8, 3), (2, 2), (2, 2), "VALID", "NONE", 0.05, -3),
    ("AVERAGE_POOL_2D", (1, 7, 9, 4), (3, 3), (1, 1), "SAME", "NONE", 0.1, 0),
    ("AVERAGE_POOL_2D", (1, 7, 9, 4), (3, 2), (2, 3), "SAME", "RELU", 0.02, -128),
    ("AVERAGE_POOL_2D", (2, 5, 5, 2), (5, 5), (1, 1), "VALID", "RELU6", 0.05, 127),
    ("AVERAGE_POOL_2D", (1, 10, 6, 8), (4, 3), (3, 2), "SAME", "RELU_N1_TO_1", 0.01, 10),
    ("AVERAGE_POOL_2D", (1, 25, 5, 16), (25, 5), (25, 5), "VALID", "NONE", 0.2, -20),
    ("AVERAGE_POOL_2D", (1, 6, 6, 2), (4, 4), (3, 3), "SAME", "RELU6", 0.03, -50),
    ("MAX_POOL_2D", (1, 8, 8, 3), (2, 2), (2, 2), "VALID", "NONE", 0.05, -3),
    ("MAX_POOL_2D", (1, 7, 9, 4), (3, 3), (2, 2), "SAME", "RELU", 0.1, 5),
    ("MAX_POOL_2D", (2, 5, 7, 3), (3, 2), (1, 3), "SAME", "RELU6", 0.04, -128),
    ("MAX_POOL_2D", (1, 9, 9, 2), (3, 3), (3, 3), "VALID", "RELU_N1_TO_1", 0.01, 127),
    ("MAX_POOL_2D", (1, 4, 4, 5), (4, 4), (1, 1), "VALID", "NONE", 0.5, 0),
]

# ---- ADD / MUL: op, shape1, shape2 (or ("const", shape)), output shape, (scale, zp) of input 1,
# input 2 and the output, activation
ELEMENTWISE = [
    ("ADD", (1, 4, 4, 8), (1, 4, 4, 8), (1, 4, 4, 8), (0.05, -3), (0.07, 5), (0.1, 0), "NONE"),
    ("ADD", (1, 4, 4, 8), (1, 4, 4, 8), (1, 4, 4, 8), (0.05, -128), (0.05, 127), (0.08, -128),
     "RELU"),
    ("ADD", (1, 4, 4, 8), (1, 1, 1, 8), (1, 4, 4, 8), (0.02, 10), (0.09, -7), (0.1, 3), "RELU6"),
    ("ADD", (1, 4, 4, 8), ("const", (8,)), (1, 4, 4, 8), (0.03, 1), (0.01, 0), (0.05, -2),
     "NONE"),
    ("ADD", (1, 5, 1, 3), (1, 1, 6, 3), (1, 5, 6, 3), (0.1, 0), (0.1, 0), (0.2, 0),
     "RELU_N1_TO_1"),
    ("ADD", (2, 3, 4, 5), ("const", (1,)), (2, 3, 4, 5), (0.04, -1), (0.5, 100), (0.3, 4),
     "NONE"),
    ("ADD", (2, 1, 3, 1, 5), (2, 4, 1, 6, 1), (2, 4, 3, 6, 5), (0.05, 2), (0.06, -2),
     (0.11, 0), "NONE"),
    # input 2 negligible beside input 1: its multiplier underflows to zero
    ("ADD", (1, 3, 3, 4), (1, 3, 3, 4), (1, 3, 3, 4), (1.0, 0), (1e-10, 3), (1.0, -5), "NONE"),
    # input multiplier just above 2^-31
    ("ADD", (1, 3, 3, 4), (1, 3, 3, 4), (1, 3, 3, 4), (1.0, 7), (1.5e-9, -9), (0.9, 1), "NONE"),
    # output multiplier just below 1 (output scale near 2 * max input scale / 2^20)
    ("ADD", (1, 3, 3, 4), (1, 3, 3, 4), (1, 3, 3, 4), (0.5, 0), (0.25, 1),
     (1.0 / (1 << 20) * 1.001, 0), "NONE"),
    # output multiplier tiny: everything lands on the zero point
    ("ADD", (1, 3, 3, 4), (1, 3, 3, 4), (1, 3, 3, 4), (0.001, -4), (0.002, 9), (50.0, 6),
     "NONE"),
    ("MUL", (1, 4, 4, 8), (1, 1, 1, 8), (1, 4, 4, 8), (0.05, -3), (0.004, -128), (0.02, 1),
     "NONE"),
    ("MUL", (1, 4, 4, 8), (1, 4, 4, 8), (1, 4, 4, 8), (0.05, -128), (0.05, 127), (0.1, -128),
     "RELU"),
    ("MUL", (1, 4, 4, 8), ("const", (1, 1, 1, 8)), (1, 4, 4, 8), (0.03, 2), (0.01, -5),
     (0.004, 0), "RELU6"),
    ("MUL", (2, 3, 1, 5), (1, 3, 4, 1), (2, 3, 4, 5), (0.1, 0), (0.1, 0), (0.05, 0),
     "RELU_N1_TO_1"),
    # multiplier above 1 (left shift 5) and far below 1
    ("MUL", (1, 3, 3, 4), (1, 3, 3, 4), (1, 3, 3, 4), (0.5, 1), (0.5, -1), (0.01, 0), "NONE"),
    ("MUL", (1, 3, 3, 4), (1, 3, 3, 4), (1, 3, 3, 4), (1e-3, 3), (1e-3, -3), (10.0, 2), "NONE"),
    ("MUL", (6,), ("const", (1,)), (6,), (0.2, 0), (0.7, 20), (0.9, -1), "NONE"),
    # multiplier 2^17: the left shift wraps in int32 as TFLM's multiply does
    ("MUL", (1, 3, 3, 4), (1, 3, 3, 4), (1, 3, 3, 4), (1.0, 0), (1.0, 0), (1e-5, 0), "NONE"),
    ("ADD", ("const", (1, 1, 1, 8)), (1, 4, 4, 8), (1, 4, 4, 8), (0.03, -9), (0.02, 4),
     (0.04, -1), "RELU"),
    ("MUL", ("const", (1, 4, 1, 8)), (1, 1, 3, 1), (1, 4, 3, 8), (0.03, -9), (0.02, 4),
     (0.004, -1), "NONE"),
]

# ---- MEAN: input shape, axes, keep_dims, (scale, zp) of input and output
MEAN = [
    ((1, 7, 7, 8), [1, 2], False, (0.05, -3), (0.05, -3)),      # Keras GlobalAveragePooling2D
    ((1, 7, 7, 8), [1, 2], True, (0.05, -3), (0.02, 4)),
    ((1, 5, 6, 4), [2, 1], True, (0.1, 127), (0.1, 127)),
    ((1, 4, 4, 16), [-1], False, (0.02, -128), (0.01, 0)),
    ((2, 3, 4, 5), [0, 2], False, (0.04, 5), (0.03, -5)),
    ((2, 3, 4, 5), [1, 3], True, (0.04, 5), (0.04, 5)),
    ((1, 8, 8, 3), [1, 2], False, (0.5, 0), (0.004, 0)),       # multiplier > 1: left shift
    ((1, 12, 12, 4), [1, 2], False, (0.001, 10), (2.0, -100)),  # multiplier tiny
    ((3, 5), [1], False, (0.1, 0), (0.07, 1)),
    ((10,), [0], True, (0.1, 3), (0.1, 3)),
    ((1, 1, 1, 8), [1, 2], False, (0.05, 0), (0.05, 0)),        # count 1
    ((1, 6, 5, 4), [1, 1, 2], False, (0.05, 1), (0.06, 2)),     # duplicate axis
    # s_in / s_out = 0.7 * 2^-31: shift -31, so TFLM folds 1/count in with a shift of 0
    ((1, 16, 16, 2), [1, 2], False, (1e-6, 0), (1e-6 * 3e9, 0)),
    ((1, 16, 16, 2), [1, 2], False, (1e-6, 0), (1e-6 * 1e10, 0)),   # multiplier underflows to 0
    ((1, 7, 7, 8), [1, 2], False, (0.05, -3), (0.05, 10)),     # same scale, other zero point
    ((1, 40, 40, 2), [1, 2], True, (0.03, 1), (0.01, -2)),     # count 1600
]

# ---- PAD / PADV2: op, input shape, paddings, scale, zp, PADV2 constant value
PAD = [
    ("PAD", (1, 5, 5, 3), [[0, 0], [1, 1], [1, 1], [0, 0]], 0.05, -3, None),
    ("PAD", (1, 5, 5, 3), [[0, 0], [0, 1], [2, 0], [0, 0]], 0.05, -128, None),
    ("PAD", (1, 4, 6), [[0, 0], [2, 3], [0, 0]], 0.1, 127, None),
    ("PAD", (2, 3, 4, 5), [[1, 0], [0, 2], [1, 1], [2, 1]], 0.1, 9, None),
    ("PAD", (1, 3, 3, 2, 2), [[0, 0], [1, 0], [0, 1], [1, 1], [0, 0]], 0.1, 0, None),
    ("PADV2", (1, 5, 5, 3), [[0, 0], [1, 2], [3, 0], [0, 0]], 0.05, -3, 7),
    ("PADV2", (1, 4, 8), [[0, 0], [0, 0], [1, 1]], 0.05, 20, -128),
]

# ---- CONCATENATION: input shapes (("const", shape) for a constant), axis, scale, zp
CONCAT = [
    ([(1, 4, 4, 3), (1, 4, 4, 5)], -1, 0.05, -3),
    ([(1, 2, 4, 3), (1, 3, 4, 3), (1, 1, 4, 3)], 1, 0.1, 0),
    ([(2, 3), (2, 3)], 0, 0.02, -128),
    ([(1, 4, 4, 3), ("const", (1, 4, 4, 2))], 3, 0.05, 127),
    ([(1, 5, 2), (1, 5, 3), (1, 5, 1), (1, 5, 4)], 2, 0.3, 11),
    ([(1, 2, 3, 4)], 2, 0.3, 11),
]


def _rand(rng, shape):
    return rng.integers(-128, 128, shape, dtype=np.int8)


class _Model(CaseModel):
    """Each input int8 with the given quantization (drawn as this file always drew them)."""

    def rand(self, shape, dtype, lo=None, hi=None):
        return _rand(self.rng, shape)

    def input(self, shape, scale, zp):
        return self.feed(shape, "int8", scale=scale, zero_point=zp)

    def operand(self, spec, scale, zp):
        if spec[0] == "const":
            return self.b.const(_rand(self.rng, spec[1]), scale=scale, zero_point=zp)
        return self.input(spec, scale, zp)


def _pool_cases(m):
    for k, (opc, shape, (fh, fw), (sh, sw), padding, act, s, z) in enumerate(POOL):
        x = m.input(shape, s, z)
        n, h, w, c = shape
        oh = (h + sh - 1) // sh if padding == "SAME" else (h - fh + sh) // sh
        ow = (w + sw - 1) // sw if padding == "SAME" else (w - fw + sw) // sw
        y = m.b.tensor((n, oh, ow, c), scale=s, zero_point=z)
        m.b.op(opc, [x], [y], padding=padding, stride_h=sh, stride_w=sw, filter_height=fh,
               filter_width=fw, fused_activation_function=act)
        m.output(y, f"pool{k}")


def _elementwise_cases(m):
    for k, (opc, s1, s2, so, q1, q2, qo, act) in enumerate(ELEMENTWISE):
        a = m.operand(s1, *q1)
        b = m.operand(s2, *q2)
        y = m.b.tensor(so, scale=qo[0], zero_point=qo[1])
        m.b.op(opc, [a, b], [y], fused_activation_function=act)
        m.output(y, f"{opc.lower()}{k}")


def _mean_cases(m):
    for k, (shape, axes, keep, qi, qo) in enumerate(MEAN):
        x = m.input(shape, *qi)
        rank = len(shape)
        red = {a % rank for a in axes}
        oshape = [1 if i in red else d for i, d in enumerate(shape)] if keep else \
            [d for i, d in enumerate(shape) if i not in red]
        ax = m.b.const(np.array(axes, np.int32))
        y = m.b.tensor(oshape, scale=qo[0], zero_point=qo[1])
        m.b.op("MEAN", [x, ax], [y], keep_dims=keep)
        m.output(y, f"mean{k}")


def _pad_cases(m):
    for k, (opc, shape, pads, s, z, value) in enumerate(PAD):
        x = m.input(shape, s, z)
        p = m.b.const(np.array(pads, np.int32))
        oshape = [d + a + b for d, (a, b) in zip(shape, pads)]
        y = m.b.tensor(oshape, scale=s, zero_point=z)
        ins = [x, p]
        if opc == "PADV2":
            ins.append(m.b.const(np.array([value], np.int8), scale=s, zero_point=z))
        m.b.op(opc, ins, [y])
        m.output(y, f"pad{k}")


def _concat_cases(m):
    for k, (shapes, axis, s, z) in enumerate(CONCAT):
        ins = [m.operand(sh, s, z) for sh in shapes]
        shapes = [sh[1] if sh[0] == "const" else sh for sh in shapes]
        oshape = list(shapes[0])
        oshape[axis] = sum(sh[axis] for sh in shapes)
        y = m.b.tensor(oshape, scale=s, zero_point=z)
        m.b.op("CONCATENATION", ins, [y], axis=axis)
        m.output(y, f"concat{k}")


def _reshape_cases(m):
    """Reshapes that alias (graph input -> graph output, a chain, one feeding a pool) and ones
    that must copy (of a constant)."""
    b, s, z = m.b, 0.05, -3

    def reshape(x, shape, squeeze_dims=None):
        y = b.tensor(shape, scale=s, zero_point=z)
        if squeeze_dims is None:
            b.op("RESHAPE", [x, b.const(np.array(shape, np.int32))], [y], new_shape=list(shape))
        else:
            b.op("SQUEEZE", [x], [y], squeeze_dims=squeeze_dims)
        return y

    m.output(reshape(m.input((1, 4, 4, 3), s, z), (1, 48)), "reshape_in_out")
    m.output(reshape(b.const(_rand(m.rng, (2, 6)), scale=s, zero_point=z), (12,)),
             "reshape_const")
    m.output(reshape(m.input((1, 1, 1, 8), s, z), (1, 8), [1, 2]), "squeeze")
    m.output(reshape(reshape(m.input((2, 10), s, z), (4, 5)), (20,)), "reshape_chain")
    r = reshape(m.input((1, 32), s, z), (1, 4, 4, 2))
    y = b.tensor((1, 2, 2, 2), scale=s, zero_point=z)
    b.op("MAX_POOL_2D", [r], [y], padding="VALID", stride_h=2, stride_w=2, filter_height=2,
         filter_width=2)
    m.output(y, "reshape_then_pool")


# ---- options TFLM itself rejects, or tinykiln does not implement: one clear error each
def _bad_concat_scales(b):
    x, y = b.input((1, 2, 2, 3), 0.05, 0), b.input((1, 2, 2, 3), 0.06, 0)
    out = b.tensor((1, 2, 2, 6), scale=0.05, zero_point=0)
    b.op("CONCATENATION", [x, y], [out], axis=3)
    b.output(out)


def _bad_mean_axis(b):
    x, ax = b.input((1, 4, 4, 3), 0.05, 0), b.input((2,), dtype="int32")
    out = b.tensor((1, 3), scale=0.05, zero_point=0)
    b.op("MEAN", [x, ax], [out])
    b.output(out)


def _bad_pool_rescale(b):
    x = b.input((1, 4, 4, 3), 0.05, 0)
    out = b.tensor((1, 2, 2, 3), scale=0.1, zero_point=0)
    b.op("AVERAGE_POOL_2D", [x], [out], padding="VALID", stride_h=2, stride_w=2,
         filter_height=2, filter_width=2)
    b.output(out)


UNSUPPORTED = [
    (_bad_concat_scales, "TFLM requires them equal"),
    (_bad_mean_axis, "axis operand must be a constant"),
    (_bad_pool_rescale, "same scale and zero point"),
]


@pytest.mark.parametrize("build,message", UNSUPPORTED)
def test_unsupported_is_named(build, message):
    b = ModelBuilder()
    build(b)
    with pytest.raises(UnsupportedError, match=message) as e:
        compile_graph(b.g)
    assert "op 0 (" in str(e.value)


FAMILIES = {"pool": (_pool_cases, len(POOL)), "elementwise": (_elementwise_cases, len(ELEMENTWISE)),
            "mean": (_mean_cases, len(MEAN)), "pad": (_pad_cases, len(PAD)),
            "concat": (_concat_cases, len(CONCAT)), "reshape": (_reshape_cases, 5)}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_bit_exact_with_tflm(family):
    build, n_cases = FAMILIES[family]
    m = _Model(seed=sum(map(ord, family)))
    build(m)
    assert len(m.names) == n_cases
    assert m.check() > 0


# ---- FULLY_CONNECTED: name, batches, depth, rows, weight scales ("pt" one, "pc" per row, "big"
# per row with multipliers above 1: left shifts, so the generic requantization), bias, activation,
# input and output zero points. Depths and row counts not multiples of 4 exercise the blocked
# weight layout's tails (fully_connected_s8.h).
FC = [
    ("ad_like", 1, 64, 16, "pt", True, "RELU", -128, -128),
    ("tail3_rows9", 1, 7, 9, "pc", True, "NONE", 5, -3),
    ("depth3_rows2", 1, 3, 2, "pt", True, "RELU6", 0, 10),
    ("depth4_rows4", 1, 4, 4, "pc", False, "NONE", 127, 127),
    ("batch3", 3, 10, 6, "pc", True, "RELU", -7, -128),
    ("deep_rows13", 1, 130, 13, "pt", True, "NONE", 30, 0),
    ("big_mult", 1, 12, 8, "big", True, "NONE", -2, 1),
    ("n1to1", 2, 21, 5, "pc", True, "RELU_N1_TO_1", 90, -1),
]


def _fc_model():
    m = _Model(seed=4242)
    for name, n, depth, rows, ws, bias, act, izp, ozp in FC:
        x = m.input((n, depth), 0.05, izp)
        lim = 2 if ws == "big" else 128        # small weights keep "big" outputs in range
        w = m.rng.integers(1 - lim, lim, (rows, depth), dtype=np.int8)
        w_typ = 0.004
        out_scale = 0.05 * w_typ * np.sqrt(depth) * 74 / 40
        if ws == "pt":
            scales = np.array([w_typ])
        elif ws == "pc":
            scales = m.rng.uniform(0.3, 3.0, rows) * w_typ
        else:
            scales = m.rng.uniform(1.05, 1.6, rows) * out_scale / 0.05
        wt = m.b.const(w, scale=scales, zero_point=[0] * len(scales), axis=0)
        ins = [x, wt]
        if bias:
            b = m.rng.integers(-30000 // lim ** 2, 30000 // lim ** 2, (rows,)).astype(np.int32)
            ins.append(m.b.const(b, scale=0.05 * np.broadcast_to(scales, (rows,)),
                                 zero_point=[0] * rows))
        else:
            ins.append(-1)
        y = m.b.tensor((n, rows), scale=out_scale, zero_point=ozp)
        m.b.op("FULLY_CONNECTED", ins, [y], fused_activation_function=act)
        m.output(y, name)
    return m


@pytest.mark.parametrize("cflags", [[], ["-DTK_DSP_EMULATE_SIMD"]], ids=["portable", "simd"])
def test_fully_connected_bit_exact(cflags):
    """The blocked FC kernel, its portable path and its Cortex-M DSP-extension path (built on the
    host with C models of the instructions), against TFLM."""
    m = _fc_model()
    buf = m.b.build()
    ref = tflm_run(buf, m.rows, len(m.names))
    c = compile_graph(parse_tflite(buf))
    fast = [s for s in c.files["model.c"].split("\n") if ".rq_fast = " in s]
    assert "0," in " ".join(fast)       # the generic requantization; the fast one's cases go to
    assert "tk_fully_connected_s8_pairs" in c.files["model.c"]  # (tests/test_ops_fc_fast.py)
    with HostBuild(c, sanitize=True, extra_cflags=cflags) as hb:
        out = hb.run(m.rows)
    bad = {name: int((o != r).sum()) for name, o, r in zip(m.names, out, ref)
           if int((o != r).sum())}
    assert not bad, bad
    for name, r in zip(m.names, ref):       # cases that prove something
        assert len(np.unique(r)) > 2 or name == "n1to1", name
