"""Outputs written with a lag beyond CONV_2D (passes/lag_orders.py): DEPTHWISE_CONV_2D on the line
kernel (its walk: per channel group and chunk, lines read into a ring before each output line)
and on the raster kernels, MAX_POOL_2D and AVERAGE_POOL_2D (raster). The walks are checked
against executing them on shared bytes with random geometries; then a model with each kind runs
on every host build (portable, DSP, Helium's C models, which hand a lagged op to the C kernels)
and under QEMU on the M4 and M55, bit-exact with TFLM."""
from __future__ import annotations

import numpy as np
import pytest

from modelgen import ModelBuilder
from test_firmware import _tools_for
from test_in_place import _execute_lagged
from tflm_oracle import assert_host_builds_match, tflm_run
from tinykiln.compile import compile_graph
from tinykiln.frontend.tflite_import import parse_tflite

# every lag kept: no pruning, no depth-first chains, no fallback to whole tensors
LAG_ONLY = frozenset({"lag", "keep_schedules"})


@pytest.mark.parametrize("seed", range(3))
def test_line_walk_checker_against_execution(seed):
    """The least lag of the line kernel's walk (searched byte by byte) really leaves every read
    before the write over it, on random geometries (stride 1-2, SAME/VALID, lines along rows
    or columns, widths across chunks, channel counts with a remainder group)."""
    from tinykiln.lower.conv_geometry import lead_pad
    from tinykiln.passes.in_place import least_lag
    from tinykiln.passes.lag_orders import line_steps
    rng = np.random.default_rng(seed)
    tried = 0
    while tried < 6:
        s = int(rng.integers(1, 3))
        h, w, c = int(rng.integers(3, 14)), int(rng.integers(3, 40)), int(rng.integers(1, 10))
        if rng.integers(0, 2):
            h, w = w, h
        same = bool(rng.integers(0, 2))
        oh, ow = ((h + s - 1) // s, (w + s - 1) // s) if same else \
            ((h - 3) // s + 1, (w - 3) // s + 1)
        if oh < 1 or ow < 1:
            continue
        pad = tuple(lead_pad("SAME" if same else "VALID", (h, w)[i], (oh, ow)[i], s, 1, 3)
                    for i in (0, 1))
        xs, ys = (1, h, w, c), (1, oh, ow, c)
        d = least_lag(lambda b: line_steps(xs, ys, s, pad), h * w * c, oh * ow * c, exact=True)
        if d is None:
            continue
        tried += 1
        assert _execute_lagged(list(line_steps(xs, ys, s, pad)), h * w * c, oh * ow * c, d,
                               rng), (s, h, w, c, same, d)
        if d >= 16:     # one step less would break it (the search is least)
            assert not _execute_lagged(list(line_steps(xs, ys, s, pad)), h * w * c,
                                       oh * ow * c, d - 16, rng) or d % 16, (s, h, w, c, d)


def _dw(b, rng, x, shape, k, stride, padding, out_hw, mult=1, name="dw"):
    c = shape[3]
    w = b.const(rng.integers(-80, 80, (1, k, k, c * mult)).astype(np.int8), 0.01)
    bias = b.const(rng.integers(-300, 300, c * mult).astype(np.int32), 0.05 * 0.01)
    y = b.tensor((1, *out_hw, c * mult), 0.05, 3, name=name)
    b.op("DEPTHWISE_CONV_2D", [x, w, bias], [y], padding=padding, stride_h=stride,
         stride_w=stride, depth_multiplier=mult, fused_activation_function="RELU")
    return y


def _pw(b, rng, x, ic, out_shape, name):
    """A 1x1 conv from ic channels to out_shape (stride 1, no activation)."""
    oc = out_shape[3]
    w = b.const(rng.integers(-60, 60, (oc, 1, 1, ic)).astype(np.int8), 0.02)
    y = b.tensor(out_shape, 0.05, 3, name=name)
    b.op("CONV_2D", [x, w, b.const(rng.integers(-500, 500, oc).astype(np.int32), 0.001)], [y],
         padding="SAME", stride_h=1, stride_w=1, fused_activation_function="NONE")
    return y


def _pool(b, x, op, shape, k, stride, padding, out_hw, name):
    y = b.tensor((1, *out_hw, shape[3]), 0.05, 3, name=name)
    b.op(op, [x], [y], padding=padding, stride_h=stride, stride_w=stride, filter_height=k,
         filter_width=k, fused_activation_function="NONE")
    return y


def _model():
    """input 16x24x8 -> dw 3x3 s2 (line kernel, one chunk) -> dw 3x3 x2 (reference kernel)
    -> max pool 2x2 s2 -> average pool 3x3 s1 -> dw 3x3 VALID (raster kernel) -> 1x1 conv to 4
    (the output)."""
    rng = np.random.default_rng(12)
    b = ModelBuilder("lagdw")
    x = b.input((1, 16, 24, 8), 0.05, 3)
    y = _dw(b, rng, x, (1, 16, 24, 8), 3, 2, "SAME", (8, 12), name="dw3s2")
    y = _dw(b, rng, y, (1, 8, 12, 8), 3, 1, "SAME", (8, 12), mult=2, name="dwm2")
    y = _pool(b, y, "MAX_POOL_2D", (1, 8, 12, 16), 2, 2, "SAME", (4, 6), "max")
    y = _pool(b, y, "AVERAGE_POOL_2D", (1, 4, 6, 16), 3, 1, "SAME", (4, 6), "avg")
    y = _dw(b, rng, y, (1, 4, 6, 16), 3, 1, "VALID", (2, 4), name="dwv")
    b.output(_pw(b, rng, y, 16, (1, 2, 4, 4), "out"))
    return b.build()


def test_lagged_dw_and_pools_bit_exact_on_every_build():
    model = _model()
    c = compile_graph(parse_tflite(model), kinds=LAG_ONLY)
    kinds = {o["op"]: c.graph.tensors[o["tensor"]].in_place for o in c.report["in_place_ops"]}
    kernels = {L["op"]: L["kernel"] for L in c.report["layers"]}
    assert [kernels[i] for i in range(5)] == [
        "tk_depthwise3x3_s8", "tk_depthwise_conv2d_s8_ref", "tk_max_pool_s8", "tk_avg_pool_s8",
        "tk_depthwise_conv2d_s8"], kernels
    assert [kinds.get(i) for i in range(5)] == ["lag_lines"] + ["lag_raster"] * 4, kinds
    assert c.graph.tensors[c.report["in_place_ops"][1]["tensor"]].alias_offset < 0  # x2: a lag
    x = np.random.default_rng(3).integers(-128, 128, (4, 1, 16, 24, 8), dtype=np.int8)
    assert_host_builds_match(c, model, x)


def _wide():
    """input 24x48x8 -> dw 3x3 s2 (24 outputs a line: two chunks, whose walk lags by nearly the
    whole output) -> 1x1 conv to 8: with "dw_raster" the dw runs on the raster kernel."""
    rng = np.random.default_rng(13)
    b = ModelBuilder("wide")
    x = b.input((1, 24, 48, 8), 0.05, 3)
    y = _dw(b, rng, x, (1, 24, 48, 8), 3, 2, "SAME", (12, 24))
    b.output(_pw(b, rng, y, 8, (1, 12, 24, 8), "pw"))
    return b.build()


def test_wide_dw_moves_to_the_raster_kernel():
    model = _wide()
    lines = compile_graph(parse_tflite(model), kinds=LAG_ONLY)
    raster = compile_graph(parse_tflite(model), kinds=LAG_ONLY | {"dw_raster"})
    assert lines.report["layers"][0]["kernel"] == "tk_depthwise3x3_s8"
    assert raster.report["layers"][0]["kernel"] == "tk_depthwise_conv2d_s8"
    assert raster.graph.tensors[raster.report["in_place_ops"][0]["tensor"]].in_place == \
        "lag_raster"
    assert raster.report["arena_bytes"] < lines.report["arena_bytes"]
    x = np.random.default_rng(5).integers(-128, 128, (2, 1, 24, 48, 8), dtype=np.int8)
    assert_host_builds_match(raster, model, x)


@pytest.mark.parametrize("board", [pytest.param(b, marks=_tools_for(b))
                                   for b in ("mps2-an386", "mps3-an547")])
def test_lagged_dw_and_pools_on_board(board, tmp_path):
    """The DSP assembly (M4) and the Helium kernels' hand-over to the C ones (M55)."""
    from tinykiln.targets.board import get_board
    from tinykiln.targets.firmware import build_firmware
    from tinykiln.targets.qemu import run_firmware
    model = _model()
    c = compile_graph(parse_tflite(model), kinds=LAG_ONLY)
    x = np.random.default_rng(4).integers(-128, 128, (3, 1, 16, 24, 8), dtype=np.int8)
    brd = get_board(board)
    build_firmware(c, brd, tmp_path / "fw")
    got = run_firmware(tmp_path / "fw", brd, c.graph, [x]).outputs[0]
    ref = tflm_run(model, [x], 1)[0]
    assert (got.reshape(ref.shape) == ref).all()


def _padded():
    """input 10x12x8 -> PAD (2, 1) rows, (1, 3) columns -> 3x3 VALID conv to 8 -> 1x1 conv to 4
    (the output): the padded tensor is written over its input with a lag."""
    rng = np.random.default_rng(21)
    b = ModelBuilder("pad")
    x = b.input((1, 10, 12, 8), 0.05, 3)
    y = _pw(b, rng, x, 8, (1, 10, 12, 8), "pw0")
    pads = b.const(np.array([[0, 0], [2, 1], [1, 3], [0, 0]], np.int32))
    p = b.tensor((1, 13, 16, 8), 0.05, 3, name="padded")
    b.op("PAD", [y, pads], [p])
    w = b.const(rng.integers(-60, 60, (8, 3, 3, 8)).astype(np.int8), 0.01)
    z = b.tensor((1, 11, 14, 8), 0.05, 3, name="conv")
    b.op("CONV_2D", [p, w, b.const(rng.integers(-500, 500, 8).astype(np.int32), 0.0005)], [z],
         padding="VALID", stride_h=1, stride_w=1, fused_activation_function="RELU")
    b.output(_pw(b, rng, z, 8, (1, 11, 14, 4), "out"))
    return b.build()


def test_pad_with_a_lag_bit_exact_on_every_build():
    """The PAD walk's least lag, checked against executing it on shared bytes, and the model on
    every host build (memmove moves each input row), bit-exact with TFLM."""
    from tinykiln.passes.in_place import least_lag
    from tinykiln.passes.lag_orders import pad_steps
    dims = [[1, 1, 0], [1, 1, 0], [10, 13, 2], [96, 128, 8]]
    d = least_lag(lambda b: pad_steps(dims), 960, 13 * 128)
    assert d is not None and d + 960 < 13 * 128 + 960
    assert _execute_lagged(list(pad_steps(dims)), 960, 13 * 128, d, np.random.default_rng(0))
    model = _padded()
    c = compile_graph(parse_tflite(model), kinds=LAG_ONLY)
    kinds = {o["opcode"]: o["kind"] for o in c.report["in_place_ops"]}
    assert kinds.get("PAD") == "lag_pad", c.report["in_place_ops"]
    assert c.report["arena_gap_to_max_live_bound"] < 0
    x = np.random.default_rng(6).integers(-128, 128, (3, 1, 10, 12, 8), dtype=np.int8)
    assert_host_builds_match(c, model, x)
