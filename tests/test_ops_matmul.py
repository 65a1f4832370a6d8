"""BATCH_MATMUL: bit-exact with TFLM (int8 with zero points, int16 with zero points 0).

Each table row is one single-op case; all rows become independent ops of one model (one output per
case), compiled once, built with ASan+UBSan (portable and DSP-extension paths) and run on 50 input
rows (two of them all minimum / all maximum) against TFLM's interpreter."""
import math

import numpy as np
import pytest

from modelgen import ModelBuilder
from tflm_oracle import tflm_run
from tinykiln.compile import compile_graph
from tinykiln.errors import UnsupportedError
from tinykiln.frontend.tflite_import import parse_tflite
from tinykiln.targets.hostrun import HostBuild

ROWS = 50
LIMITS = {"int8": (-128, 127), "int16": (-32768, 32767)}
STD = {"int8": 74.0, "int16": 18918.0}      # of a uniform value over the whole type

# dtype, lhs shape, rhs shape (("const", shape): a constant), adj_x, adj_y, (scale, zp) of lhs
# and rhs, output zero point, gain (output scale = the sum's typical size / 127 / gain: above 1
# saturates)
MATMUL = [
    ("int8", (1, 4, 8), (1, 8, 5), False, False, (0.05, -3), (0.02, 4), 0, 1.0),
    ("int8", (2, 3, 16), (2, 16, 9), False, False, (0.05, -128), (0.03, 127), -20, 1.0),
    ("int8", (2, 3, 6), (2, 7, 6), False, True, (0.1, 0), (0.1, 0), 5, 1.0),
    ("int8", (2, 6, 3), (2, 6, 7), True, False, (0.1, 10), (0.05, -10), 0, 1.0),
    ("int8", (1, 5, 4), (1, 9, 5), True, True, (0.04, 1), (0.04, -1), 2, 1.0),
    # broadcast of batch dims, ranks 2 to 5
    ("int8", (3, 4, 8), (8, 6), False, False, (0.05, 0), (0.02, 0), 0, 1.0),
    ("int8", (4, 8), (2, 3, 8, 5), False, False, (0.05, 7), (0.02, -7), 3, 1.0),
    ("int8", (2, 1, 3, 5), (1, 4, 5, 6), False, False, (0.05, 0), (0.05, 3), 0, 1.0),
    ("int8", (2, 1, 3, 2, 5), (1, 3, 1, 4, 5), False, True, (0.05, 0), (0.05, 0), 0, 0.5),
    ("int8", (1, 2, 2, 3, 6), (2, 1, 2, 4, 6), False, True, (0.05, -5), (0.07, 9), -1, 1.0),
    # constant rhs (transposed once at compile time) and constant lhs
    ("int8", (1, 6, 10), ("const", (10, 7)), False, False, (0.05, 2), (0.01, 0), 1, 1.0),
    ("int8", (2, 6, 10), ("const", (2, 7, 10)), False, True, (0.05, 2), (0.01, 3), 1, 1.0),
    ("int8", ("const", (10, 4)), (3, 10, 5), True, False, (0.02, -4), (0.05, 0), 0, 1.0),
    ("int8", ("const", (2, 1, 4, 8)), (3, 8, 3), False, False, (0.02, 0), (0.05, 1), 0, 1.0),
    # attention as a converted Keras transformer has it: Q K^T and scores V, all computed
    ("int8", (1, 2, 6, 8), (1, 2, 6, 8), False, True, (0.05, -1), (0.05, 2), 0, 1.0),
    ("int8", (1, 2, 6, 6), (1, 2, 6, 8), False, False, (1 / 256, -128), (0.05, 2), 3, 1.0),
    # saturation and a multiplier above 1, a deep sum, a single column and a single row
    ("int8", (2, 4, 8), (2, 8, 6), False, False, (0.05, 0), (0.05, 0), 0, 20.0),
    ("int8", (1, 2, 2), (1, 2, 3), False, False, (1.0, 0), (1.0, 0), 0, 2000.0),
    ("int8", (1, 2, 300), (1, 300, 5), False, False, (0.05, 3), (0.05, -3), 0, 1.0),
    ("int8", (3, 9), (9, 1), False, False, (0.05, 0), (0.05, 0), 0, 1.0),
    ("int8", (1, 9), (3, 9), False, True, (0.05, 0), (0.05, 0), 0, 1.0),
    ("int16", (1, 4, 8), (1, 8, 5), False, False, (0.001, 0), (0.002, 0), 0, 1.0),
    ("int16", (2, 3, 6), (2, 7, 6), False, True, (0.001, 0), (0.001, 0), 0, 1.0),
    ("int16", (2, 6, 3), (2, 6, 7), True, False, (0.001, 0), (0.001, 0), 0, 1.0),
    ("int16", (5, 4), (1, 3, 6, 5), True, True, (0.001, 0), (0.001, 0), 0, 1.0),
    ("int16", (2, 1, 3, 5), ("const", (1, 4, 5, 6)), False, False, (1e-3, 0), (2e-3, 0), 0,
     1.0),
    ("int16", (1, 2, 6, 8), (1, 2, 6, 8), False, True, (1e-4, 0), (1e-4, 0), 0, 30.0),
    ("int16", (1, 3, 200), (1, 200, 6), False, False, (1e-4, 0), (1e-4, 0), 0, 1.0),
    ("int16", (1, 2, 3), (1, 3, 4), False, False, (1.0, 0), (1.0, 0), 0, 1e6),  # shift 7
]


def _shape(spec):
    return spec[1] if spec[0] == "const" else spec


def _out_shape(ls, rs, adj_x, adj_y):
    rank = max(len(ls), len(rs))
    le = [1] * (rank - len(ls)) + list(ls)
    re = [1] * (rank - len(rs)) + list(rs)
    batch = [max(a, b) for a, b in zip(le[:-2], re[:-2])]
    return batch + [le[-1] if adj_x else le[-2], re[-2] if adj_y else re[-1]]


def _model():
    b, rng = ModelBuilder(), np.random.default_rng(2011)
    rows, names = [], []

    def operand(spec, q, dt):
        lo, hi = LIMITS[dt]
        if spec[0] == "const":
            return b.const(rng.integers(lo, hi + 1, spec[1]).astype(dt), scale=q[0],
                           zero_point=q[1])
        x = rng.integers(lo, hi + 1, (ROWS, *spec)).astype(dt)
        x[0], x[1] = lo, hi
        rows.append(x)
        return b.input(spec, scale=q[0], zero_point=q[1], dtype=dt)

    for k, (dt, ls, rs, adj_x, adj_y, ql, qr, ozp, gain) in enumerate(MATMUL):
        lhs, rhs = operand(ls, ql, dt), operand(rs, qr, dt)
        oshape = _out_shape(_shape(ls), _shape(rs), adj_x, adj_y)
        depth = _shape(ls)[-2 if adj_x else -1]
        typical = ql[0] * qr[0] * STD[dt] ** 2 * math.sqrt(depth)
        y = b.tensor(oshape, scale=typical / 127 / gain * 3, zero_point=ozp, dtype=dt)
        b.op("BATCH_MATMUL", [lhs, rhs], [y], adj_x=adj_x, adj_y=adj_y)
        b.output(y)
        names.append(f"bmm{k}_{dt}")
    return b, rows, names


@pytest.mark.parametrize("cflags", [[], ["-DTK_DSP_EMULATE_SIMD"]], ids=["portable", "simd"])
def test_bit_exact_with_tflm(cflags):
    """The portable kernels and the int8 Cortex-M DSP-extension path (built on the host with C
    models of the instructions), under ASan/UBSan, against TFLM byte for byte."""
    b, rows, names = _model()
    assert len(names) == len(MATMUL)
    buf = b.build()
    ref = tflm_run(buf, rows, len(names))
    with HostBuild(compile_graph(parse_tflite(buf)), sanitize=True, extra_cflags=cflags) as hb:
        out = hb.run(rows)
    bad = {name: int((o != r).sum()) for name, o, r in zip(names, out, ref)
           if o.shape != r.shape or o.dtype != r.dtype or (o != r).any()}
    assert not bad, f"differing outputs per case: {bad}"
    # the cases prove something: outputs spread over many values, not all saturated
    spread = [len(np.unique(r)) > 20 for r in ref]
    assert sum(spread) >= len(ref) - 3


def test_macs_are_reported():
    b = ModelBuilder()
    x, w = b.input((2, 3, 16), 0.05, 0), b.input((2, 16, 9), 0.05, 0)
    y = b.tensor((2, 3, 9), scale=0.5, zero_point=0)
    b.op("BATCH_MATMUL", [x, w], [y])
    b.output(y)
    c = compile_graph(b.g)
    assert [k.macs for k in c.lowered.calls] == [2 * 3 * 9 * 16]


def _bad(dt=("int8", "int8", "int8"), ls=(1, 3, 4), rs=(1, 4, 5), os_=(1, 3, 5), zp=0,
         const_rhs=False, **opts):
    def build(b):
        x = b.input(ls, 0.05, zp, dtype=dt[0])
        w = b.const(np.ones(rs, dt[1]), scale=0.05, zero_point=0) if const_rhs else \
            b.input(rs, 0.05, 0, dtype=dt[1])
        y = b.tensor(os_, scale=0.05, zero_point=0, dtype=dt[2])
        b.op("BATCH_MATMUL", [x, w], [y], **opts)
        b.output(y)
    return build


UNSUPPORTED = [
    (_bad(("int16", "int8", "int16")), "all int8 or all int16, not int16 x int8"),
    (_bad(("int16", "int16", "int16"), zp=3), "must have zero point 0"),
    (_bad(rs=(1, 5, 5)), "inner dimensions differ"),
    (_bad(ls=(2, 3, 4), rs=(3, 4, 5), os_=(2, 3, 5)), "do not broadcast"),
    (_bad(ls=(1, 1, 1, 1, 1, 3, 4)), "rank 2 to 5"),
    (_bad(os_=(1, 3, 6)), "should have 15 elements"),
    (_bad(ls=(1, 1, 40000), rs=(1, 40000, 1), os_=(1, 1, 1), const_rhs=True),
     "sums 40000 products"),
]


@pytest.mark.parametrize("build,message", UNSUPPORTED)
def test_unsupported_is_named(build, message):
    b = ModelBuilder()
    build(b)
    with pytest.raises(UnsupportedError, match=message) as e:
        compile_graph(b.g)
    assert "op 0 (" in str(e.value)
