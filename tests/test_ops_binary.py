"""int16 ADD and MUL, SUB, MINIMUM, MAXIMUM, SQUARED_DIFFERENCE, ABS, the comparisons and
SELECT_V2: bit-exact with TFLM.

Each table row is one single-op case; all rows of a table become independent ops of one model,
compiled once, built with ASan+UBSan and run on 50 input rows (the first two all minimum / all
maximum of the type) against TFLM's interpreter. Shapes cover broadcasts of ranks 0 to 5 and
constant operands; quantizations cover zero points at the type's ends and multipliers that
flush to zero, shift left, or sit next to 1."""
import re

import numpy as np
import pytest

from modelgen import ModelBuilder
from tflm_oracle import assert_cases_match_tflm, tflm_run
from tinykiln.compile import compile_graph
from tinykiln.errors import ModelError, UnsupportedError
from tinykiln.frontend.tflite_import import parse_tflite
from tinykiln.targets.hostrun import HostBuild

ROWS = 50
NP = {"int8": np.int8, "int16": np.int16, "int32": np.int32, "bool": np.bool_}
B4 = (1, 4, 4, 8)

# ---- two-input arithmetic: op, dtype, shape1, shape2 (("const", shape) for a constant),
# output shape, (scale, zp) of input 1, input 2 and output, fused activation
ARITH = [
    ("ADD", "int16", B4, B4, B4, (0.001, 0), (0.002, 0), (0.003, 0), "NONE"),
    ("ADD", "int16", B4, (8,), B4, (1e-4, 0), (3e-4, 0), (2e-4, 0), "RELU"),
    ("ADD", "int16", (2, 1, 3, 1, 5), (2, 4, 1, 6, 1), (2, 4, 3, 6, 5), (0.01, 0), (0.01, 0),
     (0.02, 0), "RELU6"),
    ("ADD", "int16", (3, 5), ("const", ()), (3, 5), (0.5, 0), (0.25, 0), (1.0, 0),
     "RELU_N1_TO_1"),
    # int16 zero points: TFLM's ADD takes them (no check), at both ends of the type
    ("ADD", "int16", (6,), (6,), (6,), (0.01, 32767), (0.02, -32768), (0.03, 100), "NONE"),
    ("ADD", "int16", ("const", (1, 3, 1)), (2, 1, 4), (2, 3, 4), (1.0, 0), (1e-10, 0),
     (1.0, 0), "NONE"),        # input 2's multiplier flushes to zero
    ("MUL", "int16", B4, B4, B4, (0.001, 0), (0.002, 0), (0.003, 0), "NONE"),
    # the output larger than both inputs (TFLM's broadcast walks the output's shape)
    ("ADD", "int16", (4,), (1, 1), (3, 4), (0.01, 0), (0.02, 0), (0.02, 0), "NONE"),
    ("SUB", "int8", (), (), (), (0.05, 3), (0.04, -3), (0.05, 1), "NONE"),     # rank 0
    ("SUB", "int8", (2, 1, 3, 1, 2, 3), (1, 2, 1, 2, 1, 3), (2, 2, 3, 2, 2, 3), (0.05, 3),
     (0.04, -3), (0.05, 1), "RELU"),                                         # rank 6
    ("MUL", "int16", B4, (1, 1, 1, 8), B4, (1e-3, 0), (1e-3, 0), (1e-6, 0), "RELU"),
    ("MUL", "int16", (2, 3, 1, 5), ("const", ()), (2, 3, 1, 5), (0.1, 0), (0.1, 0),
     (1e-6, 0), "NONE"),       # multiplier 10^4: left shift, wraps as TFLM's does
    ("MUL", "int16", (1, 2, 3, 4, 5), (1, 1, 3, 1, 5), (1, 2, 3, 4, 5), (0.01, 0), (0.02, 0),
     (50.0, 0), "RELU6"),
    ("SUB", "int8", B4, B4, B4, (0.05, -3), (0.07, 5), (0.1, 0), "NONE"),
    ("SUB", "int8", B4, B4, B4, (0.05, -128), (0.05, 127), (0.08, -128), "RELU"),
    ("SUB", "int8", B4, (1, 1, 1, 8), B4, (0.02, 10), (0.09, -7), (0.1, 3), "RELU6"),
    ("SUB", "int8", ("const", (8,)), B4, B4, (0.03, 1), (0.01, 0), (0.05, -2),
     "RELU_N1_TO_1"),
    ("SUB", "int8", (2, 1, 3, 1, 5), (2, 4, 1, 6, 1), (2, 4, 3, 6, 5), (0.05, 2), (0.06, -2),
     (0.11, 0), "NONE"),
    ("SUB", "int8", (7,), ("const", ()), (7,), (1.0, 0), (1e-10, 3), (1.0, -5), "NONE"),
    ("SUB", "int8", (3, 4), (3, 4), (3, 4), (0.5, 0), (0.25, 1),
     (1.0 / (1 << 20) * 1.001, 0), "NONE"),      # output multiplier just below 1
    ("SUB", "int8", (3, 4), (4,), (3, 4), (0.001, -4), (0.002, 9), (50.0, 6), "NONE"),
    ("SUB", "int16", B4, B4, B4, (0.001, 0), (0.002, 0), (0.003, 0), "NONE"),
    ("SUB", "int16", (2, 1, 3, 1, 5), (2, 4, 1, 6, 1), (2, 4, 3, 6, 5), (0.01, 0),
     (0.03, 0), (0.02, 0), "RELU"),
    ("SUB", "int16", (5,), ("const", (1,)), (5,), (0.5, 0), (0.25, 0), (0.1, 0), "RELU6"),
    ("SQUARED_DIFFERENCE", "int8", B4, B4, B4, (0.05, -3), (0.07, 5), (0.1, 0), "NONE"),
    ("SQUARED_DIFFERENCE", "int8", B4, (8,), B4, (0.05, -128), (0.05, 127), (0.5, -128),
     "NONE"),
    ("SQUARED_DIFFERENCE", "int8", (2, 1, 3, 1, 5), (2, 4, 1, 6, 1), (2, 4, 3, 6, 5),
     (0.1, 0), (0.02, 3), (0.001, -100), "NONE"),  # output multiplier > 1: left shift
    ("SQUARED_DIFFERENCE", "int8", (3, 4), ("const", ()), (3, 4), (0.01, 7), (0.01, -7),
     (30.0, 1), "NONE"),
    ("SQUARED_DIFFERENCE", "int16", B4, B4, B4, (1e-3, 0), (2e-3, 0), (0.05, 0), "NONE"),
    ("SQUARED_DIFFERENCE", "int16", (2, 3, 1), (1, 3, 4), (2, 3, 4), (0.01, 0), (0.01, 0),
     (1e-3, 0), "NONE"),
    ("MINIMUM", "int8", B4, B4, B4, (0.05, -3), (0.05, -3), (0.05, -3), "NONE"),
    ("MAXIMUM", "int8", B4, ("const", (1, 1, 1, 8)), B4, (0.05, 127), (0.05, 127),
     (0.05, 127), "NONE"),
    ("MINIMUM", "int16", (2, 1, 3, 1, 5), (2, 4, 1, 6, 1), (2, 4, 3, 6, 5), (0.01, 0),
     (0.01, 0), (0.01, 0), "NONE"),
    ("MAXIMUM", "int16", (3, 5), ("const", ()), (3, 5), (0.01, 0), (0.01, 0), (0.01, 0),
     "NONE"),
    ("MINIMUM", "int32", (3, 1, 5), (4, 1), (3, 4, 5), None, None, None, "NONE"),
    ("MAXIMUM", "int32", (6,), (6,), (6,), None, None, None, "NONE"),
]

# ---- comparisons to bool: op, dtype, shape1, shape2, output shape, (scale, zp) of each input
CMP_OPS = ["EQUAL", "NOT_EQUAL", "LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL"]
COMPARE = [(o, "int8", B4, B4, B4, (0.05, -3), (0.05, -3)) for o in CMP_OPS] + \
    [(o, "int8", (2, 1, 3, 1, 5), (4, 1, 6, 1), (2, 4, 3, 6, 5), (0.02, 10), (0.05, -2))
     for o in CMP_OPS] + \
    [(o, "int32", (3, 1, 5), ("const", (4, 1)), (3, 4, 5), None, None) for o in CMP_OPS] + [
    ("EQUAL", "int8", (5, 6), (6,), (5, 6), (0.001, 0), (0.004, 127)),   # rescaling merges
    ("LESS", "int8", (7,), ("const", ()), (7,), (0.9, -128), (0.3, 5)),
    ("GREATER_EQUAL", "int32", (), (3, 2), (3, 2), None, None),
    ("NOT_EQUAL", "int8", (1, 2, 1, 2, 1, 2), (2, 1, 2, 1, 2, 1), (2,) * 6, (0.05, 0),
     (0.05, 0)),
]

# ---- ABS: dtype, shape, (scale, zp) of input and output
ABS = [
    ("int8", B4, (0.05, -3), (0.05, -3)),
    ("int8", (3, 7), (0.05, -128), (0.05, -128)),        # |x - zp| up to 255: clamps
    ("int8", (3, 7), (0.05, 127), (0.02, -128)),
    ("int8", (10,), (0.1, 0), (0.001, 0)),                # multiplier 100: left shift
    ("int8", (2, 2, 2, 2, 2), (0.001, 40), (1.0, -5)),
    ("int16", B4, (0.001, 0), (0.001, 0)),                 # |-32768| clamps to 32767
    ("int16", (3, 7), (0.01, 0), (0.003, 0)),
]

# ---- SELECT_V2: dtype, condition shape, x shape, y shape (("const", shape) for constants),
# output shape, (scale, zp) shared by x, y and the output
SELECT = [
    ("int8", B4, B4, B4, B4, (0.05, -3)),
    ("int8", (1, 1, 4, 1), B4, ("const", ()), B4, (0.1, 127)),
    ("int8", (2, 1, 3, 1, 5), (4, 1, 6, 1), (2, 4, 3, 6, 5), (2, 4, 3, 6, 5), (0.05, 0)),
    ("int16", (5,), (3, 5), ("const", (3, 1)), (3, 5), (0.01, 0)),
    ("int16", (), (6,), (6,), (6,), (0.01, 0)),
    ("int8", (3, 1), ("const", (1, 4)), (3, 4), (3, 4), (0.05, -128)),
    ("int16", ("const", (2, 1, 3)), (2, 4, 1), ("const", ()), (2, 4, 3), (0.01, 0)),
]


class _Model:
    """One model of several independent single-op cases, each input with ROWS rows."""

    def __init__(self, seed):
        self.b = ModelBuilder()
        self.rng = np.random.default_rng(seed)
        self.rows: list[np.ndarray] = []
        self.names: list[str] = []

    def _values(self, dtype, shape):
        if dtype == "bool":
            return self.rng.integers(0, 2, shape).astype(np.bool_)
        info = np.iinfo(NP[dtype])
        x = self.rng.integers(info.min, info.max, shape, endpoint=True).astype(NP[dtype])
        if dtype == "int32":        # small values too, so that comparisons meet equal ones
            small = self.rng.integers(-3, 4, shape).astype(np.int32)
            x = np.where(self.rng.integers(0, 2, shape).astype(bool), small, x)
        return x

    def operand(self, spec, dtype, q):
        scale, zp = q if q else (None, 0)
        if spec and spec[0] == "const":
            return self.b.const(self._values(dtype, spec[1]), scale=scale, zero_point=zp,
                                dtype=dtype)
        t = self.b.input(spec, scale=scale, zero_point=zp, dtype=dtype)
        x = self._values(dtype, (ROWS, *spec))
        if dtype != "bool":
            info = np.iinfo(NP[dtype])
            x[0], x[1] = info.min, info.max
        self.rows.append(x)
        return t

    def output(self, shape, dtype, q, name):
        scale, zp = q if q else (None, 0)
        t = self.b.tensor(shape, scale=scale, zero_point=zp, dtype=dtype)
        self.b.output(t)
        self.names.append(name)
        return t

    def check(self):
        return assert_cases_match_tflm(self.b.build(), self.rows, self.names)


def _arith_cases(m):
    for k, (opc, dt, s1, s2, so, q1, q2, qo, act) in enumerate(ARITH):
        a, b = m.operand(s1, dt, q1), m.operand(s2, dt, q2)
        y = m.output(so, dt, qo, f"{opc.lower()}_{dt}_{k}")
        opts = {"fused_activation_function": act} if opc in ("ADD", "SUB", "MUL") else {}
        if opc in ("ADD", "SUB"):
            # as the converter writes 16x8 models; TFLM ignores it (case 3, whose scales are
            # powers of two, sets it and runs the general path all the same)
            opts["pot_scale_int16"] = k == 3
        m.b.op(opc, [a, b], [y], **opts)


def _compare_cases(m):
    for k, (opc, dt, s1, s2, so, q1, q2) in enumerate(COMPARE):
        a, b = m.operand(s1, dt, q1), m.operand(s2, dt, q2)
        m.b.op(opc, [a, b], [m.output(so, "bool", None, f"{opc.lower()}_{dt}_{k}")])


def _abs_cases(m):
    for k, (dt, shape, qi, qo) in enumerate(ABS):
        x = m.operand(shape, dt, qi)
        m.b.op("ABS", [x], [m.output(shape, dt, qo, f"abs_{dt}_{k}")])


def _select_cases(m):
    for k, (dt, sc, sx, sy, so, q) in enumerate(SELECT):
        c, x, y = m.operand(sc, "bool", None), m.operand(sx, dt, q), m.operand(sy, dt, q)
        m.b.op("SELECT_V2", [c, x, y], [m.output(so, dt, q, f"select_{dt}_{k}")])


FAMILIES = {"arith": (_arith_cases, len(ARITH)), "compare": (_compare_cases, len(COMPARE)),
            "abs": (_abs_cases, len(ABS)), "select": (_select_cases, len(SELECT))}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_bit_exact_with_tflm(family):
    build, n_cases = FAMILIES[family]
    m = _Model(seed=sum(map(ord, family)))
    build(m)
    assert len(m.names) == n_cases
    assert m.check() > 0


# ---- what TFLM itself refuses or runs wrongly, and what tinykiln does not take: one sentence
def _two(opc, dt, q1, q2, qo, out_dt=None, shapes=((4,), (4,), (4,))):
    def build(b):
        x = b.input(shapes[0], *(q1 or (None, 0)), dtype=dt)
        y = b.input(shapes[1], *(q2 or (None, 0)), dtype=dt)
        od = out_dt or dt
        out = b.tensor(shapes[2], *(qo or (None, 0)), dtype=od)
        b.op(opc, [x, y], [out])
        b.output(out)
    return build


def _select(dt, q):
    def build(b):
        c = b.input((4,), dtype="bool")
        x, y = b.input((4,), *q, dtype=dt), b.input((4,), *q, dtype=dt)
        out = b.tensor((4,), *q, dtype=dt)
        b.op("SELECT_V2", [c, x, y], [out])
        b.output(out)
    return build


def _unary(opc, dt, qi, qo):
    def build(b):
        x = b.input((4,), *qi, dtype=dt)
        out = b.tensor((4,), *qo, dtype=dt)
        b.op(opc, [x], [out])
        b.output(out)
    return build


Q16, Q8 = (0.01, 0), (0.05, 0)
UNSUPPORTED = [
    (_two("MUL", "int16", (0.01, 3), Q16, Q16), "int16 MUL needs zero point 0"),
    (_two("SUB", "int16", Q16, Q16, (0.01, -1)), "int16 SUB needs zero point 0"),
    (_two("SQUARED_DIFFERENCE", "int16", Q16, (0.01, 5), Q16),
     "int16 SQUARED_DIFFERENCE needs zero point 0"),
    (_unary("ABS", "int16", (0.01, 2), Q16), "int16 ABS needs zero point 0"),
    (_two("EQUAL", "int16", Q16, Q16, None, "bool"), "int16 comparisons are not supported"),
    (_two("LESS", "int8", Q8, Q8, None, "bool", ((4,), (4,), (2, 4))), "which are equal"),
    (_two("ADD", "int8", Q8, Q8, Q8, shapes=((4,), (1, 4), (3, 4))), "which are equal"),
    (_two("NOT_EQUAL", "int32", None, None, None, "bool"), None),     # accepted: the control
    (_two("GREATER", "int8", (1.5, 0), Q8, None, "bool"), "input scales below 1"),
    (_two("LESS", "int8", Q8, Q8, Q8), "output must be bool"),
    (_two("MAXIMUM", "int8", Q8, (0.06, 0), Q8), "share one scale and zero point"),
    (_two("ADD", "int16", Q16, Q16, (0.01, 0), "int8"), "all int8 or all int16"),
    (_two("SUB", "int8", Q8, Q8, Q8, shapes=((3,), (4,), (4,))), "do not broadcast"),
    (_two("SUB", "int8", Q8, Q8, (1e-9, 0)), "output multiplier"),
    (_two("MINIMUM", "int8", Q8, Q8, Q8, shapes=((2, 1, 2, 1, 2, 1, 2), (1, 2, 1, 2, 1, 2, 1),
                                                 (2,) * 7)),
     "more than 6 dims"),
    (_select("int32", (None, 0)), "values and output must be all int8 or all int16"),
    (_unary("NEG", "int8", Q8, Q8), "NEG"),
]


@pytest.mark.parametrize("build,message", UNSUPPORTED,
                         ids=[(u[1] or "accepted")[:30] for u in UNSUPPORTED])
def test_unsupported_is_named(build, message):
    b = ModelBuilder()
    build(b)
    if message is None:
        compile_graph(b.g)
        return
    with pytest.raises((UnsupportedError, ModelError), match=message) as e:
        compile_graph(b.g)
    assert "op 0 (" in str(e.value) or "NEG" in str(e.value)
    assert "\n" not in str(e.value)


def test_generated_c_reads_every_field_and_copies_only_called_kernels():
    """The codegen conventions of test_codegen on a model of every case here: each parameter
    field printed is read by its kernel, each copied kernel file defines only kernels model.c
    calls, lines stay within 120 characters."""
    import test_codegen as tc
    m = _Model(seed=5)
    for build, _ in FAMILIES.values():
        build(m)
    c = compile_graph(parse_tflite(m.b.build()))
    text = c.files["model.c"]
    assert max(len(line) for line in text.split("\n")) <= tc.LINE
    checked = 0
    for call in c.lowered.calls:
        struct = call.args[0][1:]
        body = re.search(rf"static const \w+ {struct} = \{{\n(.*?)\n\}};", text, re.S)
        source = next(s for s in c.lowered.sources
                      if re.search(rf"\b{call.func}\(", (tc.ROOT / "runtime_c" / s).read_text()))
        extra = tc._printed_fields(body.group(1)) - tc._fields_read(call.func, source)
        assert not extra, f"{struct} sets {sorted(extra)}, which {call.func} does not read"
        checked += 1
    assert checked == len(m.names)
    called = set(re.findall(r"\b(tk_\w+)\(", text))
    for name, src in c.files.items():
        if name.endswith(".c") and name != "model.c":
            assert set(re.findall(r"^void (tk_\w+)\(", src, re.M)) <= called, name


def _one_of_each(m):
    """The first case of each op and type in the tables: one small model for the boards."""
    seen = set()
    for k, (opc, dt, s1, s2, so, q1, q2, qo, act) in enumerate(ARITH):
        if (opc, dt) not in seen:
            seen.add((opc, dt))
            a, b = m.operand(s1, dt, q1), m.operand(s2, dt, q2)
            opts = {"fused_activation_function": act} if opc in ("ADD", "SUB", "MUL") else {}
            m.b.op(opc, [a, b], [m.output(so, dt, qo, f"{opc.lower()}_{dt}_{k}")], **opts)
    for k, (opc, dt, s1, s2, so, q1, q2) in enumerate(COMPARE[6:13]):
        a, b = m.operand(s1, dt, q1), m.operand(s2, dt, q2)
        m.b.op(opc, [a, b], [m.output(so, "bool", None, f"{opc.lower()}_{dt}_{k}")])
    for k, (dt, shape, qi, qo) in enumerate(ABS[4:6]):
        m.b.op("ABS", [m.operand(shape, dt, qi)], [m.output(shape, dt, qo, f"abs_{dt}_{k}")])
    for k, (dt, sc, sx, sy, so, q) in enumerate(SELECT[2:4]):
        c, x, y = m.operand(sc, "bool", None), m.operand(sx, dt, q), m.operand(sy, dt, q)
        m.b.op("SELECT_V2", [c, x, y], [m.output(so, dt, q, f"select_{dt}_{k}")])


@pytest.mark.parametrize("board", ["mps2-an386", "sifive_e"])
def test_bit_exact_on_board(board, tmp_path):
    """Every kernel here, built for Cortex-M4 and RV32 and run under QEMU, against TFLM."""
    from test_firmware import _tools_for
    from tflm_oracle import tflm_run
    from tinykiln.targets.board import get_board
    from tinykiln.targets.firmware import build_firmware
    from tinykiln.targets.qemu import run_firmware
    for mark in _tools_for(board):
        if mark.args[0]:
            pytest.skip(mark.kwargs["reason"])
    m = _Model(seed=17)
    _one_of_each(m)
    buf = m.b.build()
    rows = [r[:6] for r in m.rows]
    ref = tflm_run(buf, rows, len(m.names))
    c = compile_graph(parse_tflite(buf))
    build_firmware(c, get_board(board), tmp_path / "fw")
    res = run_firmware(tmp_path / "fw", get_board(board), c.graph, rows)
    bad = [n for n, o, r in zip(m.names, res.outputs, ref)
           if o.reshape(r.shape).tobytes() != r.tobytes()]
    assert not bad, f"{board}: cases differ from TFLM: {bad}"
    assert len(m.names) > 20


# ---- int8 ADD, SUB and MUL (tk_add_s8, tk_mul_s8): each innermost-dim kind (both inputs read
# with stride 1, input 2 broadcast along it, input 1, both) with each output stage (general,
# fast clamped, fast saturated), rows > 1, odd sizes, zero points at both ends; same table
# layout as ARITH
FAST8 = [
    ("ADD", "int8", (7,), (7,), (7,), (0.05, -128), (0.05, 127), (0.08, -128), "NONE"),
    ("ADD", "int8", (3, 5), (3, 5), (3, 5), (0.02, 10), (0.09, -7), (0.1, 3), "RELU"),
    ("ADD", "int8", (3, 4), (3, 4), (3, 4), (0.5, 0), (0.25, 1),
     (1.0 / (1 << 20) * 1.001, 0), "NONE"),      # output shift 0: the general stage
    ("ADD", "int8", (2, 3, 5), (2, 1, 5), (2, 3, 5), (0.03, 1), (0.01, 0), (0.05, -2),
     "RELU_N1_TO_1"),                            # rows > 1, both stride 1
    ("ADD", "int8", (5, 9), (5, 1), (5, 9), (0.05, 2), (0.06, -2), (0.11, 0), "NONE"),
    ("ADD", "int8", (1,), (13,), (13,), (0.1, 127), (0.004, -128), (0.1, 127), "RELU6"),
    ("ADD", "int8", (), (), (), (0.05, 3), (0.04, -3), (0.05, 1), "NONE"),
    ("ADD", "int8", (3, 4), (3, 1), (3, 4), (0.5, -128), (0.25, 127),
     (1.0 / (1 << 20) * 1.001, 0), "NONE"),
    ("ADD", "int8", (1,), (4, 5), (4, 5), (0.25, 127), (0.5, -128),
     (1.0 / (1 << 20) * 1.001, -1), "RELU"),
    ("SUB", "int8", (9,), (), (9,), (0.05, -3), (0.07, 5), (0.1, 0), "RELU"),
    # ... and with the other input at the larger scale (the computed stage swaps the inputs)
    ("ADD", "int8", (6, 7), (6, 1), (6, 7), (0.09, 2), (0.06, -2), (0.11, 0), "NONE"),
    ("SUB", "int8", (9,), (), (9,), (0.07, 5), (0.05, -3), (0.1, 0), "RELU"),
    ("ADD", "int8", (1,), (4, 5), (4, 5), (0.5, -128), (0.25, 127),
     (1.0 / (1 << 20) * 1.001, 2), "NONE"),
    ("SUB", "int8", (3, 1), (3, 6), (3, 6), (0.02, -128), (0.02, 127), (0.03, 5), "NONE"),
    ("SUB", "int8", (11,), (11,), (11,), (0.5, 127), (0.5, -128), (1.0, 0), "NONE"),
    ("MUL", "int8", (4, 7), (4, 1), (4, 7), (0.05, -3), (0.004, -128), (0.02, 1), "RELU6"),
    ("MUL", "int8", (), (11,), (11,), (0.03, 2), (0.01, -5), (0.001, -128), "NONE"),
    ("MUL", "int8", (9,), (9,), (9,), (0.05, -128), (0.05, -128), (0.1, -128), "NONE"),
    ("MUL", "int8", (2, 3, 1, 5), (2, 1, 4, 5), (2, 3, 4, 5), (0.1, 0), (0.1, 0), (0.05, 0),
     "RELU"),
    ("MUL", "int8", (5,), (5,), (5,), (0.5, 1), (0.5, -1), (0.01, 0), "NONE"),   # shift > 0
    ("MUL", "int8", (3,), (3,), (3,), (1e-3, 3), (1e-3, -3), (10.0, 2), "NONE"),  # tiny m
    ("MUL", "int8", (6,), (), (6,), (0.5, 1), (0.5, -1), (0.01, 0), "NONE"),
    ("MUL", "int8", (3, 7), (3, 1), (3, 7), (0.02, 5), (0.03, -9), (0.01, 4), "NONE"),
    ("MUL", "int8", (1,), (7,), (7,), (0.5, -128), (0.5, 127), (0.02, 3), "RELU6"),
    ("MUL", "int8", (2, 1), (2, 9), (2, 9), (0.02, 127), (0.03, -128), (0.05, -1), "RELU"),
]


# both inputs broadcast along the output's innermost dim (variant 9): TFLM reads past its
# inputs there (its walk indexes an input's size-1 dim with the output's index), so the
# reference is TFLM's output at the inputs' broadcast shape, repeated along that dim
BOTH8 = [
    ("ADD", "int8", (3, 1), (1, 1), (3, 5), (0.05, 3), (0.04, -3), (0.05, 1), "NONE"),
    ("SUB", "int8", (4, 1), (1, 1), (4, 3), (0.05, 3), (0.04, -3), (0.5, 1), "RELU6"),
    ("MUL", "int8", (4, 1), (1, 1), (4, 3), (0.05, 127), (0.05, -128), (0.2, 0), "NONE"),
]


def _fast8_model(seed, reference=False):
    """FAST8 and BOTH8 as one model; `reference`: BOTH8's outputs at the inputs' broadcast
    shape, for TFLM."""
    m = _Model(seed=seed)
    for k, (opc, dt, s1, s2, so, q1, q2, qo, act) in enumerate(FAST8 + BOTH8):
        if reference and k >= len(FAST8):
            so = np.broadcast_shapes(s1, s2)
        a, b = m.operand(s1, dt, q1), m.operand(s2, dt, q2)
        m.b.op(opc, [a, b], [m.output(so, dt, qo, f"{opc.lower()}_fast8_{k}")],
               fused_activation_function=act)
    return m


def _fast8_reference(seed, rows):
    """TFLM's outputs for _fast8_model(seed) on rows (BOTH8's repeated to their shapes)."""
    ref = tflm_run(_fast8_model(seed, reference=True).b.build(), rows, len(FAST8 + BOTH8))
    return ref[:len(FAST8)] + [np.broadcast_to(r, (r.shape[0], *case[4])).copy()
                               for r, case in zip(ref[len(FAST8):], BOTH8)]


def _variants(text, struct):
    return {int(v) for v in re.findall(
        rf"static const {struct} \w+ = \{{.*?\.variant = (\d+)", text, re.S)}


@pytest.mark.parametrize("cflags", [[], ["-DTK_DSP_EMULATE_SIMD"]], ids=["portable", "simd"])
@pytest.mark.parametrize("tables", [False, True], ids=["computed", "tables"])
def test_int8_add_sub_mul_variants(cflags, tables, monkeypatch):
    """Every variant of the int8 ADD/SUB and MUL kernels (ADD/SUB: inputs computed, as for these
    small ops, or tabulated, as for large ones), portable and with the C models of the DSP
    instructions, against TFLM on the host under ASan/UBSan."""
    import tinykiln.lower.elementwise as ew
    if tables:
        monkeypatch.setattr(ew, "TABLE_MIN_ELEMENTS", 1)
    m = _fast8_model(23)
    buf = m.b.build()
    ref = _fast8_reference(23, m.rows)
    c = compile_graph(parse_tflite(buf))
    text = c.files["model.c"]
    assert _variants(text, "tk_add8_params") == set(range(0 if tables else 10, 20 - 10 * tables))
    assert _variants(text, "tk_mul8_params") == set(range(10))
    with HostBuild(c, sanitize=True, extra_cflags=cflags) as hb:
        out = hb.run(m.rows)
    bad = {n: int((o != r).sum()) for n, o, r in zip(m.names, out, ref) if (o != r).any()}
    assert not bad, bad
    assert sum(len(np.unique(r)) > 3 for r in ref) > len(ref) // 2


def test_int8_add_tables_shared_by_small_ops():
    """Small ADDs whose inputs are quantized alike (an unrolled recurrent cell's steps) share one
    pair of tables, so together they reach TABLE_MIN_ELEMENTS and are tabulated (emitted once);
    an ADD with its own quantization and as few elements computes its inputs. Bit-exact."""
    import tinykiln.lower.elementwise as ew
    b, rng, rows = ModelBuilder("add_shared"), np.random.default_rng(5), []
    n_shared = -(-ew.TABLE_MIN_ELEMENTS // 24)
    for k in range(n_shared + 1):
        s2 = 0.07 if k < n_shared else 0.09        # the last one differs in input 2
        x = b.input((1, 24), scale=0.05, zero_point=3)
        y = b.input((1, 24), scale=s2, zero_point=-7)
        o = b.tensor((1, 24), scale=0.1 + 0.01 * k, zero_point=1)
        b.op("ADD", [x, y], [o], fused_activation_function="NONE")
        b.output(o)
        rows += [rng.integers(-128, 128, (20, 1, 24), dtype=np.int8) for _ in range(2)]
    buf = b.build()
    c = compile_graph(parse_tflite(buf))
    variants = [int(v) for v in re.findall(r"\.variant = (\d+)", c.files["model.c"])]
    assert [v < 10 for v in variants] == [True] * n_shared + [False]
    assert len(re.findall(r"input 1 of the int8 ADD", c.files["model.c"])) == 1
    ref = tflm_run(buf, rows, n_shared + 1)
    with HostBuild(c, sanitize=True) as hb:
        out = hb.run(rows)
    assert all((o.reshape(r.shape) == r).all() for o, r in zip(out, ref))


@pytest.mark.parametrize("tables", [False, True], ids=["computed", "tables"])
def test_int8_add_sub_mul_variants_on_board(tables, tmp_path, monkeypatch):
    """The same cases built for Cortex-M4 (SMMULR, SSAT) and run under QEMU, against TFLM."""
    import tinykiln.lower.elementwise as ew
    from test_firmware import _tools_for
    from tinykiln.targets.board import get_board
    from tinykiln.targets.firmware import build_firmware
    from tinykiln.targets.qemu import run_firmware
    for mark in _tools_for("mps2-an386"):
        if mark.args[0]:
            pytest.skip(mark.kwargs["reason"])
    if tables:
        monkeypatch.setattr(ew, "TABLE_MIN_ELEMENTS", 1)
    m = _fast8_model(29)
    buf = m.b.build()
    rows = [r[:8] for r in m.rows]
    ref = _fast8_reference(29, rows)
    c = compile_graph(parse_tflite(buf))
    build_firmware(c, get_board("mps2-an386"), tmp_path / "fw")
    res = run_firmware(tmp_path / "fw", get_board("mps2-an386"), c.graph, rows)
    bad = [n for n, o, r in zip(m.names, res.outputs, ref)
           if o.reshape(r.shape).tobytes() != r.tobytes()]
    assert not bad, f"cases differ from TFLM: {bad}"

# ---- the ops as TensorFlow's converter writes them, int8 and 16x8 (int16 activations): Keras
# Add, Subtract, Multiply, Maximum, Minimum, keras.ops abs, square of a difference (SQUARED_
# DIFFERENCE), greater and less_equal (int8 only: the converter has no 16x8 GREATER)
_KERAS = r'''
import sys
import numpy as np
import keras
import tensorflow as tf
keras.utils.set_random_seed(1)
a = keras.Input((8, 6), batch_size=1, name="a")
b = keras.Input((1, 6), batch_size=1, name="b")
s, d = keras.layers.Add()([a, b]), keras.layers.Subtract()([a, b])
mn = keras.layers.Minimum()([keras.layers.Maximum()([keras.layers.Multiply()([s, d]), a]), d])
ab = keras.ops.abs(mn)
sq = keras.ops.square(keras.ops.subtract(ab, a))
models = {"16x8": keras.Model([a, b], [sq, mn, ab]),
          "int8": keras.Model([a, b], [sq, keras.ops.greater(a, b), ab,
                                       keras.ops.less_equal(sq, mn)])}
rng = np.random.default_rng(0)
data = [{"a": rng.normal(size=(1, 8, 6)).astype(np.float32),
         "b": rng.normal(size=(1, 1, 6)).astype(np.float32)} for _ in range(30)]
for mode, model in models.items():
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: iter(data)
    ops = tf.lite.OpsSet
    conv.target_spec.supported_ops = [
        ops.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8 if mode == "16x8"
        else ops.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = conv.inference_output_type = tf.int16 if mode == "16x8" \
        else tf.int8
    open(sys.argv[1] + f"/{mode}.tflite", "wb").write(conv.convert())
'''


def test_converted_keras_models(tmp_path):
    import subprocess
    import sys
    from tinykiln.frontend.tflite_import import parse_tflite as parse
    pytest.importorskip("tensorflow")
    r = subprocess.run([sys.executable, "-c", _KERAS, str(tmp_path)], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    seen = set()
    for mode, dt in (("16x8", "int16"), ("int8", "int8")):
        buf = (tmp_path / f"{mode}.tflite").read_bytes()
        g = parse(buf)
        seen.update((op.opcode, g.tensors[op.inputs[0]].dtype) for op in g.ops)
        m, rows = _Model(seed=3), []
        for i in g.inputs:
            rows.append(m._values(dt, (ROWS, *g.tensors[i].shape)))
            rows[-1][0], rows[-1][1] = np.iinfo(NP[dt]).min, np.iinfo(NP[dt]).max
        names = [f"{mode}_{k}" for k in range(len(g.outputs))]
        assert assert_cases_match_tflm(buf, rows, names) > 0
    want = {(o, t) for o in ("ADD", "SUB", "MUL", "MAXIMUM", "MINIMUM", "ABS",
                             "SQUARED_DIFFERENCE") for t in ("int8", "int16")}
    assert want | {("GREATER", "int8"), ("LESS_EQUAL", "int8")} <= seen
