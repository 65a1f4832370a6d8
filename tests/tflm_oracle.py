"""The bit-exact oracle: TFLM's Python interpreter (tflite-micro), never the desktop TFLite one.
Also reads TFLM's own arena report ('head' = planned activations) from a subprocess, because the
interpreter prints it to C-level stderr."""
from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

tflm = pytest.importorskip("tflite_micro", reason="tflite-micro (TFLM's interpreter) is not installed")
from tflite_micro.python.tflite_micro import runtime  # noqa: E402

ARENA = 4 * 1024 * 1024


def tflm_run(model: bytes, inputs: list[np.ndarray], n_outputs: int = 1) -> list[np.ndarray]:
    """Run every row of inputs (one array per model input, shape (N, *shape)) through TFLM."""
    it = runtime.Interpreter.from_bytes(model, arena_size=ARENA)
    n = inputs[0].shape[0]
    outs: list[list[np.ndarray]] = []
    for r in range(n):
        for i, x in enumerate(inputs):
            want = it.get_input_details(i)["shape"]
            it.set_input(x[r].reshape(want), i)
        it.invoke()
        outs.append([np.array(it.get_output(k)) for k in range(n_outputs)])
    return [np.stack([o[k] for o in outs]) for k in range(len(outs[0]))]


_PROBE = r"""
import sys, numpy as np
from tflite_micro.python.tflite_micro import runtime
buf = open(sys.argv[1], 'rb').read()
it = runtime.Interpreter.from_bytes(buf, arena_size=int(sys.argv[2]))
d = it.get_input_details(0)
it.set_input(np.zeros(d['shape'], d['dtype']), 0)
it.invoke()
it.print_allocations()
"""


def tflm_arena(model_path: str) -> dict:
    """TFLM's arena report: {'total', 'head', 'tail'} in bytes."""
    r = subprocess.run([sys.executable, "-c", _PROBE, str(model_path), str(ARENA)],
                       capture_output=True, text=True, timeout=120)
    text = r.stdout + r.stderr
    out = {}
    for key in ("total", "head", "tail"):
        m = re.search(rf"Arena allocation {key} (\d+) bytes", text)
        if m:
            out[key] = int(m.group(1))
    if "head" not in out:
        raise RuntimeError(f"no TFLM allocation report:\n{text[-2000:]}")
    return out


def assert_cases_match_tflm(model: bytes, rows: list[np.ndarray], names: list[str],
                            cflags=()) -> int:
    """A model of independent single-op cases (output k belongs to case names[k]): compiled by
    tinykiln, run on the host under ASan/UBSan (with extra `cflags`, e.g. the C models of the DSP
    path), and compared with TFLM byte for byte (NaN-safe for float outputs). Fails naming the
    cases that differ; returns the bytes compared."""
    from tinykiln.compile import compile_graph
    from tinykiln.targets.hostrun import HostBuild
    from tinykiln.frontend.tflite_import import parse_tflite
    ref = tflm_run(model, rows, len(names))
    c = compile_graph(parse_tflite(model))
    with HostBuild(c, sanitize=True, extra_cflags=list(cflags)) as hb:
        out = hb.run(rows)
    bad = {}
    for name, o, r in zip(names, out, ref):
        assert o.shape == r.shape and o.dtype == r.dtype, name
        n = int((o.view(np.uint8) != r.view(np.uint8)).sum())
        if n:
            bad[name] = n
    compared = sum(o.nbytes for o in out)
    assert not bad, f"differing bytes per case (of {compared}): {bad}"
    return compared


# the host builds of the C that differ in their paths: portable, the DSP extension's C models
# (int16 CONV_2D filters, then the int8 ones), and Helium's C models
HOST_BUILDS = ([], ["-DTK_DSP_EMULATE_SIMD"], ["-DTK_DSP_EMULATE_SIMD", "-DTK_CONV_NARROW"],
               ["-DTK_MVE_EMULATE", "-DTK_DSP_EMULATE_SIMD"])


def assert_host_builds_match(c, model: bytes, x: np.ndarray, builds=HOST_BUILDS) -> None:
    """Compiled c run on the host in each of `builds` (AddressSanitizer and UBSan on the
    portable and DSP ones) gives TFLM's bytes for the rows x of the model's one input."""
    from tinykiln.targets.hostrun import HostBuild
    ref = tflm_run(model, [x], 1)[0]
    for flags in builds:
        with HostBuild(c, sanitize=len(flags) < 2, extra_cflags=list(flags)) as hb:
            y = hb.run([x])[0]
        assert (y.reshape(ref.shape) == ref).all(), flags


def assert_m4_matches(c, model: bytes, x: np.ndarray, tmp_path) -> None:
    """Compiled c as an mps2-an386 image (Cortex-M4) under QEMU gives TFLM's bytes for the rows
    x of the model's one input (run_firmware also fails where the measured stack peak exceeds
    the computed one)."""
    from tinykiln.targets.board import get_board
    from tinykiln.targets.firmware import build_firmware
    from tinykiln.targets.qemu import run_firmware
    board = get_board("mps2-an386")
    build_firmware(c, board, tmp_path / "fw")
    res = run_firmware(tmp_path / "fw", board, c.graph, [x])
    ref = tflm_run(model, [x], 1)[0]
    assert (res.outputs[0].reshape(ref.shape) == ref).all()
