"""Impulses (raw samples -> fixed-point front end -> int8 model): the impulse file's checks, the
generated C against the Python model of the front end feeding TFLM, and QEMU images against the
host run of the same impulse, byte for byte."""
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

import impulse_data
from test_firmware import _tools_for
from tflm_oracle import tflm_run
from tinykiln.cli.main import main as cli
from tinykiln.inputs import compile_file
from tinykiln.demo import DEMO_IMPULSE, demo_model
from tinykiln.dsp.ref import speech_like
from tinykiln.errors import TinykilnError
from tinykiln.targets.hostrun import HostBuild
from tinykiln.impulse.impulse import features, load_impulse
from tinykiln.frontend.modelbuilder import ModelBuilder

TESTS = Path(__file__).resolve().parent

# the built-in demo DS-CNN eats 49 x 10 MFCC: 1 s at 16 kHz, 40 ms frames every 20 ms
KWS_TOML = DEMO_IMPULSE

# three accelerometer axes at 100 Hz, 2 s; two frames of 128 samples; 12 features per axis
MOTION_TOML = """\
[input]
sample_rate = 100
axes = 3
window = 192

[dsp]
block = "spectral"
frame_length = 128
frame_stride = 64
n_fft = 128
bands = [[0.5, 2.0], [2.0, 5.0], [5.0, 10.0], [10.0, 20.0], [20.0, 50.0]]
n_peaks = 3

[model]
path = "motion.tflite"
"""


@pytest.fixture(scope="module")
def kws_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("kws_impulse")
    (d / "demo_dscnn.tflite").write_bytes(demo_model())
    (d / "impulse.toml").write_text(KWS_TOML)
    return d


@pytest.fixture(scope="module")
def motion_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("motion_impulse")
    (d / "motion.tflite").write_bytes(impulse_data.dense_model(72, 5, seed=3, name="motion"))
    (d / "impulse.toml").write_text(MOTION_TOML)
    return d


def _motion_signals(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(192) / 100.0
    out = []
    for _ in range(n):
        axes = []
        for _a in range(3):
            f = rng.uniform(0.5, 40)
            x = rng.uniform(0.05, 0.6) * np.sin(2 * np.pi * f * t + rng.uniform(0, 6.3))
            x += rng.uniform(-0.3, 0.3) + rng.normal(0, 0.02, len(t))
            axes.append(x)
        out.append(np.stack(axes, 1))
    x = np.clip(np.round(np.stack(out) * 32767), -32768, 32767).astype(np.int16)
    x[0] = 0                                   # silence
    x[1, :, 0] = 32767                         # one axis at full-scale DC
    return x


# ---- the impulse file's checks: one sentence, naming the field, before anything is built

BAD = [
    ("fft not a power of two", ("n_fft = 1024", "n_fft = 1000"),
     "field 'dsp.n_fft' is 1000; the FFT length must be a power of two from 64 to 1024"),
    ("fft too long", ("n_fft = 1024", "n_fft = 2048"), "field 'dsp.n_fft' is 2048"),
    ("more mel filters than bins", ('n_mfcc = 10', 'n_mfcc = 10\nn_mels = 600'),
     "field 'dsp.n_mels' is 600, more mel filters than FFT bins (513 bins for n_fft 1024)"),
    ("frame longer than window", ("frame_length = 640", "frame_length = 16001"),
     "field 'dsp.frame_length' is 16001 samples, longer than the window (16000 samples"),
    ("frame longer than fft", ("n_fft = 1024", "n_fft = 512"),
     "field 'dsp.frame_length' is 640, longer than the FFT (n_fft 512)"),
    ("mfcc above mels", ("n_mfcc = 10", "n_mfcc = 41"), "field 'dsp.n_mfcc' is 41; it must be from 1 to n_mels (40)"),
    ("fmax above nyquist", ("n_mfcc = 10", "n_mfcc = 10\nfmax = 9000"),
     "field 'dsp.fmax' is 9000 Hz, above the Nyquist frequency (8000 Hz)"),
    ("unknown block", ('block = "mfcc"', 'block = "wavelet"'), "field 'dsp.block' is 'wavelet'"),
    ("unknown field", ("n_mfcc = 10", "n_mfcc = 10\nn_mfccs = 3"), "field 'dsp.n_mfccs' is not an impulse field"),
    ("zero stride", ("frame_stride = 320", "frame_stride = 0"), "field 'dsp.frame_stride' must be greater than 0"),
    ("audio with 3 axes", ("window = 16000", "window = 16000\naxes = 3"),
     "field 'input.axes' is 3, but the mfcc block takes one audio axis"),
    ("preset of another block", ('preset = "tf_mfcc"', 'preset = "librosa_mfe"'),
     "field 'dsp.preset' is 'librosa_mfe', a preset of another block than 'mfcc'"),
    ("missing model", ('path = "demo_dscnn.tflite"', 'path = "nope.tflite"'), "field 'model.path' names"),
    ("missing input table", ("[input]\n", "[inputs]\n"), "field 'inputs' is not an impulse field"),
    ("negative rate", ("sample_rate = 16000", "sample_rate = -1"), "field 'input.sample_rate' must not be negative"),
    ("not toml", ("[dsp]", "[dsp"), "is not valid TOML"),
    ("features do not fit the model", ("frame_stride = 320", "frame_stride = 400"),
     "the model's input 't0' [1, 49, 10, 1] holds 490 values, but the mfcc block gives 39 frames "
     "x 10 features = 390"),
]


@pytest.mark.parametrize("case,edit,msg", BAD, ids=[b[0] for b in BAD])
def test_bad_impulse_is_refused(case, edit, msg, kws_dir, tmp_path, capsys):
    text = KWS_TOML
    assert edit[0] in text, case
    (tmp_path / "demo_dscnn.tflite").write_bytes((kws_dir / "demo_dscnn.tflite").read_bytes())
    p = tmp_path / "impulse.toml"
    p.write_text(text.replace(edit[0], edit[1], 1))
    out = tmp_path / "out"
    assert cli(["compile", str(p), "-o", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert msg in err, err
    assert err.count("\n") == 0 and "Traceback" not in err
    assert not out.exists()


def test_spectral_checks(motion_dir, tmp_path):
    (tmp_path / "motion.tflite").write_bytes((motion_dir / "motion.tflite").read_bytes())
    for old, new, msg in [
        ("[20.0, 50.0]", "[20.0, 60.0]", "field 'dsp.bands[4]' is [20.0, 60.0]; a band is [low, high] Hz"),
        ("n_peaks = 3", "n_peaks = 40", "field 'dsp.n_peaks' is 40; at most n_fft/4 = 32"),
        ("window = 192", "window = 100", "field 'dsp.frame_length' is 128 samples, longer than the window"),
    ]:
        p = tmp_path / "impulse.toml"
        p.write_text(MOTION_TOML.replace(old, new))
        with pytest.raises(TinykilnError) as e:
            load_impulse(p)
        assert msg in str(e.value)


# ---- generated C == Python model of the front end + TFLM, on the host (ASan/UBSan)

def test_mfcc_impulse_matches_python_model_and_tflm(kws_dir):
    c = compile_file(kws_dir / "impulse.toml")
    x = np.stack([speech_like(s, level_dbfs=lv) for s, lv in zip(range(6), (-6, -20, -40, -60, -20, 0))])
    x[4] = 0                                          # silence
    x[5] = np.where(np.arange(16000) % 40 < 20, 32767, -32768)   # clipped square wave
    f = features(c, x)
    assert f.shape == (6, 49, 10, 1)
    ref = tflm_run((kws_dir / "demo_dscnn.tflite").read_bytes(), [f])[0]
    with HostBuild(c, sanitize=True) as hb:
        y = hb.run([x])[0]
    assert y.shape == (6, 1, 12)
    assert int((y.reshape(ref.shape) != ref).sum()) == 0
    # the front end really varies with the signal
    assert len({f[i].tobytes() for i in range(6)}) == 6


def test_spectral_impulse_matches_python_model_and_tflm(motion_dir):
    c = compile_file(motion_dir / "impulse.toml")
    x = _motion_signals(12, seed=4)
    f = features(c, x)
    assert f.shape == (12, 72)
    ref = tflm_run((motion_dir / "motion.tflite").read_bytes(), [f])[0]
    with HostBuild(c, sanitize=True) as hb:
        y = hb.run([x])[0]
    assert int((y.reshape(ref.shape) != ref).sum()) == 0


def test_impulse_sources_are_reproducible_and_share_the_arena(kws_dir):
    a = compile_file(kws_dir / "impulse.toml")
    b = compile_file(kws_dir / "impulse.toml")
    assert a.files == b.files
    bufs = a.report["dsp"]["arena_buffers"]
    g = a.model.graph          # (the input's buffer may start before it: a lagged output)
    feat = a.model.plan.address(("t", g.root(g.inputs[0]))) + g.root_offset(g.inputs[0])
    spans = sorted([(v["offset"], v["offset"] + v["bytes"]) for v in bufs.values()]
                   + [(feat, feat + 490)])
    assert all(x[1] <= y[0] for x, y in zip(spans, spans[1:])), spans
    assert a.report["arena_bytes"] >= max(e for _, e in spans)
    # the raw window (32,000 B) and the DSP scratch reuse the model's own arena
    assert a.report["arena_bytes"] < 32000 + bufs["dsp_scratch"]["bytes"] + \
        compile_file(kws_dir / "demo_dscnn.tflite").report["arena_bytes"]


# ---- QEMU images == the host run, byte for byte

@pytest.mark.parametrize("board", [pytest.param(b, marks=_tools_for(b))
                                   for b in ("mps2-an386", "mps2-an385")])
def test_mfcc_impulse_on_qemu_equals_host(board, kws_dir, tmp_path):
    from tinykiln.targets.board import get_board
    from tinykiln.targets.firmware import build_firmware
    from tinykiln.targets.qemu import run_firmware
    c = compile_file(kws_dir / "impulse.toml")
    x = np.stack([speech_like(s) for s in range(3)])
    with HostBuild(c) as hb:
        host = hb.run([x])[0]
    b = get_board(board)
    r = build_firmware(c, b, tmp_path / "fw")
    assert r["flash"]["dsp_tables"] > 0 and r["build_warnings"] == []
    res = run_firmware(tmp_path / "fw", b, c.graph, [x], profile=board == "mps2-an386")
    assert res.outputs[0].tobytes() == host.tobytes()
    if res.profile:
        dsp = res.profile["layers"][0]
        assert dsp["op"] == "dsp" and dsp["opcode"] == "MFCC 49x10" and dsp["instructions"] > 0


@pytest.mark.parametrize("board", [pytest.param(b, marks=_tools_for(b))
                                   for b in ("mps2-an386", "microbit", "sifive_e")])
def test_spectral_impulse_on_qemu_equals_host(board, motion_dir, tmp_path):
    from tinykiln.targets.board import get_board
    from tinykiln.targets.firmware import build_firmware
    from tinykiln.targets.qemu import run_firmware
    c = compile_file(motion_dir / "impulse.toml")
    x = _motion_signals(8, seed=5)
    with HostBuild(c) as hb:
        host = hb.run([x])[0]
    b = get_board(board)
    build_firmware(c, b, tmp_path / "fw")
    res = run_firmware(tmp_path / "fw", b, c.graph, [x])
    assert res.outputs[0].tobytes() == host.tobytes()


# ---- the command line

@pytest.mark.parametrize("board", [pytest.param("host"),
                                   pytest.param("mps2-an386", marks=_tools_for("mps2-an386"))])
def test_cli_run_raw(board, kws_dir, tmp_path, capsys):
    x = np.stack([speech_like(s) for s in range(2)])
    np.save(tmp_path / "raw.npy", x)
    np.save(tmp_path / "rawf.npy", x.astype(np.float64) / 32768.0)
    imp = str(kws_dir / "impulse.toml")
    assert cli(["run", imp, "--board", board, "--raw", str(tmp_path / "raw.npy"),
                "--output", str(tmp_path / "y.npy")]) == 0
    assert cli(["run", imp, "--board", board, "--raw", str(tmp_path / "rawf.npy"),
                "--output", str(tmp_path / "yf.npy")]) == 0
    y = np.load(tmp_path / "y.npy")
    assert y.shape == (2, 1, 12) and y.dtype == np.int8
    assert np.array_equal(y, np.load(tmp_path / "yf.npy"))
    capsys.readouterr()
    # one sentence for each mistake
    np.save(tmp_path / "short.npy", x[:, :8000])
    for args, msg in [
        (["--raw", str(tmp_path / "short.npy")], "has shape (2, 8000); the impulse takes rows of 16000 samples"),
        (["--input", str(tmp_path / "raw.npy"), "--raw", str(tmp_path / "raw.npy")], "not both"),
    ]:
        assert cli(["run", imp, "--board", board, *args, "--output", str(tmp_path / "z.npy")]) == 1
        assert msg in capsys.readouterr().err
    assert cli(["run", str(kws_dir / "demo_dscnn.tflite"), "--raw", str(tmp_path / "raw.npy"),
                "--output", str(tmp_path / "z.npy")]) == 1
    assert "--raw takes raw samples for an impulse file" in capsys.readouterr().err


@pytest.mark.parametrize("board", [pytest.param("mps2-an386", marks=_tools_for("mps2-an386"))])
def test_cli_build_impulse(board, kws_dir, tmp_path, capsys):
    import json
    out = tmp_path / "fw"
    assert cli(["build", str(kws_dir / "impulse.toml"), "--board", board, "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "DSP tables" in text
    r = json.loads((out / "report.json").read_text())
    assert r["model"] == "impulse.toml" and r["layers"][0]["op"] == "dsp"
    assert (out / "src" / "model_dsp.c").is_file() and (out / "firmware.bin").is_file()


# ---- a model trained on synthetic tone/chirp/noise classes behind the MFCC block

def _tf_version() -> str | None:
    for dist in ("tensorflow-cpu", "tensorflow"):
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            pass
    return None


@pytest.fixture(scope="session")
def tones_dir(request, tmp_path_factory) -> Path:
    """tones.toml + tones.tflite, trained once in a TensorFlow subprocess and cached."""
    if importlib.util.find_spec("tensorflow") is None:
        pytest.skip("TensorFlow (pip install tensorflow-cpu==2.21.0) is not installed: the tone "
                    "classifier cannot be trained")
    key = hashlib.sha256(Path(impulse_data.__file__).read_bytes()).hexdigest()[:12]
    cache = getattr(request.config, "cache", None)
    base = cache.mkdir("tinykiln_impulse") if cache is not None else tmp_path_factory.mktemp("imp")
    d = base / f"v{impulse_data.VERSION}-{key}-tf{_tf_version()}"
    if not (d / "tones.tflite").is_file():
        tmp = base / (d.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONHASHSEED="0")
        r = subprocess.run([sys.executable, str(TESTS / "impulse_data.py"), str(tmp)],
                           capture_output=True, text=True, env=env, timeout=900)
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
        shutil.rmtree(d, ignore_errors=True)
        tmp.rename(d)
    return d


@pytest.fixture(scope="module")
def tones(tones_dir):
    c = compile_file(tones_dir / "tones.toml")
    x, y = impulse_data.signals(120, seed=77)           # not the training seed
    with HostBuild(c, sanitize=True) as hb:
        scores = hb.run([x])[0]
    return c, x, y, scores


@pytest.mark.slow
def test_trained_impulse_classifies_and_matches_tflm(tones, tones_dir):
    c, x, y, scores = tones
    acc = float((scores.reshape(len(x), -1).argmax(1) == y).mean())
    assert acc >= 0.9, f"accuracy {acc:.3f} on held-out synthetic signals"
    ref = tflm_run((tones_dir / "tones.tflite").read_bytes(), [features(c, x)])[0]
    assert int((scores.reshape(ref.shape) != ref).sum()) == 0


@pytest.mark.slow
@pytest.mark.parametrize("board", [pytest.param(b, marks=_tools_for(b))
                                   for b in ("mps2-an386", "mps2-an505", "mps2-an385", "sifive_e")])
def test_trained_impulse_on_qemu_equals_host(board, tones, tmp_path):
    from tinykiln.targets.board import get_board
    from tinykiln.targets.firmware import build_firmware
    from tinykiln.targets.qemu import run_firmware
    c, x, _, scores = tones
    b = get_board(board)
    build_firmware(c, b, tmp_path / "fw")
    res = run_firmware(tmp_path / "fw", b, c.graph, [x])
    assert res.outputs[0].shape == scores.shape
    assert res.outputs[0].tobytes() == scores.tobytes(), board


# ---- the other audio blocks on the host: MFE (two presets) and the spectrogram

AUDIO_BLOCKS = [
    ("librosa mfe", 'block = "mfe"\npreset = "librosa_mfe"\nframe_length = 400\nframe_stride = 200\n'
                    'n_fft = 512\nn_mels = 24', 8000, 16000, 39 * 24, 0.37, -7),
    ("edge impulse mfe", 'block = "mfe"\npreset = "ei_mfe"\nframe_length = 256\nframe_stride = 256\n'
                         'n_fft = 256\nn_mels = 32', 4096, 16000, 16 * 32, 1 / 256, -128),
    ("spectrogram", 'block = "spectrogram"\nframe_length = 128\nframe_stride = 64\nn_fft = 128\n'
                    'window = "hamming"\nbins = [4, 40]', 2048, 8000, 31 * 36, 0.5, 32),
]


@pytest.mark.parametrize("case,dsp,window,sr,n,scale,zp", AUDIO_BLOCKS, ids=[a[0] for a in AUDIO_BLOCKS])
def test_audio_block_impulse_matches_python_model_and_tflm(case, dsp, window, sr, n, scale, zp,
                                                           tmp_path):
    rng = np.random.default_rng(len(case))
    b = ModelBuilder(case)
    x_t = b.input((1, n), scale=scale, zero_point=zp)
    w = b.const(rng.integers(-127, 128, (4, n), dtype=np.int8), scale=[0.004] * 4,
                zero_point=[0] * 4, axis=0)
    y_t = b.tensor((1, 4), scale=0.5, zero_point=0)
    b.op("FULLY_CONNECTED", [x_t, w, -1], [y_t], fused_activation_function="NONE")
    b.output(y_t)
    (tmp_path / "m.tflite").write_bytes(b.build())
    (tmp_path / "i.toml").write_text(f'[input]\nsample_rate = {sr}\nwindow = {window}\n\n[dsp]\n'
                                     f'{dsp}\n\n[model]\npath = "m.tflite"\n')
    c = compile_file(tmp_path / "i.toml")
    x = np.stack([speech_like(s, seconds=window / sr, sr=sr, level_dbfs=lv)[:window]
                  for s, lv in enumerate((-10, -30, -50))])
    f = features(c, x)
    assert f.reshape(3, -1).std(1).min() > 1, "features hardly vary: the test would prove little"
    ref = tflm_run((tmp_path / "m.tflite").read_bytes(), [f])[0]
    with HostBuild(c, sanitize=True) as hb:
        y = hb.run([x])[0]
    assert int((y.reshape(ref.shape) != ref).sum()) == 0


# ---- training features: the float definition agrees with the device's int8 bytes

@pytest.mark.parametrize("which", ["kws", "motion"])
def test_float_features_agree_with_device_features(which, kws_dir, motion_dir, tmp_path, capsys):
    d = kws_dir if which == "kws" else motion_dir
    if which == "kws":
        x = np.stack([speech_like(s, level_dbfs=-12) for s in range(3)])
    else:
        x = _motion_signals(10, seed=9)[2:]
    np.save(tmp_path / "raw.npy", x)
    assert cli(["features", str(d / "impulse.toml"), "--raw", str(tmp_path / "raw.npy"),
                "-o", str(tmp_path / "f.npy")]) == 0
    assert cli(["features", str(d / "impulse.toml"), "--raw", str(tmp_path / "raw.npy"),
                "-o", str(tmp_path / "q.npy"), "--int8"]) == 0
    f, q = np.load(tmp_path / "f.npy"), np.load(tmp_path / "q.npy")
    c = compile_file(d / "impulse.toml")
    assert np.array_equal(q, features(c, x))
    dsp = c.report["dsp"]
    fq = np.clip(np.floor(f / dsp["feature_scale"] + 0.5) + dsp["feature_zero_point"], -128, 127)
    diff = np.abs(fq.reshape(q.shape) - q.astype(np.int64))
    assert diff.max() <= 1 and (diff > 0).mean() < 0.01, (diff.max(), (diff > 0).mean())
    assert len(np.unique(q)) > 20
