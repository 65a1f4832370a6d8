"""Float islands (DEQUANTIZE -> NEG/ABS in float32 -> QUANTIZE, as the converter leaves a Keras
LayerNormalization's NEG) become one int8 table: bit-exact with TFLM's three float kernels, and
the compiled model holds no float tensor."""
import numpy as np

from modelgen import ModelBuilder
from tflm_oracle import assert_cases_match_tflm
from tinykiln.compile import compile_graph
from tinykiln.frontend.tflite_import import parse_tflite

ROWS = 50

# chain of float ops, input (scale, zp), output (scale, zp)
CASES = [
    (["NEG"], (0.05, -3), (0.05, 3)),
    (["NEG"], (0.1, 127), (0.02, -128)),         # saturates
    (["NEG"], (0.0123, 5), (0.037, -7)),         # rounding halves
    (["ABS"], (0.05, -128), (0.025, -128)),
    (["NEG", "ABS"], (0.2, 0), (0.1, 0)),
    (["NEG"], (1e-6, 0), (1e3, 0)),              # everything rounds to the zero point
]


def _model():
    b = ModelBuilder()
    rng = np.random.default_rng(5)
    rows, names = [], []
    for k, (chain, (si, zi), (so, zo)) in enumerate(CASES):
        x = b.input((2, 64), scale=si, zero_point=zi)
        r = np.zeros((ROWS, 2, 64), np.int8)
        r[:, 0] = rng.integers(-128, 128, (ROWS, 64))
        r[:, 1] = rng.integers(-128, 128, (ROWS, 64))
        r[0, 0] = np.arange(-128, -64)          # rows 0 and 1 hold all 256 values
        r[0, 1] = np.arange(-64, 0)
        r[1, 0] = np.arange(0, 64)
        r[1, 1] = np.arange(64, 128)
        rows.append(r)
        t = b.tensor((2, 64), dtype="float32")
        b.op("DEQUANTIZE", [x], [t])
        for opc in chain:
            u = b.tensor((2, 64), dtype="float32")
            b.op(opc, [t], [u])
            t = u
        y = b.tensor((2, 64), scale=so, zero_point=zo)
        b.op("QUANTIZE", [t], [y])
        b.output(y)
        names.append(f"{'+'.join(chain)}{k}")
    return b.build(), rows, names


def test_islands_bit_exact_with_tflm():
    model, rows, names = _model()
    assert assert_cases_match_tflm(model, rows, names) > 0


def test_islands_leave_no_float_op():
    model, _, _ = _model()
    c = compile_graph(parse_tflite(model))
    assert [op.opcode for op in c.graph.ops] == ["TK_LUT"] * len(CASES)


def _move_model():
    """DEQUANTIZE -> SPLIT (float) -> QUANTIZE per output (one output unread), and DEQUANTIZE ->
    RESHAPE (float) -> QUANTIZE: the move runs on int8, each output requantized by table."""
    b = ModelBuilder()
    rng = np.random.default_rng(9)
    x = b.input((1, 72), scale=0.05, zero_point=-3)
    f = b.tensor((1, 72), dtype="float32")
    b.op("DEQUANTIZE", [x], [f])
    parts = [b.tensor((1, 24), dtype="float32") for _ in range(3)]
    b.op("SPLIT", [b.const(np.array(1, np.int32)), f], parts, num_splits=3)
    names = []
    for k, (s, z) in enumerate([(0.05, -3), (0.031, 17)]):      # part 2: read by nothing
        y = b.tensor((1, 24), scale=s, zero_point=z)
        b.op("QUANTIZE", [parts[k]], [y])
        b.output(y)
        names.append(f"split{k}")
    x2 = b.input((2, 6), scale=0.2, zero_point=100)
    f2, g2 = b.tensor((2, 6), dtype="float32"), b.tensor((3, 4), dtype="float32")
    b.op("DEQUANTIZE", [x2], [f2])
    b.op("RESHAPE", [f2, b.const(np.array([3, 4], np.int32))], [g2], new_shape=[3, 4])
    y2 = b.tensor((3, 4), scale=0.07, zero_point=-128)
    b.op("QUANTIZE", [g2], [y2])
    b.output(y2)
    names.append("reshape")
    rows = [rng.integers(-128, 128, (ROWS, 1, 72)).astype(np.int8),
            rng.integers(-128, 128, (ROWS, 2, 6)).astype(np.int8)]
    for r in rows:
        r[0], r[1] = -128, 127
    return b.build(), rows, names


def test_move_islands_bit_exact_with_tflm():
    model, rows, names = _move_model()
    assert assert_cases_match_tflm(model, rows, names) > 0
    c = compile_graph(parse_tflite(model))
    assert [op.opcode for op in c.graph.ops] == ["SPLIT", "TK_LUT", "TK_LUT", "RESHAPE",
                                                 "TK_LUT"]
    assert all(c.graph.tensors[t].dtype != "float32" for op in c.graph.ops
               for t in op.inputs + op.outputs if t >= 0)
