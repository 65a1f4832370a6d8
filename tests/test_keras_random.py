"""Whole models: 50 random small Keras models (tests/keras_models.py, model i from seed i),
converted to int8 in this session, compiled by tinykiln and run on the host under ASan/UBSan.
Each must be bit-exact with TFLM on random inputs and need no more arena than TFLM's planned head.

The conversions (TensorFlow, ~1 s each) run once, in subprocesses, and are cached under pytest's
cache folder keyed by the generator's source hash and the TensorFlow version."""
from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import keras_models
from tflm_oracle import tflm_arena, tflm_run
from tinykiln.compile import compile_graph
from tinykiln.targets.hostrun import HostBuild
from tinykiln.frontend.tflite_import import parse_tflite

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None,
                       reason="TensorFlow (pip install tensorflow-cpu==2.21.0) is not installed: "
                              "the random Keras models cannot be converted to .tflite"),
]

SEEDS = list(range(50))
N_INPUTS = 20
# the ops the generator aims at; QUANTIZE appears where the converter requantizes an input of
# CONCATENATION to the output's scale
KERAS_OPS = {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "AVERAGE_POOL_2D", "MAX_POOL_2D",
             "ADD", "MUL", "MEAN", "PAD", "CONCATENATION", "RESHAPE", "SOFTMAX", "LOGISTIC",
             "TANH", "RELU", "RELU6", "HARD_SWISH", "QUANTIZE"}
TESTS_DIR = Path(__file__).resolve().parent


def _cache_key() -> str:
    src = hashlib.sha256(Path(keras_models.__file__).read_bytes()).hexdigest()[:12]
    tf = "unknown"
    for dist in ("tensorflow-cpu", "tensorflow"):
        try:
            tf = importlib.metadata.version(dist)
            break
        except importlib.metadata.PackageNotFoundError:
            pass
    return f"gen{keras_models.GENERATOR_VERSION}-{src}-tf{tf}"


def _convert(out: Path, seeds: list[int]) -> None:
    """Convert seeds in up to two TensorFlow subprocesses (the test process never imports TF)."""
    workers = max(1, min(2, os.cpu_count() or 1, len(seeds)))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONHASHSEED="0")
    procs = [subprocess.Popen([sys.executable, str(TESTS_DIR / "keras_models.py"), str(out),
                               *map(str, seeds[k::workers])],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
             for k in range(workers)]
    logs = [p.communicate(timeout=900)[0].decode(errors="replace") for p in procs]
    for p, log in zip(procs, logs):
        if p.returncode != 0:
            raise RuntimeError(f"Keras conversion failed ({p.returncode}):\n{log[-4000:]}")


def _wanted_seeds(session) -> list[int]:
    """The seeds the selected tests need: all of them if a test without a seed uses the models."""
    want: set[int] = set()
    for item in session.items:
        if "keras_tflite" not in getattr(item, "fixturenames", ()):
            continue
        cs = getattr(item, "callspec", None)
        if cs is not None and "seed" in cs.params:
            want.add(cs.params["seed"])
        else:
            return SEEDS
    return sorted(want) or SEEDS


@pytest.fixture(scope="session")
def keras_cache(request, tmp_path_factory) -> Path:
    cache = getattr(request.config, "cache", None)
    base = (cache.mkdir("tinykiln_keras_models") if cache is not None
            else tmp_path_factory.mktemp("keras_models"))
    d = base / _cache_key()
    for old in base.iterdir():      # conversions of an earlier generator or TensorFlow
        if old.is_dir() and old.name != d.name:
            shutil.rmtree(old, ignore_errors=True)
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.fixture(scope="session")
def keras_tflite(request, keras_cache) -> dict[int, bytes]:
    """seed -> .tflite bytes for every seed the selected tests use (converted once, cached)."""
    seeds = _wanted_seeds(request.session)
    missing = [s for s in seeds if not (keras_cache / f"{s}.tflite").is_file()]
    if missing:
        _convert(keras_cache, missing)
    return {s: (keras_cache / f"{s}.tflite").read_bytes() for s in seeds}


def _describe(seed: int) -> str:
    s = keras_models.spec(seed)
    ops = [ly["op"] for ly in s["layers"]]
    return f"seed {seed} ({s['feature']}): input {s['input']}, layers {ops}"


@pytest.mark.parametrize("seed", SEEDS)
def test_bit_exact_with_tflm(seed, keras_tflite):
    buf = keras_tflite[seed]
    g = parse_tflite(buf, name=f"keras{seed}.tflite")
    extra = {op.opcode for op in g.ops} - KERAS_OPS
    assert not extra, f"the generator made ops outside the target set {extra}: {_describe(seed)}"
    c = compile_graph(g, model_name=f"keras{seed}.tflite")
    rng = np.random.default_rng(seed)
    xs = [rng.integers(-128, 128, (N_INPUTS, *c.graph.tensors[t].shape), dtype=np.int8)
          for t in c.graph.inputs]
    ref = tflm_run(buf, xs, len(c.graph.outputs))
    with HostBuild(c, sanitize=True) as hb:
        out = hb.run(xs)
    assert len(out) == len(ref)
    for k, (o, r) in enumerate(zip(out, ref)):
        assert o.size == r.size, f"output {k}: shape {o.shape}, TFLM {r.shape}"
        r = r.reshape(o.shape)
        bad = np.argwhere(o != r)
        if len(bad):
            at = tuple(int(i) for i in bad[0])
            pytest.fail(f"output {k}: {len(bad)} of {o.size} values differ from TFLM, first at "
                        f"{at}: ours {o[at]}, TFLM {r[at]}; {_describe(seed)}; "
                        f"ops {[op.opcode for op in g.ops]}")


@pytest.mark.parametrize("seed", SEEDS)
def test_arena_not_above_tflm(seed, keras_tflite, tmp_path):
    buf = keras_tflite[seed]
    path = tmp_path / f"keras{seed}.tflite"
    path.write_bytes(buf)
    c = compile_graph(parse_tflite(buf, name=path.name), model_name=path.name)
    head = tflm_arena(path)["head"]
    arena, bound = c.plan.arena_size, c.plan.lower_bound
    assert bound <= arena <= head, (
        f"arena {arena} B (lower bound {bound}), TFLM head {head} B; {_describe(seed)}")


def test_generator_covers_the_op_set(keras_tflite):
    """The 50 models together exercise every op and every option the generator promises."""
    seen: set = set()
    for buf in keras_tflite.values():
        g = parse_tflite(buf)
        for op in g.ops:
            o = op.options
            seen.add(op.opcode)
            act = o.get("fused_activation_function")
            if act:
                seen.add((op.opcode, act))
            if op.opcode in ("CONV_2D", "DEPTHWISE_CONV_2D"):
                seen.add((op.opcode, "padding", o.get("padding")))
                if max(o.get("stride_h", 1), o.get("stride_w", 1)) > 1:
                    seen.add((op.opcode, "strided"))
                if max(o.get("dilation_h_factor", 1), o.get("dilation_w_factor", 1)) > 1:
                    seen.add((op.opcode, "dilated"))
                wshape = g.tensors[op.inputs[1]].shape
                if wshape[1] != wshape[2]:
                    seen.add((op.opcode, "non-square kernel"))
            if op.opcode == "DEPTHWISE_CONV_2D":
                cin = g.tensors[op.inputs[0]].shape[3]
                cout = g.tensors[op.outputs[0]].shape[3]
                seen.add((op.opcode, "multiplier", cout // cin))
            if op.opcode == "FULLY_CONNECTED" and (len(op.inputs) < 3 or op.inputs[2] < 0):
                seen.add((op.opcode, "no bias"))
            if op.opcode in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
                seen.add((op.opcode, "padding", o.get("padding")))
            if op.opcode == "CONCATENATION":
                seen.add((op.opcode, "channel axis" if o.get("axis") in (-1, 3) else "other axis"))
    want = set(KERAS_OPS) - {"QUANTIZE"}
    for opc in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        want |= {(opc, "padding", "SAME"), (opc, "padding", "VALID"), (opc, "strided"),
                 (opc, "dilated"), (opc, "non-square kernel"), (opc, "RELU"), (opc, "RELU6"),
                 (opc, "NONE")}
    want |= {("DEPTHWISE_CONV_2D", "multiplier", 1), ("DEPTHWISE_CONV_2D", "multiplier", 2),
             ("FULLY_CONNECTED", "no bias"), ("FULLY_CONNECTED", "RELU"),
             ("FULLY_CONNECTED", "NONE"), ("AVERAGE_POOL_2D", "padding", "SAME"),
             ("AVERAGE_POOL_2D", "padding", "VALID"), ("MAX_POOL_2D", "padding", "SAME"),
             ("MAX_POOL_2D", "padding", "VALID"), ("CONCATENATION", "channel axis"),
             ("CONCATENATION", "other axis")}
    missing = sorted(map(str, want - seen))
    assert not missing, f"no model among seeds {min(SEEDS)}..{max(SEEDS)} has {missing}"


def test_conversion_is_byte_identical(keras_tflite, tmp_path):
    """A fresh conversion (new TensorFlow process) reproduces the cached bytes exactly."""
    seeds = [s for s in (0, 2, 7) if s in keras_tflite]
    _convert(tmp_path, seeds)
    for s in seeds:
        assert (tmp_path / f"{s}.tflite").read_bytes() == keras_tflite[s], f"seed {s}"
