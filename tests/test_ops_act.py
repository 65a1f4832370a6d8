"""LOGISTIC, TANH, RELU, RELU6, HARD_SWISH, QUANTIZE, DEQUANTIZE and SOFTMAX: bit-exact with TFLM.

Each table row is one single-op case; all rows of a table become independent ops of one model (one
input and one output per case, so a mismatch names its case), compiled once, built with ASan+UBSan
and run against TFLM's interpreter. int8 unary ops see all 256 input values (in two orders);
softmax sees random rows plus rows with a single maximum and rows of equal values."""
import numpy as np
import pytest

from casemodel import CaseModel
from modelgen import ModelBuilder
from tinykiln.compile import compile_graph
from tinykiln.errors import UnsupportedError
from tinykiln.frontend.tflite_import import parse_tflite

# ---- int8 -> int8 elementwise ops: op, (input scale, zp), (output scale, zp)
UNARY = [
    ("LOGISTIC", (0.1, 0), (1 / 256, -128)),
    ("LOGISTIC", (0.02, -128), (1 / 256, -128)),
    ("LOGISTIC", (0.5, 127), (1 / 256, -128)),
    ("LOGISTIC", (1 / 16, 5), (1 / 256, -128)),
    ("LOGISTIC", (0.004, -20), (1 / 256, -128)),
    ("LOGISTIC", (1e-4, 0), (1 / 256, -128)),          # everything near sigmoid(0)
    ("LOGISTIC", (2.0, 3), (1 / 256, -128)),            # input radius 7: saturates early
    ("LOGISTIC", (20.0, -3), (1 / 256, -128)),          # left shift 32: radius 0
    ("LOGISTIC", (0.1, 0), (0.004, -128)),              # TFLM ignores the output scale
    ("TANH", (0.05, -5), (1 / 128, 0)),
    ("TANH", (0.1, -128), (1 / 128, 0)),
    ("TANH", (0.01, 127), (1 / 128, 0)),
    ("TANH", (1 / 32, 0), (1 / 128, 0)),
    ("TANH", (0.3, 17), (1 / 128, 0)),
    ("TANH", (3e-5, 0), (1 / 128, 0)),
    ("TANH", (8.0, 0), (1 / 128, 0)),
    ("TANH", (0.05, 0), (0.01, 10)),                    # TFLM ignores the output quantization
    ("RELU", (0.1, -3), (0.05, -128)),
    ("RELU", (0.05, 127), (0.05, 127)),
    ("RELU", (0.02, -128), (0.1, 20)),
    ("RELU", (0.1, 0), (0.1, 0)),
    ("RELU", (1.0, 0), (0.001, -128)),                  # multiplier 1000: saturates
    ("RELU", (0.001, 5), (1.0, 0)),                     # multiplier tiny
    ("RELU", (0.04, 10), (0.03, -60)),
    ("RELU6", (0.05, 10), (0.05, 10)),
    ("RELU6", (0.1, -128), (0.1, -128)),
    ("RELU6", (0.01, 0), (0.01, 0)),                    # six above 127
    ("RELU6", (0.1, 127), (0.1, 127)),
    ("RELU6", (0.047, -77), (0.047, -77)),
    ("RELU6", (0.03, -50), (0.05, 3)),                  # TFLM clamps in the input's terms
    ("HARD_SWISH", (0.05, -10), (0.03, -60)),
    ("HARD_SWISH", (0.1, 0), (0.1, 0)),
    ("HARD_SWISH", (0.02, -128), (0.01, 127)),
    ("HARD_SWISH", (0.5, 30), (0.2, -100)),
    ("HARD_SWISH", (0.01, 0), (0.002, -128)),
    ("HARD_SWISH", (2.0, 0), (0.5, 0)),                 # reluish multiplier shifts left
    ("HARD_SWISH", (0.001, 3), (2e-5, 0)),              # input/output ratio 50
    ("HARD_SWISH", (0.1, 0), (1.0, 0)),
    ("HARD_SWISH", (0.0235, -128), (0.0238, -127)),     # MobileNetV3-like
    ("QUANTIZE", (0.05, 3), (0.07, -2)),
    ("QUANTIZE", (0.1, -128), (0.1, 127)),
    ("QUANTIZE", (0.01, 0), (1.0, 0)),
    ("QUANTIZE", (1.0, 0), (0.01, 0)),                  # saturates
    ("QUANTIZE", (0.5, 127), (0.25, -128)),
    ("QUANTIZE", (0.003, -9), (0.0031, 11)),
]

# ---- SOFTMAX: shape (rows x depth), (input scale, zp), beta, output type
SOFTMAX = [
    ((1, 10), (0.1, 0), 1.0, "int8"),
    ((1, 1), (0.1, 0), 1.0, "int8"),
    ((1, 2), (0.05, -128), 1.0, "int8"),
    ((4, 3), (0.2, 127), 1.0, "int8"),
    ((2, 3, 12), (0.0625, 5), 1.0, "int8"),
    ((5, 100), (0.15, -7), 1.0, "int8"),
    ((1, 1000), (0.2, 3), 1.0, "int8"),
    ((3, 16), (0.1, 0), 0.5, "int8"),
    ((3, 16), (0.1, 0), 2.0, "int8"),
    ((2, 20), (1.0, 0), 10.0, "int8"),                  # left shift 30: diff_min = -1
    ((2, 20), (0.3, 0), 100.0, "int8"),
    ((2, 64), (0.02, 0), 0.001 * 1000, "int8"),
    ((2, 8), (1e-7, 0), 1.0, "int8"),                   # beta * scale just above 2^-26
    ((1, 12), (0.1, 0), 1.0, "int16"),
    ((3, 1), (0.1, 0), 1.0, "int16"),
    ((2, 1000), (0.01, -128), 1.0, "int16"),
    ((4, 33), (0.5, 10), 0.7, "int16"),
]
SOFTMAX_ROWS = 12

# ---- QUANTIZE float32 -> int8 and DEQUANTIZE int8 -> float32: (scale, zp)
QUANTIZE_F32 = [(0.0371, -7), (1 / 255, -128), (1.0, 127), (1e-3, 0), (0.1, 5), (23.5, -100)]
DEQUANTIZE = [(0.0371, -7), (1 / 256, -128), (1.0, 127), (1e-3, 0), (123.4, 3), (1e-40, 0)]

# ---- rejected with a sentence: opcode, input (dtype, scale, zp), output (dtype, scale, zp),
# options, phrase of the message
REJECTED = [
    ("SOFTMAX", ("int8", 0.1, 0), ("int8", 0.004, -128), {"beta": 1.0}, "scale 1/256"),
    ("SOFTMAX", ("int8", 0.1, 0), ("int8", 1 / 256, 0), {"beta": 1.0}, "zero point -128"),
    ("SOFTMAX", ("int8", 1e-9, 0), ("int8", 1 / 256, -128), {"beta": 1.0}, "too small"),
    ("SOFTMAX", ("int8", 0.1, 0), ("int16", 1 / 256, -32768), {"beta": 1.0}, "1/65536"),
    ("LOGISTIC", ("int8", 0.1, 0), ("int8", 1 / 256, 0), {}, "zero point must be -128"),
    ("HARD_SWISH", ("int8", 1.0, 0), ("int8", 0.001, 0), {}, "< 128"),
    ("QUANTIZE", ("int8", 0.1, 0), ("int32", 0.1, 0), {}, "from int8 to int32"),
    ("DEQUANTIZE", ("int32", 0.1, 0), ("float32", None, 0), {}, "int32 to float32"),
]


_Model = CaseModel     # cases fed given rows: CaseModel.case


def _unary(m):
    every = np.arange(-128, 128, dtype=np.int8).reshape(2, 128)
    x = np.stack([every, every[::-1, ::-1]])                 # two rows: all 256 values each
    for k, (opc, qi, qo) in enumerate(UNARY):
        m.case(f"{opc.lower()}{k}", opc, x, qi, (2, 128), qo)


def _softmax(m):
    rng = np.random.default_rng(7)
    for k, (shape, qi, beta, odt) in enumerate(SOFTMAX):
        x = rng.integers(-128, 128, (SOFTMAX_ROWS, *shape), dtype=np.int8)
        x[0] = -128                                          # one maximum in each row
        x[0].reshape(-1, shape[-1])[:, -1] = 127
        # TFLM's int8 kernel aborts when a row's sum of exps reaches 512: equal rows only below
        if odt == "int16" or shape[-1] < 512:
            x[1] = 127                                       # all equal: 1 / depth
            x[2] = -128
            x[3] = rng.integers(100, 128, shape, dtype=np.int8)  # near-equal values
        oq = (1 / 256, -128) if odt == "int8" else (1 / 65536, -32768)
        m.case(f"softmax{k}", "SOFTMAX", x, qi, shape, oq, odt, beta=beta)


def _float_edges(m):
    rng = np.random.default_rng(11)
    for k, (s, z) in enumerate(QUANTIZE_F32):
        s32 = np.float32(s)
        x = (rng.standard_normal((8, 1, 300)) * 40 * s32).astype(np.float32)
        # exact and nearly-exact halves between quantization steps, and beyond the int8 range
        halves = (np.arange(-150, 150, dtype=np.float32) + np.float32(0.5)) * s32
        x[0, 0] = halves
        x[1, 0] = np.nextafter(halves, np.float32(np.inf))
        x[2, 0] = np.nextafter(halves, np.float32(-np.inf))
        x[3, 0] = np.linspace(-1e6, 1e6, 300).astype(np.float32) * s32
        x[4, 0, :4] = [0.0, -0.0, 1e-30, -1e-30]
        m.case(f"quantize_f32_{k}", "QUANTIZE", x, (None, 0), (1, 300), (s, z))
    every = np.arange(-128, 128, dtype=np.int8)
    every = np.stack([rng.permutation(every) for _ in range(8)]).reshape(8, 1, 256)
    for k, (s, z) in enumerate(DEQUANTIZE):
        m.case(f"dequantize{k}", "DEQUANTIZE", every, (s, z), (1, 256), (None, 0), "float32")


FAMILIES = {"unary": _unary, "softmax": _softmax, "float_edges": _float_edges}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_matches_tflm(family):
    m = _Model()
    FAMILIES[family](m)
    assert m.check() > 0


def test_unary_table_word_path():
    """On the DSP cores the int8 table lookup takes four values per word: every unary case, and
    lengths that leave one to three values after the words, through the C models of that path."""
    m = _Model()
    _unary(m)
    for n in (5, 6, 255):
        x = np.resize(np.arange(-128, 128, dtype=np.int8), (2, 1, n))
        m.case(f"logistic_len{n}", "LOGISTIC", x, (0.1, 0), (1, n), (1 / 256, -128))
    assert m.check(cflags=["-DTK_DSP_EMULATE_SIMD"]) > 0


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


@pytest.mark.parametrize("out_q,warned", [((0.05, 3), True), ((0.03, -50), False)])
def test_relu6_with_other_output_quantization_is_flagged(out_q, warned, tmp_path, capsys):
    """TFLM's RELU6 clamps in the input's terms; the compile warns when the output is quantized
    differently (the converter does this before a CONCATENATION), and says what 0.0 reads back as."""
    from tinykiln.cli.main import main as cli
    b = ModelBuilder()
    x = b.input((1, 8), scale=0.03, zero_point=-50)
    y = b.tensor((1, 8), scale=out_q[0], zero_point=out_q[1])
    b.op("RELU6", [x], [y])
    b.output(y)
    p = tmp_path / "relu6.tflite"
    p.write_bytes(b.build())
    c = compile_graph(parse_tflite(p.read_bytes()))
    assert bool(c.report["warnings"]) == warned
    assert cli(["compile", str(p), "-o", str(tmp_path / "out")]) == 0
    text = capsys.readouterr().out
    if warned:
        # 0.0 is q = -50 in the input; read with the output's (0.05, 3): (-50 - 3) * 0.05 = -2.65
        assert "warning: op 0 (RELU6): input (scale 0.03, zero point -50) and output" in text
        assert "an input of 0.0 reads back as -2.65" in text
    else:
        assert "warning" not in text
