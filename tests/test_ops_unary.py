"""LEAKY_RELU, ELU, RSQRT, PRELU, L2_NORMALIZATION, LOG_SOFTMAX, and the int16 paths of LOGISTIC,
TANH, RELU, RELU6, QUANTIZE, DEQUANTIZE and SOFTMAX: bit-exact with TFLM.

Each table row is one single-op case; all rows of a family become independent ops of one model,
compiled once, built with ASan+UBSan and run against TFLM's interpreter. int8 inputs see all 256
values; int16 inputs see all 65536 values (over eight rows of 8192). One small case per kernel
also runs under QEMU on mps2-an386 and sifive_e."""
import shutil

import numpy as np
import pytest

from casemodel import CaseModel
from modelgen import ModelBuilder
from tinykiln.compile import compile_graph
from tinykiln.errors import UnsupportedError
from tinykiln.frontend.tflite_import import parse_tflite

# ---- int8 -> int8: op, (input scale, zp), (output scale, zp), options
UNARY8 = [
    ("LEAKY_RELU", (0.05, -3), (0.04, 5), {"alpha": 0.2}),
    ("LEAKY_RELU", (0.1, 0), (0.1, 0), {"alpha": 0.01}),
    ("LEAKY_RELU", (0.02, -128), (0.03, 127), {"alpha": 0.3}),
    ("LEAKY_RELU", (0.05, 127), (0.02, -100), {"alpha": 1.5}),       # alpha > 1
    ("LEAKY_RELU", (0.05, 10), (0.05, -10), {"alpha": -0.3}),        # negative alpha
    ("LEAKY_RELU", (0.05, 10), (0.05, -10), {"alpha": 0.0}),
    ("LEAKY_RELU", (1.0, 0), (0.001, 0), {"alpha": 0.1}),            # saturates
    ("ELU", (0.05, -3), (0.04, 5), {}),
    ("ELU", (0.1, 0), (0.05, -128), {}),
    ("ELU", (0.02, 127), (0.02, 127), {}),
    ("ELU", (0.5, -20), (0.03, 0), {}),
    ("ELU", (0.001, 0), (0.0005, 3), {}),
]

# ---- RSQRT int8 (inputs at or above the zero point only: TFLM stops below it)
RSQRT = [((0.05, -128), (0.02, -128)), ((0.01, 0), (0.05, -100)), ((1.0, -100), (0.004, -128)),
         ((0.001, 10), (0.3, 0)), ((4.0, -128), (0.002, 20)), ((0.1, 126), (0.01, 0))]

# ---- int16 -> int16 (or int8): op, (input scale, zp), (output dtype, scale, zp), options
UNARY16 = [
    ("LEAKY_RELU", (0.001, 0), ("int16", 0.0008, 0), {"alpha": 0.2}),
    ("LEAKY_RELU", (1 / 4096, 0), ("int16", 1 / 4096, 0), {"alpha": 0.01}),
    ("LEAKY_RELU", (0.002, 7), ("int16", 0.001, -3), {"alpha": -0.5}),
    ("LEAKY_RELU", (0.01, 0), ("int16", 1e-5, 0), {"alpha": 0.3}),     # saturates
    ("LOGISTIC", (2 ** -12, 0), ("int16", 2 ** -15, 0), {}),       # power of two: 3x
    ("LOGISTIC", (2 ** -11, 0), ("int16", 2 ** -15, 0), {}),
    ("LOGISTIC", (2 ** -8, 0), ("int16", 2 ** -15, 0), {}),
    ("LOGISTIC", (0.001, 0), ("int16", 2 ** -15, 0), {}),
    ("LOGISTIC", (1 / 48, 0), ("int16", 2 ** -15, 0), {}),
    ("LOGISTIC", (2.5, 0), ("int16", 2 ** -15, 0), {}),             # multiplier 30720, no shift
    ("LOGISTIC", (1e-9, 0), ("int16", 2 ** -15, 0), {}),             # shift 31
    ("TANH", (2 ** -12, 0), ("int16", 2 ** -15, 0), {}),
    ("TANH", (2 ** -11, 0), ("int16", 2 ** -15, 0), {}),            # power of two: 6x
    ("TANH", (2 ** -10, 0), ("int16", 2 ** -15, 0), {}),
    ("TANH", (0.0003, 0), ("int16", 2 ** -15, 0), {}),
    ("TANH", (1 / 48, 0), ("int16", 2 ** -15, 0), {}),
    ("TANH", (2.0, 0), ("int16", 2 ** -15, 0), {}),
    ("TANH", (3e-8, 0), ("int16", 2 ** -15, 0), {}),
    ("RELU", (0.001, 0), ("int16", 0.0005, 0), {}),
    ("RELU", (1 / 2048, 0), ("int16", 1 / 2048, 0), {}),
    ("RELU", (0.003, 0), ("int16", 0.1, 0), {}),
    ("RELU6", (0.001, 0), ("int16", 0.001, 0), {}),
    ("RELU6", (1e-4, 0), ("int16", 1e-4, 0), {}),                    # six above int16 max
    ("RELU6", (0.0005, 100), ("int16", 0.0005, 100), {}),
    ("RELU6", (0.001, 10), ("int16", 0.002, -5), {}),                # clamps in input terms
    ("QUANTIZE", (0.001, 0), ("int16", 0.002, 0), {}),
    ("QUANTIZE", (0.001, -5), ("int16", 0.0003, 9), {}),
    ("QUANTIZE", (1 / 32768, 0), ("int16", 1 / 32768, 0), {}),
    ("QUANTIZE", (0.001, 0), ("int8", 0.1, -3), {}),
    ("QUANTIZE", (3e-5, 11), ("int8", 0.008, 127), {}),
    ("QUANTIZE", (0.5, 0), ("int8", 0.25, -128), {}),
]

# ---- QUANTIZE int8 -> int16: (input scale, zp), (output scale, zp)
QUANT_8_16 = [((0.05, -3), (0.001, 0)), ((0.1, 127), (0.0001, 5)),
              ((1 / 256, -128), (1 / 32768, 0)), ((1.0, 0), (1e-5, 0)), ((0.02, 4), (0.03, -7))]

# ---- QUANTIZE float32 -> int16 and DEQUANTIZE int16 -> float32: (scale, zp)
QUANTIZE_F32 = [(1 / 32768, 0), (0.0123, -7), (1.0, 100), (3e-5, 0), (17.5, -30000)]
DEQUANTIZE = [(1 / 32768, 0), (0.0123, -7), (1.0, 100), (3e-5, 0), (1e-40, 0), (123.4, 32767)]

# ---- SOFTMAX int16 -> int16: shape (rows x depth), input scale, beta
SOFTMAX16 = [((1, 10), 0.001, 1.0), ((1, 1), 0.001, 1.0), ((4, 3), 1 / 4096, 1.0),
             ((2, 3, 12), 0.0003, 1.0), ((2, 100), 0.002, 0.5), ((1, 1000), 0.0005, 1.0),
             ((3, 16), 1e-4, 2.0), ((2, 20), 0.01, 1.0), ((2, 20), 0.1, 10.0),
             ((2, 8), 1e-6, 1.0), ((1, 5000), 0.001, 1.0),
             ((4096, 2), 0.001, 1.0), ((4096, 2), 3e-4, 1.0), ((4096, 2), 1 / 4096, 0.7)]

# ---- PRELU: dtype, input shape, alpha shape (("in", shape) for a second model input), (input
# scale, zp), (alpha scale, zp), (output scale, zp)
PRELU = [
    ("int8", (1, 4, 4, 8), (8,), (0.05, -3), (0.01, 5), (0.04, 2)),
    ("int8", (1, 4, 4, 8), (1, 1, 8), (0.1, 127), (0.02, -128), (0.05, -128)),
    ("int8", (1, 3, 5, 4), (3, 5, 4), (0.02, -128), (0.004, 0), (0.03, 10)),
    ("int8", (2, 6), (1,), (0.05, 0), (0.1, 100), (0.02, 0)),
    ("int8", (1, 4, 4, 8), ("in", (1, 4, 4, 8)), (0.05, 3), (0.05, -7), (0.05, 1)),
    ("int8", (2, 3, 1, 5), (4, 1), (1.0, 0), (0.5, 0), (0.001, 0)),     # saturates, broadcast up
    ("int16", (1, 4, 4, 8), (8,), (0.001, 0), (0.01, 5), (0.001, 0)),
    ("int16", (1, 5, 16), (1, 16), (3e-4, 0), (0.02, -128), (5e-4, 0)),
    ("int16", (2, 32), ("in", (2, 32)), (1 / 4096, 0), (0.01, -3), (1 / 2048, 0)),
    ("int16", (1, 4, 8), (8,), (0.001, 17), (0.01, 5), (0.002, -9)),     # int16 zero points
]

# ---- L2_NORMALIZATION int8: input shape, (input scale, zp)
L2NORM = [((1, 10), (0.05, 0)), ((2, 3, 16), (0.1, -3)), ((4, 1), (0.02, 127)),
          ((1, 1000), (0.01, -128)), ((2, 2, 3, 8), (0.5, 10)), ((3,), (0.1, 0)),
          ((2, 2), (0.1, -50))]

# ---- LOG_SOFTMAX int8: shape (rows x depth), (input scale, zp)
LOG_SOFTMAX = [((1, 10), (0.1, 0)), ((1, 1), (0.1, 0)), ((1, 2), (0.05, -128)),
               ((4, 3), (0.2, 127)),
               ((2, 3, 12), (0.0625, 5)), ((5, 100), (0.15, -7)), ((1, 1000), (0.2, 3)),
               ((2, 20), (1.0, 0)), ((2, 64), (0.02, 0)), ((2, 8), (1e-7, 0)),
               ((3, 16), (16 / 256, 127)), ((1, 4095), (0.5, 0)), ((256, 2), (0.08, 0))]

# ---- rejected with a sentence: opcode, input (dtype, scale, zp), output (dtype, scale, zp),
# options, phrase of the message
REJECTED = [
    ("RELU", ("int16", 0.01, 3), ("int16", 0.01, 0), {}, "zero points must be 0"),
    ("LEAKY_RELU", ("int8", 0.01, 3), ("int16", 0.01, 0), {"alpha": 0.1},
     "only int8 input and output"),
    ("SOFTMAX", ("int16", 0.01, 0), ("int16", 1 / 65536, 0), {"beta": 1.0}, "1/32768"),
    ("SOFTMAX", ("int16", 0.01, 3), ("int16", 1 / 32768, 0), {"beta": 1.0}, "zero points"),
    ("SOFTMAX", ("int16", 0.01, 0), ("int8", 1 / 256, -128), {"beta": 1.0}, "int16 output"),
    ("LOGISTIC", ("int16", 3.0, 0), ("int16", 2 ** -15, 0), {}, "at most 32767"),
    ("TANH", ("int16", 0.001, 0), ("int16", 2 ** -14, 0), {}, "2\\^-15"),
    ("TANH", ("int16", 0.001, 5), ("int16", 2 ** -15, 0), {}, "zero points must be 0"),
    ("L2_NORMALIZATION", ("int8", 0.1, 0), ("int8", 1 / 128, 0), {"fused_activation_function":
                                                                  "RELU"}, "fused activation"),
    ("LOG_SOFTMAX", ("int8", 0.1, 0), ("int8", 1 / 16, 0), {}, "zero point 127"),
    ("LOG_SOFTMAX", ("int8", 1e-9, 0), ("int8", 1 / 16, 127), {}, "too small"),
    ("ELU", ("int16", 0.01, 0), ("int16", 0.01, 0), {}, "only int8"),
    ("RSQRT", ("int8", 0.01, 0), ("int8", 1e6, 0), {}, "too large"),
    ("QUANTIZE", ("int16", 0.1, 0), ("int32", 0.1, 0), {}, "from int16 to int32"),
    ("DEQUANTIZE", ("int32", 0.1, 0), ("float32", None, 0), {}, "int32 to float32"),
]


_Model = CaseModel     # cases fed given rows: CaseModel.case


def _every_int8():
    every = np.arange(-128, 128, dtype=np.int8).reshape(2, 128)
    return np.stack([every, every[::-1, ::-1]])              # two rows: all 256 values each


def _every_int16():
    rng = np.random.default_rng(5)
    return rng.permutation(np.arange(-32768, 32768)).astype(np.int16).reshape(8, 1, 8192)


def _unary8(m):
    x = _every_int8()
    for k, (opc, qi, qo, opts) in enumerate(UNARY8):
        m.case(f"{opc.lower()}{k}", opc, x, qi, (2, 128), qo, **opts)
    for k, (qi, qo) in enumerate(RSQRT):
        valid = np.arange(qi[1], 128, dtype=np.int8)
        x = np.stack([np.resize(valid, 64), np.resize(valid[::-1], 64)]).reshape(2, 1, 64)
        m.case(f"rsqrt{k}", "RSQRT", x, qi, (1, 64), qo)
    for k, (qi, qo) in enumerate(QUANT_8_16):
        m.case(f"quantize_8_16_{k}", "QUANTIZE", _every_int8(), qi, (2, 128), qo, "int16")


def _unary16(m):
    x = _every_int16()
    for k, (opc, qi, (odt, os_, oz), opts) in enumerate(UNARY16):
        m.case(f"{opc.lower()}16_{k}", opc, x, qi, (1, 8192), (os_, oz), odt, **opts)


def _softmax16(m):
    rng = np.random.default_rng(7)
    for k, (shape, scale, beta) in enumerate(SOFTMAX16):
        x = rng.integers(-32768, 32768, (8, *shape)).astype(np.int16)
        x[0] = -32768                                        # one maximum in each row
        x[0].reshape(-1, shape[-1])[:, -1] = 32767
        x[1] = 32767                                         # all equal: 1 / depth
        x[2] = -32768
        x[3] = rng.integers(32000, 32768, shape).astype(np.int16)     # near-equal values
        x[4] = rng.integers(-200, 200, shape).astype(np.int16)
        # differences spread over [-10, 0] after scaling: every part of the exp table
        span = int(min(65535, 12 / (scale * beta)))
        x[5:] = (32767 - rng.integers(0, span + 1, (3, *shape))).astype(np.int16)
        if shape[-1] == 2:       # pairs (max, max - d) for d over the whole table: exp(-d) shows
            d = np.linspace(0, span, shape[0] * 3).astype(np.int64).reshape(3, shape[0])
            x[5:, :, 0] = 32767
            x[5:, :, 1] = (32767 - d).astype(np.int16)
        m.case(f"softmax16_{k}", "SOFTMAX", x, (scale, 0), shape, (1 / 32768, 0), "int16",
               beta=beta)


def _prelu(m):
    rng = np.random.default_rng(3)
    rows = 8
    for k, (dt, shape, ashape, qi, qa, qo) in enumerate(PRELU):
        lo, hi = (-128, 128) if dt == "int8" else (-32768, 32768)
        x = rng.integers(lo, hi, (rows, *shape)).astype(dt)
        x[0], x[1] = lo, hi - 1
        xi = m.b.input(shape, scale=qi[0], zero_point=qi[1], dtype=dt)
        m.rows.append(x)
        if ashape[0] == "in":
            a = rng.integers(-128, 128, (rows, *ashape[1])).astype(np.int8)
            a[0], a[1] = 127, -128
            ai = m.b.input(ashape[1], scale=qa[0], zero_point=qa[1])
            m.rows.append(a)
        else:
            ai = m.b.const(rng.integers(-128, 128, ashape).astype(np.int8), scale=qa[0],
                           zero_point=qa[1])
        oshape = np.broadcast_shapes(shape, ashape[1] if ashape[0] == "in" else ashape)
        y = m.b.tensor(oshape, scale=qo[0], zero_point=qo[1], dtype=dt)
        m.b.op("PRELU", [xi, ai], [y])
        m.b.output(y)
        m.names.append(f"prelu{k}")
    rng2 = np.random.default_rng(4)
    for k, (shape, qi) in enumerate(L2NORM):
        x = rng2.integers(-128, 128, (rows, *shape)).astype(np.int8)
        x[0], x[1] = -128, 127
        x[2] = qi[1]                                         # all zero: sum 0
        x[3] = rng2.integers(qi[1] - 2, qi[1] + 3, shape).clip(-128, 127)     # tiny sums
        m.case(f"l2norm{k}", "L2_NORMALIZATION", x, qi, shape, (1 / 128, 0))


def _log_softmax(m):
    rng = np.random.default_rng(9)
    for k, (shape, qi) in enumerate(LOG_SOFTMAX):
        x = rng.integers(-128, 128, (8, *shape), dtype=np.int8)
        x[0] = -128                                          # one maximum in each row
        x[0].reshape(-1, shape[-1])[:, -1] = 127
        x[1] = 127
        x[2] = -128
        x[3] = rng.integers(100, 128, shape, dtype=np.int8)
        if shape == (256, 2):    # pairs (127, 127 - d) for every difference d
            x[4:, :, 0] = 127
            x[4:, :, 1] = (127 - np.arange(256)).astype(np.int8)
        m.case(f"log_softmax{k}", "LOG_SOFTMAX", x, qi, shape, (16 / 256, 127))


def _float_edges(m):
    rng = np.random.default_rng(11)
    for k, (s, z) in enumerate(QUANTIZE_F32):
        s32 = np.float32(s)
        x = (rng.standard_normal((8, 1, 600)) * 20000 * s32).astype(np.float32)
        halves = (np.arange(-300, 300, dtype=np.float32) + np.float32(0.5)) * s32
        x[0, 0] = halves
        x[1, 0] = np.nextafter(halves, np.float32(np.inf))
        x[2, 0] = np.nextafter(halves, np.float32(-np.inf))
        x[3, 0] = np.linspace(-1e6, 1e6, 600).astype(np.float32) * s32
        x[4, 0, :4] = [0.0, -0.0, 1e-30, -1e-30]
        x[5, 0] = (np.linspace(-32768, 32767, 600).astype(np.int64) - z).astype(np.float32) * s32
        m.case(f"quantize_f32_s16_{k}", "QUANTIZE", x, (None, 0), (1, 600), (s, z), "int16")
    x = _every_int16()
    for k, (s, z) in enumerate(DEQUANTIZE):
        m.case(f"dequantize_s16_{k}", "DEQUANTIZE", x, (s, z), (1, 8192), (None, 0), "float32")


FAMILIES = {"unary8": _unary8, "unary16": _unary16, "float_edges": _float_edges,
            "softmax16": _softmax16, "prelu_l2norm": _prelu,
            "log_softmax": _log_softmax}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_matches_tflm(family):
    m = _Model()
    FAMILIES[family](m)
    assert m.check() > 0


# ---- one case per kernel, small enough for sifive_e's 16 KiB: op, input dtype, (input scale,
# zp), (output scale, zp), output dtype, options
ON_BOARD = [
    ("LOGISTIC", "int16", (0.001, 0), (2 ** -15, 0), "int16", {}),
    ("TANH", "int16", (2 ** -11, 0), (2 ** -15, 0), "int16", {}),
    ("LEAKY_RELU", "int16", (0.002, 7), (0.001, -3), "int16", {"alpha": -0.5}),
    ("RELU", "int16", (0.001, 0), (0.0005, 0), "int16", {}),
    ("QUANTIZE", "int16", (3e-5, 11), (0.008, 127), "int8", {}),
    ("QUANTIZE", "int16", (0.001, -5), (0.0003, 9), "int16", {}),
    ("QUANTIZE", "int8", (0.05, -3), (0.001, 0), "int16", {}),
    ("QUANTIZE", "float32", (None, 0), (0.0123, -7), "int16", {}),
    ("DEQUANTIZE", "int16", (0.0123, -7), (None, 0), "float32", {}),
    ("SOFTMAX", "int16", (0.001, 0), (1 / 32768, 0), "int16", {"beta": 1.0}),
    ("LOG_SOFTMAX", "int8", (0.1, 0), (16 / 256, 127), "int8", {}),
    ("L2_NORMALIZATION", "int8", (0.1, -3), (1 / 128, 0), "int8", {}),
    ("ELU", "int8", (0.05, -3), (0.04, 5), "int8", {}),
]
BOARD_TOOLS = {"mps2-an386": ("arm-none-eabi-gcc", "qemu-system-arm"),
               "sifive_e": ("riscv64-unknown-elf-gcc", "qemu-system-riscv32")}


@pytest.mark.parametrize("board", sorted(BOARD_TOOLS))
def test_on_board(board, tmp_path):
    """The int16 kernels and the run-time LOG_SOFTMAX / L2_NORMALIZATION arithmetic, bit-exact
    with TFLM under QEMU (Cortex-M4 and RV32)."""
    from tflm_oracle import tflm_run
    from tinykiln.targets.board import get_board
    from tinykiln.targets.firmware import build_firmware
    from tinykiln.targets.qemu import run_firmware
    missing = [t for t in BOARD_TOOLS[board] if shutil.which(t) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed")
    rng = np.random.default_rng(1)
    m = _Model()
    for k, (opc, idt, qi, qo, odt, opts) in enumerate(ON_BOARD):
        if idt == "float32":
            x = (rng.standard_normal((16, 1, 48)) * 2e4 * qo[0]).astype(np.float32)
        else:
            info = np.iinfo(idt)
            x = rng.integers(info.min, info.max + 1, (16, 1, 48)).astype(idt)
            x[0], x[1] = info.min, info.max
        m.case(f"{opc.lower()}{k}", opc, x, qi, (1, 48), qo, odt, **opts)
    model = m.b.build()
    ref = tflm_run(model, m.rows, len(m.names))
    c = compile_graph(parse_tflite(model))
    b = get_board(board)
    build_firmware(c, b, tmp_path / "fw")
    out = run_firmware(tmp_path / "fw", b, c.graph, m.rows).outputs
    bad = {n: int((o.reshape(r.shape).view(np.uint8) != r.view(np.uint8)).sum())
           for n, o, r in zip(m.names, out, ref)}
    assert not any(bad.values()), f"{board}: differing bytes per case: {bad}"


@pytest.mark.parametrize("case", REJECTED, ids=lambda c: f"{c[0]}-{c[4]}")
def test_rejected(case):
    opc, (idt, isc, izp), (odt, osc, ozp), options, phrase = case
    b = ModelBuilder()
    x = b.input((1, 8), scale=isc, zero_point=izp, dtype=idt)
    y = b.tensor((1, 8), scale=osc, zero_point=ozp, dtype=odt)
    b.op(opc, [x], [y], **options)
    b.output(y)
    with pytest.raises(UnsupportedError, match=phrase):
        compile_graph(parse_tflite(b.build()))
