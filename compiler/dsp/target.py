"""Run DSP blocks on an emulated Cortex-M (QEMU, semihosting): checks that the target build (the
DSP-extension path on Cortex-M4/M7, the portable path on Cortex-M0/M3) gives the same bits as the
model, counts executed instructions per call with the project's QEMU plugin, and reports the flash
bytes of the tables and code a call links in. The compile flags are the firmware build's for the
machine's board (tinykiln.targets.firmware.build_flags), so the counts are the ones a user's image gets."""
from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .emit import Emitter, c_array
from .host import dsp_sources


@dataclass(frozen=True)
class Machine:
    board: str              # a board file in boards/: cpu, fpu, memory regions, QEMU machine


MACHINES = {
    "cortex-m7": Machine("mps2-an500"),
    "cortex-m4": Machine("mps2-an386"),
    "cortex-m3": Machine("mps2-an385"),
    "cortex-m0": Machine("microbit"),
}


@dataclass
class TargetRun:
    outputs: object                 # as run() returns them
    counts: np.ndarray | None       # instructions per call, (F,), None without the plugin
    tables: dict = field(default_factory=dict)   # data object symbol -> bytes (ELF symbol sizes)
    code: dict = field(default_factory=dict)     # runtime_c/dsp source stem -> .text bytes kept by the link
    cflags: list = field(default_factory=list)


def _board(cpu: str):
    from ..targets.board import get_board
    return get_board(MACHINES[cpu].board)


def firmware_cflags(cpu: str, opt: str | None = None) -> list[str]:
    """The compile flags of a firmware image for the machine's board, minus what only the firmware
    needs (libc specs, its forced include, -g); opt replaces the optimisation level."""
    from ..targets.firmware import build_flags
    flags, out, skip = build_flags(_board(cpu))[0], [], False
    for f in flags:
        if skip or f == "-include":
            skip = not skip
            continue
        if f.startswith("--specs=") or f == "-g":
            continue
        out.append(opt if (opt and re.fullmatch(r"-O[0-3sgz]|-Ofast", f)) else f)
    return out


_STARTUP = r"""
#include <stdint.h>
#include <stddef.h>
extern uint32_t __bss_start__[], __bss_end__[], __stack_top__[];
int main(void);
void tk_reset(void);
static void tk_fault(void) { for (;;) {} }
__attribute__((section(".isr_vector"), used))
void (*const tk_vectors[16])(void) = {(void (*)(void))__stack_top__, tk_reset, tk_fault, tk_fault,
    tk_fault, tk_fault, tk_fault, tk_fault, tk_fault, tk_fault, tk_fault, tk_fault, tk_fault, tk_fault,
    tk_fault, tk_fault};
#define TK_NOLIBCALL __attribute__((optimize("no-tree-loop-distribute-patterns")))
TK_NOLIBCALL void *memcpy(void *d, const void *s, size_t n) { char *a = d; const char *b = s; while (n--) *a++ = *b++; return d; }
TK_NOLIBCALL void *memset(void *d, int c, size_t n) { char *a = d; while (n--) *a++ = (char)c; return d; }
static int sh_call(int op, void *arg) {
    register int r0 __asm__("r0") = op;
    register void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}
void tk_write(const char *s) { sh_call(0x04, (void *)s); }
void tk_exit(int code) { uint32_t b[2] = {0x20026u, (uint32_t)code}; sh_call(0x20, b); for (;;) {} }
void tk_reset(void) {
#if TK_FPU
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    for (uint32_t *p = __bss_start__; p < __bss_end__; ++p) *p = 0;
    tk_exit(main());
}
__attribute__((noinline, used)) void tk_dsp_mark(void) { __asm__ volatile("" ::: "memory"); }
"""

_LINK = """
ENTRY(tk_reset)
MEMORY {{ FLASH (rx) : ORIGIN = {flash:#x}, LENGTH = {flash_size:#x}
         RAM (rwx) : ORIGIN = {ram:#x}, LENGTH = {ram_size:#x} }}
SECTIONS {{
  .text : {{ KEEP(*(.isr_vector)) *(.text*) *(.rodata*) }} > FLASH
  .data : {{ *(.data*) }} > RAM AT > FLASH
  .bss (NOLOAD) : {{ __bss_start__ = .; *(.bss*) *(COMMON) . = ALIGN(4); __bss_end__ = .; }} > RAM
  __stack_top__ = ORIGIN(RAM) + LENGTH(RAM);
}}
"""

_KINDS = {
    # kind: (input C type, in words per frame, output C type, out elements, call)
    "rfft_q15": ("int16_t", lambda n: n, "int16_t", lambda n: n + 2, "tk_rfft_q15(&CFG, buf, out)"),
    "rfft_q15_bfp": ("int16_t", lambda n: n, "int16_t", lambda n: n + 2, "tk_rfft_q15_bfp(&CFG, buf, out)"),
    "rfft_q31": ("int32_t", lambda n: n, "int32_t", lambda n: n + 2, "tk_rfft_q31(&CFG, buf, out)"),
}


def available(cpu: str = "cortex-m4") -> str | None:
    """None when the toolchain and emulator are here, else the reason to skip."""
    for tool in ("arm-none-eabi-gcc", "qemu-system-arm"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    if cpu not in MACHINES:
        return f"no emulated machine for {cpu} (known: {', '.join(MACHINES)})"
    return None


def _plugin():
    try:
        from ..targets.qemu import plugin_path
        return plugin_path()
    except Exception:
        return None


def _runtime_objects(cflags: list[str], extra: tuple[str, ...]) -> list[Path]:
    """runtime_c/dsp compiled once per flag set (cached in the temp folder under a hash of the
    sources and flags); only the generated main is compiled per run."""
    srcs = dsp_sources()
    inc = srcs[0].parent
    flags = ["-std=c99", "-Wall", "-Wextra", "-Werror", *cflags, *extra, "-I", str(inc)]
    h = hashlib.sha256(" ".join(flags).encode())
    for p in sorted(srcs + list(inc.glob("*.h"))):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    out = Path(tempfile.gettempdir()) / f"tinykiln-dsp-target-obj-{h.hexdigest()[:16]}"
    objs = [out / (src.stem + ".o") for src in srcs]
    if all(o.is_file() for o in objs):
        return objs
    out.mkdir(parents=True, exist_ok=True)
    for src, obj in zip(srcs, objs):
        tmp = obj.with_suffix(f".{id(objs)}.tmp")
        cmd = ["arm-none-eabi-gcc", *flags, "-c", str(src), "-o", str(tmp)]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"target build failed:\n{' '.join(cmd)}\n{r.stderr}")
        tmp.replace(obj)
    return objs


_MAP_SECTION = re.compile(r"^\s*(\.text\S*)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+\.o)\s*$")


def _code_bytes(map_text: str) -> dict:
    """.text bytes per runtime object kept by the link (--gc-sections), from the link map."""
    code: dict = {}
    pending = None
    kept = map_text.split("Linker script and memory map", 1)[-1]     # after the discarded sections
    for line in kept.splitlines():
        st = line.strip()
        if st.startswith(".text") and len(st.split()) == 1:
            pending = st            # long section name: address, size and object on the next line
            continue
        m = _MAP_SECTION.match(line)
        if m and (m.group(1) or pending) and int(m.group(3), 16):
            stem = Path(m.group(4)).stem
            code[stem] = code.get(stem, 0) + int(m.group(3), 16)
        pending = None
    return code


def _objects(elf: Path) -> dict:
    """Sizes of the data objects (the emitted tables and configs among them), from the ELF symbol
    table."""
    from elftools.elf.elffile import ELFFile
    with open(elf, "rb") as f:
        e = ELFFile(f)
        symtab = e.get_section_by_name(".symtab")
        return {s.name: s["st_size"] for s in symtab.iter_symbols()
                if s["st_info"]["type"] == "STT_OBJECT" and s["st_size"] > 0}


def run(kind: str, frames: np.ndarray, cpu: str = "cortex-m4", count: bool = True, opt: str | None = None,
        tables=None, prev: np.ndarray | None = None, table_n: int | None = None):
    """Run `kind` (rfft_q15, rfft_q15_bfp, rfft_q31, frontend, spectral) on every frame on the
    emulated cpu; frontend/spectral take their FrontEndTables/SpectralTables as `tables` (and
    frontend the pre-emphasis history `prev`). Returns (outputs, instructions per call (F,) or None
    when the counting plugin is unavailable)."""
    r = run_target(kind, frames, cpu, count, opt, tables, prev, table_n)
    return r.outputs, r.counts


def run_target(kind: str, frames: np.ndarray, cpu: str = "cortex-m4", count: bool = True,
               opt: str | None = None, tables=None, prev: np.ndarray | None = None,
               table_n: int | None = None, extra_cflags: tuple[str, ...] = ()) -> TargetRun:
    """As run(), also returning the flash bytes of the tables (ELF symbols) and of the runtime code
    the call links in (.text kept by --gc-sections, per source file). opt overrides the firmware's
    optimisation level; extra_cflags are added to the runtime's compile (e.g. -DTK_DSP_PORTABLE)."""
    board = _board(cpu)
    cflags = firmware_cflags(cpu, opt)
    frames = np.atleast_2d(frames)
    F, n = frames.shape
    em = Emitter("tinykiln.dsp.target")
    if kind in ("frontend", "spectral"):
        nout = tables.n_out
        if kind == "frontend":
            cfg = em.frontend(tables, "fe_cfg")
            fn = "tk_mfe_s8" if tables.dct is None else "tk_mfcc_s8"
            call = f"{fn}(&{cfg}, buf, (int16_t)tk_prev[f], scratch, out)"
            words = 2 * tables.n + 2 + len(tables.mel.start)
        else:
            cfg = em.spectral(tables, "sp_cfg")
            call = f"tk_spectral_s8(&{cfg}, buf, scratch, out)"
            words = 2 * tables.n + 2
        in_t, in_len, out_t, out_len = "int16_t", (lambda n: n), "int8_t", (lambda n: nout)
        prev = np.zeros(F, np.int16) if prev is None else prev
        extra = ((c_array("tk_prev", np.asarray(prev, np.int16)) if kind == "frontend" else "")
                 + f"static int32_t scratch[{words + 1}] __attribute__((aligned(8)));\n")
    else:
        in_t, in_len, out_t, out_len, call = _KINDS[kind]
        cfg = em.rfft_q31(n) if kind == "rfft_q31" else em.rfft_q15(n, f"cfg_{n}", table_n=table_n)
        call = call.replace("CFG", cfg)
        extra = ""
    dt = np.int32 if in_t == "int32_t" else np.int16
    main = (em.source() + "\n" + c_array("tk_in", frames.astype(dt)) + extra
            + f"""
void tk_write(const char *s);
void tk_dsp_mark(void);
static {in_t} buf[{in_len(n)}] __attribute__((aligned(8)));
static {out_t} out[{out_len(n)}] __attribute__((aligned(8)));
static char line[{(out_len(n) + 1) * 9 + 4}];
int main(void) {{
    static const char hx[] = "0123456789abcdef";
    for (int f = 0; f < {F}; f++) {{
        for (int i = 0; i < {n}; i++) buf[i] = tk_in[f * {n} + i];
        tk_dsp_mark();
        int r = 0;
        {"r = " if "bfp" in kind else ""}{call};
        tk_dsp_mark();
        char *p = line;
        for (int i = -1; i < {out_len(n)}; i++) {{
            uint32_t v = (uint32_t)(i < 0 ? r : (int32_t)out[i]);
            for (int k = 7; k >= 0; k--) *p++ = hx[(v >> (4 * k)) & 15u];
            *p++ = ' ';
        }}
        *p++ = '\\n';
        *p = 0;
        tk_write(line);
    }}
    return 0;
}}
""")
    objs = _runtime_objects(cflags, tuple(extra_cflags))
    fpu = int(board.fpu != "none" and board.float_abi != "soft")
    with tempfile.TemporaryDirectory(prefix="tinykiln-dsp-target-") as d:
        d = Path(d)
        (d / "main.c").write_text(main)
        (d / "startup.c").write_text(_STARTUP)
        (d / "link.ld").write_text(_LINK.format(flash=board.flash.origin, flash_size=board.flash.length,
                                                ram=board.ram.origin, ram_size=board.ram.length))
        elf = d / "app.elf"
        cmd = ["arm-none-eabi-gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", *cflags, f"-DTK_FPU={fpu}",
               "-nostdlib", "-T", str(d / "link.ld"), "-Wl,--gc-sections", f"-Wl,-Map={d / 'app.map'}",
               "-I", str(dsp_sources()[0].parent), "-o", str(elf), str(d / "startup.c"), str(d / "main.c"),
               *map(str, objs), "-lgcc"]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"target build failed:\n{' '.join(cmd)}\n{r.stderr}")
        nm = subprocess.run(["arm-none-eabi-nm", str(elf)], capture_output=True, text=True).stdout
        marker = next(int(l.split()[0], 16) for l in nm.splitlines() if l.endswith(" tk_dsp_mark"))
        q = ["qemu-system-arm", "-M", board.qemu_machine, "-display", "none", "-monitor", "none",
             "-serial", "null", "-semihosting-config", "enable=on,target=native", "-kernel", str(elf)]
        plugin = _plugin() if count else None
        if plugin:
            q += ["-icount", "shift=0", "-plugin", f"{plugin},marker={marker & ~1:#x},out=samples.txt"]
        r = subprocess.run(q, cwd=d, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            raise RuntimeError(f"QEMU exited with {r.returncode}: {r.stderr[-800:]}")
        text = r.stdout + r.stderr
        rows = [l.split() for l in text.splitlines() if len(l.split()) == out_len(n) + 1]
        if len(rows) != F:
            raise RuntimeError(f"expected {F} output lines from the target, got {len(rows)}:\n{text[-800:]}")
        raw = np.array([[int(v, 16) for v in row] for row in rows], np.uint64).astype(np.uint32).view(np.int32)
        ret = raw[:, 0]
        outs = raw[:, 1:].astype({"int16_t": np.int16, "int32_t": np.int32, "int8_t": np.int8}[out_t])
        if out_t != "int8_t":
            outs = outs.reshape(F, -1, 2)
        counts = None
        if plugin and (d / "samples.txt").exists():
            s = np.array([int(v) for v in (d / "samples.txt").read_text().split()[2:]], np.int64)  # after "total N"
            counts = s[1::2] - s[0::2]
        stems = {src.stem for src in dsp_sources()}
        code = {k: v for k, v in _code_bytes((d / "app.map").read_text()).items() if k in stems}
        objects = _objects(elf)
    return TargetRun((outs, ret) if "bfp" in kind else outs, counts, objects, code, cflags)
