"""Issue 11's whole models (tests/keras_op_models.py): a GRU keyword spotter and a SimpleRNN (as
the converter unrolls them), a 16x8 Conv1D fed raw int16 samples, a small U-Net (Conv2DTranspose,
UpSampling2D, Concatenate), a transformer encoder block (attention: BATCH_MATMUL, SOFTMAX;
LayerNormalization: MEAN, SQUARED_DIFFERENCE, RSQRT) and a streaming model whose state variable
carries over 50 consecutive invokes, built with Keras, converted by TensorFlow's converter,
compiled by tinykiln: bit-exact with TFLM on the host and under QEMU on mps2-an386 and sifive_e,
invoke by invoke, with an arena no larger than TFLM's."""
from __future__ import annotations

import hashlib
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import keras_op_models
from test_firmware import _tools_for
from tflm_oracle import tflm_arena, tflm_run
from tinykiln.compile import compile_graph
from tinykiln.frontend.tflite_import import parse_tflite
from tinykiln.targets.hostrun import HostBuild

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None,
                       reason="TensorFlow (pip install tensorflow-cpu==2.21.0) is not installed: "
                              "the Keras models cannot be converted to .tflite"),
]

NO_TF_KERAS = importlib.util.find_spec("tf_keras") is None
NAMES = [pytest.param(n, marks=pytest.mark.skipif(
    NO_TF_KERAS and n in keras_op_models.NEEDS_TF_KERAS,
    reason="tf_keras is not installed (pip install --no-deps tf-keras==2.21.0): Keras 3's LSTM "
           "crashes TensorFlow's converter")) for n in keras_op_models.MODELS]
BOARDS = ["mps2-an386", "sifive_e"]
N_INPUTS = 12
N_STREAM = 50       # consecutive invokes of the streaming model, state carried from one to the next


@pytest.fixture(scope="session")
def op_models(request, tmp_path_factory) -> dict[str, bytes]:
    """name -> .tflite bytes, converted once per generator version in one TensorFlow process."""
    cache = getattr(request.config, "cache", None)
    base = (cache.mkdir("tinykiln_keras_op_models") if cache is not None
            else tmp_path_factory.mktemp("keras_op_models"))
    src = hashlib.sha256(Path(keras_op_models.__file__).read_bytes()).hexdigest()[:12]
    d = base / f"gen{keras_op_models.GENERATOR_VERSION}-{src}"
    d.mkdir(parents=True, exist_ok=True)
    names = [n for n in keras_op_models.MODELS
             if not (NO_TF_KERAS and n in keras_op_models.NEEDS_TF_KERAS)]
    missing = [n for n in names if not (d / f"{n}.tflite").is_file()]
    if missing:
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONHASHSEED="0")
        r = subprocess.run([sys.executable, keras_op_models.__file__, str(d), *missing],
                           capture_output=True, text=True, env=env, timeout=900)
        assert r.returncode == 0, f"conversion failed ({r.returncode}):\n{r.stdout[-3000:]}" \
                                  f"{r.stderr[-3000:]}"
    return {n: (d / f"{n}.tflite").read_bytes() for n in names}


def _inputs(name: str, graph) -> list[np.ndarray]:
    rng = np.random.default_rng(int(hashlib.sha256(name.encode()).hexdigest()[:8], 16))
    xs = []
    for t in graph.inputs:
        tt = graph.tensors[t]
        info = np.iinfo(np.int16 if tt.dtype == "int16" else np.int8)
        n = N_STREAM if name == "stream" else N_INPUTS
        x = rng.integers(info.min, info.max + 1, (n, *tt.shape)).astype(info.dtype)
        x[0], x[1] = info.min, info.max
        xs.append(x)
    return xs


def _compare(name: str, ours: list[np.ndarray], ref: list[np.ndarray], where: str) -> None:
    assert len(ours) == len(ref)
    for k, (o, r) in enumerate(zip(ours, ref)):
        r = r.reshape(o.shape)
        bad = np.argwhere(o != r)
        assert o.dtype == r.dtype and not len(bad), (
            f"{name} on {where}, output {k}: {len(bad)} of {o.size} values differ from TFLM")


@pytest.mark.parametrize("name", NAMES)
def test_bit_exact_on_host_and_arena_within_tflm(name, op_models, tmp_path):
    buf = op_models[name]
    path = tmp_path / f"{name}.tflite"
    path.write_bytes(buf)
    c = compile_graph(parse_tflite(buf, name=path.name), model_name=path.name)
    xs = _inputs(name, c.graph)
    ref = tflm_run(buf, xs, len(c.graph.outputs))
    with HostBuild(c, sanitize=True) as hb:
        _compare(name, hb.run(xs), ref, "the host")
    head = tflm_arena(path)["head"]
    assert c.plan.arena_size <= head, f"{name}: arena {c.plan.arena_size} B, TFLM's {head} B"


@pytest.mark.parametrize("board", [pytest.param(b, marks=_tools_for(b)) for b in BOARDS])
@pytest.mark.parametrize("name", NAMES)
def test_bit_exact_under_qemu(name, board, op_models, tmp_path):
    from tinykiln.targets.board import get_board
    from tinykiln.targets.firmware import build_firmware
    from tinykiln.targets.qemu import run_firmware
    buf = op_models[name]
    c = compile_graph(parse_tflite(buf, name=f"{name}.tflite"), model_name=f"{name}.tflite")
    xs = _inputs(name, c.graph)
    ref = tflm_run(buf, xs, len(c.graph.outputs))
    b = get_board(board)
    build_firmware(c, b, tmp_path / "fw")
    _compare(name, run_firmware(tmp_path / "fw", b, c.graph, xs).outputs, ref, board)
