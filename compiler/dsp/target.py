"""Run DSP blocks on an emulated Cortex-M (QEMU, semihosting): checks that the target build (the
DSP-extension path on Cortex-M4, the portable path on Cortex-M0/M3) gives the same bits as the
model, and counts executed instructions per call with the project's QEMU plugin."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .emit import Emitter, c_array
from .host import dsp_sources


@dataclass(frozen=True)
class Machine:
    qemu_machine: str
    cflags: tuple
    flash: int
    ram: int
    ram_size: int
    fpu: bool


MACHINES = {
    "cortex-m4": Machine("mps2-an386", ("-mcpu=cortex-m4", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"),
                         0x0, 0x20000000, 4 << 20, True),
    "cortex-m3": Machine("mps2-an385", ("-mcpu=cortex-m3",), 0x0, 0x20000000, 4 << 20, False),
    "cortex-m0": Machine("microbit", ("-mcpu=cortex-m0",), 0x0, 0x20000000, 16 << 10, False),
}

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
MEMORY {{ FLASH (rx) : ORIGIN = {flash:#x}, LENGTH = 1M
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
    return None


def _plugin():
    try:
        from ..qemu import plugin_path
        return plugin_path()
    except Exception:
        return None


def run(kind: str, frames: np.ndarray, cpu: str = "cortex-m4", count: bool = True, opt: str = "-O2",
        tables=None, prev: np.ndarray | None = None, table_n: int | None = None):
    """Run `kind` (rfft_q15, rfft_q15_bfp, rfft_q31, frontend, spectral) on every frame on the
    emulated cpu; frontend/spectral take their FrontEndTables/SpectralTables as `tables` (and
    frontend the pre-emphasis history `prev`). Returns (outputs, instructions per call (F,) or None
    when the counting plugin is unavailable)."""
    mach = MACHINES[cpu]
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
    with tempfile.TemporaryDirectory(prefix="tinykiln-dsp-target-") as d:
        d = Path(d)
        (d / "main.c").write_text(main)
        (d / "startup.c").write_text(_STARTUP)
        (d / "link.ld").write_text(_LINK.format(flash=mach.flash, ram=mach.ram, ram_size=mach.ram_size))
        elf = d / "app.elf"
        cmd = ["arm-none-eabi-gcc", "-std=c99", opt, "-Wall", "-Wextra", "-Werror", "-mthumb", *mach.cflags,
               f"-DTK_FPU={int(mach.fpu)}", "-nostdlib", "-T", str(d / "link.ld"),
               "-I", str(dsp_sources()[0].parent), "-o", str(elf), str(d / "startup.c"), str(d / "main.c"),
               *map(str, dsp_sources()), "-lgcc"]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"target build failed:\n{' '.join(cmd)}\n{r.stderr}")
        nm = subprocess.run(["arm-none-eabi-nm", str(elf)], capture_output=True, text=True).stdout
        marker = next(int(l.split()[0], 16) for l in nm.splitlines() if l.endswith(" tk_dsp_mark"))
        q = ["qemu-system-arm", "-M", mach.qemu_machine, "-display", "none", "-monitor", "none",
             "-serial", "null", "-semihosting-config", "enable=on,target=native", "-kernel", str(elf)]
        plugin = _plugin() if count else None
        if plugin:
            q += ["-icount", "shift=0", "-plugin", f"{plugin},marker={marker & ~1:#x},out=samples.txt"]
        r = subprocess.run(q, cwd=d, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
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
    return (outs, ret) if "bfp" in kind else outs, counts
