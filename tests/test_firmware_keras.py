"""The random converted Keras models of the compiler tests (tests/keras_models.py, seeds 0..19) as
firmware images on three emulated CPUs (Cortex-M4F, Cortex-M33, RV32IMAC) under QEMU: every output
byte equal to TFLM's on random inputs."""
from __future__ import annotations

import numpy as np
import pytest

import test_keras_random
from test_firmware import _tools_for
from test_keras_random import _describe, keras_cache, keras_tflite  # noqa: F401  (fixtures)
from tflm_oracle import tflm_run
from tinykiln.targets.board import get_board
from tinykiln.compile import compile_graph
from tinykiln.frontend.tflite_import import parse_tflite

pytestmark = test_keras_random.pytestmark     # slow; needs TensorFlow for the conversions

SEEDS = list(range(20))
BOARDS = ["mps2-an386", "mps2-an505", "sifive_e"]
N_INPUTS = 10


@pytest.mark.parametrize("board", [pytest.param(b, marks=_tools_for(b)) for b in BOARDS])
@pytest.mark.parametrize("seed", SEEDS)
def test_keras_model_bitexact_on_board(seed, board, keras_tflite, tmp_path):
    from tinykiln.targets.firmware import build_firmware
    from tinykiln.targets.qemu import run_firmware
    buf = keras_tflite[seed]
    c = compile_graph(parse_tflite(buf, name=f"keras{seed}.tflite"), model_name=f"keras{seed}.tflite")
    rng = np.random.default_rng(1000 + seed)
    xs = [rng.integers(-128, 128, (N_INPUTS, *c.graph.tensors[t].shape), dtype=np.int8)
          for t in c.graph.inputs]
    ref = tflm_run(buf, xs, len(c.graph.outputs))
    b = get_board(board)
    build_firmware(c, b, tmp_path / "fw")
    out = run_firmware(tmp_path / "fw", b, c.graph, xs).outputs
    assert len(out) == len(ref)
    for k, (o, r) in enumerate(zip(out, ref)):
        r = r.reshape(o.shape)
        bad = np.argwhere(o != r)
        assert not len(bad), (f"{board}, output {k}: {len(bad)} of {o.size} values differ from "
                              f"TFLM; {_describe(seed)}")
