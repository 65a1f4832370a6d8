"""Helium CONV_2D with its output written over its input from D bytes before it (a lag,
passes/in_place.py): a layer whose output channels make one block of the Helium kernel
(conv2d_s8_mve.h) walks the pixels in order, each written after its window is read, so it keeps
its speed; with more blocks the DSP path runs. Helium's balanced default (lag_orders.lags_ok,
"lag_mve") takes the first kind only. Bit-exact with TFLM on the host builds (the Helium one
through the C models of its instructions) and on mps3-an547 under QEMU."""
from __future__ import annotations

import numpy as np
import pytest

from test_firmware import _tools_for

# (kernel, stride, output channels, output side): a gathered stem (K = 27), gathered windows
# (K = 72), kernel rows of whole vectors (16 channels), a strided 1x1 (batches of columns),
# then 32 channels of 144 taps: more than one block of 24, the DSP path
LAYERS = [(3, 2, 8, 8), (3, 1, 16, 8), (3, 1, 16, 8), (1, 2, 16, 4), (3, 1, 32, 4)]
ONE_BLOCK = 4       # the first four layers' channels fit one block


def _model() -> bytes:
    from modelgen import ModelBuilder
    rng = np.random.default_rng(47)
    b = ModelBuilder("mve_lags")
    x, ic = b.input((1, 16, 16, 3), 0.05, 2), 3
    for i, (k, s, oc, side) in enumerate(LAYERS):
        w = b.const(rng.integers(-50, 50, (oc, k, k, ic)).astype(np.int8), 0.02)
        bias = b.const(rng.integers(-300, 300, oc).astype(np.int32), 0.001)
        y = b.tensor((1, side, side, oc), 0.06, -3, name=f"c{i}")
        b.op("CONV_2D", [x, w, bias], [y], padding="SAME", stride_h=s, stride_w=s,
             fused_activation_function="RELU")
        x, ic = y, oc
    n = LAYERS[-1][3] ** 2 * ic
    flat = b.tensor((1, n), 0.06, -3, name="flat")
    b.op("RESHAPE", [x, b.const(np.array([1, n], np.int32))], [flat])
    w = b.const(rng.integers(-50, 50, (6, n)).astype(np.int8), 0.02)
    y = b.tensor((1, 6), 0.05, 0, name="out")
    b.op("FULLY_CONNECTED", [flat, w, b.const(rng.integers(-300, 300, 6).astype(np.int32),
                                                0.001)], [y], fused_activation_function="NONE")
    b.output(y)
    return b.build()


def _compile(model, kinds):
    """Every lag kept (no pruning, no plan-driven drops), on the Helium target."""
    from tinykiln.compile import compile_graph
    from tinykiln.frontend.tflite_import import parse_tflite
    return compile_graph(parse_tflite(model), kinds=kinds | {"keep_schedules"}, helium=True)


def _lagged(c) -> list[int]:
    return sorted(o["op"] for o in c.report["in_place_ops"] if o["kind"] == "lag")


def test_balanced_takes_one_block_layers_only():
    from tinykiln.passes.in_place import kinds_for
    c = _compile(_model(), kinds_for("balanced", True) - {"prune_lags"})
    assert _lagged(c) == list(range(ONE_BLOCK)), c.report["in_place_ops"]
    every = _compile(_model(), frozenset({"lag"}))
    assert _lagged(every) == list(range(len(LAYERS))), every.report["in_place_ops"]


def test_lags_bit_exact_on_host():
    from tflm_oracle import assert_host_builds_match
    c = _compile(_model(), frozenset({"lag"}))
    assert _lagged(c) == list(range(len(LAYERS)))
    x = np.random.default_rng(5).integers(-128, 128, (3, 1, 16, 16, 3), dtype=np.int8)
    assert_host_builds_match(c, _model(), x)


@pytest.mark.parametrize("board", [pytest.param("mps3-an547", marks=_tools_for("mps3-an547"))])
def test_lags_on_m55_keep_their_speed(board, tmp_path):
    """Bit-exact under QEMU; each one-block layer with its lag runs within 2% of its
    instructions without (the MVE walk), the last layer's lag takes the DSP path (slower)."""
    from tflm_oracle import tflm_run
    from tinykiln.targets.board import get_board
    from tinykiln.targets.firmware import build_firmware
    from tinykiln.targets.qemu import run_firmware
    model = _model()
    x = np.random.default_rng(6).integers(-128, 128, (2, 1, 16, 16, 3), dtype=np.int8)
    ref = tflm_run(model, [x], 1)[0]
    counts = []
    for kinds in (frozenset(), frozenset({"lag"})):
        c = _compile(model, kinds)
        assert len(_lagged(c)) == (len(LAYERS) if kinds else 0)
        brd = get_board(board)
        build_firmware(c, brd, tmp_path / str(len(kinds)))
        res = run_firmware(tmp_path / str(len(kinds)), brd, c.graph, [x], profile=True)
        assert (res.outputs[0].reshape(ref.shape) == ref).all()
        counts.append([L["instructions"] for L in res.profile["layers"]
                       if L["opcode"] == "CONV_2D"])
    plain, lagged = counts
    for i in range(ONE_BLOCK):
        assert lagged[i] <= 1.02 * plain[i], (i, plain, lagged)
    assert lagged[-1] > 1.5 * plain[-1], (plain, lagged)
