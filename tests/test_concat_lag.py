"""A CONCATENATION along an inner axis (channels, columns) writes its output over one input from
D bytes before it (in_place "lag_concat"): the copy's rows, in order, land on input rows it has
already read. The least D (lag_orders.concat_steps, in_place.least_lag) is checked here against
a byte-level run of the kernel's copies over a shared buffer; Inception-style models go below
whole tensors' bound and match TFLM on every host build and under QEMU. Runs of lags that a plan
packs worse than without some of them lose those (schedules.drop_overlaps)."""
from __future__ import annotations

import shutil

import numpy as np
import pytest


def _run_copies(blocks, outer, pos, d):
    """tk_concat_s8 (concat_s8.c: per row, per input, one memcpy) with the output starting d bytes
    before input `pos` in one buffer, the other inputs apart; each memcpy's source and
    destination must not overlap (memcpy's contract). Returns (output, expected)."""
    rng = np.random.default_rng(sum(blocks) * 7 + outer + pos)
    ins = [rng.integers(-128, 128, outer * b).astype(np.int8) for b in blocks]
    row = sum(blocks)
    size = max(outer * row, d + outer * blocks[pos])
    buf = np.zeros(size, np.int8)
    buf[d:d + outer * blocks[pos]] = ins[pos]
    expected = np.concatenate([x.reshape(outer, -1) for x in ins], axis=1).reshape(-1)
    o = 0
    for r in range(outer):
        for i, n in enumerate(blocks):
            if i == pos:
                src = d + r * n
                assert src + n <= o or o + n <= src, (blocks, outer, pos, d, r)
                buf[o:o + n] = buf[src:src + n].copy()
            else:
                buf[o:o + n] = ins[i][r * n:(r + 1) * n]
            o += n
    return buf[:outer * row], expected


def test_least_lag_is_safe_and_near_the_row_bound():
    """Random geometries: the pass's D gives TFLM's bytes in a shared buffer, and saves all but
    at most one output row and 4 bytes of the input's bytes (the exact bound is
    outer * (row - block), the walk takes each row's own copy whole)."""
    from tinykiln.passes.in_place import least_lag
    from tinykiln.passes.lag_orders import concat_steps
    rng = np.random.default_rng(3)
    found = 0
    for _ in range(300):
        k = int(rng.integers(1, 5))
        blocks = [int(b) for b in rng.integers(1, 40, k)]
        outer, pos = int(rng.integers(2, 30)), int(rng.integers(0, k))
        x_bytes, y_bytes = outer * blocks[pos], outer * sum(blocks)
        d = least_lag(lambda b: concat_steps(blocks, outer, pos), x_bytes, y_bytes)
        if d is None:
            continue
        found += 1
        assert d % 4 == 0
        assert d <= outer * (sum(blocks) - blocks[pos]) + sum(blocks) + 3
        got, want = _run_copies(blocks, outer, pos, d)
        np.testing.assert_array_equal(got, want)
        if d >= 4:      # one step of 4 less would overwrite a byte still to be read
            with pytest.raises(AssertionError):
                got, want = _run_copies(blocks, outer, pos, d - 4)
                np.testing.assert_array_equal(got, want)
    assert found > 150


def _inception(drift: bool = False) -> bytes:
    """input 12x12x8 -> a 1x1 conv (8 channels), a 3x3 conv (12) and a 3x3 depthwise (8) of
    it, concatenated along channels (28) -> 1x1 conv (6) -> flattened -> FC (5). drift: the
    small chain of random model 24 (tests/keras_models.py) instead: input 6x9x2 -> 3x3 conv
    stride 2 (7) -> 1x1 conv (1) -> concatenated (8) -> 3x3 depthwise stride 2 -> 1x1 conv (6)
    -> concatenated with the depthwise's output (14) -> flattened -> FC (5)."""
    from modelgen import ModelBuilder
    rng = np.random.default_rng(43)
    b = ModelBuilder("inception")

    def conv(x, ic, oc, k, shape, name, stride=1, dw=False):
        w = b.const(rng.integers(-60, 60, (1, k, k, oc) if dw else (oc, k, k, ic))
                    .astype(np.int8), 0.02)
        bias = b.const(rng.integers(-300, 300, oc).astype(np.int32), 0.001)
        y = b.tensor(shape, 0.05, -1, name=name)
        opts = dict(padding="SAME", stride_h=stride, stride_w=stride,
                    fused_activation_function="RELU")
        if dw:
            opts.update(depth_multiplier=1, dilation_h_factor=1, dilation_w_factor=1)
        b.op("DEPTHWISE_CONV_2D" if dw else "CONV_2D", [x, w, bias], [y], **opts)
        return y

    def cat(parts, shape, name):
        y = b.tensor(shape, 0.05, -1, name=name)
        b.op("CONCATENATION", parts, [y], axis=3, fused_activation_function="NONE")
        return y
    if drift:
        x = b.input((1, 6, 9, 2), 0.05, 2)
        p = conv(x, 2, 7, 3, (1, 3, 5, 7), "p", stride=2)
        q = conv(p, 7, 1, 1, (1, 3, 5, 1), "q")
        c = cat([p, q], (1, 3, 5, 8), "c")
        d = conv(c, 8, 8, 3, (1, 2, 3, 8), "d", stride=2, dw=True)
        e = conv(d, 8, 6, 1, (1, 2, 3, 6), "e")
        z = cat([d, e], (1, 2, 3, 14), "z")
        n = 84
    else:
        x = b.input((1, 12, 12, 8), 0.05, 2)
        s = conv(x, 8, 8, 1, (1, 12, 12, 8), "s")
        parts = [conv(s, 8, 8, 1, (1, 12, 12, 8), "a"), conv(s, 8, 12, 3, (1, 12, 12, 12), "t"),
                 conv(s, 8, 8, 3, (1, 12, 12, 8), "u", dw=True)]
        z = conv(cat(parts, (1, 12, 12, 28), "cat"), 28, 6, 1, (1, 12, 12, 6), "z")
        n = 864
    flat = b.tensor((1, n), 0.05, -1, name="flat")
    b.op("RESHAPE", [z, b.const(np.array([1, n], np.int32))], [flat])
    w = b.const(rng.integers(-60, 60, (5, n)).astype(np.int8), 0.02)
    y = b.tensor((1, 5), 0.05, -1, name="out")
    b.op("FULLY_CONNECTED", [flat, w, b.const(rng.integers(-300, 300, 5).astype(np.int32),
                                                0.001)], [y], fused_activation_function="NONE")
    b.output(y)
    return b.build()


def _compile(model, **kw):
    from tinykiln.compile import compile_graph
    from tinykiln.frontend.tflite_import import parse_tflite
    return compile_graph(parse_tflite(model), **kw)


@pytest.mark.parametrize("drift", [False, True])
@pytest.mark.parametrize("optimize", ["balanced", "ram"])
def test_channel_concatenation_below_the_bound(optimize, drift):
    from tflm_oracle import assert_host_builds_match
    model = _inception(drift)
    c = _compile(model, optimize=optimize)
    kinds = [o["kind"] for o in c.report["in_place_ops"]]
    assert "lag_concat" in kinds, c.report["in_place_ops"]
    assert c.report["arena_bytes"] < c.report["max_live_bound"], c.report["arena_bytes"]
    assert {d["kernel"] for d in c.report["layers"] if d["opcode"] == "CONCATENATION"} == \
        {"tk_concat_s8"}
    speed = _compile(model, optimize="speed")
    assert not speed.report["in_place_ops"]
    assert speed.report["arena_bytes"] == c.report["max_live_bound"]
    x = np.random.default_rng(9).integers(-128, 128, (3, 1) + ((6, 9, 2) if drift else
                                                                (12, 12, 8)), dtype=np.int8)
    assert_host_builds_match(c, model, x)


def test_helium_balanced_concatenation_below_the_bound():
    """The copy costs what it did: Helium's balanced default takes the lag too."""
    c = _compile(_inception(), helium=True)
    assert "lag_concat" in {o["kind"] for o in c.report["in_place_ops"]}
    assert c.report["arena_bytes"] < c.report["max_live_bound"]


def test_dropped_lags_pack_smaller(monkeypatch):
    """The drift model with every lag kept packs no better than whole tensors (compile then
    keeps those); with the lags drop_overlaps takes off, it goes below that bound."""
    import tinykiln.compile as compile_module
    model = _inception(drift=True)
    best = _compile(model)
    assert best.report["arena_bytes"] < best.report["max_live_bound"]
    monkeypatch.setattr(compile_module, "drop_overlaps", lambda graph, planned, replan: planned)
    kept = _compile(model)
    assert kept.report["arena_bytes"] > best.report["arena_bytes"]


@pytest.mark.skipif(not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
                    reason="needs arm-none-eabi-gcc and qemu-system-arm")
@pytest.mark.parametrize("drift", [False, True])
def test_bit_exact_under_qemu(tmp_path, drift):
    from tflm_oracle import assert_m4_matches
    model = _inception(drift)
    c = _compile(model)
    assert "lag_concat" in {o["kind"] for o in c.report["in_place_ops"]}
    x = np.random.default_rng(11).integers(-128, 128, (2, 1) + ((6, 9, 2) if drift else
                                                                 (12, 12, 8)), dtype=np.int8)
    assert_m4_matches(c, model, x, tmp_path)
