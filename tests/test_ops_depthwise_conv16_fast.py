"""DEPTHWISE_CONV_2D 16x8's fast kernel (depthwise_conv2d_s16_fast.c, depth multiplier 1, at
most 256 taps) against TFLM, bit-exact: its own case table (channel counts that leave a pair
and an odd channel, strides, dilations, SAME / VALID, batches, large filters up to the 256-tap
limit with the extreme products, one past it that keeps the reference kernel), in the host
build, the emulated DSP-extension build and the reference kernel; then as firmware on
mps2-an386 (the real SMLABB / SMLATT), whose exact instruction count must beat the
reference's. Run as a script it prints both kernels' MACs per instruction."""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from modelgen import ModelBuilder
from test_firmware import _tools_for
from tflm_oracle import tflm_run
from tinykiln.compile import compile_graph
from tinykiln.frontend.tflite_import import parse_tflite
from tinykiln.lower import conv16
from tinykiln.targets.hostrun import HostBuild

ROWS = 40
IN_SCALE = 1.0 / 4096
_D = dict(s=(1, 1), d=(1, 1), pad="SAME", act="NONE", bias=True, w="rand")
CASES = [dict(_D, **c) for c in [
    dict(name="c1_k3", x=(1, 5, 6, 1), k=(3, 3)),
    dict(name="c2_k3_s2_valid", x=(1, 7, 6, 2), k=(3, 3), s=(2, 2), pad="VALID"),
    dict(name="c3_k5_relu", x=(1, 6, 5, 3), k=(5, 5), act="RELU"),
    dict(name="c7_k3_dil2x3", x=(2, 8, 9, 7), k=(3, 3), d=(2, 3)),
    dict(name="c8_k7_nobias_relu6", x=(1, 7, 7, 8), k=(7, 7), bias=False, act="RELU6"),
    dict(name="c13_k1x3_s1x2", x=(1, 4, 7, 13), k=(1, 3), s=(1, 2)),
    dict(name="c6_k16_extreme", x=(1, 16, 16, 6), k=(16, 16), pad="VALID", w="min"),
    dict(name="c5_k16_same_extreme", x=(1, 4, 4, 5), k=(16, 16), w="min"),
    dict(name="c4_k17x16_reference", x=(1, 17, 16, 4), k=(17, 16), pad="VALID", w="min"),
]]


def _out_hw(c):
    (h, w), (kh, kw), (sh, sw), (dh, dw) = c["x"][1:3], c["k"], c["s"], c["d"]
    if c["pad"] == "SAME":
        return -(-h // sh), -(-w // sw)
    return (h - (kh - 1) * dh - 1) // sh + 1, (w - (kw - 1) * dw - 1) // sw + 1


def add_case(b: ModelBuilder, c: dict, rng, rows: list) -> None:
    x = b.input(c["x"], scale=IN_SCALE, dtype="int16")
    r = rng.integers(-32768, 32768, (ROWS, *c["x"]), dtype=np.int16)
    r[0], r[1] = -32768, 32767
    rows.append(r)
    ch, (kh, kw) = c["x"][3], c["k"]
    w_typ = 0.01
    wscale = rng.uniform(0.3, 3.0, ch) * w_typ
    if c["w"] == "min":     # every product 2^22 for the row of -32768: |sum| up to 2^30
        weights = np.where(rng.random((1, kh, kw, ch)) < 0.9, -128, 127).astype(np.int8)
        out_scale = IN_SCALE * w_typ * 2.0 ** 21
    else:
        weights = rng.integers(-127, 128, (1, kh, kw, ch), dtype=np.int8)
        out_scale = IN_SCALE * w_typ * 18900 * 73 * np.sqrt(kh * kw) / 8000
    ins = [x, b.const(weights, scale=wscale, zero_point=[0] * ch, axis=3)]
    if c["bias"]:
        lim = int(18900 * 73 * np.sqrt(kh * kw))
        ins.append(b.const(rng.integers(-lim, lim, (ch,)).astype(np.int64),
                           scale=IN_SCALE * wscale, zero_point=[0] * ch))
    oh, ow = _out_hw(c)
    y = b.tensor((c["x"][0], oh, ow, ch), scale=out_scale, dtype="int16")
    b.op("DEPTHWISE_CONV_2D", ins, [y], depth_multiplier=1, fused_activation_function=c["act"],
         padding=c["pad"], stride_h=c["s"][0], stride_w=c["s"][1],
         dilation_h_factor=c["d"][0], dilation_w_factor=c["d"][1])
    b.output(y)


@pytest.fixture(scope="module")
def table_model():
    rng = np.random.default_rng(61)
    b, rows = ModelBuilder("dw16_fast_cases"), []
    for c in CASES:
        add_case(b, c, rng, rows)
    buf = b.build()
    return buf, rows, tflm_run(buf, rows, len(CASES))


def _compile(buf: bytes, fast: bool):
    old = conv16.USE_FAST_KERNELS
    conv16.USE_FAST_KERNELS = fast
    try:
        return compile_graph(parse_tflite(buf))
    finally:
        conv16.USE_FAST_KERNELS = old


def _assert_equal(out, ref, names):
    bad = {n: int((o.reshape(r.shape) != r).sum()) for n, o, r in zip(names, out, ref)
           if (o.reshape(r.shape) != r).any()}
    assert not bad, f"differing values per case: {bad}"


@pytest.mark.parametrize("fast,cflags", [(True, []), (True, ["-DTK_DSP_EMULATE_SIMD"]),
                                         (False, [])], ids=["fast", "fast-simd", "reference"])
def test_cases_bit_exact(table_model, fast, cflags):
    buf, rows, ref = table_model
    c = _compile(buf, fast)
    assert [layer["kernel"] for layer in c.report["layers"]] == [
        "tk_depthwise_conv2d_s16" + ("_fast" if fast and "reference" not in k["name"] else "")
        for k in CASES]
    with HostBuild(c, sanitize=True, extra_cflags=cflags) as hb:
        out = hb.run(rows)
    _assert_equal(out, ref, [k["name"] for k in CASES])
    for k, r in zip(CASES, ref):        # cases that prove something
        assert len(np.unique(r)) > 2, k["name"]


def _firmware(buf: bytes, xs: list, fast: bool):
    from tinykiln.targets.board import get_board
    from tinykiln.targets.firmware import build_firmware
    from tinykiln.targets.qemu import run_firmware
    c = _compile(buf, fast)
    b = get_board("mps2-an386")
    with tempfile.TemporaryDirectory(prefix="tk-dw16-") as d:
        build_firmware(c, b, Path(d) / "fw")
        res = run_firmware(Path(d) / "fw", b, c.graph, xs, profile=True)
    return res.outputs, res.profile


def bench_model() -> bytes:
    """A 3x3 depthwise (SAME, 32 channels) on 16x16, int16."""
    rng = np.random.default_rng(7)
    b, rows = ModelBuilder("dw16_bench"), []
    add_case(b, dict(_D, name="bench", x=(1, 16, 16, 32), k=(3, 3)), rng, rows)
    return b.build()


def measure(buf: bytes) -> dict:
    g = parse_tflite(buf)
    xs = [np.random.default_rng(9).integers(-32768, 32768, (2, *g.tensors[t].shape),
                                            dtype=np.int16) for t in g.inputs]
    ref = tflm_run(buf, xs, len(g.outputs))
    res = {}
    for fast in (False, True):
        out, prof = _firmware(buf, xs, fast)
        _assert_equal(out, ref, [f"output {k}" for k in range(len(ref))])
        res["fast" if fast else "reference"] = (prof["instructions"], prof["macs"])
    return res


def _arm_marks(f):
    for m in _tools_for("mps2-an386"):
        f = m(f)
    return f


@_arm_marks
def test_firmware_cases_and_speed(table_model):
    buf, rows, ref = table_model
    out, _ = _firmware(buf, [r[:8] for r in rows], fast=True)
    _assert_equal(out, [r[:8] for r in ref], [k["name"] for k in CASES])
    r = measure(bench_model())
    assert r["fast"][0] * 3 < r["reference"][0] * 2, r      # at least 1.5x fewer instructions


if __name__ == "__main__":
    for kernel, (ins, macs) in measure(bench_model()).items():
        print(f"DEPTHWISE_CONV_2D 16x8 3x3 16x16x32 {kernel}: {ins:,} instr, "
              f"{macs / ins:.3f} MACs/instr")
    sys.exit(0)
