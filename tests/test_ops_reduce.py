"""MEAN, SUM, REDUCE_MAX, REDUCE_MIN, ARG_MAX and ARG_MIN: bit-exact with TFLM.

Each table row is one single-op case; all rows of a table become independent ops of one model (one
input and one output per case), compiled once, built with ASan+UBSan and run on 50 input rows (two
of them all minimum / all maximum) against TFLM's interpreter."""
import numpy as np
import pytest

from casemodel import CaseModel
from modelgen import ModelBuilder
from tinykiln.compile import compile_graph
from tinykiln.errors import UnsupportedError

ROWS = 50
LIMITS = {"int8": (-128, 127), "int16": (-32768, 32767)}

# ---- reductions: op, dtype, input shape, axes, keep_dims, (scale, zp) of input and output
REDUCE = [
    ("SUM", "int8", (1, 7, 7, 8), [1, 2], False, (0.05, -3), (0.5, 4)),
    ("SUM", "int8", (2, 3, 4, 5), [-1], True, (0.04, 5), (0.1, -5)),
    ("SUM", "int8", (2, 3, 4, 5), [0, 2, -1, 0], False, (0.04, 127), (2.0, -128)),   # dup, neg
    ("SUM", "int8", (2, 3, 4), [0, 1, 2], False, (0.1, 0), (1.0, 0)),           # all axes
    ("SUM", "int8", (2, 3, 4), [2, 0, 1], True, (0.1, -128), (3.0, 10)),        # all, keep
    ("SUM", "int8", (3, 5), [1], False, (0.5, 1), (0.001, 0)),                 # big multiplier
    ("SUM", "int8", (4, 6), [0], False, (1.0, 0), (1e-8, 0)),                  # shift 27
    ("SUM", "int8", (1, 1, 1, 8), [1, 2], False, (0.05, 0), (0.07, 2)),        # count 1
    ("SUM", "int8", (2, 3, 4, 5, 2), [1, 3], True, (0.03, -7), (0.2, 3)),      # 2 groups
    ("SUM", "int16", (1, 6, 6, 4), [1, 2], False, (0.001, 0), (0.02, 0)),
    ("SUM", "int16", (2, 3, 4, 5), [-3, -1], True, (0.002, 100), (0.01, -50)),
    ("SUM", "int16", (2, 3, 4), [0, 1, 2], False, (0.001, 0), (0.05, 0)),
    ("SUM", "int16", (5, 7), [1], False, (0.5, 0), (0.0001, 0)),               # saturates
    ("MEAN", "int16", (1, 7, 7, 8), [1, 2], False, (0.001, 0), (0.001, 0)),
    ("MEAN", "int16", (1, 5, 6, 4), [2, 1], True, (0.002, 0), (0.0005, 0)),
    ("MEAN", "int16", (2, 3, 4, 5), [0, 2], False, (0.001, -300), (0.0012, 200)),
    ("MEAN", "int16", (2, 3, 4), [-1, -2, -3, 0], True, (0.001, 0), (0.001, 0)),
    ("MEAN", "int16", (1, 40, 40, 2), [1, 2], False, (0.003, 0), (1e-4, 0)),   # count 1600
    ("MEAN", "int16", (10,), [0], False, (1e-9, 0), (1.0, 0)),                 # multiplier 0
    ("MEAN", "int8", (2, 3, 4, 5, 2), [0, 2, 4], False, (0.05, 3), (0.04, -1)),  # 3 groups
    ("REDUCE_MAX", "int8", (1, 7, 7, 8), [1, 2], False, (0.05, -3), (0.05, -3)),
    ("REDUCE_MAX", "int8", (2, 3, 4, 5), [-1, 1, -1], True, (0.1, 0), (0.1, 0)),
    ("REDUCE_MAX", "int8", (2, 3, 4), [0, 1, 2], False, (0.1, 7), (0.1, 7)),
    ("REDUCE_MAX", "int8", (6, 1, 5), [1], True, (0.1, 7), (0.1, 7)),         # count 1
    ("REDUCE_MIN", "int8", (1, 7, 7, 8), [2], False, (0.05, -3), (0.05, -3)),
    ("REDUCE_MIN", "int8", (2, 3, 4, 5), [0, 3], True, (0.1, 127), (0.1, 127)),
    ("REDUCE_MIN", "int8", (3, 4), [-2, -1], False, (0.1, 0), (0.1, 0)),
    ("REDUCE_MIN", "int8", (2, 3, 4, 5, 2), [1, 3], False, (0.2, -1), (0.2, -1)),
]

# ---- ARG_MAX / ARG_MIN: op, input shape, axis (the constant's value), input (scale, zp);
# output int32 (TFLM's only output type)
ARG = [
    ("ARG_MAX", (1, 10), 1, (0.05, 0)),
    ("ARG_MAX", (2, 3, 4, 5), -1, (0.1, -3)),
    ("ARG_MAX", (2, 3, 4, 5), 0, (0.1, -3)),
    ("ARG_MAX", (2, 3, 4, 5), 2, (0.1, 127)),
    ("ARG_MAX", (7,), 0, (0.1, 0)),
    ("ARG_MAX", (3, 1, 4), 1, (0.1, 0)),                 # axis of size 1: all zeros
    ("ARG_MIN", (1, 10), -1, (0.05, 0)),
    ("ARG_MIN", (2, 3, 4, 5), 1, (0.1, -128)),
    ("ARG_MIN", (2, 3, 4, 5), -4, (0.1, 5)),
    ("ARG_MIN", (4, 2, 3, 2, 3), 3, (0.1, 5)),
]


class _Model(CaseModel):
    def input(self, shape, scale, zp, dtype="int8", span=None):
        lo, hi = (-span, span) if span is not None else (None, None)    # few values: ties
        return self.feed(shape, dtype, lo, hi, scale=scale, zero_point=zp)


def _reduce_cases(m):
    for k, (opc, dt, shape, axes, keep, qi, qo) in enumerate(REDUCE):
        x = m.input(shape, *qi, dtype=dt)
        rank = len(shape)
        red = {a % rank for a in axes}
        oshape = [1 if i in red else d for i, d in enumerate(shape)] if keep else \
            [d for i, d in enumerate(shape) if i not in red]
        ax = m.b.const(np.array(axes, np.int32))
        y = m.b.tensor(oshape, scale=qo[0], zero_point=qo[1], dtype=dt)
        m.b.op(opc, [x, ax], [y], keep_dims=keep)
        m.output(y, f"{opc.lower()}{k}_{dt}")


def _arg_cases(m):
    for k, (opc, shape, axis, qi) in enumerate(ARG):
        # half of the rows from few values, so ties are common (TFLM keeps the first index)
        x = m.input(shape, *qi, span=2 if k % 2 else None)
        a = axis % len(shape)
        ax = m.b.const(np.array([axis], np.int32))
        y = m.b.tensor([d for i, d in enumerate(shape) if i != a], dtype="int32")
        # TFLM reads the output tensor's type, not the option: case 0 leaves it at its default
        m.b.op(opc, [x, ax], [y], **({} if k == 0 else {"output_type": 2}))
        m.output(y, f"{opc.lower()}{k}")


FAMILIES = {"reduce": (_reduce_cases, len(REDUCE)), "argminmax": (_arg_cases, len(ARG))}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_bit_exact_with_tflm(family):
    build, n_cases = FAMILIES[family]
    m = _Model(seed=sum(map(ord, family)))
    build(m)
    assert len(m.names) == n_cases
    assert m.check() > 0


# ---- what TFLM refuses, or tinykiln does not implement: one clear sentence naming the op
def _reduce(opc, dt="int8", shape=(1, 4, 4, 3), axes=(1, 2), qo=(0.05, 0), axis_input=False):
    def build(b):
        x = b.input(shape, 0.05, 0, dtype=dt)
        ax = b.input((len(axes),), dtype="int32") if axis_input else \
            b.const(np.array(axes, np.int32))
        kept = [d for i, d in enumerate(shape) if i not in axes]
        y = b.tensor(kept, scale=qo[0], zero_point=qo[1], dtype=dt)
        b.op(opc, [x, ax], [y])
        b.output(y)
    return build


def _arg(out_dtype="int32", output_type=2, axis=1):
    def build(b):
        x = b.input((2, 5), 0.05, 0)
        y = b.tensor((2,), dtype=out_dtype)
        b.op("ARG_MAX", [x, b.const(np.array([axis], np.int32))], [y], output_type=output_type)
        b.output(y)
    return build


UNSUPPORTED = [
    (_reduce("REDUCE_MAX", "int16", qo=(0.05, 0)), "TFLM runs REDUCE_MAX only with int8"),
    (_reduce("REDUCE_MIN", qo=(0.1, 0)), "share scale and zero point"),
    (_reduce("SUM", axis_input=True), "axis operand must be a constant"),
    (_reduce("SUM", shape=(1, 4, 4, 3), axes=(7,)), "axis 7 is out of range"),
    (_reduce("MEAN", "int16", shape=(1, 200, 200, 1), axes=(1, 2)), "40000 reduced elements"),
    (_reduce("SUM", "int8", qo=(1e-12, 0)), "would shift an int32 left"),
    (_arg("int64", 4), "only from int8 input to int32 output"),
    (_arg(axis=2), "axis 2 is out of range"),
]


@pytest.mark.parametrize("build,message", UNSUPPORTED)
def test_unsupported_is_named(build, message):
    b = ModelBuilder()
    build(b)
    with pytest.raises(UnsupportedError, match=message) as e:
        compile_graph(b.g)
    assert "op 0 (" in str(e.value)
