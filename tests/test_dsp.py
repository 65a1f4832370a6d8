"""The fixed-point DSP front end (runtime_c/dsp, tinykiln.dsp): C against the bit-exact numpy model
on thousands of random and edge-case frames (portable path, the DSP-extension path with C models of
its intrinsics, and both on emulated Cortex-M4/M0), FFT accuracy against numpy float64, and int8
features against the float references the presets claim to match."""
from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from tinykiln.dsp import frontend as FE
from tinykiln.dsp import model as M
from tinykiln.dsp import ref as R
from tinykiln.dsp import spectral as S
from tinykiln.dsp import tables as T
import dsp_harness as TG     # tests/dsp_harness.py: runtime_c/dsp on emulated boards
from tinykiln.dsp.emit import Emitter
from tinykiln.dsp.host import DspLib, FrontEndHost, SpectralHost, dsp_sources

SIZES = [64, 128, 256, 512, 1024]
UBSAN = ("-fsanitize=undefined", "-fno-sanitize-recover=all", "-g")


@pytest.fixture(scope="module", params=["portable", "simd"])
def lib(request):
    """Host builds of runtime_c/dsp with UBSan (signed overflow, bad shifts abort the run)."""
    return DspLib(request.param, extra=UBSAN)


def edge_frames(n: int, rng, count: int) -> np.ndarray:
    """Random frames plus full scale, silence, DC, single tones, clipped tones, impulses, alternating
    extremes and quiet noise."""
    t = np.arange(n)
    rows = [np.full(n, 32767), np.full(n, -32768), np.zeros(n), np.full(n, -1), np.full(n, 1234),
            np.where(t % 2, 32767, -32768), np.where(t % 4 < 2, 32767, -32768), np.eye(n)[0] * 32767,
            np.eye(n)[n // 2 + 1] * -32768]
    for k in (1, 3, n // 4, n // 2 - 1, n // 2):
        rows.append(np.round(32767 * np.cos(2 * np.pi * k * t / n)))
        rows.append(np.clip(np.round(3 * 32767 * np.sin(2 * np.pi * (k + 0.37) * t / n)), -32768, 32767))
    rows = np.array(rows)
    rnd = rng.integers(-32768, 32768, (max(count - len(rows), 0), n))
    rnd >>= rng.integers(0, 16, (len(rnd), 1))            # every block-floating-point shift
    return np.clip(np.concatenate([rows, rnd]), -32768, 32767).astype(np.int16)


# ------------------------------------------------------------------ real FFT, bit exactness

@pytest.mark.parametrize("n", SIZES)
def test_rfft_q15_bitexact(lib, n):
    rng = np.random.default_rng(n)
    x = edge_frames(n, rng, 600)
    assert np.array_equal(lib.rfft_q15(x), M.rfft_q15(x))
    got, s = lib.rfft_q15(x, bfp=True)
    want, s_want = M.rfft_q15_bfp(x)
    assert np.array_equal(s, s_want) and np.array_equal(got, want)
    if n <= 256:   # twiddles shared with the table of 4n (a suffix of it), real split by stride
        assert np.array_equal(lib.rfft_q15(x[:100], table_n=4 * n), M.rfft_q15(x[:100]))


@pytest.mark.parametrize("n", SIZES)
def test_rfft_q31_bitexact(lib, n):
    rng = np.random.default_rng(n + 1)
    x = rng.integers(-2**31, 2**31, (200, n)) >> rng.integers(0, 31, (200, 1))
    x[:3] = np.array([2**31 - 1, -2**31, 0])[:, None]
    x[3] = np.where(np.arange(n) % 2, 2**31 - 1, -2**31)
    x = x.astype(np.int32)
    assert np.array_equal(lib.rfft_q31(x), M.rfft_q31(x))


def test_log2_isqrt(lib):
    rng = np.random.default_rng(5)
    v = np.concatenate([rng.integers(1, 2**63, 3000, dtype=np.uint64), np.arange(1, 500, dtype=np.uint64),
                        np.uint64(1) << np.arange(64, dtype=np.uint64),
                        (np.uint64(1) << np.arange(1, 64, dtype=np.uint64)) - np.uint64(1)])
    got = lib.log2_q16(v)
    assert np.array_equal(got, M.log2_q16(v))
    assert np.max(np.abs(got / 65536 - np.log2(v.astype(np.float64)))) < 2.5e-5
    w = np.concatenate([rng.integers(0, 2**63, 2000, dtype=np.uint64), np.arange(0, 300, dtype=np.uint64)])
    r = lib.isqrt64(w)
    assert np.array_equal(r, M.isqrt64(w))
    ro = r.astype(object)
    assert all(a * a <= int(b) < (a + 1) * (a + 1) for a, b in zip(ro, w))


def test_single_precision_sqrt_estimate():
    """tk_isqrt32 on single-precision FPUs (Cortex-M4/M33) corrects the VSQRT.F32 estimate
    trunc(sqrt(float(v))) in one direction only: it must never be below floor(sqrt(v)) nor more
    than one above. Both roundings (v to 24 bits, the root) are within 2^-24 relative, so the
    estimate can only miss where sqrt(v) lies within 1.5 2^-8 of an integer t, i.e. for
    |v - t^2| <= 3t/256 + 1: all of those v < 2^32 (about 5e7) are checked here (numpy's float32
    conversion and square root round to nearest like VCVT.F32.U32 and VSQRT.F32)."""
    t = np.arange(1, 65537, dtype=np.int64)
    hw = (3 * t) // 256 + 2
    for a in range(0, len(t), 4096):
        tt, h = t[a:a + 4096], hw[a:a + 4096]
        d = np.arange(-int(h.max()), int(h.max()) + 1)
        v = tt[:, None] ** 2 + d[None, :]
        v = v[(np.abs(d)[None, :] <= h[:, None]) & (v >= 0) & (v < 2**32)]
        est = np.sqrt(v.astype(np.float32)).astype(np.int64)
        exact = M.isqrt64(v.astype(np.uint64)).astype(np.int64)
        assert np.all(est >= exact) and np.all(est <= exact + 1), f"t in [{tt[0]}, {tt[-1]}]"


def test_quantize_n(lib):
    """tk_dsp_quantize_n (the MFE's int8 step: a 32-bit form for shifts >= 33, the 64-bit form
    otherwise and where v + offset leaves int32) against the model."""
    import ctypes as C
    from tinykiln.dsp.host import Quant
    rng = np.random.default_rng(12)
    v = np.concatenate([rng.integers(-2**30, 2**30, 3000), [2**31 - 1, -2**31, 0, 1, -1]]).astype(np.int32)
    fn = lib.lib.tk_dsp_quantize_n
    for x, offset, lo, hi in ((1.3e-4, -3_900_000, -128, 127), (-2.2e-7, 2**30 + 12345, -100, 90),
                              (3.1e-3, 1 << 20, -128, 127), (0.37, -5, -128, 127), (1.7e-9, -2**31, 0, 127)):
        mult, shift = T.quantize_multiplier(x)
        q = dict(offset=offset, mult=mult, shift=shift, zero_point=3, lo=lo, hi=hi)
        out = np.zeros(len(v), np.int8)
        fn(v.ctypes.data_as(C.POINTER(C.c_int32)), len(v), C.byref(Quant(offset, mult, shift, 3, lo, hi)),
           out.ctypes.data_as(C.POINTER(C.c_int8)))
        assert np.array_equal(out, M.quantize(v, q)), (x, offset)


# ------------------------------------------------------------------ real FFT, accuracy (goals)

def snr_db(got: np.ndarray, ref: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(np.abs(ref) ** 2) / np.sum(np.abs(got - ref) ** 2)))


def white_noise(n: int, frames: int, rng, bits: int = 16) -> np.ndarray:
    """-6 dBFS RMS white noise: uniform with RMS 0.5 of full scale (peak 0.866)."""
    amp = np.sqrt(3) * 0.5 * 2.0 ** (bits - 1)
    return np.round(rng.uniform(-amp, amp, (frames, n))).astype(np.int64)


def sines(n: int, frames: int, rng, dbfs: float, bits: int = 16) -> np.ndarray:
    t = np.arange(n)
    f = rng.uniform(1, n / 2 - 1, (frames, 1))
    ph = rng.uniform(0, 2 * np.pi, (frames, 1))
    return np.round(10 ** (dbfs / 20) * 2.0 ** (bits - 1) * np.sin(2 * np.pi * f * t / n + ph)).astype(np.int64)


def ideal_q15_snr(n: int) -> float:
    """An ideal fixed-point q15 real FFT halving and rounding at every radix-2 stage, -6 dBFS
    noise: 63.2 dB at n = 256, 3 dB less per doubling (BASELINES.md)."""
    return 63.2 - 10 * np.log10(n / 256)


@pytest.mark.parametrize("n", SIZES)
def test_rfft_q15_snr(n):
    lib = DspLib("portable")
    rng = np.random.default_rng(100 + n)
    x = white_noise(n, 200, rng).astype(np.int16)
    got = lib.rfft_q15(x).astype(np.float64)
    got = (got[..., 0] + 1j * got[..., 1]) * n                 # documented 1/n scaling undone
    snr = snr_db(got, np.fft.rfft(x.astype(np.float64), axis=1))
    goal = {256: 62.5, 512: 59.5}.get(n, ideal_q15_snr(n) - 0.7)
    assert snr >= goal, f"n={n}: {snr:.2f} dB < {goal:.2f} dB"
    # -40 dBFS sine through block floating point: X = FFT(x 2^s) / n
    y = sines(n, 200, rng, -40.0).astype(np.int16)
    got, s = lib.rfft_q15(y, bfp=True)
    got = (got[..., 0] + 1j * got[..., 1]) * n / 2.0 ** s[:, None]
    snr = snr_db(got, np.fft.rfft(y.astype(np.float64), axis=1))
    assert snr >= 55.0, f"n={n}: -40 dBFS sine {snr:.2f} dB < 55 dB"


@pytest.mark.parametrize("n", [64, 256, 1024])
def test_rfft_q31_snr(n):
    rng = np.random.default_rng(200 + n)
    x = np.clip(white_noise(n, 50, rng, bits=32), -2**31, 2**31 - 1).astype(np.int32)
    got = DspLib("portable").rfft_q31(x).astype(np.float64)
    snr = snr_db((got[..., 0] + 1j * got[..., 1]) * n, np.fft.rfft(x.astype(np.float64), axis=1))
    assert snr >= 150.0 - 10 * np.log10(n / 256), f"n={n}: {snr:.1f} dB"


def test_rfft_q15_table_budget():
    assert T.rfft_q15_tables(512).nbytes <= 4096


# ------------------------------------------------------------------ features

PRESETS = ["librosa_mfe", "ei_mfe", "tf_mfcc", "spectrogram"]
SIGNALS = [(1, -20.0), (2, -30.0), (3, -12.0), (4, -40.0), (5, -6.0)]


@pytest.fixture(scope="module")
def speech():
    return [R.speech_like(seed, 1.0, level_dbfs=lv) for seed, lv in SIGNALS]


# every branch of the frame preparation and of the spectrum: pre-emphasis with and without a
# window, an odd frame length (the paired window loop's tail), magnitude and power
VARIANTS = [(name, {}) for name in PRESETS] + [
    ("librosa_mfe", dict(preemph=0.97)), ("tf_mfcc", dict(frame_length=401)),
    ("spectrogram", dict(window="none")), ("ei_mfe", dict(spectrum="magnitude", frame_length=255)),
    ("tf_mfcc", dict(frame_length=640, frame_stride=320, n_fft=1024, n_mfcc=10))]


@pytest.mark.parametrize("name,over", VARIANTS, ids=lambda v: v if isinstance(v, str) else
                         ",".join(f"{k}={w}" for k, w in v.items()) or "preset")
def test_frontend_bitexact(lib, name, over, speech):
    t = FE.build(FE.preset(name, **over))
    h = FrontEndHost(lib, t)
    for s in speech[:2]:                       # whole signals through the *_frames entry point
        assert np.array_equal(h.run_signal(s), M.run_signal(t, s))
    rng = np.random.default_rng(7)
    fr = edge_frames(t.frame_length, rng, 400)
    prev = rng.integers(-32768, 32768, len(fr)).astype(np.int16)
    want = M.mfcc(t, fr, prev) if t.dct is not None else M.mfe(t, fr, prev)
    assert np.array_equal(h.frames(fr, prev), want)


@pytest.mark.parametrize("name", PRESETS)
def test_frontend_matches_float_reference(name, speech):
    """Goal 3: at most 1% of int8 feature bytes differ from the float reference the preset claims
    to match, none by more than 1 LSB."""
    fe = FE.preset(name)
    t = FE.build(fe)
    h = FrontEndHost(DspLib("portable"), t)
    got = np.concatenate([h.run_signal(s) for s in speech]).astype(int)
    want = np.concatenate([R.features(fe, s) for s in speech]).astype(int)
    d = np.abs(got - want)
    assert d.size > 2000
    assert np.mean(d > 0) <= 0.01, f"{name}: {100 * np.mean(d > 0):.2f}% of bytes differ"
    assert d.max() <= 1


def spectral_frames(sp, rng, count):
    n = sp.frame_length
    t = np.arange(n) / sp.sample_rate
    x = np.zeros((count, n))
    for _ in range(3):
        x += rng.uniform(0.01, 0.3, (count, 1)) * np.sin(2 * np.pi * rng.uniform(0.5, 45, (count, 1)) * t
                                                      + rng.uniform(0, 6, (count, 1)))
    x += rng.uniform(-0.5, 0.5, (count, 1)) + 0.01 * rng.standard_normal((count, n))
    return np.clip(np.round(x * 32768), -32768, 32767).astype(np.int16)


def test_spectral(lib):
    sp = S.Spectral()
    t = S.build(sp)
    rng = np.random.default_rng(11)
    fr = spectral_frames(sp, rng, 600)
    edge = edge_frames(sp.frame_length, rng, 100)
    h = SpectralHost(lib, t)
    got = h.frames(np.concatenate([fr, edge]))
    assert np.array_equal(got, S.model(t, np.concatenate([fr, edge])))
    d = np.abs(got[:len(fr)].astype(int) - S.reference(sp, fr))   # float peaks of flat frames are noise
    assert np.mean(d > 0) <= 0.01 and d.max() <= 1


# ------------------------------------------------------------------ cross builds and the target

CROSS = {
    "cortex-m4": ["-mcpu=cortex-m4", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"],
    "cortex-m7": ["-mcpu=cortex-m7", "-mfpu=fpv5-d16", "-mfloat-abi=hard"],
    "cortex-m3": ["-mcpu=cortex-m3"],
    "cortex-m0": ["-mcpu=cortex-m0"],
}
DSP_CORES = ("cortex-m4", "cortex-m7")


@pytest.mark.parametrize("cpu", list(CROSS))
def test_cross_compile(cpu, tmp_path):
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc is not installed")
    em = Emitter("tests/test_dsp.py")
    for n in SIZES:
        em.rfft_q15(n)
    em.rfft_q15(64, "shared_64", table_n=1024)
    for name in PRESETS:
        em.frontend(FE.build(FE.preset(name)), f"cfg_{name}")
    em.spectral(S.build(S.Spectral()), "cfg_spectral")
    (tmp_path / "tables.c").write_text(em.source())
    inc = str(dsp_sources()[0].parent)
    for src in [*dsp_sources(), tmp_path / "tables.c"]:
        obj = tmp_path / (src.stem + ".o")
        r = subprocess.run(["arm-none-eabi-gcc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-mthumb",
                            *CROSS[cpu], "-I", inc, "-c", str(src), "-o", str(obj)], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
    dis = {k: subprocess.run(["arm-none-eabi-objdump", "-d", str(tmp_path / f"{k}.o")], capture_output=True,
                             text=True).stdout for k in ("rfft_q15", "logmel")}
    # the DSP-extension paths only where they exist; the magnitude from the FPU's square root
    assert ("shadd16" in dis["rfft_q15"]) == (cpu in DSP_CORES)
    assert ("smmulr" in dis["logmel"]) == (cpu in DSP_CORES)
    assert ("vsqrt.f64" in dis["logmel"]) == (cpu == "cortex-m7")
    assert ("vsqrt.f32" in dis["logmel"]) == (cpu == "cortex-m4")


@pytest.mark.parametrize("cpu", ["cortex-m4", "cortex-m0"])
def test_target_bitexact_and_speed(cpu):
    """The target build on emulated hardware: same bits as the model; on Cortex-M4 the instruction
    goals of the real FFT (6,700 at n = 256, 12,450 at n = 512, -O2)."""
    why = TG.available(cpu)
    if why:
        pytest.skip(why)
    rng = np.random.default_rng(3)
    for n in (64, 256, 512, 1024):
        x = edge_frames(n, rng, 30 if cpu == "cortex-m4" else 20)
        out, count = TG.run("rfft_q15", x, cpu=cpu)
        assert np.array_equal(out, M.rfft_q15(x)), f"{cpu} n={n}"
        if cpu == "cortex-m4" and count is not None and n in (256, 512):
            assert int(count.max()) <= {256: 6700, 512: 12450}[n], f"n={n}: {count.max()} instructions"
    x = edge_frames(64, rng, 20)             # tables shared with n = 256 (twiddle tail, post stride)
    out, _ = TG.run("rfft_q15", x, cpu=cpu, table_n=256, count=False)
    assert np.array_equal(out, M.rfft_q15(x))
    t = FE.build(FE.preset("tf_mfcc"))
    fr, prev = M.frames(R.speech_like(9, 0.2), t.frame_length, t.frame_stride)
    out, _ = TG.run("frontend", fr[:4], cpu=cpu, tables=t, prev=prev[:4], count=False)
    assert np.array_equal(out, M.mfcc(t, fr[:4], prev[:4]))


# ------------------------------------------------------------------ the references themselves

def test_reference_tf_mfcc_is_tensorflow():
    """ref.py's tf_mfcc definition against tf.signal itself (the TF speech example's pipeline)."""
    tf = pytest.importorskip("tensorflow", reason="tensorflow is not installed (pip install tinykiln[tf])")
    fe = FE.preset("tf_mfcc")
    s = R.speech_like(1, 0.5, level_dbfs=-20)
    stft = tf.signal.stft(tf.constant(s.astype(np.float32) / 32768.0)[None], frame_length=fe.frame_length,
                          frame_step=fe.frame_stride, fft_length=fe.n_fft)
    w = tf.signal.linear_to_mel_weight_matrix(fe.n_mels, fe.n_fft // 2 + 1, fe.sample_rate, fe.fmin, fe.fmax)
    log_mel = tf.math.log(tf.tensordot(tf.abs(stft), w, 1) + 1e-6)
    want = tf.signal.mfccs_from_log_mel_spectrograms(log_mel)[..., :fe.n_mfcc].numpy()[0]
    got = R.log_features(fe, s)
    assert got.shape == want.shape and np.abs(got - want).max() < 1e-4      # float32 round-off
    assert np.array_equal(R.quantize_features(fe, got), R.quantize_features(fe, want))


def test_reference_librosa_mfe_is_librosa():
    librosa = pytest.importorskip("librosa", reason="librosa is not installed (test-only cross-check)")
    fe = FE.preset("librosa_mfe")
    s = R.speech_like(1, 0.5, level_dbfs=-20)
    S_ = librosa.feature.melspectrogram(y=s / 32768.0, sr=fe.sample_rate, n_fft=fe.n_fft, hop_length=fe.frame_stride,
                                        win_length=fe.frame_length, window="hann", center=False, power=2.0,
                                        n_mels=fe.n_mels)
    want = librosa.power_to_db(S_, ref=1.0, amin=1e-10, top_db=None).T
    assert np.abs(R.log_features(fe, s) - want).max() < 1e-4


def test_reference_ei_mfe_is_speechpy():
    speechpy = pytest.importorskip("speechpy", reason="speechpy is not installed (test-only cross-check)")
    fe = FE.preset("ei_mfe")
    s = R.speech_like(1, 0.5, level_dbfs=-20)
    y = speechpy.processing.preemphasis(s / 32768.0, cof=fe.preemph, shift=1)
    e, _ = speechpy.feature.mfe(y, fe.sample_rate, frame_length=fe.frame_length / fe.sample_rate,
                                frame_stride=fe.frame_stride / fe.sample_rate, num_filters=fe.n_mels,
                                fft_length=fe.n_fft, low_frequency=0, high_frequency=None)
    want = 10 * np.log10(np.clip(e, 1e-30, None))
    got = R.log_features(fe, s)[:len(want)]
    # frame 0 differs by design: speechpy's np.roll feeds the last sample into the first one's history
    assert np.abs(got[1:] - want[1:]).max() < 1e-6


# ------------------------------------------------------------------ no saturation inside the FFT

@pytest.mark.parametrize("name", ["librosa_mfe", "ei_mfe"])
def test_loud_frames_do_not_saturate_the_fft(name):
    """Full-scale binary and uniform noise: the log mel energies of the fixed-point model
    (bit-exact with the C) stay within 0.2 dB of float64 in every band of every frame. With the
    frame's peak shifted up to full scale, the first radix-4 stage (complex pairs of up to sqrt(2)
    times the peak) saturated: ei_mfe was off by up to 20 dB on about half of these frames."""
    fe = FE.preset(name)
    t = FE.build(fe)
    rng = np.random.default_rng(3)
    L = t.frame_length
    binary = np.where(rng.random((2000, L)) < 0.5, -32767, 32767)
    uniform = rng.integers(-32768, 32768, (1000, L))
    fr = np.concatenate([binary, uniform]).astype(np.int16)
    prev = rng.integers(-32768, 32768, len(fr)).astype(np.int16)
    v = M.log_mel_frames(t, fr, prev)
    got = FE.DB_PER_LOG2 * (v + t.base_q16) / 65536.0
    x = fr.astype(np.float64) / 32768.0
    if fe.preemph:
        x = x - fe.preemph * np.concatenate([prev[:, None] / 32768.0, x[:, :-1]], 1)
    if fe.window != "none":
        x = x * T.window(fe.window, L, fe.periodic_window)
    P = np.abs(np.fft.rfft(x, n=t.n, axis=1)) ** 2 * fe.spectrum_scale
    want = 10 * np.log10(np.maximum(P @ FE.mel_filterbank(fe).T, fe.eps))
    err = np.abs(got - want)
    assert err.max() < 0.2, (f"{name}: a band off by {err.max():.3f} dB; "
                             f"{int((err.max(1) > 0.2).sum())} frames of {len(fr)}")
