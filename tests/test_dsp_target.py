"""runtime_c/dsp on emulated Cortex-M7 (mps2-an500) and the Q31 long-multiply path: same bits as
the numpy model (tinykiln.dsp.model) on the target, in an image built from the firmware's templates
and flags and run by its QEMU runner (tests/dsp_harness.py); the SMLAL path of rfft_q31.c against
its portable reference, saturating cases included; and the flash and instruction figures the
benchmark (benchmarks/dsp_bench.py) reports."""
from __future__ import annotations

import ctypes as C
import shutil
import subprocess

import numpy as np
import pytest

from tinykiln.dsp import model as M
from tinykiln.dsp import tables as T
import dsp_harness as TG
from tinykiln.dsp.host import DspLib, RfftQ31Cfg

UBSAN = ("-fsanitize=undefined", "-fno-sanitize-recover=all", "-g")
CMSIS_Q31 = {256: 19199, 512: 37127}      # arm_rfft_q31, Cortex-M4 -O3 (BASELINES.md)


def needs_target(cpu: str):
    why = TG.available(cpu)
    if why:
        pytest.skip(why)


def q15_frames(n: int, rng, count: int) -> np.ndarray:
    """Full scale, silence, alternating extremes, a clipped tone, then random frames at every
    block-floating-point shift."""
    t = np.arange(n)
    rows = [np.full(n, 32767), np.full(n, -32768), np.zeros(n), np.where(t % 2, 32767, -32768),
            np.clip(np.round(3 * 32767 * np.sin(2 * np.pi * 3.37 * t / n)), -32768, 32767)]
    rnd = rng.integers(-32768, 32768, (count - len(rows), n)) >> rng.integers(0, 16, (count - len(rows), 1))
    return np.concatenate([np.array(rows), rnd]).astype(np.int16)


def q31_frames(n: int, rng, count: int) -> np.ndarray:
    """Random frames at every shift plus full-scale random signs: the latter make first-stage
    rotations saturate (|h| up to sqrt(2) of full scale), the path only overflowing values take."""
    k = count // 2
    rnd = rng.integers(-2**31, 2**31, (k, n)) >> rng.integers(0, 31, (k, 1))
    signs = np.where(rng.integers(0, 2, (count - k, n)) > 0, 2**31 - 1, -2**31)
    return np.concatenate([rnd, signs]).astype(np.int32)


# ------------------------------------------------------------------ Cortex-M7 (mps2-an500)

@pytest.mark.parametrize("n", [64, 256, 1024])
def test_m7_same_bits_as_model(n):
    needs_target("cortex-m7")
    rng = np.random.default_rng(70 + n)
    x = q15_frames(n, rng, 24)
    r = TG.run_target("rfft_q15", x, "cortex-m7")
    assert np.array_equal(r.outputs, M.rfft_q15(x)), f"q15 n={n}"
    (got, s), _ = TG.run("rfft_q15_bfp", x, cpu="cortex-m7", count=False)
    want, s_want = M.rfft_q15_bfp(x)
    assert np.array_equal(s, s_want) and np.array_equal(got, want), f"q15 BFP n={n}"
    x31 = q31_frames(n, rng, 16)
    out, _ = TG.run("rfft_q31", x31, cpu="cortex-m7", count=False)
    assert np.array_equal(out, M.rfft_q31(x31)), f"q31 n={n}"
    # the flash figures the benchmark prints: ELF symbol sizes = the emitted tables + the config
    assert sum(v for k, v in r.tables.items() if k.startswith(f"cfg_{n}_")) == T.rfft_q15_tables(n).nbytes
    assert 0 < r.code["rfft_q15"] < 2048
    if r.counts is not None:           # every frame takes the same path: one count per call
        assert len(set(r.counts.tolist())) == 1 and r.counts[0] < 30 * n


def test_m7_build_takes_the_dsp_paths():
    """The firmware's flags for mps2-an500 select the DSP-extension q15 path and the SMLAL q31
    path (a wrong preprocessor condition would silently fall back to the portable C)."""
    needs_target("cortex-m7")
    x = np.zeros((1, 64), np.int16)
    dis = TG.run_target("rfft_q15", x, "cortex-m7", count=False, disassemble=("rfft_q15", "rfft_q31")).objects
    assert "shadd16" in dis["rfft_q15"] and "smlad" in dis["rfft_q15"]
    assert "smlal" in dis["rfft_q31"]


def test_harness_image_is_a_firmware_image(tmp_path):
    """The harness image is built as `tinykiln build` builds a model's: the same startup, console,
    exit, helper and linker-script files, the same compile and link flags (plus the caller's), and
    no other main than the harness's."""
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc is not installed")
    from tinykiln.demo import demo_model
    from tinykiln.inputs import compile_file
    from tinykiln.targets.firmware import firmware_sources
    (tmp_path / "demo.tflite").write_bytes(demo_model())
    c = compile_file(tmp_path / "demo.tflite")
    for board in ("mps2-an500", "microbit"):
        b = TG.get_board(board)
        fw = firmware_sources(c, b)
        cfg_h = TG._config("rfft_q15", 64, None, None)[0]
        hs = firmware_sources(None, b, TG.harness_files(cfg_h), ("-DTK_DSP_PORTABLE",))
        shared = [k for k in fw if k not in c.files and k not in ("tk_config.h", "SConstruct")]
        assert {"link.ld", "tk_common.c", f"startup_{b.arch}.c", f"exit_{b.exit}.c"} <= set(shared)
        for k in shared:
            if k.startswith("main_"):
                assert k not in hs, k
            else:
                assert hs[k] == fw[k], k
        assert [k for k in hs if k.startswith("main")] == []
        lines = lambda f, key: next(ln for ln in f["SConstruct"].splitlines() if ln.strip().startswith(key))
        assert lines(hs, "LINKFLAGS") == lines(fw, "LINKFLAGS")
        assert lines(hs, "CFLAGS") == lines(fw, "CFLAGS").replace('"-ffile-prefix-map=',
                                                                  '"-DTK_DSP_PORTABLE", "-ffile-prefix-map=')


# ------------------------------------------------------------------ the Q31 long-multiply path

@pytest.fixture(scope="module")
def q31_libs():
    """Host builds: the portable reference and the long-multiply path (SMLAL modelled in C)."""
    return DspLib("portable", extra=UBSAN), DspLib("simd", extra=UBSAN)


def _q31_cfg(n: int, post: np.ndarray, keep: list) -> RfftQ31Cfg:
    tw = np.ascontiguousarray(T.twiddles_q30(n // 2))
    perm = np.ascontiguousarray(T.rfft_q15_tables(n).perm)
    post = np.ascontiguousarray(post, np.int32)
    keep += [tw, perm, post]
    ptr = lambda a, t: a.ctypes.data_as(C.POINTER(t))
    return RfftQ31Cfg(n, 1, 1, 0, ptr(tw, C.c_int32), ptr(perm, C.c_uint16), ptr(post, C.c_int32))


def _run_cfg(lib: DspLib, cfg: RfftQ31Cfg, x: np.ndarray) -> np.ndarray:
    n = x.shape[1]
    out = np.zeros((len(x), n // 2 + 1, 2), np.int32)
    for i in range(len(x)):
        buf = np.array(x[i], np.int32)           # a copy: the FFT works in place
        lib.lib.tk_rfft_q31(C.byref(cfg), buf.ctypes.data_as(C.POINTER(C.c_int32)),
                            out[i].ctypes.data_as(C.POINTER(C.c_int32)))
    return out


@pytest.mark.parametrize("n", [64, 128, 512])
def test_q31_longmul_saturation(q31_libs, n):
    """Both C paths against the model where rotations saturate; then with a real-split table
    whose coefficients (|P| = 0.99, inside the documented |sum| < 2^62.5) push constant
    full-scale frames past int32 on both sides, so the real split's saturation is taken too."""
    ref, lm = q31_libs
    rng = np.random.default_rng(300 + n)
    x = q31_frames(n, rng, 40)
    want = M.rfft_q31(x)
    assert np.array_equal(ref.rfft_q31(x), want) and np.array_equal(lm.rfft_q31(x), want)
    c = int(0.7 * 2**30)
    post = np.tile(np.array([c, -c, c, c], np.int64), (n // 4 + 1, 1))
    keep: list = []
    xs = np.concatenate([np.full((1, n), 2**31 - 1), np.full((1, n), -2**31), x[:8]]).astype(np.int32)
    got_ref = _run_cfg(ref, _q31_cfg(n, post, keep), xs)
    got_lm = _run_cfg(lm, _q31_cfg(n, post, keep), xs)
    assert got_ref[0, 0, 0] == 2**31 - 1 and got_ref[1, 0, 0] == -2**31      # saturated both ways
    assert np.array_equal(got_lm, got_ref)


@pytest.mark.parametrize("n", [64, 256, 1024])
def test_q31_half_scale_entry(q31_libs, n):
    """tk_rfft_q31_hs (the feature blocks' FFT: no saturation tests) gives tk_rfft_q31's bits on
    half-scale input, |x| <= 2^30, extremes included: both host paths against the model."""
    rng = np.random.default_rng(400 + n)
    x = rng.integers(-2**30, 2**30 + 1, (40, n)) >> rng.integers(0, 30, (40, 1))
    signs = np.where(rng.integers(0, 2, (20, n)) > 0, 2**30, -2**30)
    t = np.arange(n)
    rows = [np.full(n, 2**30), np.full(n, -2**30), np.where(t % 2, 2**30, -2**30), np.where(t % 4 < 2, 2**30, -2**30)]
    x = np.concatenate([x, signs, rows]).astype(np.int32)
    want = M.rfft_q31(x)
    for lib in q31_libs:
        cfg = lib.rfft_q31_cfg(n)
        out = np.zeros((len(x), n // 2 + 1, 2), np.int32)
        for i in range(len(x)):
            buf = np.array(x[i], np.int32)
            lib.lib.tk_rfft_q31_hs(C.byref(cfg), buf.ctypes.data_as(C.POINTER(C.c_int32)),
                                   out[i].ctypes.data_as(C.POINTER(C.c_int32)))
        assert np.array_equal(out, want), lib.path


@pytest.mark.parametrize("cpu", ["cortex-m7", "cortex-m4", "cortex-m3"])
def test_frontend_variants_on_target(cpu):
    """The feature blocks' target paths (SMMULR window loop, VSQRT.F64 / VSQRT.F32 / digit-loop
    magnitudes, UMLAL filterbanks, the half-scale FFT) give the model's bits on Cortex-M7, M4
    and M3, for a frame of every preparation branch (pre-emphasis with and without window, odd
    length) and both spectra."""
    needs_target(cpu)
    from tinykiln.dsp import frontend as FE
    from tinykiln.dsp import ref as R
    rng = np.random.default_rng(17)
    for name, over in (("librosa_mfe", dict(preemph=0.97, frame_length=401)), ("ei_mfe", {}),
                       ("tf_mfcc", dict(frame_length=640, frame_stride=320, n_fft=1024, n_mfcc=10))):
        t = FE.build(FE.preset(name, **over))
        fr, prev = M.frames(R.speech_like(3, 0.3, level_dbfs=-12), t.frame_length, t.frame_stride)
        loud = np.where(rng.random((2, t.frame_length)) < 0.5, -32768, 32767)
        fr = np.concatenate([fr[:5], loud]).astype(np.int16)
        prev = np.concatenate([prev[:5], [-32768, 32767]]).astype(np.int16)
        out, _ = TG.run("frontend", fr, cpu=cpu, tables=t, prev=prev, count=False)
        want = M.mfcc(t, fr, prev) if t.dct is not None else M.mfe(t, fr, prev)
        assert np.array_equal(out, want), f"{cpu} {name} {over}"


@pytest.mark.parametrize("cpu", ["cortex-m4", "cortex-m3"])
def test_q31_longmul_on_target(cpu):
    """The SMLAL path on emulated Cortex-M4 and M3: the model's bits, saturating frames included,
    and on the M4 fewer instructions than CMSIS-DSP's arm_rfft_q31 (the portable reference takes
    23,239 / 51,806 at n = 256 / 512)."""
    needs_target(cpu)
    rng = np.random.default_rng(31)
    for n in (64, 256, 512, 1024):
        x = q31_frames(n, rng, 10)
        out, count = TG.run("rfft_q31", x, cpu=cpu)
        assert np.array_equal(out, M.rfft_q31(x)), f"{cpu} n={n}"
        if cpu == "cortex-m4" and count is not None and n in CMSIS_Q31:
            typical = int(count[: len(x) // 2].max())          # the frames that do not saturate
            assert typical < CMSIS_Q31[n], f"n={n}: {typical} instructions"


def test_cross_compile_q31_paths(tmp_path):
    """rfft_q31.c warning-free for every Arm core family and both paths; SMLAL only where
    Thumb-2 exists."""
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc is not installed")
    from tinykiln.dsp.host import dsp_sources
    src = next(p for p in dsp_sources() if p.name == "rfft_q31.c")
    for cpu, smlal in (("cortex-m0", False), ("cortex-m0plus", False), ("cortex-m3", True),
                       ("cortex-m33", True), ("cortex-m55", True)):
        for extra in ((), ("-DTK_DSP_NO_ASM",), ("-DTK_DSP_PORTABLE",)):
            obj = tmp_path / "q31.o"
            r = subprocess.run(["arm-none-eabi-gcc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-mthumb",
                                f"-mcpu={cpu}", *extra, "-I", str(src.parent), "-c", str(src), "-o", str(obj)],
                               capture_output=True, text=True)
            assert r.returncode == 0, f"{cpu} {extra}: {r.stderr}"
            if not extra:
                dis = subprocess.run(["arm-none-eabi-objdump", "-d", str(obj)], capture_output=True, text=True).stdout
                assert ("smlal" in dis) == smlal, cpu
