"""The MLPerf Tiny reference models: bit-exact with TFLM on 200 random inputs, arena no larger than
TFLM's planned head and equal to the lower bound, byte-identical output on recompilation."""
import numpy as np
import pytest

from conftest import shared_model
from tflm_oracle import tflm_arena, tflm_run
from tinykiln.compile import write_output
from tinykiln.inputs import compile_file
from tinykiln.targets.hostrun import HostBuild

MODELS = ["kws_ref_model.tflite", "ad01_int8.tflite"]


@pytest.mark.parametrize("name", MODELS)
def test_bit_exact_with_tflm(name):
    path = shared_model(name)
    c = compile_file(path)
    g = c.graph
    x = np.random.default_rng(2024).integers(-128, 128, (200, *g.tensors[g.inputs[0]].shape),
                                              dtype=np.int8)
    ref = tflm_run(path.read_bytes(), [x])[0]
    with HostBuild(c, sanitize=True) as hb:
        out = hb.run([x])[0]
    assert out.shape == ref.shape
    assert int((out != ref).sum()) == 0


@pytest.mark.parametrize("name", MODELS)
def test_arena_vs_tflm_and_lower_bound(name):
    path = shared_model(name)
    c = compile_file(path)
    head = tflm_arena(path)["head"]
    assert c.plan.arena_size <= head
    assert c.plan.arena_size == c.plan.lower_bound
    assert c.report["arena_gap_to_lower_bound"] == 0


@pytest.mark.parametrize("name", MODELS)
def test_recompile_is_byte_identical(name, tmp_path):
    path = shared_model(name)
    a = write_output(compile_file(path), tmp_path / "a")
    b = write_output(compile_file(path), tmp_path / "b")
    fa = sorted(p.name for p in a.iterdir())
    assert fa == sorted(p.name for p in b.iterdir())
    for f in fa:
        assert (a / f).read_bytes() == (b / f).read_bytes(), f
