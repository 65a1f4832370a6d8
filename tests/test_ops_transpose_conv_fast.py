"""TRANSPOSE_CONV int8's fast kernel on Cortex-M4 (mps2-an386 under QEMU, the real DSP-extension
instructions): the int8 cases of test_ops_transpose_conv.py as firmware, byte for byte against
TFLM; and a Keras Conv2DTranspose(16, 3, strides=2, padding="same") on 16x16x16, whose exact
instruction count (QEMU's plugin) must beat the reference kernel's. Run as a script it prints
both kernels' MACs per instruction for that layer and for the U-Net of keras_op_models.py."""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from modelgen import ModelBuilder
from test_firmware import _tools_for
from test_ops_transpose_conv import CASES, add_case
from tflm_oracle import tflm_run
from tinykiln.compile import compile_graph
from tinykiln.frontend.tflite_import import parse_tflite
from tinykiln.lower import transpose_conv

BOARD = "mps2-an386"
pytestmark = _tools_for(BOARD)


def _run(buf: bytes, xs: list, fast: bool, profile: bool = False):
    """(outputs, profile or None) of the model built as firmware for BOARD."""
    from tinykiln.targets.board import get_board
    from tinykiln.targets.firmware import build_firmware
    from tinykiln.targets.qemu import run_firmware
    old = transpose_conv.USE_FAST_KERNELS
    transpose_conv.USE_FAST_KERNELS = fast
    try:
        c = compile_graph(parse_tflite(buf))
    finally:
        transpose_conv.USE_FAST_KERNELS = old
    b = get_board(BOARD)
    with tempfile.TemporaryDirectory(prefix="tk-tconv-") as d:
        build_firmware(c, b, Path(d) / "fw")
        res = run_firmware(Path(d) / "fw", b, c.graph, xs, profile=profile)
    return res.outputs, res.profile if profile else None


def _assert_equal(out, ref, names):
    bad = {n: int((o.reshape(r.shape) != r).sum()) for n, o, r in zip(names, out, ref)
           if (o.reshape(r.shape) != r).any()}
    assert not bad, f"differing values per case: {bad}"


def test_int8_cases_on_cortex_m4():
    cases = [c for c in CASES if c["t"] == "int8"]
    rng = np.random.default_rng(23)
    b, rows = ModelBuilder("tconv_fw"), []
    for c in cases:
        add_case(b, c, rng, rows)
    buf = b.build()
    rows = [r[:12] for r in rows]
    out, _ = _run(buf, rows, fast=True)
    _assert_equal(out, tflm_run(buf, rows, len(cases)), [c["name"] for c in cases])


def keras_tconv(tf) -> bytes:
    """Conv2DTranspose(16, 3, strides=2, padding="same") on 16x16x16, int8."""
    keras = tf.keras
    tf.random.set_seed(3)
    i = keras.Input((16, 16, 16), batch_size=1)
    m = keras.Model(i, keras.layers.Conv2DTranspose(16, 3, strides=2, padding="same")(i))
    r = np.random.default_rng(4)

    def rep():
        for _ in range(20):
            yield [r.normal(size=(1, 16, 16, 16)).astype(np.float32)]
    c = tf.lite.TFLiteConverter.from_keras_model(m)
    c.optimizations = [tf.lite.Optimize.DEFAULT]
    c.representative_dataset = rep
    c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    c.inference_input_type = c.inference_output_type = tf.int8
    return c.convert()


def measure(buf: bytes, rows: int = 2) -> dict:
    """{kernel: (tconv instructions, tconv MACs, model instructions, model MACs)}, outputs
    checked against TFLM."""
    g = parse_tflite(buf)
    xs = [np.random.default_rng(9).integers(-128, 128, (rows, *g.tensors[t].shape), dtype=np.int8)
          for t in g.inputs]
    ref = tflm_run(buf, xs, len(g.outputs))
    res = {}
    for fast in (False, True):
        out, prof = _run(buf, xs, fast, profile=True)
        _assert_equal(out, ref, [f"output {k}" for k in range(len(ref))])
        tc = [L for L in prof["layers"] if L["opcode"] == "TRANSPOSE_CONV"]
        res["fast" if fast else "reference"] = (
            sum(L["instructions"] for L in tc), sum(L["macs"] for L in tc),
            prof["instructions"], prof["macs"])
    return res


def test_keras_conv2d_transpose_is_faster():
    tf = pytest.importorskip("tensorflow")
    r = measure(keras_tconv(tf))
    ref_ins, macs = r["reference"][:2]
    fast_ins = r["fast"][0]
    assert fast_ins * 2 < ref_ins, r       # at least twice as fast on the M4


def main() -> int:
    import tensorflow as tf
    sys.path.insert(0, str(Path(__file__).parent))
    import keras_op_models
    for name, buf in (("Conv2DTranspose(16,3,s2,same) 16x16x16", keras_tconv(tf)),
                      ("U-Net (keras_op_models)", keras_op_models.convert("unet"))):
        for kernel, (ti, tm, mi, mm) in measure(buf).items():
            print(f"{name} {kernel}: TRANSPOSE_CONV {ti:,} instr, {tm / ti:.3f} MACs/instr; "
                  f"model {mi:,} instr, {mm / mi:.3f} MACs/instr")
    return 0


if __name__ == "__main__":
    sys.exit(main())
