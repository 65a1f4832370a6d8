"""DSP front-end benchmark (issue 5): the q15 and q31 real FFTs of runtime_c/dsp run on emulated
Cortex-M4 (mps2-an386) and Cortex-M7 (mps2-an500) under the firmware's QEMU runner, in images built
as `tinykiln build` builds them (the board's templates, flags and SCons; tests/dsp_harness.py).
For n = 64 .. 1024 it prints SNR against numpy's float64 FFT of the same quantised input (1/n
scaling and the block-floating-point exponent undone), exact instructions per call (the project's
QEMU plugin), flash bytes of the tables (ELF symbol sizes) and of the code the call links
in (link map, --gc-sections), CMSIS-DSP's arm_rfft_q15/q31 anchors from ../shared/BASELINES.md with
ratios (ratio < 1: tinykiln is faster), the int8 MFE/MFCC features against the float references of
their presets, and PASS/FAIL per goal line. Every target output is also compared bit for bit with
the numpy model (tinykiln.dsp.model). Without arm-none-eabi-gcc/qemu-system-arm it measures SNR and
features on the host build and says so.

    python benchmarks/dsp_bench.py [--frames 100] [--boards mps2-an386,mps2-an500] [--sizes 64,256]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from tinykiln.dsp import frontend as FE
from tinykiln.dsp import model as M
from tinykiln.dsp import ref as R
from tinykiln.dsp import tables as T
from tinykiln.dsp.host import DspLib, FrontEndHost

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import dsp_harness as TG  # noqa: E402  (the image builder and runner the DSP tests use)

SIZES = [64, 128, 256, 512, 1024]
BOARDS = {"mps2-an386": "cortex-m4", "mps2-an500": "cortex-m7"}

# CMSIS-DSP, Cortex-M4 build -O3, QEMU mps2-an386 (BASELINES.md)
CMSIS_Q15 = {
    "instructions": {64: 2091, 128: 3836, 256: 9631, 512: 17789, 1024: 43591},
    "noise": {64: 58.4, 128: 59.4, 256: 52.7, 512: 53.5, 1024: 46.9},
    "sine": {64: 24.5, 128: 25.4, 256: 18.8, 512: 19.7, 1024: 13.4},
}
CMSIS_Q31 = {"instructions": {256: 19199, 512: 37127}, "noise": "139-157"}

# Issue 5 goals
GOAL_NOISE = {256: 62.5, 512: 59.5}          # q15, -6 dBFS white noise
GOAL_SINE = 55.0                             # q15 (BFP), -40 dBFS sine, every n
GOAL_INSTR = {256: 6700, 512: 12450}         # q15, stated for mps2-an386
GOAL_TABLES_512 = 4096
GOAL_FEATURE_FRAC, GOAL_FEATURE_LSB = 0.01, 1
PRESETS = ["librosa_mfe", "ei_mfe", "tf_mfcc", "spectrogram"]
SPEECH = [(1, -20.0), (2, -30.0), (3, -12.0), (4, -40.0), (5, -6.0)]   # as tests/test_dsp.py


def snr_db(got: np.ndarray, ref: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(np.abs(ref) ** 2) / np.sum(np.abs(got - ref) ** 2)))


def ideal_q15(n: int) -> float:
    """Ideal q15 FFT halving and rounding at every radix-2 stage, -6 dBFS noise (BASELINES.md)."""
    return 63.2 - 10 * np.log10(n / 256)


def signals(n: int, frames: int, rng, bits: int):
    """-6 dBFS RMS uniform white noise and -40 dBFS sines (random frequency and phase)."""
    full = 2.0 ** (bits - 1)
    amp = np.sqrt(3) * 0.5 * full
    noise = np.clip(np.round(rng.uniform(-amp, amp, (frames, n))), -full, full - 1)
    t = np.arange(n)
    f = rng.uniform(1, n / 2 - 1, (frames, 1))
    ph = rng.uniform(0, 2 * np.pi, (frames, 1))
    sine = np.round(0.01 * full * np.sin(2 * np.pi * f * t / n + ph))
    dt = np.int16 if bits == 16 else np.int32
    return noise.astype(dt), sine.astype(dt)


def spectrum_snr(X: np.ndarray, x: np.ndarray, shift=None) -> float:
    n = x.shape[1]
    X = X.astype(np.float64)
    z = (X[..., 0] + 1j * X[..., 1]) * n
    if shift is not None:
        z = z / 2.0 ** np.asarray(shift, np.float64)[:, None]
    return snr_db(z, np.fft.rfft(x.astype(np.float64), axis=1))


def frame_snr_min(X: np.ndarray, x: np.ndarray) -> float:
    """The worst single frame's SNR (a saturated butterfly shows up here)."""
    return min(spectrum_snr(X[i:i + 1], x[i:i + 1]) for i in range(len(x)))


def table_bytes(objects: dict, prefix: str) -> int:
    """Flash bytes of the const objects the emitter named after one config (tables + struct)."""
    return sum(v for k, v in objects.items() if k == prefix or k.startswith(prefix + "_"))


def measure_fft(cpu: str | None, n: int, frames: int, rng, lib: DspLib) -> dict:
    x, y = signals(n, frames, rng, 16)
    x31, y31 = signals(n, frames, rng, 32)
    r: dict = {"n": n}
    if cpu is None:                                   # host build: SNR only
        X = lib.rfft_q15(x)
        Y, s = lib.rfft_q15(y, bfp=True)
        Z = lib.rfft_q31(np.concatenate([x31, y31]))
        r.update(exact=None, instr=None, instr_bfp=None, instr31=None, instr31_ref=None, code=None, code31=None,
                 tables=T.rfft_q15_tables(n).nbytes, tables31=None, tables_src="emitter")
    else:
        a = TG.run_target("rfft_q15", x, cpu)
        b = TG.run_target("rfft_q15_bfp", y, cpu)
        c = TG.run_target("rfft_q31", np.concatenate([x31, y31]), cpu)
        ref31 = TG.run_target("rfft_q31", x31[:4], cpu, extra_cflags=("-DTK_DSP_PORTABLE",))
        X, (Y, s), Z = a.outputs, b.outputs, c.outputs
        Yw, sw = M.rfft_q15_bfp(y)
        r["exact"] = (np.array_equal(X, M.rfft_q15(x)) and np.array_equal(Y, Yw) and np.array_equal(s, sw)
                      and np.array_equal(Z, M.rfft_q31(np.concatenate([x31, y31])))
                      and np.array_equal(ref31.outputs, M.rfft_q31(x31[:4])))
        cnt = lambda t: None if t.counts is None else int(t.counts[:frames].max())
        r.update(instr=cnt(a), instr_bfp=cnt(b), instr31=cnt(c), instr31_ref=cnt(ref31),
                 code=a.code.get("rfft_q15", 0), code_bfp=sum(b.code.values()), code31=c.code.get("rfft_q31", 0),
                 tables=table_bytes(a.tables, f"cfg_{n}"), tables31=table_bytes(c.tables, f"tk_rfft_q31_cfg_{n}"),
                 tables_src="ELF")
    r["noise"] = spectrum_snr(X, x)
    r["noise_min"] = frame_snr_min(X, x)
    r["sine"] = spectrum_snr(Y, y, s)
    r["noise31"] = spectrum_snr(Z[:frames], x31)
    r["noise31_min"] = frame_snr_min(Z[:frames], x31)
    r["sine31"] = spectrum_snr(Z[frames:], y31)
    return r


def measure_features(cpu: str | None, name: str, speech: list) -> dict:
    fe = FE.preset(name)
    t = FE.build(fe)
    fr, prev = zip(*(M.frames(s, t.frame_length, t.frame_stride) for s in speech))
    fr, prev = np.concatenate(fr), np.concatenate(prev)
    want_model = M.mfcc(t, fr, prev) if t.dct is not None else M.mfe(t, fr, prev)
    r = {"preset": name, "block": "MFCC" if t.dct is not None else "MFE", "frames": len(fr)}
    if cpu is None:
        got, counts = FrontEndHost(DspLib("portable"), t).frames(fr, prev), None
    else:
        got, counts = TG.run("frontend", fr, cpu=cpu, tables=t, prev=prev)
    r["exact"] = bool(np.array_equal(got, want_model))
    ref = np.concatenate([R.features(fe, s) for s in speech]).astype(int)
    d = np.abs(got.astype(int) - ref)
    r.update(bytes=d.size, differ=float(np.mean(d > 0)), max_lsb=int(d.max()),
             instr=None if counts is None else int(counts.max()))
    r["ok"] = r["differ"] <= GOAL_FEATURE_FRAC and r["max_lsb"] <= GOAL_FEATURE_LSB
    return r


STEP_NAMES = ["prepare", "FFT", "spectrum", "filterbank + log", "DCT + int8"]


def step_configs() -> dict:
    """The presets, and the MFCC of `tinykiln demo`'s impulse (tinykiln.demo.DEMO_IMPULSE)."""
    from dataclasses import replace
    out = {p: FE.preset(p) for p in PRESETS}
    out["demo (tf_mfcc, n_fft 1024)"] = replace(FE.preset("tf_mfcc"), frame_length=640, frame_stride=320,
                                               n_fft=1024, n_mfcc=10)
    return out


def measure_steps(cpu: str, fe, speech: list, frames: int = 6) -> dict:
    """Instructions per step of one frame: runtime_c/dsp built with -DTK_DSP_PROFILE calls the
    marker between the steps of tk_logmel (prepare, FFT, spectrum, filterbank and log; the MFE's
    int8 step counts with the last, the MFCC's DCT and int8 apart). Largest count per step over a
    few frames of the speech signals; the outputs are checked against the model too."""
    t = FE.build(fe)
    fr, prev = zip(*(M.frames(s, t.frame_length, t.frame_stride) for s in speech))
    fr, prev = np.concatenate(fr), np.concatenate(prev)
    idx = np.linspace(0, len(fr) - 1, frames).astype(int)
    fr, prev = fr[idx], prev[idx]
    r = TG.run_target("frontend", fr, cpu, tables=t, prev=prev, extra_cflags=("-DTK_DSP_PROFILE",))
    want = M.mfcc(t, fr, prev) if t.dct is not None else M.mfe(t, fr, prev)
    steps = np.diff(r.samples.reshape(len(fr), -1), axis=1).max(0)
    return {"steps": [int(v) for v in steps], "exact": bool(np.array_equal(r.outputs, want))}


def pf(ok) -> str:
    return "—" if ok is None else ("PASS" if ok else "FAIL")


def fmt(v, spec=",") -> str:
    return "n/a" if v is None else format(v, spec)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=100, help="frames per signal and size (default 100)")
    ap.add_argument("--boards", default=",".join(BOARDS))
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)))
    a = ap.parse_args(argv)
    t0 = time.time()
    sizes = [int(v) for v in a.sizes.split(",")]
    boards = [b for b in a.boards.split(",") if b]
    for b in boards:
        if b not in BOARDS:
            ap.error(f"unknown board '{b}' (known: {', '.join(BOARDS)})")
    why = TG.available()
    lib = DspLib("portable")
    speech = [R.speech_like(seed, 1.0, level_dbfs=lv) for seed, lv in SPEECH]
    runs = [(b, BOARDS[b]) for b in boards] if why is None else [("host", None)]
    if why:
        print(f"> target not measured: {why}; SNR and features from the host build (same bits).\n")
    fft = {b: [measure_fft(cpu, n, a.frames, np.random.default_rng(n), lib) for n in sizes] for b, cpu in runs}
    feats = {b: [measure_features(cpu, p, speech) for p in PRESETS] for b, cpu in runs}
    flags = {b: " ".join(TG.firmware_cflags(cpu)) for b, cpu in runs if cpu}

    print(f"## q15 real FFT (tk_rfft_q15; -40 dBFS sine through tk_rfft_q15_bfp), {a.frames} frames per signal\n")
    print("| board | n | noise -6 dBFS dB | worst frame dB | ideal | goal | CMSIS | sine -40 dBFS dB | goal | CMSIS "
          "| instr | BFP instr | goal | CMSIS instr | ratio | tables B | code B | bits = model |")
    print("|" + "---|" * 18)
    goals: list[tuple[str, bool | None]] = []
    for b, _ in runs:
        for r in fft[b]:
            n = r["n"]
            gn = GOAL_NOISE.get(n)
            ok_n = None if gn is None else r["noise"] >= gn
            ok_s = r["sine"] >= GOAL_SINE
            gi = GOAL_INSTR.get(n)
            ok_i = None if gi is None or r["instr"] is None else r["instr"] <= gi
            ci = CMSIS_Q15["instructions"][n]
            ratio = "n/a" if r["instr"] is None else f"{r['instr'] / ci:.2f}"
            print(f"| {b} | {n} | {r['noise']:.2f} | {r['noise_min']:.1f} | {ideal_q15(n):.1f} | "
                  f"{'' if gn is None else f'>= {gn} {pf(ok_n)}'} | {CMSIS_Q15['noise'][n]} | "
                  f"{r['sine']:.2f} | >= {GOAL_SINE:g} {pf(ok_s)} | {CMSIS_Q15['sine'][n]} | "
                  f"{fmt(r['instr'])} | {fmt(r['instr_bfp'])} | {'' if gi is None else f'<= {gi:,} {pf(ok_i)}'} | "
                  f"{ci:,} | {ratio} | {r['tables']:,} | {fmt(r['code'])} | {pf(r['exact'])} |")
            if gn is not None:
                goals.append((f"1. q15 noise SNR n={n} >= {gn} dB on {b}: {r['noise']:.2f}", ok_n))
            goals.append((f"1. q15 -40 dBFS sine SNR (BFP) n={n} >= {GOAL_SINE:g} dB on {b}: {r['sine']:.2f}", ok_s))
            if gi is not None and b != "host":
                note = "" if b == "mps2-an386" else " (goal stated for mps2-an386)"
                goals.append((f"2. q15 instructions n={n} <= {gi:,} on {b}{note}: {fmt(r['instr'])}", ok_i))
            if n == 512:
                goals.append((f"2. q15 tables n=512 <= {GOAL_TABLES_512:,} B on {b} ({r['tables_src']}): "
                              f"{r['tables']:,}", r["tables"] <= GOAL_TABLES_512))
            if r["exact"] is not None:
                goals.append((f"   target output = numpy model, n={n} on {b} (q15, q15 BFP, q31)", r["exact"]))

    print("\n## q31 real FFT (tk_rfft_q31)\n")
    print(f"CMSIS arm_rfft_q31 (Cortex-M4 -O3): {CMSIS_Q31['noise']} dB at -6 dBFS; "
          "19,199 / 37,127 instructions at n = 256 / 512. instr: the SMLAL path the board builds; "
          "ref instr: the portable reference (-DTK_DSP_PORTABLE), same bits.\n")
    print("| board | n | noise -6 dBFS dB | worst frame dB | sine -40 dBFS dB | instr | ref instr | CMSIS instr "
          "| ratio | tables B | code B |")
    print("|" + "---|" * 11)
    for b, _ in runs:
        for r in fft[b]:
            n = r["n"]
            ci = CMSIS_Q31["instructions"].get(n)
            ratio = "" if ci is None or r["instr31"] is None else f"{r['instr31'] / ci:.2f}"
            print(f"| {b} | {n} | {r['noise31']:.2f} | {r['noise31_min']:.1f} | {r['sine31']:.2f} | "
                  f"{fmt(r['instr31'])} | {fmt(r['instr31_ref'])} | {'' if ci is None else f'{ci:,}'} | {ratio} | "
                  f"{fmt(r['tables31'])} | {fmt(r['code31'])} |")

    print("\n## int8 features against the float reference of their preset (5 speech-like signals, 1 s each)\n")
    print("| board | preset | block | frames | bytes | differ | max LSB | goal | instr / frame | bits = model |")
    print("|" + "---|" * 10)
    for b, _ in runs:
        for r in feats[b]:
            print(f"| {b} | {r['preset']} | {r['block']} | {r['frames']} | {r['bytes']:,} | "
                  f"{100 * r['differ']:.2f}% | {r['max_lsb']} | <= 1%, <= 1 LSB {pf(r['ok'])} | "
                  f"{fmt(r['instr'])} | {pf(r['exact'])} |")
            goals.append((f"3. {r['block']} {r['preset']} on {b}: {100 * r['differ']:.2f}% bytes differ, "
                          f"max {r['max_lsb']} LSB", r["ok"]))
            goals.append((f"   target features = numpy model, {r['preset']} on {b}", r["exact"]))

    if any(cpu for _, cpu in runs):
        print("\n## instructions per frame and step (runtime_c/dsp built with -DTK_DSP_PROFILE; the markers "
              "between steps add a few instructions)\n")
        print("| board | config | " + " | ".join(STEP_NAMES) + " | total | bits = model |")
        print("|" + "---|" * (len(STEP_NAMES) + 4))
        for b, cpu in runs:
            for name, fe in step_configs().items():
                r = measure_steps(cpu, fe, speech)
                cells = r["steps"] + [None] * (len(STEP_NAMES) - len(r["steps"]))
                print(f"| {b} | {name} | " + " | ".join("" if v is None else f"{v:,}" for v in cells)
                      + f" | {sum(r['steps']):,} | {pf(r['exact'])} |")
                goals.append((f"   per-step build = numpy model, {name} on {b}", r["exact"]))

    print("\n## goal lines\n")
    for text, ok in goals:
        print(f"- {pf(ok)} {text}")
    if flags:
        print("\nflags (tinykiln.targets.firmware.build_flags of the board; the image is built from the "
              "firmware templates by tinykiln.targets.firmware.build_harness): "
              + "; ".join(f"{b}: `{f}`" for b, f in flags.items()))
    print(f"\nSNR over {a.frames} frames per signal (sum of error power over all frames; 'worst frame' is the "
          "lowest single-frame SNR: a frame whose radix-4 rotation saturates shows up there); ideal: a q15 FFT "
          "halving and rounding at every radix-2 stage (BASELINES.md); instructions: the largest count over the "
          f"frames, marker call to marker call; tables: ELF symbol sizes of the config and its tables; "
          f"code: .text of runtime_c/dsp kept by --gc-sections. {time.time() - t0:.0f} s.")
    return 0 if all(ok is not False for _, ok in goals) else 1


if __name__ == "__main__":
    raise SystemExit(main())
