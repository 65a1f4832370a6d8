"""SVDF int8 with int16 or int8 state against TFLM, invoke after invoke: the activation state is
a variable tensor, so each of the 50 rows sees the state the earlier rows left (one TFLM
interpreter, one host process), and <prefix>_reset() brings it back to the start."""
from __future__ import annotations

import numpy as np
import pytest

from tflm_oracle import assert_cases_match_tflm
from test_ops_stateful import _check, _rows, on_board

from tinykiln.compile import compile_graph
from tinykiln.errors import ModelError, UnsupportedError
from tinykiln.frontend.modelbuilder import ModelBuilder
from tinykiln.frontend.tflite_import import parse_tflite

# (name, batches, input size, units, rank, memory, state dtype, state zero point)
CASES = [
    ("r1_b1_m4", 1, 6, 3, 1, 4, "int16", 0),
    ("r2_b1_m3", 1, 6, 2, 2, 3, "int16", 0),
    ("r1_b2_m5", 2, 6, 4, 1, 5, "int16", 0),
    ("r2_b2_m1", 2, 6, 3, 2, 1, "int16", 0),
    ("r2_b2_m8_zp", 2, 6, 2, 2, 8, "int16", -7),
    ("r1_b1_m2_s8", 1, 6, 3, 1, 2, "int8", 5),
    ("r2_b2_m4_s8", 2, 6, 2, 2, 4, "int8", -20),
    ("r1_b2_m6_s8_zp0", 2, 6, 5, 1, 6, "int8", 0),
]
BATCH_IN = {1: None, 2: None}


def _svdf(b: ModelBuilder, x: int, case, seed: int, act="NONE") -> int:
    name, batches, n_in, units, rank, memory, sdt, szp = case
    rs = np.random.RandomState(seed)
    filters = units * rank
    s_in, s_wf = np.float32(0.02), np.float32(0.006 + 0.002 * seed)
    if sdt == "int16":
        s_state, s_wt = np.float32(0.0004), np.float32(0.00003)
        wt = rs.randint(-32768, 32768, (filters, memory)).astype(np.int16)
    else:
        s_state, s_wt = np.float32(0.05), np.float32(0.004)
        wt = rs.randint(-127, 128, (filters, memory)).astype(np.int8)
    wf = b.const(rs.randint(-127, 128, (filters, n_in)).astype(np.int8), scale=float(s_wf))
    wtt = b.const(wt, scale=float(s_wt), dtype=sdt)
    bias = b.const(rs.randint(-3000, 3000, units).astype(np.int32),
                   scale=float(np.float32(s_state * s_wt)))
    state = b.tensor((batches, memory * filters), scale=float(s_state), zero_point=szp,
                     dtype=sdt, variable=True, name=f"{name}_state")
    out = b.tensor((batches, units), scale=0.03 + 0.01 * seed, zero_point=seed % 7 - 3)
    b.op("SVDF", [x, wf, wtt, bias, state], [out], rank=rank, fused_activation_function=act)
    b.output(out)
    return out


def _model(cases, act="NONE") -> bytes:
    b = ModelBuilder("svdf")
    xs = {n: b.input((n, 6), scale=0.02, zero_point=-3) for n in (1, 2)}
    for k, case in enumerate(cases):
        _svdf(b, xs[case[1]], case, k, act)
    return b.build()


def test_svdf_cases_carry_state_like_tflm():
    model = _model(CASES)
    rows = [_rows((1, 6), seed=11), _rows((2, 6), seed=12)]
    assert assert_cases_match_tflm(model, rows, [c[0] for c in CASES]) > 0


def test_svdf_reset_and_fused_activation_ignored_like_tflm():
    # TFLM's integer SVDF applies no fused activation (only the int8 clamp): RELU changes nothing
    model = _model(CASES[:2] + CASES[5:6], act="RELU")
    rows = [_rows((1, 6), seed=13), _rows((2, 6), seed=14)]
    c, ref = _check(model, rows, 3, reset_every=6)
    assert c.report["variable_bytes"] == 24 + 24 + 8     # two int16 states, an int8 one aligned
    assert (ref[0] < 0).any()


@pytest.mark.parametrize("board", ["mps2-an386", "sifive_e"])
def test_svdf_on_emulated_boards(board, tmp_path):
    on_board(board, _model(CASES[1:3] + CASES[6:7]), [_rows((1, 6), seed=15),
                                                      _rows((2, 6), seed=16)], 3, tmp_path)


def _refusal(model: bytes) -> str:
    with pytest.raises((ModelError, UnsupportedError)) as e:
        compile_graph(parse_tflite(model))
    msg = str(e.value)
    assert "\n" not in msg and msg.endswith(".") and "SVDF" in msg
    return msg


def _one(mutate) -> bytes:
    b = ModelBuilder("svdf")
    x = b.input((1, 6), scale=0.02, zero_point=-3)
    _svdf(b, x, CASES[0], 0)
    mutate(b.g)
    return b.build()


def test_svdf_state_must_be_a_variable():
    def plain(g):
        next(t for t in g.tensors if t.is_variable).is_variable = False
    # a plain tensor read before anything writes it: the validator names it
    assert "r1_b1_m4_state" in _refusal(_one(plain))


def test_svdf_rank_must_divide_filters():
    def rank2(g):
        g.ops[0].options["rank"] = 2
    assert "rank" in _refusal(_one(rank2))


def test_svdf_bias_scale_checked():
    def scale(g):
        g.tensors[g.ops[0].inputs[3]].quant.scale = [1.0]
    assert "bias scale" in _refusal(_one(scale))


def test_svdf_state_type_must_match_time_weights():
    def s8(g):
        st = g.tensors[g.ops[0].inputs[4]]
        st.dtype = "int8"
    assert "both int16 or both int8" in _refusal(_one(s8))
