"""Estimated cycles from exact per-class instruction counts.

The QEMU plugin (qemu_plugin/tk_count.c, with classes=1) counts the executed instructions of each
class, the registers moved by load/store multiples and doubles, and the taken control transfers,
per layer. This module turns those counts into an ESTIMATE of core cycles with a per-core table of
documented instruction timings, assuming zero-wait-state memory (TCM or SRAM, no flash wait states,
no cache misses, no bus contention) and no interrupts. QEMU does not model time: nothing here is
measured. Only the Cortex-M4 table is Arm's own per-instruction table; TIMINGS names the source
of every figure, timing_rows() prints the table (README, "Cycle estimates").
"""
from __future__ import annotations

from dataclasses import dataclass, field

# the plugin's classes, in the order of its output columns
CLASSES = ("alu", "load", "ldst_pipelined", "store", "multiple", "mul", "dsp_mac", "mul64", "div",
           "branch", "fp_mac", "fp_div")
EXTRA = ("registers", "taken")

LABEL = "est. cycles"


@dataclass(frozen=True)
class CoreTiming:
    core: str                       # "Cortex-M4"
    cost: dict                      # class -> cycles per instruction
    per_register: float             # added per register moved by a multiple / double
    refill: float                   # P: added per taken control transfer (pipeline refill)
    ranges: dict = field(default_factory=dict)     # class or "P" -> documented range (text)
    source: str = ""

    def cycles(self, counts: dict) -> float:
        return (sum(self.cost[c] * counts.get(c, 0) for c in CLASSES)
                + self.per_register * counts.get("registers", 0)
                + self.refill * counts.get("taken", 0))


_M4_COST = {"alu": 1, "load": 2, "ldst_pipelined": 1, "store": 2, "multiple": 1, "mul": 1,
            "dsp_mac": 1, "mul64": 1, "div": 7, "branch": 1, "fp_mac": 3, "fp_div": 14}
_M4_SOURCE = ("Arm Cortex-M4 Processor Technical Reference Manual r0p1 (Arm 100166, formerly "
              "DDI 0439), section 3.3.1 Table 3-1 'Processor instruction set summary' and "
              "section 3.3.2 'Load/store timings'; FPU timings from its FPU chapter")

TIMINGS = {
    "cortex-m4": CoreTiming(
        "Cortex-M4", dict(_M4_COST), per_register=1, refill=2,
        ranges={"div": "2-12", "P": "1-3"}, source=_M4_SOURCE),
    "cortex-m33": CoreTiming(
        "Cortex-M33", dict(_M4_COST), per_register=1, refill=2,
        ranges={"div": "2-12 as M4", "P": "1-3 as M4"},
        source="no per-instruction table is published (Cortex-M33 TRM, Arm 100230); the core has "
               "the M4's 3-stage in-order pipeline and Arm's LLVM backend schedules cortex-m33 "
               "with its Cortex-M4 model (ARMScheduleM4.td): the M4 table is used"),
    "cortex-m7": CoreTiming(
        "Cortex-M7", {"alu": 1, "load": 1, "ldst_pipelined": 1, "store": 1, "multiple": 1,
                      "mul": 1, "dsp_mac": 1, "mul64": 1, "div": 7, "branch": 1, "fp_mac": 1,
                      "fp_div": 16},
        per_register=0.5, refill=1,
        ranges={"div": "not published; LLVM stalls 7", "P": "assumed for a predicted branch; "
                                                                 "LLVM mispredict 4-6"},
        source="the Cortex-M7 TRM (ARM DDI 0489) describes the 6-stage dual-issue pipeline "
               "(two load pipes, one store pipe, one MAC pipe, branch prediction) but gives no "
               "per-instruction table; issue costs from Arm's LLVM scheduling model "
               "ARMScheduleM7.td (single loads, stores and MACs issue every cycle, divisions "
               "stall 7, VDIV/VSQRT 16, LDM/STM/LDRD/STRD single-issue over a 64-bit path: "
               "1 + N/2 assumed; taken branch +1 assumed for a predicted branch); dual issue is "
               "not modelled, so the estimate is high for code that pairs well"),
    "cortex-m55": CoreTiming(
        "Cortex-M55", {"alu": 1, "load": 2, "ldst_pipelined": 1, "store": 1, "multiple": 1,
                       "mul": 1, "dsp_mac": 1, "mul64": 1, "div": 7, "branch": 1, "fp_mac": 1,
                       "fp_div": 16},
        per_register=1, refill=2,
        ranges={"div": "2-12 as M4", "P": "as M4; LLVM mispredict 3; none after LE"},
        source="Arm's LLVM scheduling model ARMScheduleM55.td ('a lot like the M4/M33'): scalar "
               "loads 2 cycles, stores 1, multiplies and MACs issue every cycle (result latency "
               "2, not modelled), only 16-bit pairs dual-issue (not modelled); MVE (Helium) "
               "instructions are counted as 1 (two beats overlapped); an LE loop-end branch "
               "back is charged no refill (low-overhead loop cache, assumed); division and P "
               "as M4"),
}


def timing_for(cpu: str) -> CoreTiming | None:
    """The timing table of a board's cpu field, or None (no estimate for that core)."""
    return TIMINGS.get(cpu)


def class_counts(row_a: list[int], row_b: list[int]) -> dict:
    """Per-class counts between two plugin sample rows (instructions, classes..., registers,
    taken)."""
    names = ("instructions", *CLASSES, *EXTRA)
    if len(row_a) != len(names) or len(row_b) != len(names):
        raise RuntimeError(f"profile: a sample has {len(row_a)} columns, expected {len(names)}")
    return {n: b - a for n, a, b in zip(names, row_a, row_b)}


def estimate(counts: dict, timing: CoreTiming) -> int:
    return int(round(timing.cycles(counts)))


def timing_rows() -> list[tuple[str, ...]]:
    """The timing table as rows: (class, what it holds, M4, M33, M7, M55)."""
    what = {
        "alu": "everything else (data processing, moves, compares, IT, SIMD add/sub, SSAT, SXTB16)",
        "load": "single load LDR/LDRB/LDRH/LDRSB/LDRSH/LDREX, VLDR.32",
        "ldst_pipelined": "single load or store after a single load; STR with immediate offset",
        "store": "STR with register offset, not after a load",
        "multiple": "LDM/STM/PUSH/POP/LDRD/STRD/VLDM/VSTM/VPUSH/VPOP/VLDR.64: base + per register",
        "mul": "MUL, MLA, MLS", "dsp_mac": "SMLAD/SMLSD/SMUAD/SMUSD(X), SMLAxy/SMULxy/SMLAWy, "
                                            "SMMUL/SMMLA/SMMLS",
        "mul64": "SMULL, UMULL, SMLAL, UMLAL, UMAAL, SMLALD, SMLSLD", "div": "SDIV, UDIV",
        "branch": "B, Bcc, BL, BX, BLX, CBZ, CBNZ, TBB, TBH (not taken)",
        "fp_mac": "VMLA/VMLS/VFMA/VFMS/VNMLA...", "fp_div": "VDIV, VSQRT"}
    cores = ("cortex-m4", "cortex-m33", "cortex-m7", "cortex-m55")
    rows = []
    for c in CLASSES:
        cells = []
        for k in cores:
            t = TIMINGS[k]
            v = _num(t.cost[c])
            if c == "multiple":
                v = f"{v} + {'' if t.per_register == 1 else _num(t.per_register)}N"
            if c in t.ranges:
                v += f" ({t.ranges[c]})"
            cells.append(v)
        rows.append((c, what[c], *cells))
    rows.append(("taken", "added per taken branch / PC write (pipeline refill P)",
                 *(f"{_num(TIMINGS[k].refill)} ({TIMINGS[k].ranges['P']})" for k in cores)))
    return rows


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)
