"""Depth-first chains (passes/depth_first.py, lower/depth_first.py): residual blocks (two 3x3
convolutions and their ADD, with and without a strided shortcut convolution) and a plain pair
of convolutions run row by row. Their tensors are held by rows, the arena drops far below whole
tensors' bound, and the outputs are TFLM's on every host build (portable, DSP with int16 and
int8 filters, Helium's C models; AddressSanitizer on the portable and DSP builds) and under
QEMU. The row schedule's checker refuses an order that would overwrite input rows still to be
read."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from tinykiln.passes.depth_first import over_input_safe, rows_for, schedule


def _residual_model(hw=(16, 12), c=8):
    """input -> 3x3 conv (c) -> [3x3 -> 3x3 -> ADD with the block's input] -> [3x3 stride 2
    -> 3x3, 1x1 stride 2 shortcut, ADD] -> 3x3 conv -> 1x1 conv (4 channels, the output)."""
    from modelgen import ModelBuilder
    b = ModelBuilder("residual")
    rng = np.random.default_rng(11)

    def conv(x, ic, oc, k, name, stride=1, shape=None, act="RELU"):
        w = b.const(rng.integers(-50, 50, (oc, k, k, ic)).astype(np.int8), 0.01)
        bias = b.const(rng.integers(-400, 400, oc).astype(np.int32), 0.04 * 0.01)
        y = b.tensor(shape, 0.04, -3, name=name)
        b.op("CONV_2D", [x, w, bias], [y], padding="SAME", stride_h=stride, stride_w=stride,
             fused_activation_function=act)
        return y

    def add(p, q, shape, name):
        y = b.tensor(shape, 0.05, -2, name=name)
        b.op("ADD", [p, q], [y], fused_activation_function="RELU")
        return y
    h, w = hw
    full, half = (1, h, w, c), (1, h // 2, w // 2, 2 * c)
    x = b.input((1, h, w, 3), 0.05, -3)
    s = conv(x, 3, c, 3, "stem", shape=full)
    y = add(conv(conv(s, c, c, 3, "b1a", shape=full), c, c, 3, "b1b", shape=full, act="NONE"),
            s, full, "b1")
    a = conv(conv(y, c, 2 * c, 3, "b2a", 2, half), 2 * c, 2 * c, 3, "b2b", shape=half,
             act="NONE")
    sc = conv(y, c, 2 * c, 1, "b2s", 2, half, act="NONE")
    z = add(a, sc, half, "b2")
    z = conv(conv(z, 2 * c, 2 * c, 3, "c1", shape=half), 2 * c, 4, 1, "out", shape=half[:3] + (4,),
             act="NONE")
    b.output(z)
    return b.build()


@pytest.fixture(scope="module")
def residual():
    from tinykiln.compile import compile_graph
    from tinykiln.frontend.tflite_import import parse_tflite
    model = _residual_model()       # (ram: balanced leaves out the plain pair, which its lags
    return model, compile_graph(parse_tflite(model), optimize="ram"), \
        compile_graph(parse_tflite(model), optimize="speed")        # do without)


def test_chains_found_and_arena_below_the_bound(residual):
    _, c, speed = residual
    r = c.report
    chains = [d["ops"] for d in r["depth_first"]]
    assert chains[:2] == [[1, 2, 3], [4, 5, 6, 7]], chains      # both residual blocks
    assert [8, 9] in chains                                     # a plain pair: 3x3 then 1x1
    assert not speed.report["depth_first"]
    assert r["arena_bytes"] < speed.report["arena_bytes"] and r["arena_gap_to_max_live_bound"] < 0
    # the blocks' ADD outputs overwrite the rows of the block's input already read
    ops = {op.index: op for op in c.graph.ops}
    assert {(o["op"], o["over"]) for o in r["in_place_ops"]} >= {(3, ops[1].inputs[0]),
                                                                 (7, ops[4].inputs[0])}
    assert "depth first, row by row" in __import__("tinykiln.compile", fromlist=["x"]) \
        .plan_picture(c)


def test_bit_exact_on_every_host_build(residual):
    from tflm_oracle import assert_host_builds_match
    model, c, _ = residual
    x = np.random.default_rng(3).integers(-128, 128, (3, 1, 16, 12, 3), dtype=np.int8)
    assert_host_builds_match(c, model, x)


def test_residual_blocks_four_rows_a_step():
    """The same chains computing the last conv's rows four at a time (balanced's step for chains
    through a depthwise): the shortcut's and the ADD's rows four at a time too, the residual
    ADD's output over the block's input, bit-exact on the portable and DSP builds."""
    from tflm_oracle import assert_host_builds_match
    from tinykiln.compile import compile_graph
    from tinykiln.frontend.tflite_import import parse_tflite
    model = _residual_model()
    c = compile_graph(parse_tflite(model), kinds=frozenset({"depth_first", "depth_first_rows4",
                                                            "depth_first_peak"}))
    chains = {d["ops"][0]: d for d in c.report["depth_first"]}
    g = c.graph
    assert chains[4]["ops"] == [4, 5, 6, 7] and g.ops[4].chain_step == 4, chains
    assert chains[4]["rows"] == {f"t{g.ops[4].outputs[0]}": 5, f"t{g.ops[5].outputs[0]}": 4,
                                 f"t{g.ops[6].outputs[0]}": 4}, chains[4]
    assert {(o["op"], o["over"]) for o in c.report["in_place_ops"]} >= {(7, g.ops[4].inputs[0])}
    x = np.random.default_rng(33).integers(-128, 128, (2, 1, 16, 12, 3), dtype=np.int8)
    assert_host_builds_match(c, model, x, builds=([], ["-DTK_DSP_EMULATE_SIMD"]))


@pytest.mark.skipif(not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
                    reason="needs arm-none-eabi-gcc and qemu-system-arm")
def test_bit_exact_under_qemu(residual, tmp_path):
    """The Cortex-M4 image (DSP kernels, assembly) and its stack: the analysis's worst case
    holds (run_firmware fails if the measured peak exceeds it)."""
    model, c, _ = residual
    x = np.random.default_rng(4).integers(-128, 128, (2, 1, 16, 12, 3), dtype=np.int8)
    from tflm_oracle import assert_m4_matches
    assert_m4_matches(c, model, x, tmp_path)


def test_schedule_computes_each_row_once_in_order():
    for s1, p1, k1, n1 in [(1, 1, 3, 9), (2, 0, 3, 17), (1, 0, 1, 5)]:
        out1 = (n1 + 2 * p1 - k1) // s1 + 1 if p1 == 0 else (n1 + s1 - 1) // s1
        for s2, k2 in [(1, 3), (2, 3), (1, 1)]:
            p2 = 1 if k2 == 3 else 0
            out2 = (out1 + s2 - 1) // s2
            g1 = {"stride": s1, "pad": p1, "k": k1, "size": n1, "out": out1}
            g2 = {"stride": s2, "pad": p2, "k": k2, "size": out1, "out": out2}
            made = [j for e in schedule([g1, g2]) if e[0] == 0 for j in range(e[1], e[1] + e[2])]
            assert made == sorted(set(made)) and max(made) < out1
            for e in schedule([g1, g2]):
                if e[0] == 1:
                    start, h, pad = rows_for(e[1], s2, p2, k2, out1)
                    assert (e[2], e[3], e[4]) == (1, start, h) and all(j in made for j in
                                                                       range(start, start + h))


def test_checker_refuses_overwriting_rows_still_read():
    """An ADD writing row r over the chain's input while the first conv's later rows still
    read it (a window reaching two rows up) is refused; the residual block's own order is
    proved safe."""
    row, n = 24, 10
    g1 = {"stride": 1, "pad": 1, "k": 3, "size": n, "out": n}
    g2 = {"stride": 1, "pad": 1, "k": 3, "size": n, "out": n}
    assert over_input_safe([g1, g2], None, row, row, n * row)
    late = {"stride": 1, "pad": 2, "k": 3, "size": n, "out": n}       # reads rows j-2 .. j
    first = {"stride": 1, "pad": 0, "k": 1, "size": n, "out": n}
    assert not over_input_safe([late, first], None, row, row, n * row)


def _inverted_model(kind: str):
    """input 16x20x8 -> 1x1 conv to 32 -> depthwise (kind "lines": 3x3 on the line kernel, rows
    as lines; "raster": 5x5 on the group kernel; "mult": 3x3 with depth multiplier 2 on the
    reference kernel) -> 1x1 conv to 8 (the output): an inverted bottleneck whose expanded
    tensor the chain holds by rows."""
    from modelgen import ModelBuilder
    rng = np.random.default_rng(31)
    b = ModelBuilder("inv")
    x = b.input((1, 16, 20, 8), 0.05, 3)
    w = b.const(rng.integers(-60, 60, (32, 1, 1, 8)).astype(np.int8), 0.02)
    e = b.tensor((1, 16, 20, 32), 0.05, -5, name="expand")
    b.op("CONV_2D", [x, w, b.const(rng.integers(-500, 500, 32).astype(np.int32), 0.001)], [e],
         padding="SAME", stride_h=1, stride_w=1, fused_activation_function="RELU6")
    k, mult = {"lines": (3, 1), "raster": (5, 1), "mult": (3, 2)}[kind]
    oc = 32 * mult
    wd = b.const(rng.integers(-80, 80, (1, k, k, oc)).astype(np.int8), 0.01)
    d = b.tensor((1, 16, 20, oc), 0.05, 2, name="dw")
    b.op("DEPTHWISE_CONV_2D", [e, wd, b.const(rng.integers(-300, 300, oc).astype(np.int32),
                                               0.0005)], [d],
         padding="SAME", stride_h=1, stride_w=1, depth_multiplier=mult,
         fused_activation_function="NONE")     # (full range: the line kernel's assembly)
    wp = b.const(rng.integers(-60, 60, (8, 1, 1, oc)).astype(np.int8), 0.02)
    y = b.tensor((1, 16, 20, 8), 0.05, 0, name="project")
    b.op("CONV_2D", [d, wp, b.const(rng.integers(-500, 500, 8).astype(np.int32), 0.001)], [y],
         padding="SAME", stride_h=1, stride_w=1, fused_activation_function="NONE")
    b.output(y)
    return b.build()


@pytest.mark.parametrize("kind,kernel", [("lines", "tk_depthwise3x3_s8"),
                                         ("raster", "tk_depthwise_conv2d_s8"),
                                         ("mult", "tk_depthwise_conv2d_s8_ref")])
def test_chain_through_a_depthwise(kind, kernel):
    """1x1 expansion -> depthwise -> 1x1 projection runs as one chain (the expanded tensor three
    rows at a time, the depthwise's output one) on each depthwise kernel; the arena drops below
    whole tensors' bound to about the input and output; every host build gives TFLM's bits."""
    from tflm_oracle import assert_host_builds_match
    from tinykiln.compile import compile_graph
    from tinykiln.frontend.tflite_import import parse_tflite
    model = _inverted_model(kind)
    c = compile_graph(parse_tflite(model), kinds=frozenset({"depth_first", "depth_first_dw"}))
    assert [d["ops"] for d in c.report["depth_first"]] == [[0, 1, 2]], c.report["depth_first"]
    g = c.graph
    k = 5 if kind == "raster" else 3
    assert [g.tensors[g.ops[i].outputs[0]].df_rows for i in (0, 1)] == [k, 1]
    assert c.report["layers"][1]["kernel"] == kernel
    io = sum(g.tensors[t].nbytes for t in (g.inputs[0], g.outputs[0]))     # 2,560 + 2,560
    expanded_rows = 20 * 32 * (2 if kind == "mult" else 1)
    assert c.report["arena_bytes"] <= io + (k + 1) * expanded_rows + 64 \
        < c.report["max_live_bound"]
    x = np.random.default_rng(8).integers(-128, 128, (2, 1, 16, 20, 8), dtype=np.int8)
    assert_host_builds_match(c, model, x)


@pytest.mark.skipif(not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
                    reason="needs arm-none-eabi-gcc and qemu-system-arm")
def test_chain_through_the_line_kernel_under_qemu(tmp_path):
    """The line kernel's assembly on row bands (Cortex-M4), bit-exact with TFLM."""
    from tinykiln.compile import compile_graph
    from tinykiln.frontend.tflite_import import parse_tflite
    model = _inverted_model("lines")
    c = compile_graph(parse_tflite(model), kinds=frozenset({"depth_first", "depth_first_dw"}))
    assert c.report["depth_first"]
    x = np.random.default_rng(9).integers(-128, 128, (2, 1, 16, 20, 8), dtype=np.int8)
    from tflm_oracle import assert_m4_matches
    assert_m4_matches(c, model, x, tmp_path)
