"""Run a firmware image under QEMU: input rows go in and outputs come back through semihosting
files; a fault, a lockup or a hang is reported as such, never as numbers. With profile=True a
TCG plugin built by the project counts the exact guest instructions of every layer and, on cores
with a timing table (cycles.py), the instructions of each class, from which the profile estimates
cycles."""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .board import Board
from .cycles import LABEL, class_counts, estimate, timing_for
from ..errors import TinykilnError
from .hostrun import check_inputs, split_outputs


class FirmwareFailure(TinykilnError):
    """The firmware crashed, hung or locked up: its outputs do not exist."""


@dataclass
class RunResult:
    outputs: list[np.ndarray]
    rows: int
    stack_peak: int
    stack_size: int
    console: str
    seconds: float
    profile: dict | None = None
    samples: list[int] = field(default_factory=list)


def qemu_binary(board: Board) -> str:
    if not board.emulated:
        raise TinykilnError(f"board '{board.name}' is real hardware: tinykiln builds and "
                            f"size-checks images for it (tinykiln build) but cannot run them.")
    exe = board.tools["qemu"]
    if shutil.which(exe) is None:
        raise TinykilnError(f"running on {board.name} needs {exe}, which is not on PATH "
                            f"(Debian: apt-get install {board.tools['qemu_package']}).")
    return exe


def plugin_path() -> Path:
    """The instruction-counting plugin, built with the host gcc once per source version."""
    src = Path(__file__).resolve().parent / "qemu_plugin" / "tk_count.c"
    text = src.read_bytes()
    out = Path(tempfile.gettempdir()) / f"tinykiln-tk_count-{hashlib.sha256(text).hexdigest()[:16]}.so"
    if out.is_file():
        return out
    if shutil.which("gcc") is None:
        raise TinykilnError("--profile builds a QEMU plugin and needs gcc on PATH.")
    tmp = out.with_suffix(f".{id(text)}.tmp")
    r = subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-Werror", "-o",
                        str(tmp), str(src)], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"building the QEMU plugin failed:\n{r.stderr}")
    tmp.rename(out)
    return out


def qemu_command(board: Board, elf: Path, profile_args: str | None = None) -> list[str]:
    cmd = [qemu_binary(board), "-M", board.qemu_machine, *board.qemu_args, "-display", "none",
           "-monitor", "none", "-serial", "stdio", "-semihosting-config", "enable=on,target=native",
           "-kernel", str(elf)]
    if profile_args:
        cmd += ["-icount", "shift=0", "-plugin", profile_args]
    return cmd


_FAULT = re.compile(r"tinykiln-(fault|io): (.*)")


def run_firmware(fw_dir: str | Path, board: Board, graph, inputs: list[np.ndarray],
                 profile: bool = False, timeout: float | None = None) -> RunResult:
    """Run every row of `inputs` (one array per model input, shape (N, *shape)) through the image
    in fw_dir (firmware.elf + report.json from firmware.build_firmware)."""
    fw_dir = Path(fw_dir)
    elf = (fw_dir / "firmware.elf").resolve()
    report = json.loads((fw_dir / "report.json").read_text())
    n = check_inputs(graph, inputs)
    rows = b"".join(b"".join(np.ascontiguousarray(x[r]).tobytes() for x in inputs)
                    for r in range(n))
    if timeout is None:
        timeout = 30.0 + 0.2 * n
    with tempfile.TemporaryDirectory(prefix="tinykiln-qemu-") as d:
        d = Path(d)
        (d / "tk_in.bin").write_bytes(rows)
        pargs = None
        timing = timing_for(board.cpu)
        if profile:
            pargs = f"{plugin_path()},marker={report['marker_address']:#x},out=tk_profile.txt"
            pargs += ",classes=1" if timing else ""
        cmd = qemu_command(board, elf, pargs)
        r, secs = _qemu(cmd, d, board, timeout, f"{n} rows")
        stats = _stats(d / "tk_stats.txt", board)
        if stats.get("rows") != n:
            raise FirmwareFailure(f"the firmware on {board.name} ran {stats.get('rows')} rows of {n}.")
        outs = split_outputs(graph, (d / "tk_out.bin").read_bytes(), n)
        res = RunResult(outs, n, stats["stack_peak"], stats["stack_size"], r.stdout, secs)
        computed = report.get("stack", {}).get("computed")
        if computed is not None and res.stack_peak > computed:
            raise FirmwareFailure(
                f"the measured peak stack on {board.name}, {res.stack_peak} bytes, exceeds the "
                f"{computed} bytes the stack analysis computed for this image: a tinykiln bug "
                f"(its call graph misses a path); please report it.")
        if profile:
            rows = _sample_rows(d / "tk_profile.txt")
            res.samples = [r[0] for r in rows]
            res.profile = layer_profile(res.samples, report, n)
            if timing:
                add_cycle_estimate(res.profile, rows, timing)
            else:
                res.profile.update(est_cycles=None, cycle_model=None,
                                   cycle_note=f"no cycle estimate for {board.cpu}: timing tables "
                                              f"exist for Cortex-M4, M7, M33 and M55 only")
    return res


def _qemu(cmd: list[str], d: Path, board: Board, timeout: float, what: str):
    """Run QEMU in folder d; a hang, a fault, a lockup or a failed exit raises FirmwareFailure.
    Returns (the completed process, seconds)."""
    t0 = time.perf_counter()
    try:
        r = subprocess.run(cmd, cwd=d, capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) \
            else (e.stdout or "")
        raise FirmwareFailure(f"the firmware on {board.name} did not finish within {timeout:.0f} s "
                              f"(hang or lockup; {what}); console: {out.strip()[-300:]!r}.") \
            from None
    secs = time.perf_counter() - t0
    text = r.stderr + "\n" + r.stdout
    m = _FAULT.search(text)
    if r.returncode != 0 or m:
        if m and m.group(1) == "fault":
            raise FirmwareFailure(f"the firmware crashed on {board.name}: {m.group(2).strip()}.")
        if m:
            raise FirmwareFailure(f"firmware I/O failed on {board.name}: {m.group(2).strip()}.")
        fatal = re.search(r"qemu: fatal: (.*)", r.stderr)
        if fatal:
            regs = dict(re.findall(r"\b(R1[345]|XPSR)=([0-9a-f]+)", r.stderr))
            names = {"R15": "pc", "R14": "lr", "R13": "sp", "XPSR": "xpsr"}
            where = " ".join(f"{names[k]}=0x{regs[k]}" for k in names if k in regs)
            raise FirmwareFailure(f"the core locked up on {board.name}: "
                                  f"{fatal.group(1).strip()}; {where}.")
        hint = " (the core locked up or hit a semihosting call QEMU refused)" \
            if r.returncode in (134, -6) else ""
        raise FirmwareFailure(f"QEMU exited with status {r.returncode} on {board.name}{hint}: "
                              f"{r.stderr.strip()[-500:]!r}.")
    return r, secs


@dataclass
class HarnessRun:
    files: dict[str, bytes]         # every file the image wrote over semihosting
    console: str
    samples: list[int]              # instruction counter at each marker hit (with a marker)
    seconds: float
    rows: list = field(default_factory=list)    # every counter at each hit (with classes=True)


def run_harness(elf: str | Path, board: Board, files: dict[str, bytes] | None = None,
                marker: str | None = None, timeout: float = 120.0,
                classes: bool = False) -> HarnessRun:
    """Run a test or benchmark image (firmware.build_harness) under QEMU as run_firmware does:
    `files` are put in its semihosting folder, and everything it writes there comes back. With
    `marker` (a function symbol of the image) the counting plugin samples the executed
    instructions at every call of it; with `classes` also the per-class counters (rows: see
    cycles.class_counts)."""
    elf = Path(elf).resolve()
    with tempfile.TemporaryDirectory(prefix="tinykiln-qemu-") as d:
        d = Path(d)
        for name, data in (files or {}).items():
            (d / name).write_bytes(data)
        pargs = None
        if marker:
            pargs = f"{plugin_path()},marker={symbol_address(elf, marker):#x},out=tk_profile.txt"
            pargs += ",classes=1" if classes else ""
        r, secs = _qemu(qemu_command(board, elf, pargs), d, board, timeout, elf.name)
        rows = _sample_rows(d / "tk_profile.txt") if marker else []
        out = {p.name: p.read_bytes() for p in d.iterdir()
               if p.is_file() and p.name not in (files or {}) and p.name != "tk_profile.txt"}
    return HarnessRun(out, r.stdout, [r_[0] for r_ in rows], secs, rows if classes else [])


def symbol_address(elf: Path, name: str) -> int:
    """A function's address in the ELF (the Thumb bit cleared)."""
    from elftools.elf.elffile import ELFFile
    with open(elf, "rb") as fh:
        syms = ELFFile(fh).get_section_by_name(".symtab").get_symbol_by_name(name)
    if not syms:
        raise RuntimeError(f"{elf} has no symbol {name}")
    return syms[0]["st_value"] & ~1


def _stats(path: Path, board: Board) -> dict:
    if not path.is_file():
        raise FirmwareFailure(f"the firmware on {board.name} exited without writing its statistics.")
    out = {}
    for line in path.read_text().splitlines():
        k, _, v = line.partition(" ")
        out[k] = int(v)
    return out


def _sample_rows(path: Path) -> list[list[int]]:
    """Every marker hit's counters (instructions first; with classes=1 the classes, registers
    and taken transfers follow), after the "total N" and "columns ..." lines."""
    return [[int(x) for x in ln.split()] for ln in path.read_text().splitlines()
            if ln and ln[0].isdigit()]


def layer_profile(samples: list[int], report: dict, rows: int) -> dict:
    """Per-layer instruction counts of the first row; totals of every row. The marker is hit
    before each layer and once after the last, so each inference gives len(layers)+1 samples."""
    layers = report["layers"]
    per = len(layers) + 1
    if len(samples) != per * rows:
        raise RuntimeError(f"profile: {len(samples)} marker hits for {rows} rows of "
                           f"{len(layers)} layers (expected {per * rows})")
    totals = [samples[r * per + per - 1] - samples[r * per] for r in range(rows)]
    first = samples[:per]
    out_layers = []
    for i, L in enumerate(layers):
        ins = first[i + 1] - first[i]
        out_layers.append({**L, "instructions": ins,
                           "macs_per_instruction": round(L["macs"] / ins, 4) if ins and L["macs"] else None})
    total = totals[0] if totals else 0
    return {"layers": out_layers, "instructions": total, "macs": report["macs"],
            "macs_per_instruction": round(report["macs"] / total, 4) if total else None,
            "instructions_per_row": totals}


def add_cycle_estimate(p: dict, rows: list[list[int]], timing) -> None:
    """Per-layer class counts and estimated cycles of the first row (layer_profile's samples),
    and the estimate's model, into profile p."""
    per = len(p["layers"]) + 1
    for i, L in enumerate(p["layers"]):
        counts = class_counts(rows[i], rows[i + 1])
        if counts.pop("instructions") != L["instructions"]:
            raise RuntimeError("profile: class counts disagree with the instruction count")
        L["classes"] = counts
        L["est_cycles"] = estimate(counts, timing)
    total = class_counts(rows[0], rows[per - 1])
    total.pop("instructions")
    p["classes"] = total
    p["est_cycles"] = estimate(total, timing)
    p["cycle_model"] = {"core": timing.core, "estimate": True, "cost": timing.cost,
                        "per_register": timing.per_register, "taken_refill": timing.refill,
                        "ranges": timing.ranges, "source": timing.source}
    p["cycle_note"] = (f"{LABEL}: an ESTIMATE for {timing.core} from per-class instruction "
                       f"timings (zero-wait-state memory; sources in the README); instruction "
                       f"counts are exact")


def format_profile(p: dict) -> str:
    est = p.get("est_cycles") is not None
    lines = [f"{'op':>4} {'opcode':<22} {'instructions':>13} {LABEL + (' *' if est else ''):>13} "
             f"{'MACs':>11} {'MACs/instr':>10}"]
    for L in p["layers"]:
        mpi = f"{L['macs_per_instruction']:.3f}" if L["macs_per_instruction"] is not None else "-"
        cyc = f"{L['est_cycles']:,}" if L.get("est_cycles") is not None else "-"
        lines.append(f"{L['op']:>4} {L['opcode']:<22} {L['instructions']:>13,} {cyc:>13} "
                     f"{L['macs']:>11,} {mpi:>10}")
    mpi = f"{p['macs_per_instruction']:.3f}" if p["macs_per_instruction"] else "-"
    cyc = f"{p['est_cycles']:,}" if est else "-"
    lines.append(f"{'':>4} {'total per inference':<22} {p['instructions']:>13,} {cyc:>13} "
                 f"{p['macs']:>11,} {mpi:>10}")
    if p.get("cycle_note"):
        lines.append(("* " if est else "") + p["cycle_note"]
                     + (f"; {p['macs'] / p['est_cycles']:.3f} MACs per estimated cycle"
                        if est and p["est_cycles"] and p["macs"] else ""))
    return "\n".join(lines)
