"""Worst-case stack of a firmware image, by analysis: each function's frame from gcc's
-fstack-usage files (or, for library code built without them, from its prologue in the
disassembly), the call graph from the image's disassembly, and the deepest path from the reset
handler, plus what a fault handler adds on top of it. The image then reserves that much and a
small margin instead of the board's default.

The generated code and the kernels call every function directly and do not recurse; where an
image does not hold to that (an indirect call the analysis cannot resolve, recursion, a frame
of dynamic size), the result says so and the board's default is reserved instead."""
from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from ..lower.fully_connected import lanes_bytes

# bytes reserved above the computed worst case
MARGIN = 64
# What an Arm exception pushes on the interrupted stack before its handler runs: eight words, 26
# (and 4 of alignment) where the FPU's context is stacked too
ARM_EXCEPTION_FRAME = {False: 32, True: 112}
# Indirect transfers the analysis knows: the Arm fault entry loads tk_fault_c's address and
# branches to it (a direct branch would not reach on ARMv6-M)
KNOWN_INDIRECT = {"tk_fault_entry": ("tk_fault_c",)}
# A register branch in a function that takes addresses only of places inside itself (ADR or an
# add to pc, objdump's comment naming <itself+offset>: the Helium kernels' computed entries into
# their own written-out sequences) stays inside it: the stack depth does not change (report.json
# lists such functions as assumed; QEMU's measured peak is checked against the result anyway)
_ADR_TARGET = re.compile(r"<([^>+]+)\+0x[0-9a-f]+>")


def _jumps_inside(name: str, insns: list[tuple[str, str]]) -> bool:
    """Whether every address `name` takes lies inside it: ADR (or an add to pc) naming
    <name+offset>, or a return address a few bytes on (add lr, pc, #small)."""
    adr = [ops for mnem, ops in insns if mnem.startswith("adr") or
           (mnem.startswith(("add", "addw")) and re.search(r"\bpc\b", ops.split(";")[0]))]
    for ops in adr:
        m = _ADR_TARGET.search(ops)
        near = re.match(r"lr,\s*pc,\s*#(\d+)\s*$", ops.split("@")[0].strip())
        if not (m and m.group(1) == name) and not (near and int(near.group(1)) < 64):
            return False
    return bool(adr)

_SU_LINE = re.compile(r"^.*:\d+:\d+:(\S+)\t(\d+)\t(\S+)$")
_FUNC_HEAD = re.compile(r"^([0-9a-f]+) <([^>]+)>:$")
_INSN = re.compile(r"^\s*[0-9a-f]+:\s+(?:[0-9a-f]{2,8}\s)+\s*(\S+)\s*(.*)$")
_TARGET = re.compile(r"\b[0-9a-f]+ <([^>+]+)(\+0x[0-9a-f]+)?>")


@dataclass
class StackAnalysis:
    computed: int | None             # worst-case bytes, or None when it cannot be bounded
    path: list[str] = field(default_factory=list)   # the deepest path from the reset handler
    frames: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)   # why it is unbounded, when it is
    estimated: list[str] = field(default_factory=list)  # frames read from prologues
    assumed: list[str] = field(default_factory=list)    # computed jumps taken to stay inside

    def reserve(self) -> int:
        """Bytes to reserve: the worst case and the margin, a multiple of 16 (the RISC-V ABI's
        stack alignment; Arm's is 8)."""
        return (self.computed + MARGIN + 15) // 16 * 16


def _base(name: str) -> str:
    """A symbol's function name without gcc's clone suffix numbers (tk_f.constprop.0 ->
    tk_f.constprop, as -fstack-usage names it)."""
    return re.sub(r"(\.(?:constprop|isra|part|cold|lto_priv))\.\d+", r"\1", name)


def read_su(build_dir: Path) -> tuple[dict[str, int], list[str]]:
    """Frames from the .su files (largest where a name repeats) and the dynamic ones."""
    frames: dict[str, int] = {}
    dynamic = []
    for su in sorted(Path(build_dir).rglob("*.su")):
        for line in su.read_text().splitlines():
            m = _SU_LINE.match(line)
            if not m:
                continue
            name, size, kind = m.group(1), int(m.group(2)), m.group(3)
            frames[name] = max(frames.get(name, 0), size)
            if kind.startswith("dynamic") and "bounded" not in kind:
                dynamic.append(name)
    return frames, dynamic


def disassemble(objdump: str, elf: Path) -> dict[str, list[tuple[str, str]]]:
    """function name -> its instructions (mnemonic, operands), from objdump -d."""
    out = subprocess.run([objdump, "-d", "--no-show-raw-insn", str(elf)], capture_output=True,
                         text=True, check=True).stdout
    funcs: dict[str, list[tuple[str, str]]] = {}
    cur = None
    for line in out.splitlines():
        m = _FUNC_HEAD.match(line)
        if m:
            cur = m.group(2)
            funcs[cur] = []
            continue
        if cur is None or not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) >= 2 and parts[0].strip().endswith(":"):
            funcs[cur].append((parts[1].strip(), "\t".join(parts[2:]).strip()))
    return funcs


def _prologue_frame(insns: list[tuple[str, str]], arch: str) -> int:
    """Bytes a function built without -fstack-usage pushes: its prologue's pushes and stack
    pointer decrements (library code: memcpy, memset, libgcc)."""
    total = 0
    for mnem, ops in insns[:12]:
        if arch == "arm":
            if mnem.startswith(("push", "stmdb")) and ("sp" in ops or mnem.startswith("push")):
                total += 4 * _reg_count(ops)
            elif mnem.startswith("vpush"):
                total += 8 * _reg_count(ops)
            elif mnem.startswith("sub") and re.match(r"sp,\s*(sp,\s*)?#\d+", ops):
                total += int(ops.split("#")[1].split()[0])
        elif mnem in ("addi", "c.addi16sp", "c.addi") and re.match(r"sp,\s*sp,\s*-\d+", ops):
            total += -int(ops.split(",")[-1])
    return total


def _reg_count(ops: str) -> int:
    regs = ops[ops.find("{") + 1:ops.find("}")]
    n = 0
    for part in regs.split(","):
        part = part.strip()
        m = re.match(r"([a-z]+)(\d+)-[a-z]+(\d+)", part)
        n += int(m.group(3)) - int(m.group(2)) + 1 if m else 1
    return n


def _edges(name: str, insns: list[tuple[str, str]], arch: str,
           known: set[str]) -> tuple[set[str], list[str]]:
    """Functions `name` calls or tail-branches to, and its unresolved indirect transfers."""
    calls, indirect = set(), []
    for mnem, ops in insns:
        m = _TARGET.search(ops)
        if arch == "arm":
            branch = mnem.startswith(("b", "cb")) and not mnem.startswith(("bic", "bfi", "bfc",
                                                                               "bkpt"))
            if mnem.startswith(("blx", "bx")) and not m:
                if ops.split()[0] not in ("lr",):
                    indirect.append(f"{mnem} {ops}")
                continue
        else:
            branch = mnem in ("jal", "j", "c.j", "c.jal", "tail", "call", "jalr", "c.jalr",
                              "c.jr", "jr") or mnem.startswith(("b", "c.b"))
            if mnem in ("jalr", "c.jalr", "c.jr", "jr") and not m:
                if ops not in ("ra", "zero,0(ra)", "zero,ra,0", "ra,0") and mnem != "ret":
                    indirect.append(f"{mnem} {ops}")
                continue
        if branch and m and not m.group(2) and m.group(1) != name and m.group(1) in known:
            calls.add(m.group(1))
    for target in KNOWN_INDIRECT.get(name, ()):
        if target in known:
            calls.add(target)
            indirect = [i for i in indirect if not i.startswith("bx")]
    return calls, indirect


# Kernels with a variable-length array, its bytes from the op's parameters (struct type, bound):
# tk_fully_connected_s8_pairs' input lanes (lower/fully_connected.lanes_bytes)
VLA_KERNELS = {
    "tk_fully_connected_s8_pairs": ("tk_fc_pairs_params",
                                    lambda f: lanes_bytes(f["accum_depth"])),
}


def vla_bytes(c) -> dict[str, int]:
    """Per kernel with a variable-length array, the most bytes any of the model's calls makes it
    take (from the parameter struct each call passes first)."""
    out: dict[str, int] = {}
    if c is None:
        return out
    structs = {"&" + st.name: st for st in c.lowered.structs}
    for call in c.lowered.calls:
        st = structs.get(call.args[0]) if call.args else None
        func, (ctype, bound) = call.func, VLA_KERNELS.get(call.func, ("", None))
        if bound is None or st is None or st.ctype != ctype:
            continue
        fields = {k: int(v) for k, v in st.fields if isinstance(v, str)
                  and re.fullmatch(r"-?\d+", v)}
        out[func] = max(out.get(func, 0), bound(fields))
    return out


def analyse(build_dir: Path, elf: Path, objdump: str, arch: str, entry: str,
            handlers: tuple[str, ...] = (), exception_frame: int = 0,
            vla: dict[str, int] | None = None) -> StackAnalysis:
    """The worst-case stack of `elf`: the deepest path from `entry`, plus, when `handlers` run
    on the interrupted stack (Arm), the deepest handler's path and the exception frame. `vla`:
    the bytes of the variable-length arrays of the kernels that have one (vla_bytes)."""
    su, dynamic = read_su(build_dir)
    for f, extra in (vla or {}).items():
        if f in dynamic:
            dynamic.remove(f)
            su[f] = su.get(f, 0) + extra
    funcs = disassemble(objdump, elf)
    known = set(funcs)
    res = StackAnalysis(None)
    graph, indirect_of = {}, {}
    for name, insns in funcs.items():
        if name.startswith("$") or not insns:
            continue
        base = _base(name)
        if base in su:
            res.frames[name] = su[base]
        else:
            res.frames[name] = _prologue_frame(insns, arch)
            res.estimated.append(name)
        graph[name], indirect_of[name] = _edges(name, insns, arch, known)
        if arch == "arm" and indirect_of[name] and _jumps_inside(name, insns):
            if all(i.startswith("bx") for i in indirect_of[name]):
                indirect_of[name] = []
                res.assumed.append(f"{name}: its register branches enter itself")
    depth: dict[str, tuple[int, list[str]] | None] = {}

    def deepest(f: str, on_path: tuple[str, ...]) -> tuple[int, list[str]] | None:
        if f in on_path:
            res.problems.append(f"recursion: {' -> '.join((*on_path[on_path.index(f):], f))}")
            return None
        if f in depth:
            return depth[f]
        if indirect_of.get(f) or _base(f) in dynamic:
            res.problems += [f"{f}: an indirect call or branch ({i})" for i in indirect_of[f]]
            res.problems += [f"{f}: a frame of dynamic size"] if _base(f) in dynamic else []
            depth[f] = None
            return None
        best: tuple[int, list[str]] = (0, [])
        for g in sorted(graph.get(f, ())):
            sub = deepest(g, (*on_path, f))
            if sub is None:
                depth[f] = None
                return None
            if sub[0] > best[0]:
                best = sub
        depth[f] = (res.frames.get(f, 0) + best[0], [f, *best[1]])
        return depth[f]

    if entry not in graph:
        res.problems.append(f"no entry function {entry} in the image")
        return res
    main = deepest(entry, ())
    extra = 0
    for h in handlers:
        sub = deepest(h, ()) if h in graph else (0, [])
        if sub is None:
            main = None
            break
        extra = max(extra, sub[0] + exception_frame)
    if main is None or res.problems:
        return res
    res.computed, res.path = main[0] + extra, main[1]
    return res


def stack_report(a: StackAnalysis, override: int | None, reserved: int) -> dict:
    """report.json's stack: what is reserved and why, the computed worst case and its path."""
    if override is not None:
        source = "--stack"
    elif a.computed is not None:
        source = f"analysis: the worst case and a margin of {MARGIN} bytes"
    else:
        source = "the board's stack_bytes: the analysis cannot bound the stack"
    return {"reserved": reserved, "computed": a.computed, "source": source,
            "deepest_path": a.path, "unbounded_because": a.problems,
            "frames_from_prologues": a.estimated, "assumed": a.assumed}


def stack_line(st: dict) -> str:
    """The size report's line about the stack."""
    if st["computed"] is None:
        return (f"  stack {st['reserved']:,} B: {st['source']} ("
                f"{'; '.join(st['unbounded_because'][:2])})")
    how = "given by --stack" if st["source"] == "--stack" else f"{MARGIN} B of margin"
    return (f"  stack {st['reserved']:,} B: worst case {st['computed']:,} B computed, {how}; "
            f"deepest path {' > '.join(st['deepest_path'][2:6])}")
