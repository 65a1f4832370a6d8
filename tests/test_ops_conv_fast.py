"""CONV_2D int8's fast kernel without arena scratch (tk_conv2d_s8, conv2d_s8.h): its three paths
(1x1 columns; taps read in place for input depths that are multiples of 4, border pixels
through stack im2col columns or, for deep filters, runs with a zero-point line; im2col columns
on the stack for other depths) on a case table against TFLM,
bit-exact: the model compiled as the planner leaves it (no scratch that would grow the arena),
on the host (portable C and the DSP-extension path through the C models of the instructions,
under ASan+UBSan) and as firmware on mps2-an386 (the real instructions and the assembly loops).
Then the exact instruction counts: a 3x3 16->16 layer at 32x32 that the planner leaves without
scratch reaches 0.5 MACs per instruction, and kws_ref_model's convolutions are no slower than
they were. Run as a script it prints those layers' counts."""
from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

import tinykiln.lower.conv as conv_lowering
from conftest import shared_model
from modelgen import ModelBuilder
from test_firmware import _tools_for
from tflm_oracle import tflm_run
from tinykiln.compile import compile_graph
from tinykiln.frontend.tflite_import import parse_tflite
from tinykiln.targets.hostrun import HostBuild

ROWS = 24
IN_SCALE = 0.05
COLS, LINES, IM2COL = conv_lowering.PATH_COLS, conv_lowering.PATH_LINES, conv_lowering.PATH_IM2COL

# x: input NHWC; k: filter (h, w); s: strides; d: dilations; zp: (input, output) zero points;
# w: "pc" per-channel scales, "pt" one scale, "left" one channel with a multiplier above 1 (a
# left shift: the exact, slower output stage); path: the one tk_conv2d_s8 takes
_D = dict(s=(1, 1), d=(1, 1), pad="SAME", act="NONE", zp=(-3, -128), w="pc", bias=True)
CASES = [dict(_D, **c) for c in [
    # in place (input depth a multiple of 4): interior pixel pairs in the assembly loop (wide
    # clamp, fast requantization), borders through two im2col columns on the stack
    dict(name="l3x3_c16", x=(1, 9, 10, 16), k=(3, 3), oc=16, act="RELU", path=LINES),
    dict(name="l3x3_c8_s2_odd_oc", x=(1, 9, 9, 8), k=(3, 3), oc=7, s=(2, 2), path=LINES),
    dict(name="l3x3_c4_valid", x=(1, 6, 7, 4), k=(3, 3), oc=6, pad="VALID", zp=(127, 3),
         path=LINES),
    dict(name="l5x5_c12_relu6", x=(1, 7, 6, 12), k=(5, 5), oc=5, act="RELU6", zp=(-128, 9),
         path=LINES),
    # ... more than 160 taps: borders in runs from the input and the zero-point line
    dict(name="l3x3_c64_zrow_chunks", x=(1, 4, 5, 64), k=(3, 3), oc=4, zp=(-128, 0), path=LINES),
    dict(name="l3x3_c32_dil_w2_runs", x=(1, 7, 9, 32), k=(3, 3), oc=5, d=(1, 2), path=LINES),
    dict(name="l5x5_c16_s2_relu6_runs", x=(1, 7, 8, 16), k=(5, 5), oc=3, s=(2, 2), act="RELU6",
         path=LINES),
    dict(name="l3x3_c48_odd_px_runs", x=(1, 3, 3, 48), k=(3, 3), oc=6, act="RELU", path=LINES),
    dict(name="l3x3_c4_dil2", x=(1, 9, 8, 4), k=(3, 3), oc=5, d=(2, 2), path=LINES),
    dict(name="l3x3_c8_dil_h3", x=(1, 11, 6, 8), k=(3, 3), oc=4, d=(3, 1), s=(1, 2), path=LINES),
    dict(name="l2x3_c4_dil_w2", x=(1, 5, 9, 4), k=(2, 3), oc=3, d=(1, 2), path=LINES),
    dict(name="l5x5_c4_larger_than_input", x=(1, 3, 4, 4), k=(5, 5), oc=3, s=(2, 1), path=LINES),
    dict(name="l3x3_c8_pt_batch2_odd_px", x=(2, 3, 5, 8), k=(3, 3), oc=6, w="pt", path=LINES),
    dict(name="l3x3_c8_left_shift", x=(1, 5, 5, 8), k=(3, 3), oc=4, w="left", path=LINES),
    dict(name="l3x1_c4_no_bias", x=(1, 6, 3, 4), k=(3, 1), oc=2, bias=False, path=LINES),
    # ... windows widened on the stack (DSP cores: 8 or more channels, even, K <= 576), inside
    # pixels from the input rows, border pixels from their im2col columns widened in place
    dict(name="l3x3_c64_widened_k576", x=(1, 4, 5, 64), k=(3, 3), oc=8, zp=(-128, 0),
         path=LINES),
    dict(name="l3x3_c32_s2_widened_relu6", x=(1, 7, 6, 32), k=(3, 3), oc=10, s=(2, 2),
         act="RELU6", path=LINES),
    dict(name="l3x3_c4_widened_odd_px_pt", x=(1, 5, 3, 4), k=(3, 3), oc=8, w="pt", path=LINES),
    # im2col columns on the stack (other input depths)
    dict(name="i10x4_c1_kws_first", x=(1, 49, 10, 1), k=(10, 4), oc=12, s=(2, 2), act="RELU",
         zp=(83, -128), path=IM2COL),
    dict(name="i3x3_c3_stem", x=(1, 8, 9, 3), k=(3, 3), oc=8, act="RELU", zp=(-1, -128),
         path=IM2COL),
    dict(name="i3x3_c3_s2_relu6", x=(1, 9, 8, 3), k=(3, 3), oc=5, s=(2, 2), act="RELU6",
         path=IM2COL),
    dict(name="i3x3_c3_s2_stem_batch2", x=(2, 9, 10, 3), k=(3, 3), oc=6, s=(2, 2), act="RELU6",
         zp=(-1, -128), path=IM2COL),
    dict(name="i5x5_c5_largest", x=(1, 9, 9, 5), k=(5, 5), oc=4, s=(2, 2), path=IM2COL),
    dict(name="i3x3_c5_dil2", x=(1, 8, 7, 5), k=(3, 3), oc=3, d=(2, 2), path=IM2COL),
    dict(name="i2x2_c1_valid_pt", x=(1, 5, 6, 1), k=(2, 2), oc=9, pad="VALID", w="pt",
         path=IM2COL),
    dict(name="i3x3_c6_left_shift", x=(1, 5, 4, 6), k=(3, 3), oc=4, w="left", path=IM2COL),
    # 1x1
    dict(name="p1x1_c16", x=(1, 5, 5, 16), k=(1, 1), oc=16, act="RELU", path=COLS),
    dict(name="p1x1_c6_s2_odd", x=(1, 7, 5, 6), k=(1, 1), oc=5, s=(2, 2), path=COLS),
    dict(name="p1x1_c8_s2_odd_oc_relu6", x=(1, 7, 6, 8), k=(1, 1), oc=5, s=(2, 2),
         act="RELU6", path=COLS),
    # ... columns widened in the larger stack buffer (65 to 256 channels), and not widened
    dict(name="p1x1_c128_wide_big_odd_oc", x=(1, 3, 3, 128), k=(1, 1), oc=5, act="RELU",
         path=COLS),
    dict(name="p1x1_c260_not_widened", x=(1, 2, 3, 260), k=(1, 1), oc=4, path=COLS),
]]


def _out_hw(c):
    (h, w), (kh, kw), (sh, sw), (dh, dw) = c["x"][1:3], c["k"], c["s"], c["d"]
    if c["pad"] == "SAME":
        return -(-h // sh), -(-w // sw)
    return (h - (kh - 1) * dh - 1) // sh + 1, (w - (kw - 1) * dw - 1) // sw + 1


def add_case(b: ModelBuilder, c: dict, rng, rows: list, n_rows: int = ROWS) -> None:
    n, h, w, ch = c["x"]
    kh, kw = c["k"]
    oc, taps = c["oc"], kh * kw * ch
    x = b.input((n, h, w, ch), scale=IN_SCALE, zero_point=c["zp"][0])
    r = rng.integers(-128, 128, (n_rows, n, h, w, ch), dtype=np.int8)
    r[0], r[1] = -128, 127                  # the extreme sums
    rows.append(r)
    w_typ = 0.004
    out_scale = IN_SCALE * w_typ * np.sqrt(taps) * 74 * 74 / 50     # ~ +-50 output steps
    wscale = np.full(1, w_typ) if c["w"] == "pt" else rng.uniform(0.3, 3.0, oc) * w_typ
    if c["w"] == "left":
        wscale[0] = 1.5 * out_scale / IN_SCALE
    weights = rng.integers(-127, 128, (oc, kh, kw, ch), dtype=np.int8)
    ins = [x, b.const(weights, scale=wscale, zero_point=[0] * len(wscale), axis=0)]
    if c["bias"]:
        bias = rng.integers(-40 * taps * 20, 40 * taps * 20, (oc,)).astype(np.int32)
        ins.append(b.const(bias, scale=IN_SCALE * np.broadcast_to(wscale, (oc,)),
                           zero_point=[0] * oc))
    oh, ow = _out_hw(c)
    y = b.tensor((n, oh, ow, oc), scale=out_scale, zero_point=c["zp"][1])
    b.op("CONV_2D", ins, [y], padding=c["pad"], stride_h=c["s"][0], stride_w=c["s"][1],
         dilation_h_factor=c["d"][0], dilation_w_factor=c["d"][1],
         fused_activation_function=c["act"])
    b.output(y)


@pytest.fixture(scope="module")
def table_model():
    rng = np.random.default_rng(12)
    b, rows = ModelBuilder("conv_fast_cases"), []
    for c in CASES:
        add_case(b, c, rng, rows)
    buf = b.build()
    return buf, rows, tflm_run(buf, rows, len(CASES))


def _compile(buf: bytes, grow: bool = False, arena_im2col: bool = False):
    """The model compiled; arena_im2col False keeps every in-place convolution in place (the
    border runs of deep filters are exercised), grow True gives every op the scratch it asks
    for (the deep in-place ones then take arena im2col columns)."""
    old = conv_lowering.ARENA_IM2COL
    conv_lowering.ARENA_IM2COL = arena_im2col
    try:
        return compile_graph(parse_tflite(buf), scratch_may_grow_arena=grow)
    finally:
        conv_lowering.ARENA_IM2COL = old


def _deep(c: dict) -> bool:
    """An in-place case whose border columns do not fit the stack and whose windows are not
    widened on it: arena im2col when allowed."""
    return (c["path"] == LINES and 2 * c["k"][0] * c["k"][1] * c["x"][3] > conv_lowering.BORDER_COLS
            and not conv_lowering.lines_widened(*c["k"], c["x"][3], c["oc"], c["d"][1]))


def _paths(model_c: str) -> list[int]:
    return [int(m) for m in re.findall(r"tk_op\d+_params = \{.*?\.path = (\d+),", model_c,
                                       re.S)]


def _assert_equal(out, ref, names):
    bad = {n: int((o.reshape(r.shape) != r).sum()) for n, o, r in zip(names, out, ref)
           if (o.reshape(r.shape) != r).any()}
    assert not bad, f"differing values per case: {bad}"


def test_paths_need_no_scratch(table_model):
    c = _compile(table_model[0])
    entry = {COLS: "tk_conv2d_s8_cols", LINES: "tk_conv2d_s8_lines", IM2COL: "tk_conv2d_s8_im2col"}
    assert [layer["kernel"] for layer in c.report["layers"]] == [entry[k["path"]] for k in CASES]
    assert _paths(c.files["model.c"]) == [k["path"] for k in CASES]
    assert c.lowered.scratch == {}
    assert c.report["arena_bytes"] == c.report["arena_lower_bound"]
    flags = re.findall(r"\.rq_fast = (\d)", c.files["model.c"])
    assert "0" in flags and "1" in flags        # both output stages are exercised
    for k, r in zip(CASES, table_model[2]):     # cases that prove something
        assert len(np.unique(r)) > 2, k["name"]


def test_deep_in_place_takes_arena_columns_only_where_the_planner_allows(table_model):
    """By default a deep in-place case (border columns too large for the stack) takes arena
    im2col columns, but only where the planner has room: the arena stays at its lower bound."""
    for grow in (False, True):
        c = _compile(table_model[0], grow=grow, arena_im2col=True)
        want = [IM2COL if _deep(k) and (grow or i in c.lowered.scratch) else k["path"]
                for i, k in enumerate(CASES)]
        assert _paths(c.files["model.c"]) == want
        assert set(c.lowered.scratch) == {i for i, k in enumerate(CASES) if want[i] != k["path"]}
        if grow:
            assert len(c.lowered.scratch) == sum(_deep(k) for k in CASES) >= 4
        else:
            assert c.report["arena_bytes"] == c.report["arena_lower_bound"]


@pytest.mark.parametrize("cflags", [[], ["-DTK_DSP_EMULATE_SIMD"]], ids=["portable", "simd"])
def test_cases_bit_exact_on_host(table_model, cflags):
    buf, rows, ref = table_model
    for grow in (False, True):      # deep in-place cases: border runs, then arena columns
        with HostBuild(_compile(buf, grow=grow, arena_im2col=grow), sanitize=True,
                       extra_cflags=cflags) as hb:
            out = hb.run(rows)
        _assert_equal(out, ref, [k["name"] for k in CASES])


def _one_case_model(case: dict, seed: int = 3):
    rng = np.random.default_rng(seed)
    b, rows = ModelBuilder("conv_one"), []
    add_case(b, dict(_D, **case), rng, rows, n_rows=6)
    buf = b.build()
    return buf, rows, tflm_run(buf, rows, 1)


def test_deep_odd_depth_uses_arena_scratch_only_when_free():
    """Input depths that are not multiples of 4 with more than TK_CONV_STACK_BYTES / 2 taps
    take arena scratch for their im2col columns when the planner allows it, else the
    reference kernel; both bit-exact."""
    buf, rows, ref = _one_case_model(dict(name="i9x9_c3", x=(1, 10, 10, 3), k=(9, 9), oc=4))
    for grow, kernel in ((False, "tk_conv2d_s8_ref"), (True, "tk_conv2d_s8_im2col")):
        c = compile_graph(parse_tflite(buf), scratch_may_grow_arena=grow)
        assert [layer["kernel"] for layer in c.report["layers"]] == [kernel]
        assert bool(c.lowered.scratch) == grow
        with HostBuild(c, sanitize=True, extra_cflags=["-DTK_DSP_EMULATE_SIMD"]) as hb:
            _assert_equal(hb.run(rows), ref, ["i9x9_c3"])


def _firmware(buf: bytes, xs: list, grow: bool = False, arena_im2col: bool = True):
    from tinykiln.targets.board import get_board
    from tinykiln.targets.firmware import build_firmware
    from tinykiln.targets.qemu import run_firmware
    c = _compile(buf, grow, arena_im2col)
    b = get_board("mps2-an386")
    with tempfile.TemporaryDirectory(prefix="tk-conv-fast-") as d:
        build_firmware(c, b, Path(d) / "fw")
        res = run_firmware(Path(d) / "fw", b, c.graph, xs, profile=True)
    return res.outputs, res.profile


def _arm_marks(f):
    for m in _tools_for("mps2-an386"):
        f = m(f)
    return f


@_arm_marks
def test_cases_bit_exact_on_cortex_m4(table_model):
    buf, rows, ref = table_model
    for grow in (False, True):      # deep in-place cases: border runs, then arena columns
        out, _ = _firmware(buf, [r[:6] for r in rows], grow=grow, arena_im2col=grow)
        _assert_equal(out, [r[:6] for r in ref], [k["name"] for k in CASES])
    # im2col columns in arena scratch (when the planner allows it), odd channel count
    buf, rows, ref = _one_case_model(dict(name="i9x9_c3", x=(1, 10, 9, 3), k=(9, 9), oc=5,
                                          act="RELU"))
    out, _ = _firmware(buf, rows, grow=True)
    _assert_equal(out, ref, ["i9x9_c3 with arena scratch"])


def bench_model(x=(1, 32, 32, 16), oc: int = 16) -> bytes:
    """A 3x3 CONV_2D (SAME, RELU), by default 16->16 at 32x32: im2col scratch would grow the
    arena."""
    b = ModelBuilder("conv3x3_bench")
    add_case(b, dict(_D, name="bench", x=x, k=(3, 3), oc=oc, act="RELU", zp=(-1, -128)),
             np.random.default_rng(5), [], n_rows=2)
    return b.build()


def conv_layers(buf: bytes) -> list[tuple[int, int, int]]:
    """(op, instructions, MACs) of every CONV_2D on mps2-an386, outputs checked against TFLM."""
    g = parse_tflite(buf)
    xs = [np.random.default_rng(9).integers(-128, 128, (1, *g.tensors[t].shape), dtype=np.int8)
          for t in g.inputs]
    out, prof = _firmware(buf, xs)
    _assert_equal(out, tflm_run(buf, xs, len(g.outputs)), [f"output {k}" for k in range(len(out))])
    return [(L["op"], L["instructions"], L["macs"]) for L in prof["layers"]
            if L["opcode"] == "CONV_2D"]


# kws_ref_model's CONV_2D layers before this kernel (exact counts on mps2-an386)
KWS_BEFORE = {0: 719_293, 2: 853_052, 4: 853_052, 6: 853_052, 8: 853_052}


@_arm_marks
def test_speed_without_scratch_and_on_kws():
    [(_, ins, macs)] = conv_layers(bench_model())
    assert macs >= ins / 2, f"{macs / ins:.3f} MACs per instruction"
    for op, ins, _ in conv_layers(shared_model("kws_ref_model.tflite").read_bytes()):
        assert ins < KWS_BEFORE[op], (op, ins)


def main() -> int:
    for name, buf in (("3x3 16->16 at 32x32, no scratch", bench_model()),
                      ("3x3 3->16 stem at 32x32", bench_model((1, 32, 32, 3), 16)),
                      ("3x3 32->32 at 16x16, no scratch", bench_model((1, 16, 16, 32), 32)),
                      ("kws_ref_model", shared_model("kws_ref_model.tflite").read_bytes())):
        for op, ins, macs in conv_layers(buf):
            print(f"{name} op {op}: {ins:,} instructions, {macs / ins:.3f} MACs/instr")
    return 0


if __name__ == "__main__":
    sys.exit(main())
