"""FULLY_CONNECTED int8 on shallow rows (accum_depth <= 32: tk_fully_connected_s8_g<G>[w],
fully_connected_s8_g<G>[w].c): bit-exact with TFLM for every depth 1..33, one to many rows (not
multiples of 4 too), with and without bias, per-tensor and per-channel weights, every activation,
one and two batches, both weight layouts (int16-widened and int8), and next to the cases that stay
on tk_fully_connected_s8 (multipliers above 1) or go to tk_fully_connected_s8_pairs (depth 33). Host builds: portable and the
DSP-extension path with C models of the instructions; firmware: mps2-an386 runs the real
assembly, sifive_e the portable path."""
import numpy as np
import pytest

from modelgen import ModelBuilder
from test_firmware import _tools_for
from tflm_oracle import tflm_run
from tinykiln.compile import compile_graph
from tinykiln.frontend.tflite_import import parse_tflite
from tinykiln.lower.fully_connected import SMALL_WIDEN_MAX
from tinykiln.targets.hostrun import HostBuild

ROWS = 50
ACTS = ["NONE", "RELU", "NONE", "RELU6", "NONE", "RELU_N1_TO_1"]
ROW_COUNTS = [1, 3, 4, 5, 7, 8, 13, 72, 2, 9, 6, 17]

# name, batches, depth, rows, weight scales ("pt" one, "pc" per row, "big" per row above 1),
# bias, activation, input zero point, output zero point
CASES = [(f"d{d}", 1 + (d % 5 == 0), d, ROW_COUNTS[d % len(ROW_COUNTS)],
          "pc" if d % 3 else "pt", d % 2 == 1, ACTS[d % len(ACTS)], (37 * d) % 256 - 128,
          (53 * d) % 200 - 100) for d in range(1, 34)] + [
    ("d10_rows72_nobias", 1, 10, 72, "pc", False, "NONE", -5, 3),
    ("d24_rows72_bias", 1, 24, 72, "pc", True, "NONE", 12, -7),
    ("d1_rows1", 1, 1, 1, "pt", True, "NONE", 0, 0),
    ("d32_rows1_relu", 3, 32, 1, "pc", False, "RELU", -128, -128),
    ("d5_int8_layout", 1, 5, 520, "pc", True, "NONE", 4, -2),       # 8 * 520 > SMALL_WIDEN_MAX
    ("d30_int8_layout", 2, 30, 139, "pt", False, "RELU6", -9, 20),  # 32 * 139 > SMALL_WIDEN_MAX
    ("d10_big_mult", 1, 10, 8, "big", True, "NONE", -2, 1),         # left shifts: generic kernel
    ("d33_rows5", 1, 33, 5, "pc", True, "NONE", 100, -50),
]


def _model(seed=1105):
    rng = np.random.default_rng(seed)
    b = ModelBuilder()
    rows = []
    for name, n, depth, out_rows, ws, bias, act, izp, ozp in CASES:
        x = b.input((n, depth), scale=0.05, zero_point=izp)
        xr = rng.integers(-128, 128, (ROWS, n, depth), dtype=np.int8)
        xr[0], xr[1] = -128, 127
        rows.append(xr)
        lim = 2 if ws == "big" else 128
        w = rng.integers(1 - lim, lim, (out_rows, depth), dtype=np.int8)
        w_typ = 0.004
        # multipliers below 0.5 (right shifts, the fast requantization) but for "big"
        out_scale = 0.05 * w_typ * np.sqrt(max(depth, 16)) * 74 * 74 / 40
        if ws == "pt":
            scales = np.array([w_typ])
        elif ws == "pc":
            scales = rng.uniform(0.3, 3.0, out_rows) * w_typ
        else:
            scales = rng.uniform(1.05, 1.6, out_rows) * out_scale / 0.05
        ins = [x, b.const(w, scale=scales, zero_point=[0] * len(scales), axis=0)]
        if bias:
            bv = rng.integers(-30000 // lim ** 2, 30000 // lim ** 2, (out_rows,)).astype(np.int32)
            ins.append(b.const(bv, scale=0.05 * np.broadcast_to(scales, (out_rows,)),
                               zero_point=[0] * out_rows))
        else:
            ins.append(-1)
        y = b.tensor((n, out_rows), scale=out_scale, zero_point=ozp)
        b.op("FULLY_CONNECTED", ins, [y], fused_activation_function=act)
        b.output(y)
    return b.build(), rows


@pytest.fixture(scope="module")
def cases():
    buf, rows = _model()
    return buf, rows, tflm_run(buf, rows, len(CASES))


def _expected_kernel(depth, out_rows, ws):
    if ws == "big":
        return "tk_fully_connected_s8"
    if depth > 32:          # tests/test_ops_fc_fast.py
        return "tk_fully_connected_s8_pairs"
    g = -(-depth // 4)
    widened = -(-out_rows // 4) * 4 * 4 * g <= SMALL_WIDEN_MAX
    return f"tk_fully_connected_s8_g{g}" + ("w" if widened else "")


def _compare(outs, ref):
    bad = {c[0]: int((o.reshape(r.shape) != r).sum())
           for c, o, r in zip(CASES, outs, ref) if (o.reshape(r.shape) != r).any()}
    assert not bad, f"differing bytes per case: {bad}"


def test_kernel_choice_and_cases_prove_something(cases):
    buf, _, ref = cases
    c = compile_graph(parse_tflite(buf), optimize="speed")     # (balanced may take the quad
    kernels = [layer["kernel"] for layer in c.report["layers"]]   # kernel for a deep layer)
    assert kernels == [_expected_kernel(d, r, ws) for _, _, d, r, ws, *_ in CASES]
    used = set(kernels)
    assert {f"tk_fully_connected_s8_g{g}w" for g in range(1, 9)} <= used
    assert {"tk_fully_connected_s8_g2", "tk_fully_connected_s8_g8"} <= used
    for case, r in zip(CASES, ref):
        assert len(np.unique(r)) > 2 or case[6] == "RELU_N1_TO_1" or case[3] == 1, case[0]


@pytest.mark.parametrize("cflags", [[], ["-DTK_DSP_EMULATE_SIMD"]], ids=["portable", "simd"])
def test_small_fc_bit_exact_on_host(cases, cflags):
    buf, rows, ref = cases
    c = compile_graph(parse_tflite(buf))
    with HostBuild(c, sanitize=True, extra_cflags=cflags) as hb:
        outs = hb.run(rows)
    _compare(outs, ref)


@pytest.mark.parametrize("board", [pytest.param(b, marks=_tools_for(b))
                                   for b in ("mps2-an386", "sifive_e")])
def test_small_fc_bit_exact_on_board(cases, board, tmp_path):
    """As firmware under QEMU: on mps2-an386 the assembly loops, 12 input rows."""
    from tinykiln.targets.board import get_board
    from tinykiln.targets.firmware import build_firmware
    from tinykiln.targets.qemu import run_firmware
    buf, rows, ref = cases
    rows, ref = [r[:12] for r in rows], [r[:12] for r in ref]
    c = compile_graph(parse_tflite(buf))
    brd = get_board(board)
    build_firmware(c, brd, tmp_path / "fw")
    res = run_firmware(tmp_path / "fw", brd, c.graph, rows)
    _compare(res.outputs, ref)
