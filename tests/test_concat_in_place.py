"""Zero-copy CONCATENATION (passes/concat_in_place.py): where no dimension above the axis is
over 1, each input is written where the output holds it and the op copies nothing; the arena
drops below whole tensors' bound and the outputs are TFLM's on every host build and under QEMU.
A concatenation along the channels of an image, or of the model's input or of one tensor twice,
keeps its copy."""
from __future__ import annotations

import shutil

import numpy as np
import pytest


def _model(axis: int = 1, twice: bool = False) -> bytes:
    """input 10x6x4 -> two 3x3 convs (6 channels each; the second of the first's output) ->
    CONCATENATION along `axis` (the first conv's output twice where `twice`) -> 1x1 conv
    (4 channels) -> flattened, two FULLY_CONNECTED (200 and 300 outputs) concatenated -> FC."""
    from modelgen import ModelBuilder
    rng = np.random.default_rng(41)
    b = ModelBuilder("concat")

    def conv(x, ic, oc, k, shape, name):
        w = b.const(rng.integers(-60, 60, (oc, k, k, ic)).astype(np.int8), 0.02)
        bias = b.const(rng.integers(-300, 300, oc).astype(np.int32), 0.001)
        y = b.tensor(shape, 0.05, -1, name=name)
        b.op("CONV_2D", [x, w, bias], [y], padding="SAME", stride_h=1, stride_w=1,
             fused_activation_function="RELU")
        return y

    def fc(x, n_in, n_out, name, act="NONE"):
        w = b.const(rng.integers(-60, 60, (n_out, n_in)).astype(np.int8), 0.02)
        bias = b.const(rng.integers(-300, 300, n_out).astype(np.int32), 0.001)
        y = b.tensor((1, n_out), 0.05, -1, name=name)
        b.op("FULLY_CONNECTED", [x, w, bias], [y], fused_activation_function=act)
        return y
    x = b.input((1, 10, 6, 4), 0.05, 2)
    p = conv(x, 4, 6, 3, (1, 10, 6, 6), "p")
    q = p if twice else conv(p, 6, 6, 3, (1, 10, 6, 6), "q")
    shape = [1, 10, 6, 6]
    shape[axis] *= 2
    c = b.tensor(tuple(shape), 0.05, -1, name="cat")
    b.op("CONCATENATION", [p, q], [c], axis=axis, fused_activation_function="NONE")
    z = conv(c, 6, 4, 1, tuple(shape[:3]) + (4,), "z")
    n = int(np.prod(shape[:3])) * 4
    flat = b.tensor((1, n), 0.05, -1, name="flat")
    b.op("RESHAPE", [z, b.const(np.array([1, n], np.int32))], [flat])
    u, v = fc(flat, n, 200, "u", "RELU"), fc(flat, n, 300, "v", "RELU")
    uv = b.tensor((1, 500), 0.05, -1, name="uv")
    b.op("CONCATENATION", [u, v], [uv], axis=1, fused_activation_function="NONE")
    b.output(fc(uv, 500, 5, "out"))
    return b.build()


def _compile(model, **kw):
    from tinykiln.compile import compile_graph
    from tinykiln.frontend.tflite_import import parse_tflite
    return compile_graph(parse_tflite(model), **kw)


def _concats(c) -> dict:
    """op index of each CONCATENATION -> its kernel (None: no copy)."""
    return {d["op"]: d["kernel"] for d in c.report["layers"] if d["opcode"] == "CONCATENATION"}


@pytest.mark.parametrize("axis", [1, 2])
def test_outer_axis_concatenations_copy_nothing(axis):
    """Along rows (axis 1): both concatenations are the inputs' bytes in the output; along
    columns (axis 2) the image's keeps its copy, the flattened one does not."""
    from tflm_oracle import assert_host_builds_match
    model = _model(axis)
    c = _compile(model)
    cats = _concats(c)
    image, flat = sorted(cats)
    assert cats[flat] is None
    assert (cats[image] is None) == (axis == 1), cats
    kinds = {(o["op"], o["kind"], o["offset"]) for o in c.report["in_place_ops"]}
    assert {k for k in kinds if k[1] == "concat"} >= {(5, "concat", 0), (6, "concat", 200)}
    if axis == 1:       # (along columns, the image's copy is the peak)
        assert {(0, "concat", 0), (1, "concat", 360)} <= kinds
        assert c.report["arena_bytes"] < c.report["max_live_bound"]
    assert not _concats(_compile(model, optimize="speed"))[flat] is None
    x = np.random.default_rng(5).integers(-128, 128, (3, 1, 10, 6, 4), dtype=np.int8)
    assert_host_builds_match(c, model, x)


def test_one_tensor_twice_keeps_its_copy():
    from tflm_oracle import assert_host_builds_match
    model = _model(1, twice=True)
    c = _compile(model)
    image, flat = sorted(_concats(c))
    assert _concats(c)[image] == "tk_concat_s8" and _concats(c)[flat] is None
    x = np.random.default_rng(6).integers(-128, 128, (2, 1, 10, 6, 4), dtype=np.int8)
    assert_host_builds_match(c, model, x)


@pytest.mark.skipif(not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
                    reason="needs arm-none-eabi-gcc and qemu-system-arm")
def test_bit_exact_under_qemu(tmp_path):
    from tflm_oracle import assert_m4_matches
    model = _model(1)
    c = _compile(model)
    assert set(_concats(c).values()) == {None}
    x = np.random.default_rng(7).integers(-128, 128, (2, 1, 10, 6, 4), dtype=np.int8)
    assert_m4_matches(c, model, x, tmp_path)
