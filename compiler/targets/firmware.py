"""Firmware images: the compiled model plus startup code, vector table, linker script and a main,
rendered from a board file and built with SCons and the board's cross compiler. The result is
an ELF/bin/hex/map and a size report (flash and RAM split into code, weights, arena, stack, rest)."""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from .. import __version__
from .board import BOOT2_KINDS, Board
from ..codegen.csource import template_env
from ..compile import Compiled
from ..errors import TinykilnError
from ..outdir import staged_output
from ..resources import resource_dir
from .fit import check_fit, does_not_fit, narrow_flags, replanned, widened_extra
from .fit import usage_lower_bound  # noqa: F401  (tests and callers import it from here)
from .stack import ARM_EXCEPTION_FRAME, stack_line, stack_report

OPT = "-O2"
COMMON_CFLAGS = ["-std=c99", OPT, "-g", "-ffunction-sections", "-fdata-sections", "-fno-common",
                 "-Wall", "-Wextra", "-fstack-usage", "-include", "tk_hook.h"]
# The first link's stack and RAM: its image is only read by the stack analysis, so it links
# whatever the final stack (RAM as large as the address space allows, up to 256 MiB)
PROVISIONAL_STACK = 8
PROVISIONAL_RAM = 1 << 28
STATIC = ["tk_firmware.h", "tk_hook.h", "tk_common.c", "semihost.h"]
ARTIFACTS = ("firmware.elf", "firmware.bin", "firmware.hex", "firmware.map")


def _fw_dir() -> Path:
    return resource_dir("templates") / "firmware"


def _tool(board: Board, name: str) -> str:
    exe = board.tools["prefix"] + name
    if shutil.which(exe) is None:
        raise TinykilnError(f"building for {board.name} needs {exe}, which is not on PATH "
                            f"(Debian: apt-get install {board.tools['packages']}).")
    return exe


def firmware_sources(c: Compiled | None, board: Board, harness: dict[str, str] | None = None,
                     extra_cflags: tuple[str, ...] = (), stack_bytes: int | None = None,
                     provisional: bool = False) -> dict[str, str]:
    """Every file of the firmware source folder (relative name -> text), SConstruct included.
    With `harness` (relative name -> text: a main() and the sources it needs; c is None) the same
    startup, console, exit, helpers, linker script and flags surround the caller's main instead of
    the model and its semihosting main (tests and benchmarks of runtime code); extra_cflags are
    appended to the board's compile flags. stack_bytes: the stack the linker script reserves
    (default: the board's stack_bytes). provisional: the first link of an image whose stack is
    computed from it (PROVISIONAL_STACK and _RAM)."""
    if board.arch == "host":
        raise TinykilnError("the host board runs the model as a process (tinykiln run --board "
                            "host); it has no firmware image.")
    cc, objcopy = _tool(board, "gcc"), _tool(board, "objcopy")
    fw = _fw_dir()
    files = dict(c.files) if harness is None else dict(harness)
    main = "main_semihosting.c" if board.exit == "semihosting" else "main_standalone.c"
    con = board.console
    picked = [f"startup_{board.arch}.c", f"console_{con.driver}.c", f"exit_{board.exit}.c"]
    picked += [main] if harness is None else []
    if con.setup != "none":
        picked.append(f"console_setup_{con.setup}.c")
    for name in STATIC + picked:
        files[name] = f"/* copied by tinykiln {__version__} from templates/firmware/{name}; " \
                      f"do not edit */\n" + (fw / name).read_text()
    env = template_env()
    boot2_size = 0
    if board.boot2 != "none":
        from .boot2 import boot2_image
        kind = BOOT2_KINDS[board.boot2]
        img = boot2_image(board, cc, objcopy)
        boot2_size = len(img)
        files["boot2.c"] = env.get_template("firmware/boot2.c.j2").render(
            version=__version__, board=board.name, kind=board.boot2, source=kind.source,
            crc=int.from_bytes(img[-4:], "little"), size=len(img),
            rows=[", ".join(f"0x{b:02x}" for b in img[i:i + 12]) for i in range(0, len(img), 12)])
    r = c.report if harness is None else {
        "model": "test harness",
        "model_sha256": hashlib.sha256(json.dumps(sorted(harness.items())).encode()).hexdigest()}
    prefix = c.prefix if harness is None else "tk_harness"
    ctx = {
        "version": __version__, "board": board.name, "model_name": r["model"],
        "sha256": r["model_sha256"], "prefix": prefix, "PREFIX": prefix.upper(),
        "has_fpu": int(board.arch == "arm" and board.fpu != "none" and board.float_abi != "soft"),
        "fault_regs": int(board.family.fault_regs),
        "console_base": f"{board.console_address:#010x}",
        "flash_origin": f"{board.flash.origin:#010x}", "flash_length": f"{board.flash.length:#x}",
        "ram_origin": f"{board.ram.origin:#010x}",
        "ram_length": f"{min(PROVISIONAL_RAM, (1 << 32) - board.ram.origin):#x}" if provisional
        else f"{board.ram.length:#x}",
        "stack_bytes": PROVISIONAL_STACK if provisional else
        board.stack_bytes if stack_bytes is None else stack_bytes,
        "console_setup": int(con.setup != "none"), "console_macros": con.config_macros(),
        "boot2_size": boot2_size,
        # the RAM regions beyond [ram] that hold part of the model's arena
        "ram_regions": [{"name": r.name, "origin": f"{r.origin:#010x}", "length": f"{r.length:#x}"}
                        for r in board.ram_regions
                        if c is not None and harness is None and r.name in c.plan.region_names],
    }
    files["tk_config.h"] = env.get_template("firmware/tk_config.h.j2").render(ctx)
    files["link.ld"] = env.get_template(f"firmware/link_{board.arch}.ld.j2").render(ctx)
    cflags, linkflags = build_flags(board)
    files["SConstruct"] = env.get_template("firmware/SConstruct.j2").render(
        ctx, cc=cc, objcopy=objcopy, cflags=[*cflags, *extra_cflags],
        linkflags=[*linkflags, "-T", "link.ld", "-Wl,-Map=firmware.map"],
        libs=[], sources=sorted(f for f in files if f.endswith(".c")))
    return files


def build_flags(board: Board) -> tuple[list[str], list[str]]:
    """The compiler and linker flags of a board's image (the linker script and map are added by
    whichever build system drives the build: our SConstruct or the PlatformIO platform)."""
    gflags = board.gcc_flags()
    libc = list(board.tools["libc_flags"])
    return ([*gflags, *libc, *COMMON_CFLAGS],
            [*gflags, *libc, "-nostartfiles", "-Wl,--gc-sections", "-Wl,--no-warn-rwx-segments"])


_OVERFLOW = re.compile(r"region [`']?(\w+)'? overflowed by (\d+) bytes")


def _scons(src: Path, board: Board) -> str:
    cmd = [sys.executable, "-m", "SCons", "-Q", "-j", "2"]
    r = subprocess.run(cmd, cwd=src, capture_output=True, text=True)
    log = r.stdout + r.stderr
    if r.returncode != 0:
        over = {m.group(1).upper(): int(m.group(2)) for m in _OVERFLOW.finditer(log)}
        if over:    # the backstop of check_fit, with the exact overflow
            raise does_not_fit(board, over, at_least=False)
        raise RuntimeError(f"firmware build for {board.name} failed:\n{log[-6000:]}")
    return log


def build_firmware(c: Compiled, board: Board, out_dir: str | Path,
                   files: dict[str, str] | None = None, stack: int | None = None) -> dict:
    """Build the image into out_dir (atomically: a temp folder renamed when complete).
    `files` overrides firmware_sources(c, board) (tests inject faults this way). The stack is
    `stack` bytes when given, else what the analysis of a first link computes (stack.py) and a
    margin, or the board's stack_bytes where the analysis cannot bound it.
    Returns the size report, also written to out_dir/report.json. Where the link overflows
    [ram] and the board has more RAM regions, the model is planned again with less of [ram]."""
    try:
        return _build(c, board, out_dir, files, stack)
    except TinykilnError as e:
        again = replanned(c, board, e) if files is None else None
        if again is None:
            raise
        return _build(again, board, out_dir, None, stack)


def _build(c: Compiled, board: Board, out_dir: str | Path, files: dict[str, str] | None,
           stack: int | None) -> dict:
    check_fit(c, board, stack or 0)
    out_dir = Path(out_dir)
    narrow, ours = narrow_flags(c, board), files is None
    with staged_output(out_dir) as tmp:
        src = tmp / "src"
        src.mkdir()
        try:
            log, analysis = _link_image(c, board, src, stack, files, narrow)
        except TinykilnError as e:      # the int16 filters overflow the flash: the int8 ones
            if not (ours and not narrow and widened_extra(c) and ": flash over" in str(e)):
                raise
            narrow = ("-DTK_CONV_NARROW",)
            log, analysis = _link_image(c, board, src, stack, None, narrow)
        for a in ARTIFACTS:
            (src / a).rename(tmp / a)
        shutil.rmtree(src / "build", ignore_errors=True)
        for junk in src.glob(".sconsign*"):
            junk.unlink()
        uf2 = _uf2_family(board)
        if uf2:     # drag-and-drop flashing (RP2040 BOOTSEL drive)
            from .uf2 import to_uf2
            (tmp / "firmware.uf2").write_bytes(
                to_uf2((tmp / "firmware.bin").read_bytes(), board.flash.origin, uf2))
        report = size_report(c, board, tmp / "firmware.elf")
        if widened_extra(c):
            report["conv_filters"] = "int8: the int16 form would not fit the flash" if narrow \
                else "int16 where the core has the DSP extension (TK_CONV_W16)"
        report["stack"] = stack_report(analysis, stack, report["ram"]["stack"])
        report["build_warnings"] = [ln for ln in log.splitlines() if "warning:" in ln]
        (tmp / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def _link_image(c: Compiled, board: Board, src: Path, stack: int | None,
                files: dict[str, str] | None, narrow: tuple[str, ...]):
    """Write the sources (`files`, else firmware_sources) into src and build them: with the
    stack given, one link; else a first link, its stack analysis, and the final link reserving
    the computed worst case (or the board's stack_bytes). Returns (build log, analysis)."""
    if files is None:
        files = firmware_sources(c, board, stack_bytes=stack, provisional=stack is None,
                                 extra_cflags=narrow)
    for rel, text in sorted(files.items()):
        (src / rel).write_text(text)
    log = _scons(src, board)
    analysis = _stack_analysis(c, board, src)
    if stack is None:
        reserve = analysis.reserve() if analysis.computed is not None else board.stack_bytes
        link = _final_link((src / "link.ld").read_text(), board, reserve)
        if link != (src / "link.ld").read_text():
            (src / "link.ld").write_text(link)
            log = _scons(src, board)
    return log, analysis


def _final_link(text: str, board: Board, stack_bytes: int) -> str:
    """The linker script `text` (ours) with the board's RAM and a stack of stack_bytes."""
    text = re.sub(r"(__stack_bottom__ = \.;\n\s*\. \+= )\d+;", rf"\g<1>{stack_bytes};", text)
    return re.sub(r"(RAM\s+\(rwx\)\s*: ORIGIN = \S+, LENGTH = )0x[0-9a-f]+",
                  rf"\g<1>{board.ram.length:#x}", text)


def _stack_analysis(c: Compiled, board: Board, src: Path):
    from .stack import analyse, vla_bytes
    arm = board.arch == "arm"
    fpu = arm and board.fpu != "none" and board.float_abi != "soft"
    return analyse(src / "build", src / "firmware.elf", _tool(board, "objdump"), board.arch,
                   "tk_reset" if arm else "_start", ("tk_fault_entry",) if arm else (),
                   ARM_EXCEPTION_FRAME[fpu] if arm else 0, vla_bytes(c))


def build_harness(board: Board, harness: dict[str, str], out_dir: str | Path,
                  extra_cflags: tuple[str, ...] = ()) -> Path:
    """A test or benchmark image: the caller's main() and sources (`harness`, relative name ->
    text) inside the board's startup, console, exit, helpers, linker script and flags
    (firmware_sources), built by SCons into out_dir with the objects kept under out_dir/build.
    A compiler warning is an error. Returns out_dir/firmware.elf (firmware.map beside it)."""
    out_dir = Path(out_dir)
    for rel, text in sorted(firmware_sources(None, board, harness, extra_cflags).items()):
        (out_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        (out_dir / rel).write_text(text)
    warnings = [ln for ln in _scons(out_dir, board).splitlines() if "warning:" in ln]
    if warnings:
        raise RuntimeError(f"harness build for {board.name} warned:\n" + "\n".join(warnings))
    return out_dir / "firmware.elf"


def _uf2_family(board: Board) -> int:
    from .board import BOOT2_KINDS
    kind = BOOT2_KINDS.get(getattr(board, "boot2", "none"))
    return kind.uf2_family if kind else 0


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tinykiln" / "firmware"


def cached_firmware(c: Compiled, board: Board, stack: int | None = None) -> Path:
    """A built image for (model, board), reused when every source file is unchanged; `stack` as
    for build_firmware."""
    check_fit(c, board, stack or 0)
    files = firmware_sources(c, board, stack_bytes=stack, provisional=stack is None,
                             extra_cflags=narrow_flags(c, board))
    h = hashlib.sha256()
    for rel, text in sorted(files.items()):
        h.update(rel.encode() + b"\0" + text.encode() + b"\0")
    h.update(_compiler_version(files).encode())
    h.update(f"stack {stack}".encode())
    d = cache_root() / f"{board.name}-{h.hexdigest()[:20]}"
    if not (d / "firmware.elf").is_file() or not (d / "report.json").is_file():
        build_firmware(c, board, d, stack=stack)
    return d


def _compiler_version(files: dict) -> str:
    m = re.search(r'CC="([^"]+)"', files["SConstruct"])
    r = subprocess.run([m.group(1), "--version"], capture_output=True, text=True)
    return r.stdout.splitlines()[0] if r.stdout else ""


# ---- the size report (read from the ELF)

def _classify(addr: int, board: Board) -> str | None:
    if board.flash.origin <= addr < board.flash.end:
        return "flash"
    if board.ram.origin <= addr < board.ram.end:
        return "ram"
    return next((r.name for r in board.ram_regions if r.origin <= addr < r.end), None)


def size_report(c: Compiled, board: Board, elf_path: Path, top: int = 15) -> dict:
    from elftools.elf.constants import SH_FLAGS
    from elftools.elf.elffile import ELFFile

    with open(elf_path, "rb") as fh:
        elf = ELFFile(fh)
        loads = [s for s in elf.iter_segments() if s["p_type"] == "PT_LOAD"]
        sections = {}
        flash_used = ram_used = 0
        region_used = {r.name: 0 for r in board.ram_regions}
        for sec in elf.iter_sections():
            if not sec["sh_flags"] & SH_FLAGS.SHF_ALLOC or sec["sh_size"] == 0:
                continue
            vma, size = sec["sh_addr"], sec["sh_size"]
            lma = vma
            for seg in loads:
                if seg.section_in_segment(sec):
                    lma = seg["p_paddr"] + (vma - seg["p_vaddr"])
                    break
            in_ram = _classify(vma, board) == "ram"
            in_flash = sec["sh_type"] != "SHT_NOBITS" and _classify(lma, board) == "flash"
            sections[sec.name] = {"address": vma, "size": size}
            flash_used += size if in_flash else 0
            ram_used += size if in_ram else 0
            region = _classify(vma, board)
            if region in region_used:
                region_used[region] += size
        symtab = elf.get_section_by_name(".symtab")
        syms = []
        for s in symtab.iter_symbols():
            if s["st_size"] and s["st_info"]["type"] in ("STT_FUNC", "STT_OBJECT"):
                syms.append((s.name, s["st_value"] & ~1 if s["st_info"]["type"] == "STT_FUNC"
                             else s["st_value"], s["st_size"], s["st_info"]["type"]))
    by_name = {n: sz for n, _, sz, _ in syms}
    weight_names = {k.name for k in c.lowered.consts}
    weights = sum(by_name.get(n, 0) for n in weight_names)
    dsp_tables = sum(by_name.get(n, 0) for n in getattr(c, "dsp_symbols", ()))
    code = sum(sections.get(n, {}).get("size", 0) for n in (".isr_vector", ".text"))
    arena = by_name.get("tk_arena", 0)
    regions = [{"name": r.name, "origin": r.origin, "speed": r.speed, "size": r.length,
                "used": region_used[r.name], "arena": by_name.get(f"tk_arena_{r.name}", 0),
                "headroom": r.length - region_used[r.name]} for r in board.ram_regions]
    stack = sections.get(".stack", {}).get("size", 0)
    largest = sorted(syms, key=lambda s: (-s[2], s[0]))[:top]
    return {
        "tinykiln_version": __version__,
        "board": board.name,
        "model": c.report["model"],
        "model_sha256": c.report["model_sha256"],
        "cpu": board.cpu,
        "gcc_flags": [*board.gcc_flags(), OPT],
        "flash": {"size": board.flash.length, "used": flash_used, "code": code,
                  "weights": weights, **({"dsp_tables": dsp_tables} if dsp_tables else {}),
                  "rest": flash_used - code - weights - dsp_tables,
                  "headroom": board.flash.length - flash_used},
        "ram": {"size": board.ram.length, "used": ram_used, "arena": arena, "stack": stack,
                "rest": ram_used - arena - stack, "headroom": board.ram.length - ram_used},
        **({"ram_regions": regions} if regions else {}),
        "sections": sections,
        "largest_symbols": [{"name": n, "size": sz, "kind": "function" if t == "STT_FUNC"
                             else "object", "memory": _classify(a, board) or "other"}
                            for n, a, sz, t in largest],
        "marker_address": next((a for n, a, _, _ in syms if n == "tk_layer_mark"), None),
        "macs": c.report["macs"],
        "layers": [*getattr(c, "pre_layers", ()),
                   *({"op": k.op_index, "opcode": k.opcode, "macs": k.macs}
                     for k in c.lowered.calls if not k.is_copy_free)],
    }


def format_report(r: dict) -> str:
    f, m = r["flash"], r["ram"]
    lines = [
        f"{r['model']} on {r['board']} ({r['cpu']}):",
        f"  flash {f['used']:>9,} of {f['size']:,} B: code {f['code']:,}, weights {f['weights']:,},"
        + (f" DSP tables {f['dsp_tables']:,}," if "dsp_tables" in f else "")
        + f" rest {f['rest']:,}; headroom {f['headroom']:,}",
        f"  RAM   {m['used']:>9,} of {m['size']:,} B: arena {m['arena']:,}, stack {m['stack']:,},"
        f" rest {m['rest']:,}; headroom {m['headroom']:,}",
        *(f"  {g['name']:<5} {g['used']:>9,} of {g['size']:,} B: arena {g['arena']:,}; "
          f"headroom {g['headroom']:,}" for g in r.get("ram_regions", ())),
        *([stack_line(r["stack"])] if "stack" in r else []),
        "  largest symbols: " + ", ".join(f"{s['name']} {s['size']:,}"
                                          for s in r["largest_symbols"][:6]),
    ]
    return "\n".join(lines)

