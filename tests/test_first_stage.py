"""A first stage whose activations dwarf the model's input (MCUNetV2's case for patch-based
inference): stem 3x3 stride 2 to 32 channels, 3x3 depthwise, 1x1 to 16, then an expansion, a
strided depthwise and a projection. Depth first, the stem reads the model's input row by row and
the depthwise and 1x1 follow a few rows behind (the row form of a patch-based first stage, with
no halo recomputed), so the first stage's 32-channel maps are never whole; bit-exact with TFLM on
every host build and under QEMU. On Helium, balanced leaves the 32x32 depthwise out of place:
there its kernel runs in place only in one band and chunk (lag_orders.mve_dw3_ok)."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

SIDE = 64


def _model() -> bytes:
    from modelgen import ModelBuilder
    rng = np.random.default_rng(1)
    b = ModelBuilder("first_stage")

    def conv(x, ic, oc, k, s, side, name, dw=False):
        w = b.const(rng.integers(-50, 50, (1, k, k, oc) if dw else (oc, k, k, ic))
                    .astype(np.int8), 0.02)
        bias = b.const(rng.integers(-300, 300, oc).astype(np.int32), 0.001)
        y = b.tensor((1, side, side, oc), 0.06, -3, name=name)
        o = dict(padding="SAME", stride_h=s, stride_w=s, fused_activation_function="RELU")
        if dw:
            o.update(depth_multiplier=1, dilation_h_factor=1, dilation_w_factor=1)
        b.op("DEPTHWISE_CONV_2D" if dw else "CONV_2D", [x, w, bias], [y], **o)
        return y
    h = SIDE
    x = b.input((1, h, h, 3), 0.05, 2)
    s = conv(x, 3, 32, 3, 2, h // 2, "stem")
    p = conv(conv(s, 32, 32, 3, 1, h // 2, "dw", dw=True), 32, 16, 1, 1, h // 2, "pw")
    e = conv(p, 16, 48, 1, 1, h // 2, "exp")
    p2 = conv(conv(e, 48, 48, 3, 2, h // 4, "dw2", dw=True), 48, 24, 1, 1, h // 4, "pw2")
    n = (h // 4) ** 2 * 24
    flat = b.tensor((1, n), 0.06, -3, name="flat")
    b.op("RESHAPE", [p2, b.const(np.array([1, n], np.int32))], [flat])
    w = b.const(rng.integers(-50, 50, (4, n)).astype(np.int8), 0.02)
    y = b.tensor((1, 4), 0.05, 0, name="out")
    b.op("FULLY_CONNECTED", [flat, w, b.const(rng.integers(-300, 300, 4).astype(np.int32),
                                                0.001)], [y], fused_activation_function="NONE")
    b.output(y)
    return b.build()


def _compile(model, **kw):
    from tinykiln.compile import compile_graph
    from tinykiln.frontend.tflite_import import parse_tflite
    return compile_graph(parse_tflite(model), **kw)


@pytest.mark.parametrize("optimize", ["balanced", "ram"])
def test_first_stage_runs_depth_first_over_the_input(optimize):
    from tflm_oracle import assert_host_builds_match
    model = _model()
    c = _compile(model, optimize=optimize)
    chains = [d["ops"] for d in c.report["depth_first"]]
    assert chains[0] == [0, 1, 2], chains          # stem, depthwise, 1x1
    bound = c.report["max_live_bound"]
    assert bound == _compile(model, optimize="speed").report["arena_bytes"] == 65536
    # the input (12,288) and the 1x1's output (16,384) whole, the 32-channel maps by rows
    assert c.report["arena_bytes"] < 0.6 * bound, c.report["arena_bytes"]
    x = np.random.default_rng(2).integers(-128, 128, (2, 1, SIDE, SIDE, 3), dtype=np.int8)
    assert_host_builds_match(c, model, x)


def test_helium_balanced_keeps_the_slow_depthwise_whole():
    c = _compile(_model(), helium=True)
    assert not [o for o in c.report["in_place_ops"] if o["kind"] == "dw3"]
    ram = _compile(_model(), helium=True, optimize="ram")
    assert [o["op"] for o in ram.report["in_place_ops"] if o["kind"] == "dw3"] == [1]
    assert ram.report["arena_bytes"] < ram.report["max_live_bound"]


@pytest.mark.skipif(not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
                    reason="needs arm-none-eabi-gcc and qemu-system-arm")
def test_bit_exact_under_qemu(tmp_path):
    from tflm_oracle import assert_m4_matches
    model = _model()
    c = _compile(model)
    assert [d["ops"] for d in c.report["depth_first"]][0] == [0, 1, 2]
    x = np.random.default_rng(3).integers(-128, 128, (1, 1, SIDE, SIDE, 3), dtype=np.int8)
    assert_m4_matches(c, model, x, tmp_path)
