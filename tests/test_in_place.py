"""Ops run in place (compiler/passes/in_place.py): the checker that proves an op may write its
output over its input (the kernels' documented read/write order simulated on the geometry),
checked against a brute-force execution of that order on shared bytes; randomized geometries
and orders; and kws_ref_model below the max-live bound of whole tensors, bit-exact with TFLM on
the host builds (portable, DSP and Helium C models). Under QEMU the shared-model and firmware
tests run the same in-place images."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import shared_model
from tinykiln.passes.in_place import dw3_steps, pointwise_steps, safe


def _execute(steps, nbytes: int, rng) -> bool:
    """Run `steps` on one shared buffer and on separate input/output buffers, each written byte
    a function of every byte its step read; whether the two runs write the same."""
    x = rng.integers(0, 256, nbytes, dtype=np.int64)
    shared, out = x.copy(), np.zeros(nbytes, np.int64)
    for reads, writes in steps:
        r = np.concatenate([_idx(a) for a in reads]) if reads else np.zeros(0, np.int64)
        got_shared, got_sep = shared[r].copy(), x[r]
        for k, wr in enumerate(writes):
            w = _idx(wr)
            shared[w] = (got_shared.sum() * 31 + np.arange(w.size) * 7 + k) % 256
            out[w] = (got_sep.sum() * 31 + np.arange(w.size) * 7 + k) % 256
    written = np.zeros(nbytes, bool)
    for _, writes in steps:
        for wr in writes:
            written[_idx(wr)] = True
    return bool((shared[written] == out[written]).all())


def _idx(r):
    return np.arange(r[0], r[1]) if isinstance(r, tuple) else np.asarray(r)


@pytest.mark.parametrize("seed", range(6))
def test_pointwise_checker_against_execution(seed):
    """Pixel blocks in order, read whole then written: safe exactly when out_c <= in_c (at block
    1; larger blocks read ahead), and the checker agrees with executing the order."""
    rng = np.random.default_rng(seed)
    for _ in range(20):
        pixels, ic, oc = int(rng.integers(1, 12)), int(rng.integers(1, 9)), int(rng.integers(1, 9))
        block = int(rng.integers(1, 4))
        steps = list(pointwise_steps(pixels, ic, oc, block))
        nbytes = pixels * max(ic, oc)
        verdict = safe(steps, nbytes)
        if block == 1:
            assert verdict == (oc <= ic or pixels == 1), (pixels, ic, oc)
        if verdict:
            assert _execute(steps, nbytes, rng), (pixels, ic, oc, block)


@pytest.mark.parametrize("seed", range(4))
def test_dw3_checker_against_execution(seed):
    """The line kernel's order (output line o after input lines up to o + 1, per channel group)
    is safe on every same-shape geometry; without the ring (each output line reading its three
    input lines from the shared buffer) the checker refuses and executing it differs."""
    rng = np.random.default_rng(10 + seed)
    for _ in range(6):
        shape = (int(rng.integers(1, 3)), int(rng.integers(2, 9)), int(rng.integers(2, 9)),
                 int(rng.integers(1, 9)))
        nbytes = int(np.prod(shape))
        for group in (1, 4):
            steps = list(dw3_steps(shape, group))
            assert safe(steps, nbytes), shape
            assert _execute(steps, nbytes, rng), shape
            short = list(_no_ring(shape, group))
            assert not safe(short, nbytes), shape
            assert not _execute(short, nbytes, rng), shape


def _no_ring(shape, group):
    """dw3_steps without the ring: output line o reads input lines o - 1 .. o + 1 from the
    buffer itself, after line o - 1 was written."""
    n, h, w, c = shape
    rows = w >= h
    lines = h if rows else w
    idx = np.arange(n * h * w * c).reshape(n, h, w, c)
    for b in range(n):
        for c0 in range(0, c, group):
            img = idx[b, :, :, c0:c0 + group]
            line = (lambda i: img[i]) if rows else (lambda i: img[:, i])
            for o in range(lines):
                reads = [line(i).reshape(-1) for i in range(max(o - 1, 0), min(o + 2, lines))]
                yield reads, [line(o).reshape(-1)]


def test_kws_in_place_below_the_max_live_bound_and_bit_exact():
    from tflm_oracle import tflm_run
    from tinykiln.inputs import compile_file
    from tinykiln.targets.hostrun import HostBuild
    path = shared_model("kws_ref_model.tflite")
    c = compile_file(path)
    r = c.report
    assert r["max_live_bound"] == 16000
    assert r["arena_bytes"] <= 9000 and r["arena_gap_to_max_live_bound"] < 0
    # the first conv writes over the model's input with a lag, the rest over their inputs
    assert [(o["op"], o["opcode"]) for o in r["in_place_ops"]] == \
        [(i, "DEPTHWISE_CONV_2D" if i % 2 else "CONV_2D") for i in range(0, 9)]
    g = c.graph
    x = np.random.default_rng(7).integers(-128, 128, (6, *g.tensors[g.inputs[0]].shape),
                                          dtype=np.int8)
    ref = tflm_run(path.read_bytes(), [x], 1)
    ref = ref[0] if isinstance(ref, list) else ref
    for flags in ([], ["-DTK_DSP_EMULATE_SIMD"], ["-DTK_MVE_EMULATE", "-DTK_DSP_EMULATE_SIMD"]):
        with HostBuild(c, sanitize=True, extra_cflags=flags) as hb:
            y = hb.run([x])[0]
        assert (y.reshape(ref.shape) == ref).all(), flags


def test_no_in_place_where_the_input_is_read_later():
    """A tensor read by a later op (a residual branch) is never overwritten; the model's input
    is, once read (invoke leaves it undefined); the model's output keeps a buffer of its own
    where no peak needs it over its op's input (prune_lags), and takes its input's otherwise."""
    from modelgen import ModelBuilder
    from tinykiln.compile import compile_graph
    from tinykiln.frontend.tflite_import import parse_tflite
    b = ModelBuilder("branch")
    rng = np.random.default_rng(0)

    def pw(x, name):
        w = b.const(rng.integers(-60, 60, (16, 1, 1, 16)).astype(np.int8), 0.02)
        bias = b.const(rng.integers(-500, 500, 16).astype(np.int32), 0.05 * 0.02)
        y = b.tensor((1, 8, 8, 16), 0.04, -2, name=name)
        b.op("CONV_2D", [x, w, bias], [y], padding="SAME", stride_h=1, stride_w=1,
             fused_activation_function="NONE")
        return y
    x = b.input((1, 8, 8, 16), 0.05, -3)
    y = pw(x, "pw1")            # over the model's input, read by nothing later: in place
    z = pw(y, "pw2")            # y is read again by the ADD: not in place
    s = b.tensor((1, 8, 8, 16), 0.06, 0, name="sum")
    b.op("ADD", [y, z], [s], fused_activation_function="NONE")
    u = pw(s, "pw3")            # s is read by nothing later: in place
    v = pw(u, "pw4")            # the model's output: the peak is at pw2 already
    b.output(v)
    # (without depth-first chains, which would take pw3 and pw4 together)
    kinds = frozenset({"pointwise", "dw3", "elementwise", "lag"})
    c = compile_graph(parse_tflite(b.build()), kinds=kinds | {"prune_lags"})
    # y's last reader is the ADD, which writes over it (its first input nothing reads later)
    assert [(o["op"], o["over"]) for o in c.report["in_place_ops"]] == [(0, x), (2, y), (3, s)], \
        c.report["in_place_ops"]
    unpruned = compile_graph(parse_tflite(b.build()), kinds=kinds)
    assert [(o["op"], o["over"]) for o in unpruned.report["in_place_ops"]] == \
        [(0, x), (2, y), (3, s), (4, u)]


def _elementwise_model():
    """input (4 channels) -> 1x1 conv to 16 -> RELU -> ADD (a broadcast constant) -> MUL (a
    broadcast constant) -> LOGISTIC -> 1x1 conv to 4 (the output): the peak is at the
    elementwise ops, two 16-channel tensors, one when they run in place."""
    from modelgen import ModelBuilder
    b = ModelBuilder("ew")
    rng = np.random.default_rng(3)
    shape = (1, 6, 10, 16)

    def pw(x, ic, oc, name, scale):
        w = b.const(rng.integers(-60, 60, (oc, 1, 1, ic)).astype(np.int8), 0.02)
        bias = b.const(rng.integers(-500, 500, oc).astype(np.int32), 0.05 * 0.02)
        y = b.tensor((*shape[:3], oc), scale, -2, name=name)
        b.op("CONV_2D", [x, w, bias], [y], padding="SAME", stride_h=1, stride_w=1,
             fused_activation_function="NONE")
        return y
    x = b.input((*shape[:3], 4), 0.05, -3)
    y = pw(x, 4, 16, "pw1", 0.04)
    r = b.tensor(shape, 0.04, -128, name="relu")
    b.op("RELU", [y], [r])
    k = b.const(rng.integers(-100, 100, (1, 1, 1, 16)).astype(np.int8), 0.03, 5)
    a = b.tensor(shape, 0.05, 4, name="add")
    b.op("ADD", [k, r], [a], fused_activation_function="RELU")
    k2 = b.const(rng.integers(-100, 100, (1, 1, 1, 16)).astype(np.int8), 0.02, -3)
    m = b.tensor(shape, 0.02, -1, name="mul")
    b.op("MUL", [a, k2], [m], fused_activation_function="NONE")
    s = b.tensor(shape, 1 / 256, -128, name="sigmoid")
    b.op("LOGISTIC", [m], [s])
    q = b.tensor(shape, 1 / 300, 7, name="requant")
    b.op("QUANTIZE", [s], [q])
    sm = b.tensor(shape, 1 / 256, -128, name="softmax")
    b.op("SOFTMAX", [q], [sm], beta=1.0)
    b.output(pw(sm, 16, 4, "out", 0.05))
    return b.build()


def test_elementwise_in_place_bit_exact():
    """RELU, ADD (over its full-shape input, the other broadcast), MUL, LOGISTIC, an int8
    QUANTIZE and SOFTMAX each write over an input; the arena drops below whole tensors' bound; every host build (portable, DSP
    and Helium C models) gives TFLM's bits."""
    from tflm_oracle import HOST_BUILDS, assert_host_builds_match
    from tinykiln.compile import compile_graph
    from tinykiln.frontend.tflite_import import parse_tflite
    model = _elementwise_model()
    c = compile_graph(parse_tflite(model))
    ops = {o["opcode"]: o for o in c.report["in_place_ops"]}
    assert set(ops) == {"RELU", "ADD", "MUL", "LOGISTIC", "QUANTIZE", "SOFTMAX", "CONV_2D"}, \
        c.report["in_place_ops"]
    # the last conv's output (the model's) over the softmax's, 16 -> 4 channels in place; then
    # the first conv's step is the peak, and its lag (widening 4 -> 16 channels) is kept
    convs = [o for o in c.report["in_place_ops"] if o["opcode"] == "CONV_2D"]
    assert [(o["op"], o["kind"], o["lag"] > 0) for o in convs] == \
        [(0, "lag", True), (7, "pointwise", False)], convs
    speed = compile_graph(parse_tflite(model), optimize="speed")
    assert not speed.report["in_place_ops"]
    assert c.report["arena_bytes"] < speed.report["arena_bytes"]
    assert c.report["arena_gap_to_max_live_bound"] < 0
    x = np.random.default_rng(9).integers(-128, 128, (5, 1, 6, 10, 4), dtype=np.int8)
    assert_host_builds_match(c, model, x, [b for b in HOST_BUILDS if "-DTK_CONV_NARROW" not in b])


def test_optimize_choices():
    """--optimize: speed keeps every tensor whole, ram runs all it can in place, balanced (the
    default) the same but, on a Helium target, its 1x1 layers with a lag instead of in place
    (in place they copy their pixels there: +7% instructions on kws; with a lag, one block of
    64 channels, they keep their speed), so its run of lags drifts 256 bytes a layer."""
    from tinykiln.inputs import compile_file
    path = shared_model("kws_ref_model.tflite")
    ops, arena = {}, {}
    for opt, helium in (("speed", False), ("ram", True), ("balanced", False), ("balanced", True)):
        r = compile_file(path, optimize=opt, helium=helium).report
        ops[opt, helium] = [(o["opcode"], o["kind"]) for o in r["in_place_ops"]]
        arena[opt, helium] = r["arena_bytes"]
    assert arena == {("speed", False): 16000, ("ram", True): 8064, ("balanced", False): 8064,
                     ("balanced", True): 8000 + 4 * 256}
    assert ops["speed", False] == []
    assert ops["ram", True] == ops["balanced", False] and len(ops["ram", True]) == 9
    assert ops["balanced", True] == [("DEPTHWISE_CONV_2D", "dw3"), ("CONV_2D", "lag")] * 4


def test_optimize_option_on_the_command_line(tmp_path, capsys):
    import json
    from tinykiln.cli.main import main
    path = str(shared_model("kws_ref_model.tflite"))
    assert main(["compile", path, "-o", str(tmp_path / "c"), "--optimize", "speed"]) == 0
    assert json.loads((tmp_path / "c" / "report.json").read_text())["arena_bytes"] == 16000
    with pytest.raises(SystemExit):
        main(["compile", path, "-o", str(tmp_path / "d"), "--optimize", "fast"])
    assert "invalid choice" in capsys.readouterr().err


def _execute_lagged(steps, in_bytes: int, out_bytes: int, d: int, rng) -> bool:
    """Run `steps` (reads as input offsets, writes as output offsets) with the output at
    [0, out_bytes) and the input at [d, d + in_bytes) of one buffer, and with two buffers;
    whether every output byte comes out the same."""
    x = rng.integers(0, 256, in_bytes, dtype=np.int64)
    shared = np.zeros(max(out_bytes, d + in_bytes), np.int64)
    shared[d:d + in_bytes] = x
    out = np.zeros(out_bytes, np.int64)
    for reads, writes in steps:
        r = np.concatenate([_idx(a) for a in reads]) if reads else np.zeros(0, np.int64)
        got_shared, got_sep = shared[r + d].copy(), x[r]
        for k, wr in enumerate(writes):
            w = _idx(wr)
            shared[w] = (got_shared.sum() * 31 + np.arange(w.size) * 7 + k) % 256
            out[w] = (got_sep.sum() * 31 + np.arange(w.size) * 7 + k) % 256
    return bool((shared[:out_bytes] == out).all())


def _in_groups(steps, oc: int):
    """Each block's outputs written four channels at a time, the block's pixels read again
    before each group (how a kernel without a copy of the block runs)."""
    for reads, writes in steps:
        for c0 in range(0, oc, 4):
            yield reads, [(lo + c0, lo + c0 + 4) for lo, _ in writes]


@pytest.mark.parametrize("seed", range(4))
def test_lag_checker_against_execution(seed):
    """A widening 1x1 conv's output written from D bytes before its input: at the least D the
    checker finds (each block's writes taken before its reads), executing every block size, its
    outputs in channel groups with the block read again before each, gives what separate
    buffers give; with no lag (output over input) it does not."""
    from tinykiln.passes.in_place import LAG_BLOCK, least_lag, pointwise_steps
    rng = np.random.default_rng(seed)
    for _ in range(10):
        pixels, ic = int(rng.integers(2, 40)), 4 * int(rng.integers(1, 5))
        oc = ic + 4 * int(rng.integers(1, 5))

        d = least_lag(lambda b: pointwise_steps(pixels, ic, oc, b), pixels * ic, pixels * oc)
        if d is None:       # a lag saves nothing (a few pixels): no overlap at all
            assert pixels * ic <= 4 * 16 + 16 * (LAG_BLOCK[-1] + 1), (pixels, ic, oc)
            continue
        assert d < pixels * oc and d % 4 == 0
        for b in LAG_BLOCK:
            steps = list(_in_groups(pointwise_steps(pixels, ic, oc, b), oc))
            assert _execute_lagged(steps, pixels * ic, pixels * oc, d, rng), (pixels, ic, oc, b)
        steps = list(_in_groups(pointwise_steps(pixels, ic, oc, 1), oc))
        assert not _execute_lagged(steps, pixels * ic, pixels * oc, 0, rng)


@pytest.mark.parametrize("seed", range(4))
def test_conv_lag_checker_against_execution(seed):
    """Any int8 CONV_2D (filter 1-3, stride 1-2, dilation 1-2, SAME or VALID): at the lag the
    pass takes, executing every group size in raster order, each group's outputs in channel
    groups with its windows read again before each, gives what separate buffers give."""
    from tinykiln.lower.conv_geometry import lead_pad
    from tinykiln.passes.in_place import LAG_BLOCK, conv_steps, least_lag
    rng = np.random.default_rng(seed)
    tried = 0
    while tried < 8:
        k = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        st, dl = (int(rng.integers(1, 3)),) * 2, (int(rng.integers(1, 3)),) * 2
        h, w, c, oc = (int(rng.integers(3, 10)), int(rng.integers(3, 10)),
                       4 * int(rng.integers(1, 4)), 4 * int(rng.integers(1, 4)))
        same = bool(rng.integers(0, 2))
        eff = [(k[i] - 1) * dl[i] + 1 for i in (0, 1)]
        oh, ow = ((h + st[0] - 1) // st[0], (w + st[1] - 1) // st[1]) if same else \
            ((h - eff[0]) // st[0] + 1, (w - eff[1]) // st[1] + 1)
        if oh < 1 or ow < 1:
            continue
        pad = tuple(lead_pad("SAME" if same else "VALID", (h, w)[i], (oh, ow)[i], st[i], dl[i],
                              k[i]) for i in (0, 1))
        shapes = ((1, h, w, c), (1, oh, ow, oc))
        d = least_lag(lambda b: conv_steps(*shapes, k, st, dl, pad, b), h * w * c, oh * ow * oc)
        if d is None:
            continue
        tried += 1
        for b in LAG_BLOCK:
            steps = [(reads, [(q, q + oc) for lo, hi in writes for q in range(lo, hi, oc)])
                     for reads, writes in conv_steps(*shapes, k, st, dl, pad, b)]
            assert _execute_lagged(list(_in_groups(steps, oc)), h * w * c, oh * ow * oc, d,
                                   rng), (k, st, dl, h, w, c, oc, same, b, d)


def _widening_model(hw=(12, 20)):
    """input (4 channels) -> 1x1 conv to 8 -> 1x1 conv to 16 (written over its input with a lag)
    -> 1x1 conv to 4 (the output)."""
    from modelgen import ModelBuilder
    b = ModelBuilder("lag")
    rng = np.random.default_rng(4)

    def pw(x, ic, oc, name):
        w = b.const(rng.integers(-60, 60, (oc, 1, 1, ic)).astype(np.int8), 0.02)
        bias = b.const(rng.integers(-500, 500, oc).astype(np.int32), 0.05 * 0.02)
        y = b.tensor((1, *hw, oc), 0.04, -2, name=name)
        b.op("CONV_2D", [x, w, bias], [y], padding="SAME", stride_h=1, stride_w=1,
             fused_activation_function="NONE")
        return y
    def conv3(x, ic, oc, name, stride=1):
        w = b.const(rng.integers(-60, 60, (oc, 3, 3, ic)).astype(np.int8), 0.01)
        bias = b.const(rng.integers(-500, 500, oc).astype(np.int32), 0.04 * 0.01)
        y = b.tensor((1, hw[0] // stride, hw[1] // stride, oc), 0.04, 1, name=name)
        b.op("CONV_2D", [x, w, bias], [y], padding="SAME", stride_h=stride, stride_w=stride,
             fused_activation_function="RELU")
        return y
    x = b.input((1, *hw, 4), 0.05, -3)
    y = pw(pw(x, 4, 8, "a"), 8, 16, "b")        # widening 1x1 with a lag
    y = conv3(conv3(y, 16, 16, "c"), 16, 16, "d")   # 3x3 same shape with a lag (the second)
    y = conv3(y, 16, 32, "e", 2)                # 3x3 stride 2
    w4 = b.const(rng.integers(-60, 60, (4, 1, 1, 32)).astype(np.int8), 0.02)
    b4 = b.const(rng.integers(-500, 500, 4).astype(np.int32), 0.04 * 0.02)
    out = b.tensor((1, hw[0] // 2, hw[1] // 2, 4), 0.05, 0, name="out")
    b.op("CONV_2D", [y, w4, b4], [out], padding="SAME", stride_h=1, stride_w=1,
         fused_activation_function="NONE")
    b.output(out)
    return b.build()


def test_lagged_output_bit_exact_on_every_build():
    """Convolutions whose output starts D bytes before their input in one buffer (a widening
    1x1, a 3x3 of one shape, a 3x3 at stride 2): the arena is below whole tensors' bound, and
    every host build (portable, DSP with int16 and int8 filters, Helium's C models, which fall
    back to the DSP path where a 3x3's output overlaps its input) gives TFLM's bits."""
    from tflm_oracle import assert_host_builds_match
    from tinykiln.compile import compile_graph
    from tinykiln.frontend.tflite_import import parse_tflite
    model = _widening_model()
    # without depth-first chains, which would take these convolutions first
    c = compile_graph(parse_tflite(model), kinds=frozenset({"pointwise", "dw3", "lag"}))
    lag = [o for o in c.report["in_place_ops"] if o["op"] == 1]
    assert lag and c.graph.tensors[lag[0]["tensor"]].alias_offset < 0
    assert c.report["arena_gap_to_max_live_bound"] < 0
    lagged = {o["op"] for o in c.report["in_place_ops"]
              if c.graph.tensors[o["tensor"]].in_place == "lag"}
    assert {1, 3, 4} <= lagged, c.report["in_place_ops"]
    x = np.random.default_rng(9).integers(-128, 128, (3, 1, 12, 20, 4), dtype=np.int8)
    assert_host_builds_match(c, model, x)
