"""Three-op depth-first chains (passes/depth_first.py): pointwise -> depthwise -> pointwise, an
inverted bottleneck, runs row by row with the expanded tensor held by a few rows and the
depthwise's output by one, and a residual block's ADD writes its output over the rows of the
block's input already read. On a MobileNet-v2-style model (stem, five inverted bottlenecks,
three with a residual ADD, two with stride 2) `--optimize ram` takes a chain in every block,
its arena drops to a fraction of whole tensors' bound, and the outputs are TFLM's on every host
build and under QEMU; balanced takes them four rows at a step where they save a tenth of the
arena. The row schedule is checked against an independent count of the rows
each level holds."""
from __future__ import annotations

import shutil
import sys

import numpy as np
import pytest

from conftest import ROOT
from tinykiln.passes.depth_first import held_rows, rows_for, schedule

sys.path.insert(0, str(ROOT / "benchmarks"))
from inverted_model import mobilenet_v2  # noqa: E402


@pytest.fixture(scope="module")
def mbv2():
    from tinykiln.compile import compile_graph
    from tinykiln.frontend.tflite_import import parse_tflite
    model = mobilenet_v2()
    return model, compile_graph(parse_tflite(model), optimize="ram")


def test_every_block_is_one_chain_and_the_arena_drops(mbv2):
    from tinykiln.compile import compile_graph
    from tinykiln.frontend.tflite_import import parse_tflite
    from tinykiln.passes.in_place import kinds_for
    model, c = mbv2
    r, g = c.report, c.graph
    assert [d["ops"] for d in r["depth_first"]] == [[1, 2, 3, 4], [5, 6, 7], [8, 9, 10, 11],
                                                    [12, 13, 14], [15, 16, 17, 18]]
    for d in r["depth_first"]:      # expanded: three rows (3x3 window); depthwise's: one row
        e, dw = (g.ops[i].outputs[0] for i in d["ops"][:2])
        assert (g.tensors[e].df_rows, g.tensors[dw].df_rows) == (3, 1), d
    # the residual ADDs' outputs over the block's input; the strided blocks' projections over
    # theirs, 16 bytes ahead (the input's bytes past the smaller output free once read)
    over = {o["op"]: o["lag"] for o in r["in_place_ops"] if o["kind"] == "depth_first"}
    assert over == {4: 0, 7: 16, 11: 0, 14: 16, 18: 0}, over
    # below a quarter of whole tensors' bound (53,248 B: the first block's expanded tensor
    # beside its input and the depthwise's output)
    assert r["arena_bytes"] * 4 < r["max_live_bound"]
    # and below the chains of two that balanced's way of choosing takes (the kept variant)
    two = compile_graph(parse_tflite(model), kinds=kinds_for("ram", False) |
                        {"depth_first_peak"})
    assert all(len([i for i in d["ops"] if g.ops[i].opcode != "ADD"]) <= 2
               for d in two.report["depth_first"])
    assert r["arena_bytes"] < two.report["arena_bytes"]


def test_bit_exact_on_every_host_build(mbv2):
    from tflm_oracle import assert_host_builds_match
    model, c = mbv2
    x = np.random.default_rng(12).integers(-128, 128, (2, 1, 32, 32, 3), dtype=np.int8)
    assert_host_builds_match(c, model, x)


@pytest.mark.skipif(not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
                    reason="needs arm-none-eabi-gcc and qemu-system-arm")
def test_bit_exact_under_qemu(mbv2, tmp_path):
    """The Cortex-M4 image: the line kernel's and the 1x1 kernel's assembly on row bands, and
    the stack analysis's worst case holds (run_firmware fails if the measured peak exceeds it)."""
    from tflm_oracle import assert_m4_matches
    model, c = mbv2
    x = np.random.default_rng(13).integers(-128, 128, (2, 1, 32, 32, 3), dtype=np.int8)
    assert_m4_matches(c, model, x, tmp_path)


@pytest.mark.skipif(not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
                    reason="needs arm-none-eabi-gcc and qemu-system-arm")
def test_balanced_runs_four_rows_a_step(tmp_path):
    """Balanced takes the chains with a depthwise only where they save a tenth of the arena, and
    then runs the last conv's rows four at a time (the line kernel widens its window's rows once
    per call): on a 40x40 input the blocks' 20, 10 and 5 rows end in a shorter step. Bit-exact
    on every host build and under QEMU."""
    from tflm_oracle import assert_host_builds_match, assert_m4_matches
    from tinykiln.compile import compile_graph
    from tinykiln.frontend.tflite_import import parse_tflite
    from tinykiln.passes.in_place import kinds_for
    model = mobilenet_v2(40)
    c = compile_graph(parse_tflite(model))
    r, g = c.report, c.graph
    assert r["depth_first"] and all(g.ops[d["ops"][0]].chain_step == 4 for d in r["depth_first"])
    first = r["depth_first"][0]["ops"]
    assert g.tensors[g.ops[first[1]].outputs[0]].df_rows == 4     # the depthwise's 4 rows
    peak_only = compile_graph(parse_tflite(model), kinds=kinds_for("balanced", False) -
                              {"depth_first_balanced"})
    assert not peak_only.report["depth_first"]
    assert r["arena_bytes"] <= 0.9 * peak_only.report["arena_bytes"]
    x = np.random.default_rng(14).integers(-128, 128, (2, 1, 40, 40, 3), dtype=np.int8)
    assert_host_builds_match(c, model, x)
    assert_m4_matches(c, model, x, tmp_path)


def _geometry(rng, size):
    k = int(rng.choice([1, 3, 5]))
    s = int(rng.choice([1, 2])) if k > 1 else 1
    pad = int(rng.integers(0, k // 2 + 1)) if k > 1 else 0
    out = (size + 2 * pad - k) // s + 1
    return {"stride": s, "pad": pad, "k": k, "size": size, "out": out}


@pytest.mark.parametrize("step", [1, 2, 4])
def test_schedule_holds_what_each_band_reads_within_its_rows(step):
    """Random chains of two and three convolutions, the last's rows `step` at a time: each
    level's rows are computed once, in order, each call's band the rows_for of its rows; every
    band a level reads was computed before it; and the rows of a level computed but still to be
    read (at or past the band's start) never exceed held_rows, the buffer the C holds."""
    rng = np.random.default_rng(21)
    for _ in range(300):
        geoms, size = [], int(rng.integers(3, 20))
        for _ in range(int(rng.integers(2, 4))):
            g = _geometry(rng, size)
            if g["out"] < 1:
                break
            geoms.append(g)
            size = g["out"]
        if len(geoms) < 2:
            continue
        held = held_rows(geoms, step)
        made = [[] for _ in geoms]
        for level, j, n, start, h in schedule(geoms, step):
            g = geoms[level]
            assert (start, h) == rows_for(j, g["stride"], g["pad"], g["k"], g["size"], n)[:2]
            if level:
                below = made[level - 1]
                assert all(i in below for i in range(start, start + h)), (geoms, level, j)
                assert sum(i >= start for i in below) <= held[level - 1], (geoms, level, j)
            else:
                assert 0 <= start and start + h <= g["size"]
            made[level] += range(j, j + n)
        for level, rows in enumerate(made):
            assert rows == sorted(set(rows)), (geoms, level)
        assert made[-1] == list(range(geoms[-1]["out"]))


def test_the_benchmark_model_is_the_same_bytes_every_time(tmp_path, monkeypatch):
    """memory_bench's built-in inverted_bottlenecks: generated without TensorFlow, the same
    bytes on every build, written to the benchmark cache (XDG_CACHE_HOME)."""
    import speed_bench
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    name, path, why = speed_bench.resolve("inverted_bottlenecks", False)
    assert (name, why) == ("inverted_bottlenecks", "") and path.parent.is_relative_to(tmp_path)
    assert path.read_bytes() == mobilenet_v2() == mobilenet_v2()


def _random_chain(rng) -> bytes:
    """input -> 1x1 expansion -> depthwise (k 3 or 5, stride 1 or 2, SAME or VALID) -> 1x1
    projection (the output of the chain, read by a final 1x1 conv: the model's output), random
    sizes: a chain of three whose output may go over its input."""
    from modelgen import ModelBuilder
    b = ModelBuilder("rnd")
    h, w, c = (int(v) for v in (*rng.integers(5, 14, 2), rng.integers(2, 9)))
    e, oc = c * int(rng.integers(2, 7)), int(rng.integers(1, c + 1))
    k, s = int(rng.choice([3, 5])), int(rng.choice([1, 2]))
    pad = str(rng.choice(["SAME", "VALID"]))
    ho = -(-h // s) if pad == "SAME" else (h - k) // s + 1
    wo = -(-w // s) if pad == "SAME" else (w - k) // s + 1
    if ho < 1 or wo < 1:
        return _random_chain(rng)

    def conv(x, ic, o, shape, name, dw=False, kk=1, st=1, p="SAME"):
        wt = b.const(rng.integers(-70, 70, (1, kk, kk, o) if dw else (o, kk, kk, ic))
                     .astype(np.int8), 0.02)
        bias = b.const(rng.integers(-400, 400, o).astype(np.int32), 0.001)
        y = b.tensor(shape, 0.05, int(rng.integers(-4, 4)), name=name)
        opts = dict(padding=p, stride_h=st, stride_w=st, fused_activation_function="RELU6")
        b.op("DEPTHWISE_CONV_2D" if dw else "CONV_2D", [x, wt, bias], [y],
             **(dict(opts, depth_multiplier=1) if dw else opts))
        return y
    x = b.input((1, h, w, c), 0.05, 1)
    t = conv(x, c, c, (1, h, w, c), "in")
    t = conv(t, c, e, (1, h, w, e), "expand")
    t = conv(t, e, e, (1, ho, wo, e), "dw", dw=True, kk=k, st=s, p=pad)
    t = conv(t, e, oc, (1, ho, wo, oc), "project")
    b.output(conv(t, oc, 3, (1, ho, wo, 3), "head"))
    return b.build()


def test_random_chains_over_their_input_are_exact():
    """Random inverted bottlenecks compiled with `ram`: wherever a chain writes its output over
    its input (the row schedule simulated first), every host build under the sanitizers gives
    TFLM's bits, and so does every other schedule the variants choose."""
    from tflm_oracle import assert_host_builds_match
    from tinykiln.compile import compile_graph
    from tinykiln.frontend.tflite_import import parse_tflite
    rng = np.random.default_rng(77)
    over = 0
    for _ in range(6):
        model = _random_chain(rng)
        c = compile_graph(parse_tflite(model), optimize="ram")
        over += any(o["kind"] == "depth_first" for o in c.report["in_place_ops"])
        g = c.graph
        x = rng.integers(-128, 128, (2,) + tuple(g.tensors[g.inputs[0]].shape), dtype=np.int8)
        assert_host_builds_match(c, model, x, builds=([], ["-DTK_DSP_EMULATE_SIMD"]))
    assert over >= 2, over      # (the seed gives chains over their input)
