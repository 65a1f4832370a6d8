"""SNR of tinykiln's fixed-point real FFTs (runtime_c/dsp, host build through ctypes) against numpy's
float64 FFT of the same quantised input, beside CMSIS-DSP's arm_rfft_q15 figures from
/work/shared/BASELINES.md. White noise: uniform, RMS -6 dBFS. Sine: -40 dBFS, random frequency and
phase; q15 uses block floating point (tk_rfft_q15_bfp) and the reported exponent is undone.
With --target, also counts Cortex-M4 instructions per call under QEMU (-O2).

    python benchmarks/fft_accuracy.py [--frames 300] [--target]
"""
from __future__ import annotations

import argparse

import numpy as np

from tinykiln.dsp import target as TG
from tinykiln.dsp import tables as T
from tinykiln.dsp.host import DspLib

SIZES = [64, 128, 256, 512, 1024]
CMSIS_Q15 = {   # BASELINES.md: arm_rfft_q15, Cortex-M4 build -O3
    "instructions": {64: 2091, 128: 3836, 256: 9631, 512: 17789, 1024: 43591},
    "noise": {64: 58.4, 128: 59.4, 256: 52.7, 512: 53.5, 1024: 46.9},
    "sine": {64: 24.5, 128: 25.4, 256: 18.8, 512: 19.7, 1024: 13.4},
}
CMSIS_Q31 = {"noise": "139-157", "instructions": {256: 19199, 512: 37127}}


def snr_db(got, ref) -> float:
    return float(10 * np.log10(np.sum(np.abs(ref) ** 2) / np.sum(np.abs(got - ref) ** 2)))


def signals(n, frames, rng, bits):
    full = 2.0 ** (bits - 1)
    amp = np.sqrt(3) * 0.5 * full
    noise = np.round(rng.uniform(-amp, amp, (frames, n)))
    t = np.arange(n)
    f = rng.uniform(1, n / 2 - 1, (frames, 1))
    ph = rng.uniform(0, 2 * np.pi, (frames, 1))
    sine = np.round(0.01 * full * np.sin(2 * np.pi * f * t / n + ph))
    dt = np.int16 if bits == 16 else np.int32
    return np.clip(noise, -full, full - 1).astype(dt), sine.astype(dt)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--target", action="store_true", help="count Cortex-M4 instructions under QEMU")
    a = ap.parse_args(argv)
    lib = DspLib("portable")
    rng = np.random.default_rng(0)
    counts = {}
    if a.target and TG.available() is None:
        for n in SIZES:
            x, _ = signals(n, 3, rng, 16)
            _, c = TG.run("rfft_q15", x)
            xb, _ = signals(n, 3, rng, 32)
            _, c31 = TG.run("rfft_q31", xb)
            if c is not None:
                counts[n] = (int(c.max()), int(c31.max()))
    print("q15 real FFT: SNR (dB) vs numpy float64, 1/n scaling undone" + (", instructions on Cortex-M4 -O2" if counts else ""))
    head = f"{'n':>5} | {'noise -6 dBFS':>13} {'CMSIS':>6} {'+dB':>6} | {'sine -40 dBFS':>13} {'CMSIS':>6} | {'tables B':>8}"
    if counts:
        head += f" | {'instr':>6} {'CMSIS':>6} {'ratio':>5}"
    print(head)
    for n in SIZES:
        x, y = signals(n, a.frames, rng, 16)
        X = lib.rfft_q15(x).astype(np.float64)
        s1 = snr_db((X[..., 0] + 1j * X[..., 1]) * n, np.fft.rfft(x.astype(np.float64), axis=1))
        Y, e = lib.rfft_q15(y, bfp=True)
        Y = Y.astype(np.float64)
        s2 = snr_db((Y[..., 0] + 1j * Y[..., 1]) * n / 2.0 ** e[:, None], np.fft.rfft(y.astype(np.float64), axis=1))
        line = (f"{n:>5} | {s1:>13.2f} {CMSIS_Q15['noise'][n]:>6.1f} {s1 - CMSIS_Q15['noise'][n]:>+6.1f} | "
                f"{s2:>13.2f} {CMSIS_Q15['sine'][n]:>6.1f} | {T.rfft_q15_tables(n).nbytes:>8}")
        if counts:
            ci = CMSIS_Q15["instructions"][n]
            line += f" | {counts[n][0]:>6} {ci:>6} {counts[n][0] / ci:>5.2f}"
        print(line)
    print("\nq31 real FFT: SNR (dB) (CMSIS arm_rfft_q31: 139-157 dB at -6 dBFS; 19,199 / 37,127 instructions at n = 256 / 512)")
    print(f"{'n':>5} | {'noise -6 dBFS':>13} | {'sine -40 dBFS':>13}" + (f" | {'instr':>6}" if counts else ""))
    for n in SIZES:
        x, y = signals(n, max(a.frames // 4, 20), rng, 32)
        X = lib.rfft_q31(x).astype(np.float64)
        Y = lib.rfft_q31(y).astype(np.float64)
        s1 = snr_db((X[..., 0] + 1j * X[..., 1]) * n, np.fft.rfft(x.astype(np.float64), axis=1))
        s2 = snr_db((Y[..., 0] + 1j * Y[..., 1]) * n, np.fft.rfft(y.astype(np.float64), axis=1))
        print(f"{n:>5} | {s1:>13.2f} | {s2:>13.2f}" + (f" | {counts[n][1]:>6}" if counts else ""))


if __name__ == "__main__":
    main()
