"""Firmware benchmark: every shared model as a firmware image on emulated Cortex-M boards.
Prints flash, RAM (arena + static data + measured peak stack), exact instructions per inference
and MACs per instruction, with ratios against TFLM + CMSIS-NN on the same emulated hardware
(figures from ../shared/BASELINES.md, measured on mps2-an386; ratio < 1 means tinykiln is smaller
or faster). Usage: python benchmarks/firmware_bench.py [--boards mps2-an386,mps2-an500] [MODEL...]"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT.parent / "shared" / "models"

# TFLM + CMSIS-NN, QEMU mps2-an386, gcc 12.2 -O2 (BASELINES.md)
BASELINES = {
    "KWS": {"instructions": 7_697_715, "ram": 24_368, "flash": 57_816 + 53_936,
            "arena": 22_820, "ref_kernels": 43.0e6},
    "VWW": {"instructions": 24_101_478, "ram": 102_256, "flash": 57_816 + 333_288,
            "arena": 100_708, "ref_kernels": 100.2e6},
    "IC": {"instructions": 29_861_440, "ram": 56_544, "flash": 55_492 + 98_496,
           "arena": 54_996, "ref_kernels": 107.4e6},
    "AD": {"instructions": 582_866, "ram": 3_988, "flash": 32_104 + 276_976,
           "arena": 2_580, "ref_kernels": 1.95e6},
}


def baseline_key(name: str) -> str | None:
    n = name.lower()
    for key, pats in (("KWS", ("kws",)), ("VWW", ("vww", "mobilenet")), ("IC", ("resnet", "ic_")),
                      ("AD", ("ad01", "anomaly", "toycar"))):
        if any(p in n for p in pats):
            return key
    return None


def measure(model: Path, board_name: str, rows: int = 4) -> dict:
    from tinykiln.targets.board import get_board
    from tinykiln.inputs import compile_file
    from tinykiln.targets.firmware import build_firmware
    from tinykiln.targets.qemu import run_firmware
    board = get_board(board_name)
    c = compile_file(model)
    rng = np.random.default_rng(0)
    xs = []
    for t in c.graph.inputs:
        tt = c.graph.tensors[t]
        dt = {"int8": np.int8, "uint8": np.uint8, "int16": np.int16}[tt.dtype]
        info = np.iinfo(dt)
        xs.append(rng.integers(info.min, info.max + 1, (rows, *tt.shape), dtype=dt))
    with tempfile.TemporaryDirectory(prefix="tinykiln-bench-") as d:
        rep = build_firmware(c, board, Path(d) / "fw")
        res = run_firmware(Path(d) / "fw", board, c.graph, xs, profile=True)
    exact = _bitexact(model, xs, res.outputs)
    ram = rep["ram"]
    static = ram["used"] - ram["arena"] - ram["stack"]
    return {"model": model.name, "board": board_name, "flash": rep["flash"]["used"],
            "weights": rep["flash"]["weights"], "code": rep["flash"]["code"],
            "arena": ram["arena"], "static": static, "stack_peak": res.stack_peak,
            "ram": ram["arena"] + static + res.stack_peak,
            "instructions": res.profile["instructions"], "macs": res.profile["macs"],
            "mpi": res.profile["macs_per_instruction"], "bitexact": exact,
            "per_row": res.profile["instructions_per_row"]}


def _bitexact(model: Path, xs, outs) -> str:
    try:
        sys.path.insert(0, str(ROOT / "tests"))
        from tflm_oracle import tflm_run
    except Exception:       # tflite-micro absent (pytest.importorskip raises Skipped)
        return "not checked (no tflite-micro)"
    ref = tflm_run(model.read_bytes(), xs, len(outs))
    bad = sum(int((o.reshape(r.shape) != r).sum()) for o, r in zip(outs, ref))
    total = sum(r.size for r in ref)
    return f"{total - bad}/{total} bytes equal" + ("" if bad == 0 else "  <-- MISMATCH")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*", help="default: every int8 .tflite in ../shared/models")
    ap.add_argument("--boards", default="mps2-an386,mps2-an500")
    a = ap.parse_args(argv)
    from tinykiln.errors import TinykilnError
    models = [Path(m) for m in a.models] or sorted(
        p for p in MODELS.glob("*.tflite") if "float" not in p.name)
    if not models:
        print(f"no models: {MODELS} is absent")
        return 1
    for model in models:
        for board in a.boards.split(","):
            try:
                m = measure(model, board)
            except TinykilnError as e:
                print(f"{model.name} on {board}: skipped: {e}\n")
                continue
            key = baseline_key(model.name)
            base = BASELINES.get(key)

            def ratio(k, v):
                return f"  ({v / base[k]:.2f}x TFLM+CMSIS-NN {key})" if base else ""
            print(f"{m['model']} on {m['board']}  [{m['bitexact']}]")
            print(f"  flash        {m['flash']:>11,} B (code {m['code']:,}, weights {m['weights']:,})"
                  + ratio("flash", m["flash"]))
            print(f"  RAM          {m['ram']:>11,} B (arena {m['arena']:,} + static {m['static']:,}"
                  f" + peak stack {m['stack_peak']:,})" + ratio("ram", m["ram"]))
            print(f"  instructions {m['instructions']:>11,} per inference" + ratio("instructions",
                                                                                m["instructions"])
                  + (f"; {m['instructions'] / base['ref_kernels']:.2f}x TFLM reference kernels"
                     if base else ""))
            spread = f" (rows: {min(m['per_row']):,}..{max(m['per_row']):,})" \
                if min(m["per_row"]) != max(m["per_row"]) else ""
            print(f"  MACs/instr   {m['mpi']:>11.3f} ({m['macs']:,} MACs){spread}"
                  + (f"  (TFLM+CMSIS-NN {m['macs'] / base['instructions']:.3f})" if base else ""))
            if board != "mps2-an386" and base:
                print("  (baselines are Cortex-M4 mps2-an386 figures)")
            print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
