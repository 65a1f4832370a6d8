"""UNIDIRECTIONAL_SEQUENCE_LSTM (int8 activations and weights, or 16x8; int16 cell state):
bit-exact with TFLM's integer LSTM.

Hand-built cases (one model, one LSTM op per case, each with its own variable output and cell
state): sequence lengths 1 and many, batch 1 and 2, time-major and batch-major, with and without
cell clip, cell state scales from 2^-20 to 2^-8 (and one not a power of two), zero points at the
extremes, requantizations above and below 1. The 50 input rows run as 50 consecutive invokes, in
TFLM as in the host build, so the state carried from invoke to invoke is compared too; the
kernel's portable and DSP-extension paths (C models of the instructions) both run on the host,
and the hand-scheduled Cortex-M loops as firmware under QEMU; model_reset() is checked against a
fresh interpreter. Then Keras LSTM classifiers (tf_keras, as TensorFlow's converter fuses Keras
2's LSTM; converted here in a subprocess, cached under pytest's cache folder) on the host and
under QEMU on mps2-an386 and sifive_e."""
from __future__ import annotations

import hashlib
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from modelgen import ModelBuilder
from test_firmware import _tools_for
from tflm_oracle import tflm_run
from tinykiln.compile import compile_graph
from tinykiln.errors import ModelError, UnsupportedError
from tinykiln.frontend.tflite_import import parse_tflite
from tinykiln.targets.hostrun import HostBuild

ROWS = 50

# name, batch, steps, features, units, time_major, cell_clip, (input scale, zp),
# (output state scale, zp), cell state scale, weight scale factor (1: gate inputs of a few units;
# larger: FC multipliers above 1, saturating gates)
CASES = [
    ("keras_like", 1, 10, 8, 16, False, 10.0, (0.0157, 0), (0.0041, 10), 2.0 ** -15, 1.0),
    ("one_step", 1, 1, 5, 3, False, 0.0, (0.02, -3), (0.008, 0), 2.0 ** -11, 1.0),
    ("one_unit", 1, 7, 3, 1, False, 0.0, (0.05, 7), (0.0078, -1), 2.0 ** -11, 1.0),
    ("batch2", 2, 6, 7, 5, False, 3.0, (0.03, 12), (0.0078, 5), 2.0 ** -11, 1.0),
    ("time_major_b2", 2, 5, 4, 6, True, 0.0, (0.02, -128), (0.0078, -20), 2.0 ** -12, 1.0),
    ("time_major_b1", 1, 8, 9, 4, True, 1.5, (0.04, 127), (0.0078, 127), 2.0 ** -13, 1.0),
    ("time_major_t1_b2", 2, 1, 6, 8, True, 0.0, (0.02, 0), (0.0078, -128), 2.0 ** -11, 1.0),
    ("clip_tiny", 1, 6, 4, 4, False, 0.01, (0.02, 1), (0.0002, 0), 2.0 ** -11, 1.0),
    ("clip_huge", 1, 6, 4, 4, False, 1e6, (0.02, 1), (0.0078, 0), 2.0 ** -15, 1.0),
    ("cell_2^-8", 1, 6, 5, 7, False, 0.0, (0.02, -5), (0.0078, 3), 2.0 ** -8, 1.0),
    ("cell_2^-20", 1, 6, 5, 7, False, 0.0, (0.02, -5), (0.0078, 3), 2.0 ** -20, 1.0),
    ("cell_not_pow2", 1, 6, 5, 7, False, 0.0, (0.02, -5), (0.0078, 3), 3e-4, 1.0),
    ("saturating", 1, 9, 12, 8, False, 0.0, (0.1, 0), (0.0078, 0), 2.0 ** -11, 40.0),
    ("long_deep", 1, 24, 33, 20, False, 0.0, (0.015, -2), (0.005, 2), 2.0 ** -11, 1.0),
    # output state scale 1e-9: the hidden product's multiplier is ~0.93 (shift 0), so the
    # products take the generic requantization; outputs mostly saturate
    ("mul_generic", 1, 5, 6, 5, False, 0.0, (0.02, 0), (1e-9, 0), 2.0 ** -11, 1.0),
    # more than 32 groups of four inputs: the Cortex-M path does not split the lanes up front
    ("wide_input", 1, 3, 140, 6, False, 0.0, (0.02, 3), (0.0078, 0), 2.0 ** -11, 1.0),
]
FEW_VALUES = {"mul_generic"}
# 16x8 (int16 activations and output state, int8 weights, int64 biases): TFLM runs it, though
# TensorFlow's converter does not emit it for a Keras LSTM
CASES16 = [
    ("16x8_basic", 1, 8, 6, 5, False, 0.0, (0.0005, 0), (3.05e-5, 0), 2.0 ** -11, 1.0),
    ("16x8_tm_b2_clip", 2, 5, 7, 4, True, 2.0, (0.0003, 0), (6.1e-5, 0), 2.0 ** -12, 1.0),
    ("16x8_zero_points", 1, 6, 5, 6, False, 0.0, (0.0004, 100), (3.05e-5, -50), 2.0 ** -15, 1.0),
    ("16x8_saturating", 1, 6, 9, 4, False, 0.0, (0.001, 0), (3.05e-5, 0), 2.0 ** -11, 30.0),
    ("16x8_one_step_b2", 2, 1, 3, 3, False, 0.5, (0.0005, -7), (3.05e-5, 3), 2.0 ** -11, 1.0),
]


def _lstm_case(b: ModelBuilder, rng, case) -> tuple[int, int]:
    """One LSTM op with its own input and states; returns (input tensor, output tensor)."""
    name, n, t, i, s, tm, clip, (s_in, z_in), (s_h, z_h), s_c, wf = case
    act = "int16" if name.startswith("16x8") else "int8"
    spread = 74 * (18900 if act == "int16" else 74)       # typical |x| * |w| of random values
    x = b.input((t, n, i) if tm else (n, t, i), scale=s_in, zero_point=z_in, dtype=act)
    ins = [x]
    w_scales = []
    for depth, vec_scale in ((i, s_in),) * 4 + ((s, s_h),) * 4:
        # gate inputs of a few units: sqrt(depth) * spread * s_vec * s_w ~ 1.5
        ws = wf * 1.5 / (np.sqrt(depth) * spread * vec_scale) * rng.uniform(0.7, 1.4)
        w_scales.append(ws)
        ins.append(b.const(rng.integers(-127, 128, (s, depth), dtype=np.int8), scale=ws,
                           zero_point=0))
    ins += [-1, -1, -1]
    for g in range(4):
        bs = s_in * w_scales[g]
        bt = np.int64 if act == "int16" else np.int32
        ins.append(b.const(rng.integers(-int(1 / bs), int(1 / bs) + 1, (s,)).astype(bt),
                           scale=bs, zero_point=0))
    ins += [-1, -1]
    ins.append(b.tensor((n, s), scale=s_h, zero_point=z_h, dtype=act, variable=True))
    ins.append(b.tensor((n, s), scale=s_c, zero_point=0, dtype="int16", variable=True))
    ins += [-1, -1, -1, -1]
    y = b.tensor((t, n, s) if tm else (n, t, s), scale=s_h, zero_point=z_h, dtype=act)
    b.op("UNIDIRECTIONAL_SEQUENCE_LSTM", ins, [y], fused_activation_function="TANH",
         cell_clip=clip, proj_clip=0.0, time_major=tm)
    b.output(y)
    return x, y


def _model(cases, seed: int):
    b, rng = ModelBuilder(), np.random.default_rng(seed)
    rows = []
    for case in cases:
        x, _ = _lstm_case(b, rng, case)
        info = np.iinfo(np.int16 if b.g.tensors[x].dtype == "int16" else np.int8)
        r = rng.integers(info.min, info.max + 1, (ROWS, *b.g.tensors[x].shape), dtype=info.dtype)
        r[0], r[1] = info.min, info.max
        rows.append(r)
    return b, rows


@pytest.mark.parametrize("cflags", [[], ["-DTK_DSP_EMULATE_SIMD"]], ids=["portable", "simd"])
def test_lstm_cases_bit_exact(cflags):
    """Every case, 50 consecutive invokes (the state carried across them), byte for byte."""
    _check_cases(CASES, cflags)


def test_lstm_16x8_cases_bit_exact():
    _check_cases(CASES16, [])


def _check_cases(cases, cflags):
    b, rows = _model(cases, 11)
    buf = b.build()
    ref = tflm_run(buf, rows, len(cases))
    c = compile_graph(parse_tflite(buf))
    if cases is CASES:
        assert "not a power of two" in str(c.report)
        text = c.files["model.c"]
        for flag in ("rq_fast", "mul_fast"):      # both requantizations, fast and generic, run
            assert f".{flag} = 1" in text and f".{flag} = 0" in text, flag
    with HostBuild(c, sanitize=True, extra_cflags=cflags) as hb:
        out = hb.run(rows)
    bad = {case[0]: int((o != r).sum()) for case, o, r in zip(cases, out, ref)
           if int((o != r).sum())}
    assert not bad, f"differing bytes per case: {bad}"
    for case, r in zip(cases, ref):         # cases that prove something: outputs vary
        assert len(np.unique(r)) > (1 if case[0] in FEW_VALUES else 3), case[0]
        # the state carries over: the same first step gives other outputs on a later invoke
        if case[2] > 1 or case[1] > 1:
            assert (r[0] != r[-1]).any(), case[0]


def test_state_carries_across_invokes():
    """The same input twice in a row gives two different outputs (the states persist), as in
    TFLM; a fresh model gives the first one again."""
    case = CASES[0]
    b, rows = _model([case], 5)
    x = np.repeat(rows[0][2:3], 3, axis=0)
    buf = b.build()
    ref = tflm_run(buf, [x])[0]
    assert (ref[0] != ref[1]).any()
    with HostBuild(compile_graph(parse_tflite(buf)), sanitize=True) as hb:
        out = hb.run([x])[0]
    assert (out == ref).all()


def test_reset_restores_the_initial_state(tmp_path):
    """model_reset() every 5 invokes: each chunk equals a fresh TFLM interpreter's (the int8
    output state restarts at its zero point, the cell state at 0), for int8 and 16x8."""
    cases = [CASES[0], CASES16[2]]
    b, rows = _model(cases, 4)
    rows = [r[:15] for r in rows]
    buf = b.build()
    fresh = [tflm_run(buf, [r[k:k + 5] for r in rows], len(cases)) for k in range(0, 15, 5)]
    with HostBuild(compile_graph(parse_tflite(buf)), sanitize=True) as hb:
        fin, fout = tmp_path / "in.bin", tmp_path / "out.bin"
        fin.write_bytes(b"".join(b"".join(r[k].tobytes() for r in rows) for k in range(15)))
        subprocess.run([str(hb.exe), str(fin), str(fout), "15", "5"], check=True,
                       capture_output=True)
        raw = fout.read_bytes()
    per_row = [f[0].nbytes for f in fresh[0]]      # one row of each output
    off = 0
    for k in range(15):
        for i, case in enumerate(cases):
            want = fresh[k // 5][i][k % 5]
            got = np.frombuffer(raw[off:off + per_row[i]], want.dtype).reshape(want.shape)
            off += per_row[i]
            assert (got == want).all(), f"{case[0]}, invoke {k}"


# ---- refusals: one sentence naming the op
def _edit_peephole(b, ins):
    ins[10] = b.const(np.ones((ins_units(b, ins),), np.int16), scale=0.001, zero_point=0)


def _edit_projection(b, ins):
    s = ins_units(b, ins)
    ins[16] = b.const(np.ones((s, s), np.int8), scale=0.01, zero_point=0)


def _edit_cifg(b, ins):
    ins[1], ins[5], ins[12] = -1, -1, -1


def _edit_not_variable(b, ins):
    t = b.g.tensors[ins[19]]
    t.is_variable = False
    b.g.inputs.append(ins[19])


def _edit_per_channel(b, ins):
    w = b.g.tensors[ins[2]]
    w.quant.scale = [w.quant.scale[0]] * w.shape[0]
    w.quant.zero_point = [0] * w.shape[0]


def _edit_act(b, ins):
    b.g.ops[-1].options["fused_activation_function"] = "RELU"


def _edit_int16_input(b, ins):
    b.g.tensors[ins[0]].dtype = "int16"


def _edit_shape(b, ins):
    b.g.tensors[ins[6]].shape = (3, 3)
    b.g.tensors[ins[6]].data = np.ones((3, 3), np.int8)


def ins_units(b, ins) -> int:
    return b.g.tensors[ins[18]].shape[1]


REFUSALS = [
    (_edit_peephole, "peephole"),
    (_edit_projection, "projection"),
    (_edit_cifg, r"input-to-input weights \(input 1\) is missing"),
    (_edit_not_variable, "not a variable tensor"),
    (_edit_per_channel, "per tensor"),
    (_edit_act, "cell gate activation is RELU"),
    (_edit_int16_input, "with int16 activations it must be int16"),
    (_edit_shape, "recurrent-to-forget weights have shape"),
]


@pytest.mark.parametrize("edit,message", REFUSALS, ids=[r[0].__name__[6:] for r in REFUSALS])
def test_refused_with_one_sentence(edit, message):
    b = ModelBuilder()
    _lstm_case(b, np.random.default_rng(1), CASES[3])
    op = b.g.ops[-1]
    edit(b, op.inputs)
    with pytest.raises((UnsupportedError, ModelError), match=message) as e:
        compile_graph(b.g)
    assert "op 0 (UNIDIRECTIONAL_SEQUENCE_LSTM" in str(e.value)
    assert str(e.value).count(". ") == 0 or str(e.value).endswith(".")


# ---- Keras LSTM classifiers, as TensorFlow's converter emits them
KERAS = {"last": (12, 6), "stacked": (10, 5)}     # name -> (steps, features)
N_REPRESENTATIVE = 24


def _keras_model(name: str):
    import tf_keras
    from tf_keras import layers as L
    tf_keras.utils.set_random_seed(3)
    steps, feats = KERAS[name]
    inp = L.Input((steps, feats), batch_size=1)
    if name == "last":          # LSTM -> STRIDED_SLICE (last step) -> Dense
        out = L.Dense(4)(L.LSTM(16)(inp))
    else:                       # two LSTMs, the first returning sequences, then Flatten -> Dense
        x = L.LSTM(12, return_sequences=True)(inp)
        x = L.LSTM(8, return_sequences=True)(x)
        out = L.Dense(3)(L.Flatten()(x))
    return tf_keras.Model(inp, out)


def _convert(out_dir: Path, names: list[str]) -> None:
    import tensorflow as tf
    for name in names:
        steps, feats = KERAS[name]
        rng = np.random.default_rng(7)
        data = [rng.uniform(-2, 2, (1, steps, feats)).astype(np.float32)
                for _ in range(N_REPRESENTATIVE)]
        conv = tf.lite.TFLiteConverter.from_keras_model(_keras_model(name))
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = lambda: ([d] for d in data)
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
        tmp = out_dir / f".{name}.tmp"
        tmp.write_bytes(conv.convert())
        tmp.rename(out_dir / f"{name}.tflite")


need_keras = pytest.mark.skipif(
    importlib.util.find_spec("tensorflow") is None or importlib.util.find_spec("tf_keras") is None,
    reason="TensorFlow and tf_keras (pip install --no-deps tf-keras==2.21.0) convert the Keras "
           "LSTM (Keras 3's LSTM crashes TensorFlow 2.21's converter)")


@pytest.fixture(scope="module")
def keras_lstms(request, tmp_path_factory) -> dict[str, bytes]:
    cache = getattr(request.config, "cache", None)
    base = cache.mkdir("tinykiln_lstm_models") if cache is not None else \
        tmp_path_factory.mktemp("lstm_models")
    d = base / hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]
    d.mkdir(parents=True, exist_ok=True)
    missing = [n for n in KERAS if not (d / f"{n}.tflite").is_file()]
    if missing:
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONHASHSEED="0")
        r = subprocess.run([sys.executable, __file__, str(d), *missing], capture_output=True,
                           text=True, env=env, timeout=600)
        assert r.returncode == 0, f"conversion failed:\n{r.stdout[-2000:]}{r.stderr[-2000:]}"
    return {n: (d / f"{n}.tflite").read_bytes() for n in KERAS}


def _keras_rows(buf: bytes, n: int = ROWS) -> np.ndarray:
    shape = parse_tflite(buf).tensors[parse_tflite(buf).inputs[0]].shape
    x = np.random.default_rng(9).integers(-128, 128, (n, *shape), dtype=np.int8)
    x[0], x[1] = -128, 127
    return x


@need_keras
@pytest.mark.parametrize("name", sorted(KERAS))
def test_keras_lstm_on_host(keras_lstms, name):
    buf = keras_lstms[name]
    g = parse_tflite(buf)
    ops = [op.opcode for op in g.ops]
    assert ops.count("UNIDIRECTIONAL_SEQUENCE_LSTM") == (1 if name == "last" else 2), ops
    lstm = next(op for op in g.ops if op.opcode == "UNIDIRECTIONAL_SEQUENCE_LSTM")
    assert lstm.options["cell_clip"] == 10.0        # what the converter sets
    x = _keras_rows(buf)
    ref = tflm_run(buf, [x])[0]
    with HostBuild(compile_graph(g), sanitize=True) as hb:
        out = hb.run([x])[0]
    assert len(np.unique(ref)) > 5
    assert (out == ref).all(), f"{int((out != ref).sum())} of {ref.size} bytes differ"


@need_keras
@pytest.mark.parametrize("board", [pytest.param(b, marks=_tools_for(b))
                                   for b in ("mps2-an386", "sifive_e")])
def test_keras_lstm_on_board(keras_lstms, board, tmp_path):
    """The classifier as firmware under QEMU (on mps2-an386 the DSP-extension path), 12
    consecutive invokes, bit-exact with TFLM; the profile counts the LSTM's MACs."""
    from tinykiln.targets.board import get_board
    from tinykiln.targets.firmware import build_firmware
    from tinykiln.targets.qemu import run_firmware
    buf = keras_lstms["last"]
    c = compile_graph(parse_tflite(buf))
    x = _keras_rows(buf, 12)
    ref = tflm_run(buf, [x])[0]
    board = get_board(board)
    build_firmware(c, board, tmp_path / "fw")
    res = run_firmware(tmp_path / "fw", board, c.graph, [x], profile=True)
    y = res.outputs[0].reshape(ref.shape)
    assert (y == ref).all(), f"{int((y != ref).sum())} of {y.size} bytes differ"
    steps, feats = KERAS["last"]
    assert res.profile["macs"] == steps * 4 * 16 * (feats + 16) + 16 * 4


@pytest.mark.parametrize("board", [pytest.param(b, marks=_tools_for(b))
                                   for b in ("mps2-an386", "sifive_e")])
def test_lstm_cases_on_board(board, tmp_path):
    """Every hand-built case (and a 16x8 one) as firmware under QEMU: on mps2-an386 the
    hand-scheduled DSP-extension loops, bit-exact with TFLM over 20 consecutive invokes."""
    from tinykiln.targets.board import get_board
    from tinykiln.targets.firmware import build_firmware
    from tinykiln.targets.qemu import run_firmware
    cases = CASES + CASES16[:1]
    b, rows = _model(cases, 11)
    rows = [r[:20] for r in rows]
    buf = b.build()
    ref = tflm_run(buf, rows, len(cases))
    c = compile_graph(parse_tflite(buf))
    brd = get_board(board)
    build_firmware(c, brd, tmp_path / "fw")
    res = run_firmware(tmp_path / "fw", brd, c.graph, rows)
    bad = {case[0]: int((o.reshape(r.shape) != r).sum())
           for case, o, r in zip(cases, res.outputs, ref) if (o.reshape(r.shape) != r).any()}
    assert not bad, f"differing bytes per case on {board}: {bad}"


if __name__ == "__main__":      # python tests/test_ops_lstm.py OUT_DIR NAME...: convert models
    _convert(Path(sys.argv[1]), sys.argv[2:])
