"""Compile every int8 reference model in ../shared/models and compare its memory with TFLM's.

    python benchmarks/compile_bench.py [MODELS_DIR]

Per model: weight bytes (flash) beside the flatbuffer TFLM keeps in flash, our arena beside TFLM's
planned head (activations + scratch) and total (head + its persistent bookkeeping), the arena's
lower bound (the most bytes live at one op) and gap, and the wall time of `tinykiln compile MODEL
-o DIR` as a user runs it (a fresh process, best of 3)."""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODELS = ROOT.parent / "shared" / "models"
RUNS = 3
# TFLM + CMSIS-NN on Cortex-M4, arena_used_bytes (/work/shared/BASELINES.md; AD needs 3,024 to run)
CMSIS_ARENA = {"kws_ref_model.tflite": 22820, "ad01_int8.tflite": 2580}


def _cli() -> list[str]:
    exe = shutil.which("tinykiln")
    return [exe] if exe else [sys.executable, "-m", "tinykiln"]


def compile_seconds(model: Path) -> float:
    """Best wall time of `tinykiln compile` over RUNS runs (each in a fresh process)."""
    best = float("inf")
    with tempfile.TemporaryDirectory(prefix="tinykiln-bench-") as tmp:
        for k in range(RUNS):
            t0 = time.perf_counter()
            r = subprocess.run([*_cli(), "compile", str(model), "-o", f"{tmp}/out{k}"],
                               capture_output=True, text=True)
            dt = time.perf_counter() - t0
            if r.returncode != 0:
                raise RuntimeError(r.stderr.strip() or f"tinykiln compile exited {r.returncode}")
            best = min(best, dt)
    return best


def _tflm_arena():
    """tests/tflm_oracle.tflm_arena, or None when tflite-micro is not installed."""
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        from tflm_oracle import tflm_arena
    except BaseException as e:      # pytest's importorskip raises a Skipped (BaseException)
        print(f"note: TFLM columns are empty ({e})")
        return None
    return tflm_arena


def _ratio(a, b) -> str:
    return f"{a / b:.2f}" if a is not None and b else "-"


def main(argv: list[str]) -> int:
    models_dir = Path(argv[0]) if argv else DEFAULT_MODELS
    if not models_dir.is_dir():
        print(f"compile_bench: the reference model folder {models_dir} is absent; it holds the "
              f"MLPerf Tiny models beside the repository in CI (or pass a folder as argument).")
        return 1
    models = sorted(p for p in models_dir.glob("*.tflite") if "_float32" not in p.name)
    if not models:
        print(f"compile_bench: no int8 .tflite models in {models_dir}.")
        return 1
    from tinykiln.inputs import compile_file
    from tinykiln.errors import TinykilnError
    arena_of = _tflm_arena()
    cols = ["model", "flatbuf B", "weights B", "arena B", "lower bnd", "gap", "TFLM head",
            "TFLM total", "CMSIS arena", "arena/head", "arena/total", "arena/CMSIS",
            "weights/flatbuf", "compile s"]
    rows = []
    for m in models:
        try:
            c = compile_file(m)
        except TinykilnError as e:
            print(f"{m.name}: not compiled: {e}")
            continue
        tf = arena_of(m) if arena_of else {}
        arena, bound = c.plan.arena_size, c.plan.lower_bound
        weights, flat = c.report["weight_bytes"], m.stat().st_size
        rows.append([m.name, flat, weights, arena, bound, arena - bound, tf.get("head", "-"),
                     tf.get("total", "-"), CMSIS_ARENA.get(m.name, "-"),
                     _ratio(arena, tf.get("head")), _ratio(arena, tf.get("total")),
                     _ratio(arena, CMSIS_ARENA.get(m.name)), _ratio(weights, flat),
                     f"{compile_seconds(m):.2f}"])
    widths = [max(len(str(r[i])) for r in [cols, *rows]) for i in range(len(cols))]
    line = lambda r: "  ".join(str(v).rjust(w) if i else str(v).ljust(w)   # noqa: E731
                               for i, (v, w) in enumerate(zip(r, widths)))
    print(line(cols))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(line(r))
    print("\nTFLM head = its planned activations and scratch (tflite-micro's reference kernels); "
          "total adds its persistent interpreter data.\nCMSIS arena = TFLM with CMSIS-NN "
          "kernels on Cortex-M4, arena_used_bytes from BASELINES.md.\n"
          "Ratios below 1 mean tinykiln needs less. "
          f"Compile time: wall time of `tinykiln compile MODEL -o DIR`, best of {RUNS}.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
