"""Speed benchmark of issue 12: exact instructions per inference on emulated Cortex-M boards, MACs
per instruction, the ratio to TFLM + CMSIS-NN and the issue's goals, met or BELOW.

Models: kws_ref_model and ad01_int8 from ../shared/models, and the MLPerf Tiny ResNet-8 (IC) and
MobileNet-v1 0.25 (VWW) that benchmarks/mlperf_models.py builds with TensorFlow in a child process
(cached under ~/.cache/tinykiln/bench/; without TensorFlow and without a cached file they are
skipped, said so). Totals come from firmware_bench.measure (4 seeded rows, checked bit for bit
against TFLM); per-layer counts from a profiled run of the same first row, and the two totals
are checked to agree. Goals (issue 12):
  1. kws <= 3.85 M instructions, ad01 <= 0.291 M, ResNet-8 >= 0.85 MACs/instr, MobileNet >= 0.65,
     on mps2-an386 (M4), mps2-an500 (M7) and mps2-an505 (M33).
  2. on the M4: no CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED layer below 0.5 MACs/instr
     (layers with fewer than 8 output channels are reported apart), elementwise ops at most 6
     instructions per element.
Where the profile has them (compiler/targets/cycles.py), estimated cycles and MACs per estimated
cycle are shown too: an estimate from documented instruction timings, not a measurement.
Exit status 0 whatever the figures (a report, not a test).

    python benchmarks/speed_bench.py [--boards mps2-an386,...] [--riscv] [--no-build]
                                     [--json FILE] [MODEL ...]
MODEL: a .tflite path, or kws_ref_model, ad01_int8, resnet8, mobilenet_v1_025 (default: all four).
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import inverted_model  # noqa: E402
import mlperf_models  # noqa: E402
from firmware_bench import BASELINES, MODELS, baseline_key, measure  # noqa: E402

BOARDS = ("mps2-an386", "mps2-an500", "mps2-an505")
RISCV = "qemu-virt-rv32"     # rv32imac as sifive_e, with room for kws_ref_model
# goal 6: kws_ref_model on RISC-V at most 0.8x of its count when the issue was taken up (commit
# 8987d6e on this board: 13,108,584 instructions)
RISCV_KWS_START = 13_108_584
M4 = "mps2-an386"
SHARED = ("kws_ref_model", "ad01_int8")
MAC_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")
ELEMENTWISE = {"ADD", "SUB", "MUL", "SQUARED_DIFFERENCE", "MAXIMUM", "MINIMUM", "RELU", "RELU6",
               "RELU_N1_TO_1", "RELU_0_TO_1", "LOGISTIC", "TANH", "HARD_SWISH", "LEAKY_RELU",
               "PRELU", "ELU", "QUANTIZE", "DEQUANTIZE", "ABS", "NEG"}
LAYER_GOAL = 0.5            # MACs per instruction, every MAC layer (goal 2)
ELEMENT_GOAL = 6.0          # instructions per element, every elementwise op (goal 2)
SMALL_CHANNELS = 8          # layers with fewer output channels are reported apart (goal 2)
# goal 1: the baseline key's bound, ("instructions", at most) or ("mpi", at least)
GOALS = {"KWS": ("instructions", 3_850_000), "AD": ("instructions", 291_000),
         "IC": ("mpi", 0.85), "VWW": ("mpi", 0.65)}
# goal 4 (Helium, Cortex-M55 board): half of TFLM + CMSIS-NN with MVE's instructions
HELIUM_BOARD = "mps3-an547"
HELIUM_GOALS = {"KWS": ("instructions", 910_000), "AD": ("instructions", 75_000),
                "IC": ("mpi", 5.0), "VWW": ("mpi", 2.3)}
# TFLM + CMSIS-NN with MVE on mps3-an547 (BASELINES.md)
HELIUM_BASE = {"KWS": 1_813_137, "VWW": 6_559_655, "IC": 4_911_530, "AD": 150_345}


def resolve(spec: str, build: bool) -> tuple[str, Path | None, str]:
    """(display name, .tflite path or None, why it is missing)."""
    if spec in SHARED:
        p = MODELS / f"{spec}.tflite"
        return spec, (p if p.is_file() else None), f"{p} is absent"
    if spec in mlperf_models.NAMES:
        try:
            if not build:
                p = mlperf_models.cache_dir() / f"{spec}-{mlperf_models.cache_key(spec)}.tflite"
                return spec, (p if p.is_file() else None), "not cached and --no-build given"
            return spec, mlperf_models.model_path(spec), ""
        except RuntimeError as e:
            return spec, None, str(e).splitlines()[0]
    if spec == inverted_model.NAME:     # generated (no TensorFlow): cached by its bytes
        data = inverted_model.mobilenet_v2()
        p = mlperf_models.cache_dir() / f"{spec}.tflite"
        if not p.is_file() or p.read_bytes() != data:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
        return spec, p, ""
    p = Path(spec)
    return p.stem, (p if p.is_file() else None), f"{p} does not exist"


def key_of(name: str) -> str | None:
    return {"resnet8": "IC", "mobilenet_v1_025": "VWW"}.get(name) or baseline_key(name)


def first_row(graph, rows: int = 4) -> list[np.ndarray]:
    """The first of the rows firmware_bench.measure draws (same seed, same shapes), so the
    profiled run and measure's first row execute the same instructions."""
    rng = np.random.default_rng(0)
    xs = []
    for t in graph.inputs:
        tt = graph.tensors[t]
        dt = {"int8": np.int8, "uint8": np.uint8, "int16": np.int16}[tt.dtype]
        info = np.iinfo(dt)
        xs.append(rng.integers(info.min, info.max + 1, (rows, *tt.shape), dtype=dt))
    return [x[:1] for x in xs]


def profile_layers(model: Path, board_name: str) -> tuple[int, int | None, list[dict]]:
    """(instructions of the first row, its estimated cycles or None, its layers): each layer with
    opcode, kernel, MACs, instructions, estimated cycles, output elements and output channels."""
    from tinykiln.inputs import compile_file
    from tinykiln.targets.board import get_board
    from tinykiln.targets.firmware import cached_firmware
    from tinykiln.targets.qemu import run_firmware
    board = get_board(board_name)
    c = compile_file(model, helium=board.cpu == "cortex-m55")   # as build/run do
    fw = cached_firmware(c, board)
    res = run_firmware(fw, board, c.graph, first_row(c.graph), profile=True)
    kernels = {L["op"]: L.get("kernel") for L in c.report["layers"]}
    out = []
    for L in res.profile["layers"]:
        row = {"op": L["op"], "opcode": L["opcode"], "kernel": kernels.get(L["op"]),
               "macs": L["macs"], "instructions": L["instructions"],
               "est_cycles": L.get("est_cycles"), "elements": None, "channels": None}
        if isinstance(L["op"], int) and 0 <= L["op"] < len(c.graph.ops):
            shape = c.graph.tensors[c.graph.ops[L["op"]].outputs[0]].shape
            row["elements"] = int(np.prod(shape)) if shape else 1
            row["channels"] = int(shape[-1]) if shape else 1
        out.append(row)
    return res.profile["instructions"], res.profile.get("est_cycles"), out


def mpi(L: dict) -> float | None:
    return L["macs"] / L["instructions"] if L["macs"] and L["instructions"] else None


def goal1(key: str | None, m: dict) -> str:
    goals = HELIUM_GOALS if m.get("board") == HELIUM_BOARD else GOALS
    if key not in goals:
        return "no goal for this model"
    what, bound = goals[key]
    if what == "instructions":
        ok = m["instructions"] <= bound
        return f"goal <= {bound / 1e6:.3g} M instr: " + (
            "met" if ok else f"BELOW ({m['instructions'] / bound:.2f}x the bound)")
    ok = m["mpi"] >= bound
    return f"goal >= {bound} MACs/instr (<= {m['macs'] / bound / 1e6:.2f} M instr): " + (
        "met" if ok else f"BELOW ({m['mpi'] / bound:.2f}x the bound)")


def goal6(key: str | None, m: dict) -> str:
    if key != "KWS":
        return "(RISC-V: goal 6 is on kws_ref_model)"
    bound = int(0.8 * RISCV_KWS_START)
    ratio = m["instructions"] / RISCV_KWS_START
    return f"goal 6 <= 0.8x of {RISCV_KWS_START:,} = {bound:,}: {ratio:.3f}x, " + (
        "met" if m["instructions"] <= bound else "BELOW")


def layer_findings(layers: list[dict]) -> dict:
    """Goal 2: MAC layers below LAYER_GOAL (wide, and narrow ones apart), elementwise costs."""
    below, narrow, elementwise = [], [], []
    for L in layers:
        if L["opcode"] in MAC_OPS and L["macs"]:
            r = mpi(L)
            if r is not None and r < LAYER_GOAL:
                narrow_layer = L["channels"] is not None and L["channels"] < SMALL_CHANNELS
                (narrow if narrow_layer else below).append({**L, "mpi": r})
        elif L["opcode"] in ELEMENTWISE and L["elements"]:
            elementwise.append({**L, "per_element": L["instructions"] / L["elements"]})
    return {"below": below, "narrow": narrow, "elementwise": elementwise}


def op_kinds(layers: list[dict]) -> list[tuple[str, int, int]]:
    """(opcode, instructions, layers), most instructions first."""
    ins, n = defaultdict(int), defaultdict(int)
    for L in layers:
        ins[L["opcode"]] += L["instructions"]
        n[L["opcode"]] += 1
    return sorted(((k, ins[k], n[k]) for k in ins), key=lambda t: -t[1])


def describe(L: dict, total: int) -> str:
    r = mpi(L)
    extra = f"{r:.3f} MACs/instr" if r is not None else (
        f"{L['instructions'] / L['elements']:.1f} instr/element" if L["elements"] else "")
    return (f"op {L['op']:>3} {L['opcode']:<18} {L['kernel'] or '':<26} {L['instructions']:>11,}"
            f" ({100 * L['instructions'] / total:4.1f}%)  {extra}")


def run_one(model: Path, name: str, board: str) -> dict:
    """measure() plus the per-layer profile; raises TinykilnError when the model is refused."""
    m = measure(model, board)
    total, cycles, layers = profile_layers(model, board)
    m.update(name=name, layers=layers, profile_total=total, est_cycles=cycles)
    return m


def print_row(m: dict, key: str | None) -> None:
    base = BASELINES.get(key) if m["board"] != RISCV else None     # M4 figures: Arm only
    if base and m["board"] == HELIUM_BOARD:                         # against CMSIS-NN's MVE
        base = {"instructions": HELIUM_BASE[key]}
    ratio = f"{m['instructions'] / base['instructions']:.3f}x" if base else "-"
    tflm = f"{m['macs'] / base['instructions']:.3f}" if base else "-"
    agree = "" if m["profile_total"] == m["instructions"] else \
        f"  (profiled row: {m['profile_total']:,}, differs!)"
    spread = "" if min(m["per_row"]) == max(m["per_row"]) else \
        f" rows {min(m['per_row']):,}..{max(m['per_row']):,}"
    goal = goal1(key, m) if m["board"] != RISCV else goal6(key, m)
    cyc = f"{m['est_cycles'] / 1e6:6.2f} M ({m['macs'] / m['est_cycles']:.2f})" \
        if m.get("est_cycles") else f"{'-':>17}"
    print(f"  {m['board']:<11} {m['instructions']:>12,} {m['macs']:>12,} {m['mpi']:>7.3f} "
          f"{cyc} {ratio:>7} (TFLM {tflm})  {goal}  [{m['bitexact']}]{spread}{agree}")


def print_layers(m: dict) -> None:
    total, layers = m["instructions"], m["layers"]
    print(f"  top layers on {m['board']}:")
    for L in sorted(layers, key=lambda L: -L["instructions"])[:5]:
        print("    " + describe(L, total))
    kinds = ", ".join(f"{k} {100 * ins / total:.1f}% ({n})" for k, ins, n in op_kinds(layers)[:5])
    print(f"  op kinds: {kinds}")
    f = layer_findings(layers)
    print(f"  goal 2, MAC layers below {LAYER_GOAL} MACs/instr: "
          + (f"{len(f['below'])} (BELOW)" if f["below"] else "none (met)"))
    for L in f["below"]:
        print("    " + describe(L, total) + f", {L['channels']} output channels")
    if f["narrow"]:
        print(f"  below {LAYER_GOAL} with fewer than {SMALL_CHANNELS} output channels (allowed):")
        for L in f["narrow"]:
            print("    " + describe(L, total) + f", {L['channels']} output channels")
    if f["elementwise"]:
        bad = [e for e in f["elementwise"] if e["per_element"] > ELEMENT_GOAL]
        print(f"  goal 2, elementwise <= {ELEMENT_GOAL:g} instr/element: "
              + (f"{len(bad)} of {len(f['elementwise'])} BELOW" if bad else "met"))
        for e in f["elementwise"]:
            print(f"    op {e['op']:>3} {e['opcode']:<12} {e['elements']:>7,} elements "
                  f"{e['instructions']:>10,} instr  {e['per_element']:.2f}/element"
                  + ("  BELOW" if e["per_element"] > ELEMENT_GOAL else ""))
    else:
        print("  elementwise ops: none in this model")


def bench_model(spec: str, boards: list[str], build: bool) -> list[dict]:
    from tinykiln.errors import TinykilnError
    name, path, why = resolve(spec, build)
    key = key_of(name)
    print(f"{name}" + (f" ({path})" if path else "") + (f"  [{key}]" if key else ""))
    if path is None:
        print(f"  skipped: {why}\n")
        return []
    print(f"  {'board':<11} {'instructions':>12} {'MACs':>12} {'MAC/in':>7} "
          f"{'est. cycles (MAC/c)':>17} {'vs TFLM':>7}")
    results = []
    for board in boards:
        try:
            m = run_one(path, name, board)
        except TinykilnError as e:       # refused, does not fit, crashed: one sentence
            print(f"  {board:<11} not run: {e}")
            continue
        except Exception as e:          # a failed build or profile: report it, go on
            lines = f"{type(e).__name__}: {e}".splitlines()
            print(f"  {board:<11} not run: " + "\n    ".join(
                lines if len(lines) <= 5 else [lines[0], "...", *lines[-4:]]))
            continue
        print_row(m, key)
        results.append(m)
    for m in results:
        if m["board"] == M4:
            print_layers(m)
    print()
    return results


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*", help="default: " + ", ".join(SHARED + mlperf_models.NAMES))
    ap.add_argument("--boards", default=",".join(BOARDS))
    ap.add_argument("--riscv", action="store_true", help=f"also {RISCV} (RISC-V, goal 6)")
    ap.add_argument("--no-build", action="store_true",
                    help="do not convert the MLPerf models (use them only when cached)")
    ap.add_argument("--json", help="also write every figure, per layer, to this file")
    a = ap.parse_args(argv)
    boards = a.boards.split(",") + ([RISCV] if a.riscv else [])
    from tinykiln.targets.board import get_board
    from tinykiln.errors import TinykilnError
    try:
        for b in boards:
            get_board(b)
    except TinykilnError as e:
        print(e)
        return 1
    print("TFLM + CMSIS-NN baselines: mps2-an386 (Cortex-M4) figures of ../shared/BASELINES.md; "
          "'vs TFLM' divides by them on every board but mps3-an547, which is compared with "
          "CMSIS-NN's Helium (MVE) figures and issue 12's Helium goals.\n")
    results = []
    for spec in a.models or [*SHARED, *mlperf_models.NAMES]:
        results += bench_model(spec, boards, not a.no_build)
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
