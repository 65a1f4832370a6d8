"""DEPTHWISE_CONV_2D 3x3's line kernel (depthwise3x3_s8.c, strides 1 and 2) against TFLM,
bit-exact: its own case table (lines as rows and, for tall images, as columns; line lengths 1 to
3 past a multiple of the 4-output assembly block, and past the chunk; SAME with leading padding
0 and 1, and VALID; clamped
activations and the slow requantization that keep the C path; batches), in the host build, the
emulated DSP-extension build, and as firmware on mps2-an386 (the real SMLAD / SMLABT / SMLATB
assembly), whose exact instruction count must stay below 0.62x the group kernel's, and on
qemu-virt-rv32 (rv32imac: the RISC-V assembly line loop of depthwise3x3_s8_rv32.h, whose
requantization bound has its own cases). Run as a script it prints both kernels' MACs per
instruction on a kws-shaped layer."""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

import tinykiln.lower.conv as conv_lowering
import tinykiln.lower.depthwise3x3 as dw3
from modelgen import ModelBuilder
from test_firmware import _tools_for
from test_ops_conv import _D, _add_case
from tflm_oracle import tflm_run
from tinykiln.compile import compile_graph
from tinykiln.frontend.tflite_import import parse_tflite
from tinykiln.lower.multipliers import quantize_multiplier
from tinykiln.targets.hostrun import HostBuild

ROWS = 30
CASES = [dict(_D, op="dw", k=(3, 3), dm=1, **c) for c in [
    dict(name="kws_tall_cols", x=(1, 25, 5, 8), zp=(-128, -128)),
    dict(name="wide_rows_w9", x=(1, 4, 9, 5), zp=(17, -3)),
    dict(name="w4_block_only", x=(1, 3, 4, 4)),
    dict(name="w5_block_plus1", x=(1, 5, 5, 3), pad="VALID"),
    dict(name="w6_block_plus2", x=(1, 3, 6, 6), act="RELU"),
    dict(name="w7_block_plus3", x=(1, 2, 7, 2), act="RELU6", zp=(-5, -128)),
    dict(name="w1_single", x=(1, 6, 1, 3)),
    dict(name="w2_pair", x=(1, 1, 2, 4), zp=(127, 127)),
    dict(name="w3_valid_one", x=(1, 3, 3, 9), pad="VALID"),
    dict(name="chunked_w70", x=(1, 3, 70, 2), zp=(-128, 0)),
    dict(name="chunked_tall_h131", x=(1, 131, 4, 1)),
    dict(name="edge_multipliers", x=(1, 6, 8, 16), w="edge"),
    dict(name="per_tensor_batch3", x=(3, 5, 6, 4), w="pt", bias=False),
    dict(name="n1_to_1", x=(1, 4, 8, 3), act="RELU_N1_TO_1"),
    # stride 2: SAME with leading padding 0 (even sizes) and 1 (odd), VALID, chunks of 16
    dict(name="s2_even_pad0", x=(1, 8, 10, 4), s=(2, 2), zp=(-128, -128)),
    dict(name="s2_odd_pad1", x=(1, 9, 11, 5), s=(2, 2), act="RELU"),
    dict(name="s2_valid_tall", x=(1, 19, 6, 4), s=(2, 2), pad="VALID", zp=(3, -128)),
    dict(name="s2_rest3_w13", x=(1, 5, 13, 8), s=(2, 2), zp=(-128, -128)),
    dict(name="s2_chunked_w70", x=(1, 3, 70, 4), s=(2, 2), zp=(-128, 5)),
    dict(name="s2_edge_mult", x=(1, 6, 9, 16), s=(2, 2), w="edge"),
    dict(name="s2_w1", x=(1, 7, 1, 3), s=(2, 2)),
]]


@pytest.fixture(scope="module")
def table_model():
    rng = np.random.default_rng(23)
    b = ModelBuilder("dw3x3_cases")
    for c in CASES:
        _add_case(b, c, rng)
    buf = b.build()
    g = parse_tflite(buf)
    xs = [rng.integers(-128, 128, (ROWS, *g.tensors[t].shape), dtype=np.int8) for t in g.inputs]
    for x in xs:
        x[0], x[1] = -128, 127
    return buf, xs, tflm_run(buf, xs, n_outputs=len(CASES))


def _assert_equal(out, ref):
    bad = {c["name"]: int((o.reshape(r.shape) != r).sum()) for c, o, r in zip(CASES, out, ref)
           if (o.reshape(r.shape) != r).any()}
    assert not bad, f"differing values per case: {bad}"


def test_line_kernel_geometry():
    """Tall images run along columns (filter transposed), wide ones along rows; the filter
    words hold the int16 pairs the kernel's dual multiplies take."""
    w = np.arange(-4, 5, dtype=np.int8).reshape(1, 9)          # ky * 3 + kx
    words = dw3.filter_words(w, transposed=False).view(np.uint32)
    lanes = [(int(v) & 0xFFFF, int(v) >> 16) for v in words]
    as16 = [tuple(np.array(p, dtype=np.uint16).view(np.int16)) for p in lanes]
    assert as16 == [(-4, -3), (-3, -2), (-1, 0), (0, 1), (2, 3), (3, 4)]
    t = dw3.filter_words(w, transposed=True).view(np.uint32)
    assert [tuple(np.array((int(v) & 0xFFFF, int(v) >> 16), dtype=np.uint16).view(np.int16))
            for v in t][:2] == [(-4, -1), (-1, 2)]


def _short_lines_model() -> bytes:
    b = ModelBuilder("dw3x3_short")
    rng = np.random.default_rng(3)
    for x, s in (((1, 3, 3, 16), (1, 1)), ((1, 5, 4, 8), (1, 1)), ((1, 12, 12, 8), (2, 2)),
                 ((1, 16, 15, 8), (2, 2))):
        _add_case(b, dict(_D, op="dw", k=(3, 3), dm=1, x=x, s=s), rng)
    return b.build()


def test_short_lines_keep_the_group_kernel():
    """Below MIN_POSITIONS outputs along the longer side the group kernel is faster: MobileNet's
    last 3x3 maps keep it."""
    kernels = [layer["kernel"] for layer in
               compile_graph(parse_tflite(_short_lines_model())).report["layers"]]
    assert kernels == ["tk_depthwise_conv2d_s8", "tk_depthwise3x3_s8", "tk_depthwise_conv2d_s8",
                       "tk_depthwise3x3_s8"]


def test_group_kernel_portable_bit_exact():
    """The group kernel's portable branch (depthwise_conv2d_s8.c: interior pixels without
    per-tap tests) on the host and on qemu-virt-rv32, against TFLM."""
    buf = _short_lines_model()
    g = parse_tflite(buf)
    xs = [np.random.default_rng(8).integers(-128, 128, (4, *g.tensors[t].shape), dtype=np.int8)
          for t in g.inputs]
    ref = tflm_run(buf, xs, n_outputs=len(g.outputs))
    with HostBuild(compile_graph(g), sanitize=True) as hb:
        out = hb.run(xs)
    for o, r in zip(out, ref):
        assert (o.reshape(r.shape) == r).all()
    if shutil.which("riscv64-unknown-elf-gcc") and shutil.which("qemu-system-riscv32"):
        out, _ = _firmware(buf, xs, board="qemu-virt-rv32")
        for o, r in zip(out, ref):
            assert (o.reshape(r.shape) == r).all()


@pytest.fixture
def every_line(monkeypatch):
    """The line kernel on every case of the table, short lines included."""
    monkeypatch.setattr(dw3, "MIN_POSITIONS", {1: 1, 2: 1})


@pytest.mark.parametrize("cflags", [[], ["-DTK_DSP_EMULATE_SIMD"]], ids=["portable", "simd"])
def test_cases_bit_exact(table_model, cflags, every_line):
    buf, xs, ref = table_model
    c = compile_graph(parse_tflite(buf))
    assert [layer["kernel"] for layer in c.report["layers"]] == ["tk_depthwise3x3_s8"] * len(CASES)
    with HostBuild(c, sanitize=True, extra_cflags=cflags) as hb:
        out = hb.run(xs)
    _assert_equal(out, ref)
    for k, r in zip(CASES, ref):        # cases that prove something
        assert len(np.unique(r)) > 2 or k["act"] == "RELU_N1_TO_1", k["name"]


def _firmware(buf: bytes, xs: list, line_kernel: bool = True, board: str = "mps2-an386"):
    from tinykiln.targets.board import get_board
    from tinykiln.targets.firmware import build_firmware
    from tinykiln.targets.qemu import run_firmware
    old = conv_lowering.dw3x3_applies
    if not line_kernel:
        conv_lowering.dw3x3_applies = lambda fields: False
    try:
        c = compile_graph(parse_tflite(buf), optimize="speed")  # (the kernels apart: nothing
    finally:                                                    # in place)
        conv_lowering.dw3x3_applies = old
    b = get_board(board)
    with tempfile.TemporaryDirectory(prefix="tk-dw3-") as d:
        build_firmware(c, b, Path(d) / "fw")
        res = run_firmware(Path(d) / "fw", b, c.graph, xs, profile=True)
    return res.outputs, res.profile


def bench_model() -> bytes:
    """kws_ref_model's depthwise layer: 25x5x64, SAME, RELU with the full int8 range."""
    b = ModelBuilder("dw3_bench")
    _add_case(b, dict(_D, op="dw", k=(3, 3), dm=1, name="bench", x=(1, 25, 5, 64),
                      zp=(-128, -128), act="RELU"), np.random.default_rng(5))
    return b.build()


def measure(buf: bytes) -> dict:
    g = parse_tflite(buf)
    xs = [np.random.default_rng(9).integers(-128, 128, (2, *g.tensors[t].shape), dtype=np.int8)
          for t in g.inputs]
    ref = tflm_run(buf, xs, len(g.outputs))
    res = {}
    for name, line in (("line", True), ("group", False)):
        out, prof = _firmware(buf, xs, line)
        for o, r in zip(out, ref):
            assert (o.reshape(r.shape) == r).all(), name
        res[name] = prof
    return res


def test_firmware_bit_exact_and_faster(table_model, every_line):
    """Under QEMU: the assembly blocks on every case, and on the kws-shaped layer at most 0.62x
    the group kernel's instructions (0.587x when written)."""
    if not _tools_for("mps2-an386"):
        pytest.skip("arm-none-eabi-gcc or qemu-system-arm is not installed")
    buf, xs, ref = table_model
    out, _ = _firmware(buf, [x[:6] for x in xs])
    _assert_equal(out, [r[:6] for r in ref])
    m = measure(bench_model())
    assert m["line"]["instructions"] <= 0.62 * m["group"]["instructions"], (
        m["line"]["instructions"], m["group"]["instructions"])


def _tiny_multiplier_model() -> bytes:
    """Two 3x3 layers whose requantization sits at the RISC-V line loop's bound: channels 0-3
    with e1 = 22 (its largest, k1 * 2^22 added whole), 4-6 ordinary, channel 7 with e1 = 23 (its
    group of four keeps the C loop); output zero points 127 and -128 (k1 = 255 and -255); large
    biases so that the outputs vary."""
    rng = np.random.default_rng(31)
    b = ModelBuilder("dw3_tiny_mult")
    ch, in_scale = 8, 0.5
    x = b.input((1, 9, 6, ch), scale=in_scale, zero_point=-7)
    m = np.array([2.0 ** -23.4, 2.0 ** -23.9, 2.0 ** -23.1, 2.0 ** -23.6,
                  2.0 ** -9, 2.0 ** -10.5, 2.0 ** -8.2, 2.0 ** -24.3])
    for zp, j in ((127, -20.5), (-128, 30.5)):
        ws = np.float32(m / in_scale)
        w = b.const(rng.integers(-127, 128, (1, 3, 3, ch), dtype=np.int8), scale=ws,
                    zero_point=[0] * ch, axis=3)
        # the tiny channels' bias at an output's rounding boundary: the inputs' few thousandths
        # of a step decide
        eff = [q * 2.0 ** (sh - 31) for q, sh in
               (quantize_multiplier(float(np.float64(in_scale) * float(v))) for v in ws)]
        near = np.array([round((j + 0.3 * (k % 3 - 1) * 1e-3) / e) for k, e in enumerate(eff)])
        bias = np.where(m < 2.0 ** -20, near, rng.integers(-20000, 20000, ch)).astype(np.int32)
        bt = b.const(bias, scale=in_scale * ws, zero_point=[0] * ch)
        y = b.tensor((1, 9, 6, ch), scale=1.0, zero_point=zp)
        b.op("DEPTHWISE_CONV_2D", [x, w, bt], [y], padding="SAME", stride_h=1, stride_w=1,
             dilation_h_factor=1, dilation_w_factor=1, depth_multiplier=1,
             fused_activation_function="NONE")
        b.output(y)
    return b.build()


def test_tiny_multipliers_bit_exact():
    """The line loop's shift bound (e1 <= 22) and the extreme output offsets, on the host's
    portable build and on qemu-virt-rv32, bit-exact; the ops use the fast requantization."""
    buf = _tiny_multiplier_model()
    g = parse_tflite(buf)
    xs = [np.random.default_rng(4).integers(-128, 128, (8, *g.tensors[t].shape), dtype=np.int8)
          for t in g.inputs]
    ref = tflm_run(buf, xs, n_outputs=2)
    c = compile_graph(g)
    assert c.files["model.c"].count(".rq_fast = 1") == 2
    for r in ref:       # every tiny channel's outputs on both sides of its boundary
        assert all(len(np.unique(r[..., k])) == 2 for k in range(4)), r[0, 0]
    with HostBuild(c, sanitize=True) as hb:
        out = hb.run(xs)
    for o, r in zip(out, ref):
        assert (o.reshape(r.shape) == r).all()
    if shutil.which("riscv64-unknown-elf-gcc") and shutil.which("qemu-system-riscv32"):
        out, _ = _firmware(buf, xs, board="qemu-virt-rv32")
        for o, r in zip(out, ref):
            assert (o.reshape(r.shape) == r).all()


def test_riscv_firmware_bit_exact(table_model, every_line):
    """Under QEMU on qemu-virt-rv32 (rv32imac, no SIMD): the RISC-V assembly line loop
    (depthwise3x3_s8_rv32.h) on every stride-1 case, its C fallbacks on the others (slow
    requantization, stride 2), bit-exact."""
    if not (shutil.which("riscv64-unknown-elf-gcc") and shutil.which("qemu-system-riscv32")):
        pytest.skip("riscv64-unknown-elf-gcc or qemu-system-riscv32 is not installed")
    buf, xs, ref = table_model
    out, _ = _firmware(buf, [x[:6] for x in xs], board="qemu-virt-rv32")
    _assert_equal(out, [r[:6] for r in ref])


if __name__ == "__main__":
    m = measure(bench_model())
    for k, p in m.items():
        print(f"{k:6s}: {p['instructions']:>9,} instructions per inference, "
              f"{p['macs_per_instruction']:.3f} MACs per instruction")
    sys.exit(0)
