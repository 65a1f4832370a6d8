"""Firmware benchmark: every shared model as a firmware image on emulated Cortex-M boards.
Prints, per model and board: flash, RAM (arena + static data + measured peak stack), exact
instructions per inference, estimated cycles (Cortex-M4/M7/M33/M55 only: an ESTIMATE from
per-class instruction timings, compiler/targets/cycles.py, not a measurement), MACs per
instruction, the ratios against TFLM + CMSIS-NN on the same emulated hardware (figures from
../shared/BASELINES.md: Cortex-M4 mps2-an386, and Helium kernels on mps3-an547; ratio < 1 means
tinykiln is smaller or faster) and the three slowest layers.
Usage: python benchmarks/firmware_bench.py [--boards mps2-an386,mps2-an500,...] [MODEL...]"""
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

# TFLM + CMSIS-NN with its Helium (MVE) kernels, QEMU mps3-an547, -mcpu=cortex-m55 (BASELINES.md)
BASELINES_MVE = {"KWS": 1_813_137, "VWW": 6_559_655, "IC": 4_911_530, "AD": 150_345}
DEFAULT_BOARDS = "mps2-an386,mps2-an500,mps2-an505,mps3-an547"


def baseline_key(name: str) -> str | None:
    n = name.lower()
    for key, pats in (("KWS", ("kws",)), ("VWW", ("vww", "mobilenet")), ("IC", ("resnet", "ic_")),
                      ("AD", ("ad01", "anomaly", "toycar"))):
        if any(p in n for p in pats):
            return key
    return None


def measure(model: Path, board_name: str, rows: int = 4, optimize: str = "balanced") -> dict:
    from tinykiln.targets.board import get_board
    from tinykiln.inputs import compile_file
    from tinykiln.targets.firmware import build_firmware
    from tinykiln.targets.qemu import run_firmware
    board = get_board(board_name)
    c = compile_file(model, helium=board.cpu == "cortex-m55", optimize=optimize)  # as build does
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
            "stack_reserved": ram["stack"], "ram_reserved": ram["used"],
            "max_live_bound": c.report["max_live_bound"], "in_place_ops": c.report["in_place_ops"],
            "ram": ram["arena"] + static + res.stack_peak,
            "instructions": res.profile["instructions"], "macs": res.profile["macs"],
            "mpi": res.profile["macs_per_instruction"], "bitexact": exact,
            "per_row": res.profile["instructions_per_row"],
            "est_cycles": res.profile.get("est_cycles"),
            "cycle_core": (res.profile.get("cycle_model") or {}).get("core"),
            "layers": res.profile["layers"]}


def instruction_baseline(model_name: str, board: str) -> tuple[int, str] | None:
    """TFLM + CMSIS-NN's instructions for this model on this board and what they are: the
    Helium figures on mps3-an547, the Cortex-M4 figures elsewhere."""
    key = baseline_key(model_name)
    if key is None:
        return None
    if board == "mps3-an547":
        return BASELINES_MVE[key], f"TFLM+CMSIS-NN-MVE {key} on mps3-an547"
    where = "" if board == "mps2-an386" else ", Cortex-M4 figure"
    return BASELINES[key]["instructions"], f"TFLM+CMSIS-NN {key}{where}"


def slowest_layers(m: dict, n: int = 3) -> list[str]:
    """The n layers with the most estimated cycles (instructions where there is no estimate)."""
    key = "est_cycles" if m.get("est_cycles") else "instructions"
    total = m[key] or 1
    top = sorted(m["layers"], key=lambda L: -L[key])[:n]
    unit = "est. cycles" if key == "est_cycles" else "instructions"
    return [f"op {L['op']} {L['opcode']}: {L[key]:,} {unit} ({100 * L[key] / total:.0f}%), "
            f"{L['macs_per_instruction'] or 0:.2f} MACs/instr" for L in top]


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


def report(m: dict) -> None:
    key = baseline_key(m["model"])
    base = BASELINES.get(key)
    ib = instruction_baseline(m["model"], m["board"])

    def ratio(k, v):
        return f"  ({v / base[k]:.2f}x TFLM+CMSIS-NN {key})" if base else ""
    print(f"{m['model']} on {m['board']}  [{m['bitexact']}]")
    print(f"  flash        {m['flash']:>11,} B (code {m['code']:,}, weights {m['weights']:,})"
          + ratio("flash", m["flash"]))
    print(f"  RAM          {m['ram']:>11,} B (arena {m['arena']:,} + static {m['static']:,}"
          f" + peak stack {m['stack_peak']:,})" + ratio("ram", m["ram"]))
    print(f"  instructions {m['instructions']:>11,} per inference"
          + (f"  ({m['instructions'] / ib[0]:.2f}x {ib[1]})" if ib else "")
          + (f"; {m['instructions'] / base['ref_kernels']:.2f}x TFLM reference kernels (M4)"
             if base else ""))
    if m.get("est_cycles"):
        print(f"  est. cycles  {m['est_cycles']:>11,} per inference: an ESTIMATE for "
              f"{m['cycle_core']} ({m['macs'] / m['est_cycles']:.3f} MACs per est. cycle)")
    else:
        print(f"  est. cycles  {'-':>11} (no timing table for this core)")
    spread = f" (rows: {min(m['per_row']):,}..{max(m['per_row']):,})" \
        if min(m["per_row"]) != max(m["per_row"]) else ""
    print(f"  MACs/instr   {m['mpi']:>11.3f} ({m['macs']:,} MACs){spread}"
          + (f"  ({ib[1]}: {m['macs'] / ib[0]:.3f})" if ib else ""))
    for i, line in enumerate(slowest_layers(m)):
        print(f"  {'slowest' if i == 0 else '':<12} {line}")
    print()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*", help="default: every int8 .tflite in ../shared/models")
    ap.add_argument("--boards", default=DEFAULT_BOARDS)
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
            report(m)
    return 0


if __name__ == "__main__":
    sys.exit(main())
