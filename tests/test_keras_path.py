"""`tinykiln compile model.keras --calibration ...`: small Keras models of several architectures,
trained here for a few steps on synthetic data, quantized by TensorFlow's converter through our
CLI; the C written beside the .tflite must match TFLM on that .tflite byte for byte. Also: the
conversion is reproducible, --eval's figures agree with Keras and TFLM, --per-layer finds a layer
spoiled on purpose, and user mistakes give one sentence and exit 1.

TensorFlow is imported into this test process once (module fixture), lazily, so collecting or
deselecting these tests costs nothing; one check runs the CLI in a fresh process."""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinykiln.cli import main as cli

# Keras' own numpy 2 DeprecationWarnings (model.predict) are not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
needs_tf = pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None,
                              reason="TensorFlow (pip install tensorflow-cpu==2.21.0) is not "
                                     "installed: no Keras model can be trained or converted")

N_CALIB = 64


# ---- models and data (seeded; trained for a few steps)

def _images(rng, n, shape, classes=4, noise=0.6):
    """Class k: a fixed random pattern times a random gain, plus noise (learnable quickly)."""
    pats = np.random.default_rng(99).normal(0, 1, (classes, *shape)).astype(np.float32)
    y = rng.integers(0, classes, n)
    gain = rng.uniform(0.7, 1.3, (n,) + (1,) * len(shape)).astype(np.float32)
    x = pats[y] * gain + rng.normal(0, noise, (n, *shape)).astype(np.float32)
    return x.astype(np.float32), y


def _build(keras, arch: str):
    L = keras.layers
    if arch == "conv":          # Functional, Conv2D + pooling + Flatten + Dense, saved as .keras
        inp = keras.Input((12, 12, 1))
        x = L.Conv2D(8, 3, padding="same", activation="relu")(inp)
        x = L.MaxPooling2D(2)(x)
        x = L.Conv2D(12, 3, strides=2, activation="relu")(x)
        x = L.Flatten()(x)
        out = L.Dense(4, activation="softmax")(x)
        return keras.Model(inp, out), (12, 12, 1)
    if arch == "depthwise":     # DS-CNN block with BatchNorm (folds), saved as .h5
        inp = keras.Input((10, 10, 3))
        x = L.Conv2D(8, 3, strides=2, padding="same", use_bias=False)(inp)
        x = L.BatchNormalization()(x)
        x = L.ReLU()(x)
        x = L.DepthwiseConv2D(3, padding="same", activation="relu6")(x)
        x = L.Conv2D(16, 1, activation="relu")(x)
        x = L.GlobalAveragePooling2D()(x)
        out = L.Dense(4)(x)
        return keras.Model(inp, out), (10, 10, 3)
    if arch == "residual":      # residual ADD, average pooling, exported as a SavedModel
        inp = keras.Input((8, 8, 2))
        x = L.Conv2D(8, 3, padding="same", activation="relu")(inp)
        y = L.Conv2D(8, 3, padding="same", activation="relu")(x)
        y = L.Conv2D(8, 3, padding="same")(y)
        x = L.ReLU()(L.Add()([x, y]))
        x = L.AveragePooling2D(2)(x)
        x = L.Flatten()(x)
        out = L.Dense(4, activation="softmax")(x)
        return keras.Model(inp, out), (8, 8, 2)
    if arch == "dense":         # Sequential MLP with dropout, saved as .keras
        m = keras.Sequential([keras.Input((20,)), L.Dense(32, activation="relu"), L.Dropout(0.2),
                              L.Dense(16, activation="relu"), L.Dense(4, activation="softmax")])
        return m, (20,)
    raise ValueError(arch)


ARCHS = {"conv": ".keras", "depthwise": ".h5", "residual": "savedmodel", "dense": ".keras"}


def _train(keras, arch: str, seed: int = 0, epochs: int = 2, noise: float = 0.6):
    keras.backend.clear_session()   # default layer names restart: conv2d, conv2d_1, ...
    keras.utils.set_random_seed(seed)
    model, shape = _build(keras, arch)
    rng = np.random.default_rng(seed)
    x, y = _images(rng, 512, shape, noise=noise)
    loss = "sparse_categorical_crossentropy"
    if arch == "depthwise":
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss=loss, metrics=["accuracy"])
    model.fit(x, y, batch_size=32, epochs=epochs, verbose=0)
    return model, shape


def _save(model, path: Path, kind: str) -> Path:
    if kind == "savedmodel":
        model.export(str(path), verbose=False)
        return path
    out = path.with_suffix(kind)
    model.save(out)
    return out


# ---- fixtures

@pytest.fixture(scope="module")
def tfk():
    if importlib.util.find_spec("tensorflow") is None:
        pytest.skip("TensorFlow is not installed")
    """(tensorflow, keras), imported once into this process."""
    from tinykiln.frontend.keras_convert import import_tf
    return import_tf()


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("keras_path")


@pytest.fixture(scope="module")
def trained(tfk, work):
    """arch -> (saved model path, input shape, calibration .npy, eval .npz)."""
    _, keras = tfk
    out = {}
    for k, (arch, kind) in enumerate(ARCHS.items()):
        model, shape = _train(keras, arch, seed=k)
        path = _save(model, work / arch, kind)
        rng = np.random.default_rng(100 + k)
        calib, data = work / f"{arch}_calib.npy", work / f"{arch}_data.npz"
        np.save(calib, _images(rng, N_CALIB, shape)[0])
        x, y = _images(rng, 64, shape)
        np.savez(data, x=x, y=y)
        out[arch] = (path, shape, calib, data)
    return out


def run_cli(capfd, *args) -> tuple[int, str, str]:
    """The CLI in this process; fd-level capture, so TensorFlow's own logs would show."""
    capfd.readouterr()
    rc = cli.main([str(a) for a in args])
    out, err = capfd.readouterr()
    return rc, out, err


def assert_user_error(rc, err, *words):
    assert rc == 1, err
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("tinykiln: error: "), err
    for w in words:
        assert w in lines[0], lines[0]


def _host_vs_tflm(out_dir: Path, tflite_name: str, seed: int):
    """Compile the written .tflite again (the C in out_dir must be exactly that), run it on the
    host and through TFLM on random int8 inputs; return (compiled, ours, TFLM's, inputs)."""
    from tflm_oracle import tflm_run
    from tinykiln.inputs import compile_file
    from tinykiln.targets.hostrun import HostBuild
    c = compile_file(out_dir / tflite_name)
    for rel, text in c.files.items():
        assert (out_dir / rel).read_text() == text, f"{rel} differs from a fresh compile"
    assert c.graph.tensors[c.graph.inputs[0]].shape[0] == 1, "batch is not fixed to 1"
    rng = np.random.default_rng(seed)
    xs = [rng.integers(-128, 128, (40, *c.graph.tensors[t].shape), dtype=np.int8)
          for t in c.graph.inputs]
    ref = tflm_run((out_dir / tflite_name).read_bytes(), xs, len(c.graph.outputs))
    with HostBuild(c) as hb:
        ours = hb.run(xs)
    return c, ours, ref, xs


def _check_layer_dump(c, buf: bytes, q: np.ndarray):
    """--per-layer's int8 tensors (recorded by the layer hook of our C) equal TFLM's
    intermediate tensors, every one of them."""
    from tflite_micro.python.tflite_micro import runtime
    from tinykiln.quant.evaluate import dump_layers
    dumped = dump_layers(c, q)
    assert len(dumped) > len(c.graph.inputs), "nothing was recorded"
    it = runtime.Interpreter.from_bytes(
        buf, arena_size=1 << 22,
        intrepreter_config=runtime.InterpreterConfig.kPreserveAllTensors)
    for r in range(q.shape[0]):
        it.set_input(q[r].reshape(it.get_input_details(0)["shape"]), 0)
        it.invoke()
        for t, v in dumped.items():
            ref = np.asarray(it.GetTensor(t, 0)["tensor_data"]).reshape(v[r].shape)
            assert np.array_equal(ref, v[r]), (
                f"row {r}, tensor {t} '{c.graph.tensors[t].name}': recorded int8 values differ "
                f"from TFLM's")


# ---- acceptance 1: through the CLI, bit-exact with TFLM

SHAPE_OPS = {"SHAPE", "STRIDED_SLICE", "PACK", "GATHER", "CAST"}


@pytest.mark.slow
@needs_tf
@pytest.mark.parametrize("arch", list(ARCHS))
def test_compile_keras_bit_exact_with_tflm(arch, trained, work, capfd):
    path, shape, calib, data = trained[arch]
    out = work / f"out_{arch}"
    rc, stdout, err = run_cli(capfd, "compile", path, "--calibration", calib, "--eval", data,
                              "-o", out)
    assert rc == 0, err
    assert err.strip() == "", f"unexpected stderr: {err[-2000:]}"
    name = path.stem + ".tflite" if path.is_file() else path.name + ".tflite"
    assert (out / name).is_file(), sorted(p.name for p in out.iterdir())
    assert f"calibrated on {N_CALIB} samples" in stdout
    rep = json.loads((out / "report.json").read_text())
    assert rep["quantization"]["tflite"] == name
    assert rep["quantization"]["calibration"]["samples"] == N_CALIB
    ev = rep["quantization"]["eval"]
    assert ev["samples"] == 64 and ev["agreement"] >= 90.0, ev
    c, ours, ref, xs = _host_vs_tflm(out, name, seed=len(arch))
    ops = {op.opcode for op in c.graph.ops}
    assert not ops & SHAPE_OPS, f"shape ops in a batch-1 model: {sorted(ops)}"
    g = c.graph
    assert g.tensors[g.inputs[0]].dtype == "int8" and g.tensors[g.outputs[0]].dtype == "int8"
    for op in g.ops:    # weights per channel (one scale per output channel)
        if op.opcode in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            w = g.tensors[op.inputs[1]]
            assert len(w.quant.scale) == w.shape[0 if op.opcode != "DEPTHWISE_CONV_2D" else 3], \
                f"op {op.index} {op.opcode}: {len(w.quant.scale)} weight scales"
    for k, (o, r) in enumerate(zip(ours, ref)):
        r = r.reshape(o.shape)
        bad = np.argwhere(o != r)
        assert not len(bad), (f"{arch}: output {k}: {len(bad)} of {o.size} values differ from "
                              f"TFLM, first at {tuple(bad[0])}; ops {[op.opcode for op in g.ops]}")
    _check_layer_dump(c, (out / name).read_bytes(), xs[0][:3])


# ---- acceptance 2: reproducible conversion

@pytest.mark.slow
@needs_tf
def test_conversion_is_byte_identical(trained, work, capfd, tfk):
    """The same bytes twice in this process (API), from the CLI in a fresh process (which
    converts in a child with PYTHONHASHSEED=0), and from the API in a process with another hash
    seed."""
    from tinykiln.frontend.keras_convert import convert, load_calibration, load_model
    path, _, calib, _ = trained["conv"]
    fm = load_model(path)
    cal = load_calibration(calib, fm)
    first, second = convert(fm, cal), convert(load_model(path), cal)
    assert first == second, "two conversions in one process differ"
    out = work / "out_fresh"
    r = subprocess.run([sys.executable, "-m", "tinykiln", "compile", str(path), "--calibration",
                        str(calib), "-o", str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stderr.strip() == "", f"TensorFlow noise on stderr: {r.stderr[-2000:]}"
    assert (out / "conv.tflite").read_bytes() == first, "the CLI converts differently"
    api = work / "api.tflite"
    script = ("import sys; from pathlib import Path; from tinykiln.frontend.keras_convert import convert, "
              "load_calibration, load_model; fm = load_model(sys.argv[1]); Path(sys.argv[3])."
              "write_bytes(convert(fm, load_calibration(sys.argv[2], fm)))")
    r = subprocess.run([sys.executable, "-c", script, str(path), str(calib), str(api)],
                       capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, PYTHONHASHSEED="12345"))
    assert r.returncode == 0, r.stderr[-3000:]
    assert api.read_bytes() == first, "another hash seed converts differently"


# ---- acceptance 3: --eval

def _quantize_ref(x, scale, zp):
    return np.clip(np.round(x / scale) + zp, -128, 127).astype(np.int8)


@pytest.mark.slow
@needs_tf
def test_eval_reports_float_and_int8_accuracy(tfk, work, capfd):
    from tflm_oracle import tflm_run
    _, keras = tfk
    noise = 1.5     # hard enough that the float model is not perfect (about 96%)
    model, shape = _train(keras, "conv", seed=7, epochs=4, noise=noise)
    path = _save(model, work / "acc", ".keras")
    rng = np.random.default_rng(11)
    xc, _ = _images(rng, N_CALIB, shape, noise=noise)
    np.save(work / "acc_calib.npy", xc)
    x, y = _images(rng, 400, shape, noise=noise)
    np.savez(work / "acc_data.npz", x=x, y=y)
    out = work / "out_acc"
    rc, stdout, err = run_cli(capfd, "compile", path, "--calibration", work / "acc_calib.npy",
                              "--eval", work / "acc_data.npz", "--per-layer", "-o", out)
    assert rc == 0, err
    quant = json.loads((out / "report.json").read_text())["quantization"]
    ev = quant["eval"]
    # independent figures: Keras for the float model, TFLM for the int8 one
    pf = np.argmax(model.predict(x, verbose=0), axis=1)
    buf = (out / "acc.tflite").read_bytes()
    from tinykiln.frontend.tflite_import import parse_tflite
    g = parse_tflite(buf)
    tin, tout = g.tensors[g.inputs[0]], g.tensors[g.outputs[0]]
    q = _quantize_ref(x, tin.quant.scale[0], tin.quant.zero_point[0])[:, None]
    pq = np.argmax(tflm_run(buf, [q])[0].reshape(len(x), -1), axis=1)
    float_acc, int8_acc = 100 * np.mean(pf == y), 100 * np.mean(pq == y)
    assert 85.0 <= float_acc < 100.0, f"the test model reached {float_acc:.1f}%: retune noise"
    assert ev["samples"] == 400 and ev["task"] == "classification"
    assert ev["float_accuracy"] == pytest.approx(float_acc, abs=0.01)
    assert ev["int8_accuracy"] == pytest.approx(int8_acc, abs=0.01)
    assert ev["agreement"] == pytest.approx(100 * np.mean(pf == pq), abs=0.01)
    assert abs(ev["int8_accuracy"] - ev["float_accuracy"]) <= 2.0, ev
    assert f"accuracy {ev['float_accuracy']:.2f}%" in stdout
    assert f"accuracy {ev['int8_accuracy']:.2f}%" in stdout and "agreement" in stdout
    # --per-layer on a healthy model with default layer names (conv2d, conv2d_1: their
    # converter scopes are conv2d_1 and conv2d_1_2): every layer found, each tied to its own op
    rows = quant["per_layer"]
    want = {ly.name: type(ly).__name__ for ly in model.layers
            if type(ly).__name__ not in ("InputLayer", "Flatten")}
    assert {r["layer"]: r["class"] for r in rows} == want, rows
    kind = {"Conv2D": "CONV_2D", "MaxPooling2D": "MAX_POOL_2D", "Dense": "FULLY_CONNECTED"}
    for r in rows:
        assert kind[r["class"]] in r["opcodes"], r
        assert r["sqnr_db"] > 20.0 and r["cumulative_sqnr_db"] > 20.0, r


# ---- acceptance 4: --per-layer finds the spoiled layer

@pytest.mark.slow
@needs_tf
def test_per_layer_flags_the_spoiled_layer(tfk, work, capfd):
    """conv_b gets a huge weight (1000) in every filter, on an input channel that conv_a keeps at
    zero: the float model is unchanged, but per-channel int8 weights of conv_b round to 0."""
    _, keras = tfk
    L = keras.layers
    keras.utils.set_random_seed(3)
    inp = keras.Input((10, 10, 1))
    x = L.Conv2D(6, 3, padding="same", activation="relu", name="conv_a")(inp)
    x = L.Conv2D(8, 3, padding="same", activation="relu", name="conv_b")(x)
    x = L.Conv2D(8, 3, padding="same", activation="relu", name="conv_c")(x)
    x = L.GlobalAveragePooling2D(name="gap")(x)
    out = L.Dense(4, activation="softmax", name="head")(x)
    model = keras.Model(inp, out)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    xt, yt = _images(np.random.default_rng(5), 256, (10, 10, 1))
    model.fit(xt, yt, batch_size=32, epochs=1, verbose=0)
    wa, ba = model.get_layer("conv_a").get_weights()
    wa[..., 5], ba[5] = 0.0, -1.0          # channel 5 of conv_a: always 0 after ReLU
    model.get_layer("conv_a").set_weights([wa, ba])
    wb, bb = model.get_layer("conv_b").get_weights()
    wb[1, 1, 5, :] = 1000.0                # the outlier, on the dead channel, in every filter
    model.get_layer("conv_b").set_weights([wb, np.zeros_like(bb)])
    path = _save(model, work / "spoiled", ".keras")
    rng = np.random.default_rng(6)
    np.save(work / "sp_calib.npy", _images(rng, N_CALIB, (10, 10, 1))[0])
    x, y = _images(rng, 120, (10, 10, 1))
    np.savez(work / "sp_data.npz", x=x, y=y)
    out = work / "out_spoiled"
    rc, stdout, err = run_cli(capfd, "compile", path, "--calibration", work / "sp_calib.npy",
                              "--eval", work / "sp_data.npz", "--per-layer", "-o", out)
    assert rc == 0, err
    rows = json.loads((out / "report.json").read_text())["quantization"]["per_layer"]
    names = [r["layer"] for r in rows]
    assert {"conv_a", "conv_b", "conv_c", "head"} <= set(names), names
    assert rows[0]["layer"] == "conv_b", rows
    assert rows[0]["sqnr_db"] < 3.0 and rows[1]["sqnr_db"] > rows[0]["sqnr_db"] + 10, rows[:2]
    table = stdout[stdout.index("per-layer"):].splitlines()
    assert table[2].split()[0] == "conv_b", "\n".join(table)
    # nothing else comes near (conv_c, fed all-zero int8 input, is itself off by ~20 dB)
    assert all(r["sqnr_db"] > 10.0 for r in rows if r["layer"] != "conv_b"), rows


# ---- user mistakes: one sentence, exit 1, no output folder

@pytest.mark.slow
@needs_tf
def test_errors_are_one_sentence(trained, work, capfd):
    path, shape, calib, _ = trained["conv"]
    out = work / "out_err"

    def check(args, *words):
        rc, _, err = run_cli(capfd, "compile", *args, "-o", out)
        assert_user_error(rc, err, *words)
        assert not out.exists()

    check([path], "--calibration")
    bad = work / "garbage.npy"
    bad.write_bytes(b"\x93NUMPY garbage")
    check([path, "--calibration", bad], "cannot read calibration data", "garbage.npy")
    check([path, "--calibration", work / "nope.npy"], "nope.npy")
    np.save(work / "wrong_shape.npy", np.zeros((5, 12, 12, 3), np.float32))
    # without --eval the converting child finds it, with --eval this process does
    check([path, "--calibration", work / "wrong_shape.npy"], "(5, 12, 12, 3)", "(N, 12, 12, 1)")
    check([path, "--calibration", work / "wrong_shape.npy", "--eval", trained["conv"][3]],
          "(5, 12, 12, 3)", "(N, 12, 12, 1)")
    np.save(work / "wrong_dtype.npy", np.zeros((5, 12, 12, 1), np.complex64))
    check([path, "--calibration", work / "wrong_dtype.npy"], "complex64")
    np.save(work / "nan.npy", np.full((5, 12, 12, 1), np.nan, np.float32))
    check([path, "--calibration", work / "nan.npy"], "NaN")
    np.savez(work / "noxy.npz", inputs=np.zeros((5, 12, 12, 1), np.float32))
    check([path, "--calibration", calib, "--eval", work / "noxy.npz"], "'x'", "'y'")
    np.savez(work / "shorty.npz", x=np.zeros((5, 12, 12, 1), np.float32), y=np.zeros(4))
    check([path, "--calibration", calib, "--eval", work / "shorty.npz"], "'y'")
    check([path, "--calibration", calib, "--per-layer"], "--eval")
    (work / "int8.tflite").write_bytes(b"TFL3")
    check([work / "int8.tflite", "--calibration", calib], "float Keras model", "int8.tflite")
    junk = work / "junk.keras"
    junk.write_bytes(b"not a zip at all")
    check([junk, "--calibration", calib], "cannot read Keras model", "junk.keras")
    check([junk, "--calibration", calib, "--eval", trained["conv"][3]], "cannot read Keras model",
          "junk.keras")
    check([work / "absent.h5", "--calibration", calib], "absent.h5")
    (work / "emptydir").mkdir(exist_ok=True)
    check([work / "emptydir", "--calibration", calib], "saved_model.pb")
    check([trained["residual"][0], "--calibration", trained["residual"][2], "--eval",
           trained["residual"][3], "--per-layer"], "SavedModel")


@pytest.mark.slow
@needs_tf
def test_layer_norm_float_island_compiles(tfk, work, capfd):
    """LayerNormalization keeps a float32 NEG between DEQUANTIZE and QUANTIZE after int8
    conversion: compiled as an int8 table, bit-exact with TFLM's float kernels."""
    _, keras = tfk
    keras.backend.clear_session()
    inp = keras.Input((8,))
    x = keras.layers.LayerNormalization(name="norm")(inp)
    path = _save(keras.Model(inp, keras.layers.Dense(3)(x)), work / "ln", ".keras")
    np.save(work / "ln_calib.npy", np.random.default_rng(0).normal(size=(16, 8)))
    rc, _, err = run_cli(capfd, "compile", path, "--calibration", work / "ln_calib.npy", "-o",
                         work / "out_ln")
    assert rc == 0, err
    c, ours, ref, _ = _host_vs_tflm(work / "out_ln", "ln.tflite", seed=3)
    assert "TK_LUT" in [op.opcode for op in c.graph.ops]
    for o, r in zip(ours, ref):
        assert np.array_equal(o, r.reshape(o.shape))


def test_op_left_in_float_is_named():
    """A float op the compiler cannot turn into an int8 table (EXP between DEQUANTIZE and
    QUANTIZE) is named in one sentence after conversion."""
    import copy
    from modelgen import ModelBuilder
    from tinykiln.errors import TinykilnError
    from tinykiln.frontend.keras_convert import check_int8
    from tinykiln.frontend.tflite_import import parse_tflite
    from tinykiln.passes import float_islands
    b = ModelBuilder()
    x = b.input((1, 4), scale=0.1, zero_point=0)
    f, g = b.tensor((1, 4), dtype="float32"), b.tensor((1, 4), dtype="float32")
    y = b.tensor((1, 4), scale=0.1, zero_point=0)
    b.op("DEQUANTIZE", [x], [f])
    b.op("EXP", [f], [g])
    b.op("QUANTIZE", [g], [y])
    b.output(y)
    graph = float_islands.run(copy.deepcopy(parse_tflite(b.build())))
    with pytest.raises(TinykilnError, match=r"op 1 \(EXP.*float32 when quantizing m\.keras"):
        check_int8(graph, "m.keras")


@pytest.mark.slow
@needs_tf
def test_calibration_forms(trained, work):
    """A .npy, a folder of .npy files (batches and single samples), a .npz of batches and a .npz
    with an 'x' array (an --eval file) give the same calibration rows, in order."""
    from tinykiln.frontend.keras_convert import load_calibration, load_model
    path, shape, calib, _ = trained["dense"]
    fm = load_model(path)
    rows = np.load(calib)
    d = work / "calib_dir"
    d.mkdir(exist_ok=True)
    np.save(d / "a.npy", rows[:40])
    for i in range(40, len(rows)):
        np.save(d / f"b{i:03d}.npy", rows[i])       # single samples
    np.savez(work / "calib_parts.npz", rows[:10], rows[10:])
    np.savez(work / "calib_x.npz", x=rows.astype(np.float64), y=np.zeros(len(rows)))
    for src in [calib, d, work / "calib_parts.npz", work / "calib_x.npz"]:
        got = load_calibration(src, fm)
        assert len(got) == 1 and got[0].dtype == np.float32, src
        assert np.array_equal(got[0], rows), src


def test_converter_crash_is_one_sentence(tmp_path):
    """TensorFlow's converter can die of a signal (it does calibrating an LSTM): the conversion
    runs in a child, so the CLI still says what happened. Here the child's TensorFlow import
    raises SIGSEGV itself."""
    crash = tmp_path / "crash"
    (crash / "tensorflow").mkdir(parents=True)
    (crash / "tensorflow" / "__init__.py").write_text(
        "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n")
    r = _compile_with_fake_packages(tmp_path, crash)
    assert_user_error(r.returncode, r.stderr, "crashed", "SIGSEGV", "m.keras")
    assert not (tmp_path / "out").exists()


def _tinykiln_with_fake_packages(fake, *args):
    """`tinykiln ARGS` in a child whose PYTHONPATH puts the packages in `fake` (stand-ins for
    tensorflow/keras) first."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(fake), *filter(None, [os.environ.get("PYTHONPATH")])]))
    return subprocess.run([sys.executable, "-m", "tinykiln", *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=120)


def _compile_with_fake_packages(tmp_path, fake):
    """`tinykiln compile m.keras --calibration c.npy` with stand-in packages."""
    (tmp_path / "m.keras").write_bytes(b"PK")
    np.save(tmp_path / "c.npy", np.zeros((2, 4), np.float32))
    return _tinykiln_with_fake_packages(fake, "compile", tmp_path / "m.keras", "--calibration",
                                        tmp_path / "c.npy", "-o", tmp_path / "out")


def test_without_tensorflow(tmp_path):
    """TensorFlow missing: the Keras path says how to install it; .tflite still compiles."""
    from modelgen import ModelBuilder
    block = tmp_path / "block"
    for mod in ("tensorflow", "keras"):
        (block / mod).mkdir(parents=True)
        (block / mod / "__init__.py").write_text("raise ImportError('blocked by the test')\n")
    r = _compile_with_fake_packages(tmp_path, block)
    assert_user_error(r.returncode, r.stderr, 'pip install "tinykiln[tf]"')
    assert not (tmp_path / "out").exists()
    b = ModelBuilder()
    x = b.input((1, 4), scale=0.1, zero_point=0)
    w = b.const(np.ones((2, 4), np.int8), scale=0.01, zero_point=0)
    y = b.tensor((1, 2), scale=0.2, zero_point=0)
    b.op("FULLY_CONNECTED", [x, w, -1], [y])
    b.output(y)
    (tmp_path / "m.tflite").write_bytes(b.build())
    r = _tinykiln_with_fake_packages(block, "compile", tmp_path / "m.tflite", "-o", tmp_path / "out")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "out" / "model.c").is_file()


@pytest.mark.slow
@needs_tf
def test_two_inputs_calibrated_by_name(tfk, work, capfd):
    """A two-input model: a .npz with one array per input name; each input's range comes from
    its own array (the .tflite orders its inputs its own way), and the C matches TFLM."""
    _, keras = tfk
    L = keras.layers
    keras.backend.clear_session()
    keras.utils.set_random_seed(4)
    a, b = keras.Input((8,), name="wide"), keras.Input((4,), name="narrow")
    x = L.Concatenate()([L.Dense(6, activation="relu")(a), L.Dense(6, activation="relu")(b)])
    path = _save(keras.Model([a, b], L.Dense(3)(x)), work / "two", ".keras")
    rng = np.random.default_rng(8)
    np.savez(work / "two_calib.npz", wide=rng.uniform(-10, 10, (40, 8)).astype(np.float32),
             narrow=rng.uniform(-0.1, 0.1, (40, 4)).astype(np.float32))
    out = work / "out_two"
    rc, _, err = run_cli(capfd, "compile", path, "--calibration", work / "two_calib.npz", "-o", out)
    assert rc == 0, err
    c, ours, ref, _ = _host_vs_tflm(out, "two.tflite", seed=2)
    for t in c.graph.inputs:
        tt = c.graph.tensors[t]
        span = 20.0 if "wide" in tt.name else 0.2
        assert tt.quant.scale[0] == pytest.approx(span / 255, rel=0.05), (tt.name, tt.quant.scale)
    for o, r in zip(ours, ref):
        assert np.array_equal(o, r.reshape(o.shape))
