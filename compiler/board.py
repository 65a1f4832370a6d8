"""Boards are data: one TOML file per board in boards/, validated here into a `Board` dataclass.
Facts shared by every board with the same CPU (architecture, gcc flags, which FPUs exist, which
fault registers the core has) live once, in CPU_FAMILIES."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import TinykilnError
from .resources import resource_dir


@dataclass(frozen=True)
class CpuFamily:
    arch: str                       # "arm" | "riscv" | "host"
    gcc_flags: tuple[str, ...]      # selects the core (and, for riscv, the ABI)
    fpus: dict                      # fpu name in a board file -> extra gcc flags
    fault_regs: bool = False        # has CFSR/HFSR/MMFAR/BFAR (ARMv7-M and later mainline)
    profile: str = ""               # architecture profile, for people reading `tinykiln boards`


CPU_FAMILIES: dict[str, CpuFamily] = {
    "cortex-m0": CpuFamily("arm", ("-mcpu=cortex-m0", "-mthumb"), {"none": ()}, False, "armv6-m"),
    "cortex-m0plus": CpuFamily("arm", ("-mcpu=cortex-m0plus", "-mthumb"), {"none": ()}, False,
                               "armv6-m"),
    "cortex-m3": CpuFamily("arm", ("-mcpu=cortex-m3", "-mthumb"), {"none": ()}, True, "armv7-m"),
    "cortex-m4": CpuFamily("arm", ("-mcpu=cortex-m4", "-mthumb"),
                           {"none": (), "fpv4-sp-d16": ("-mfpu=fpv4-sp-d16",)}, True, "armv7e-m"),
    "cortex-m7": CpuFamily("arm", ("-mcpu=cortex-m7", "-mthumb"),
                           {"none": (), "fpv5-sp-d16": ("-mfpu=fpv5-sp-d16",),
                            "fpv5-d16": ("-mfpu=fpv5-d16",)}, True, "armv7e-m"),
    "cortex-m33": CpuFamily("arm", ("-mcpu=cortex-m33", "-mthumb"),
                            {"none": (), "fpv5-sp-d16": ("-mfpu=fpv5-sp-d16",)}, True,
                            "armv8-m.main"),
    # the M55's FPU and MVE come with -mcpu=cortex-m55 itself (gcc's -mfpu=auto)
    "cortex-m55": CpuFamily("arm", ("-mcpu=cortex-m55", "-mthumb"), {"mve": ()}, True,
                            "armv8.1-m.main"),
    "rv32imac": CpuFamily("riscv", ("-march=rv32imac", "-mabi=ilp32"), {"none": ()}, False,
                          "rv32imac"),
    "host": CpuFamily("host", (), {"none": ()}, False, "host"),
}
# Per architecture: cross-compiler prefix, QEMU binary, libc specs.
ARCH_TOOLS = {
    "arm": {"prefix": "arm-none-eabi-", "qemu": "qemu-system-arm",
            "libc_flags": ("--specs=nano.specs",),
            "packages": "gcc-arm-none-eabi libnewlib-arm-none-eabi", "qemu_package": "qemu-system-arm"},
    "riscv": {"prefix": "riscv64-unknown-elf-", "qemu": "qemu-system-riscv32",
              "libc_flags": ("--specs=picolibc.specs",),
              "packages": "gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf",
              "qemu_package": "qemu-system-misc"},
}

CONSOLE_KINDS = ("none", "cmsdk_uart", "pl011", "nrf51_uart", "nrf52_uarte", "stm32_usart_sr",
                 "stm32_usart_isr", "sifive_uart")
EXIT_METHODS = ("semihosting", "none")
FLOAT_ABIS = ("soft", "softfp", "hard")


@dataclass(frozen=True)
class Region:
    origin: int
    length: int

    @property
    def end(self) -> int:
        return self.origin + self.length


@dataclass(frozen=True)
class Board:
    name: str
    path: Path
    description: str
    arch: str
    cpu: str
    fpu: str
    float_abi: str
    clock_hz: int
    flash: Region | None
    ram: Region | None
    console_kind: str
    console_address: int
    exit: str
    qemu_machine: str               # "" when no emulator runs this board
    stack_bytes: int
    extra_cflags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def family(self) -> CpuFamily:
        return CPU_FAMILIES[self.cpu]

    @property
    def emulated(self) -> bool:
        return bool(self.qemu_machine)

    @property
    def tools(self) -> dict:
        return ARCH_TOOLS[self.arch]

    def gcc_flags(self) -> list[str]:
        """Core, FPU and float-ABI flags (the same for compiling and linking)."""
        f = list(self.family.gcc_flags) + list(self.family.fpus[self.fpu])
        if self.arch == "arm":
            f.append(f"-mfloat-abi={self.float_abi}")
        return f + list(self.extra_cflags)


# ---- loading and validation

class _Fields:
    """Typed access to one TOML table; every mistake names the file and the dotted field.
    `noun` names the kind of file (impulse files reuse this class)."""
    noun = "board"

    def __init__(self, path: Path, table: dict, where: str = ""):
        self.path, self.t, self.where = path, table, where

    def _err(self, key: str, what: str) -> TinykilnError:
        return TinykilnError(f"{self.noun} file {self.path}: field '{self.where}{key}' {what}.")

    def get(self, key: str, kind, default=..., choices=None, signed: bool = False):
        if key not in self.t:
            if default is ...:
                raise self._err(key, "is missing")
            return default
        v = self.t[key]
        if kind is float and isinstance(v, int) and not isinstance(v, bool):
            v = float(v)
        ok = isinstance(v, kind) and not (kind in (int, float) and isinstance(v, bool))
        if not ok:
            raise self._err(key, f"must be {_kind_name(kind)}, not {type(v).__name__} {v!r}")
        if choices is not None and v not in choices:
            raise self._err(key, f"is '{v}'; expected one of: {', '.join(choices)}")
        if kind in (int, float) and v < 0 and not signed:
            raise self._err(key, f"must not be negative (is {v})")
        return v

    def table(self, key: str, optional: bool = False) -> "_Fields | None":
        if key not in self.t:
            if optional:
                return None
            raise self._err(key, "is missing (a table)")
        v = self.t[key]
        if not isinstance(v, dict):
            raise self._err(key, f"must be a table, not {type(v).__name__}")
        return type(self)(self.path, v, f"{self.where}{key}.")

    def no_unknown(self, known: set[str]) -> None:
        for k in self.t:
            if k not in known:
                raise self._err(k, f"is not {_article(self.noun)} {self.noun} field "
                                   f"(known: {', '.join(sorted(known))})")


def _kind_name(kind) -> str:
    return {int: "an integer", float: "a number", str: "a string", list: "a list",
            bool: "true or false"}.get(kind, kind.__name__)


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


_TOP = {"description", "arch", "cpu", "fpu", "float_abi", "clock_hz", "flash", "ram", "console",
        "exit", "qemu_machine", "stack_bytes", "extra_cflags"}


def _region(f: _Fields, key: str) -> Region:
    t = f.table(key)
    t.no_unknown({"origin", "length"})
    r = Region(t.get("origin", int), t.get("length", int))
    if r.length == 0:
        raise t._err("length", "must be greater than 0")
    if r.end > 1 << 32:
        raise t._err("length", f"puts the region's end at {r.end:#x}, beyond the 32-bit address space")
    return r


def load_board_file(path: str | Path) -> Board:
    """Read and validate one board file; any mistake is a TinykilnError naming file and field."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except OSError as e:
        raise TinykilnError(f"cannot read board file {path}: {e.strerror}.") from None
    except tomllib.TOMLDecodeError as e:
        raise TinykilnError(f"board file {path} is not valid TOML: {e}.") from None
    f = _Fields(path, data)
    f.no_unknown(_TOP)
    arch = f.get("arch", str, choices=("arm", "riscv", "host"))
    cpu = f.get("cpu", str, choices=tuple(CPU_FAMILIES))
    fam = CPU_FAMILIES[cpu]
    if fam.arch != arch:
        raise f._err("cpu", f"is '{cpu}' (arch {fam.arch}) but arch is '{arch}'")
    desc = f.get("description", str, "")
    if arch == "host":
        return Board(path.stem, path, desc, arch, cpu, "none", "soft", 0, None, None, "none", 0,
                     "none", "", 0)
    fpu = f.get("fpu", str, choices=tuple(fam.fpus))
    float_abi = f.get("float_abi", str, "soft", choices=FLOAT_ABIS)
    if arch == "arm" and fpu == "none" and float_abi != "soft":
        raise f._err("float_abi", f"is '{float_abi}' but the board has no FPU (fpu = \"none\"); use \"soft\"")
    con = f.table("console")
    con.no_unknown({"kind", "address"})
    kind = con.get("kind", str, choices=CONSOLE_KINDS)
    addr = con.get("address", int, 0)
    if kind != "none" and "address" not in con.t:
        raise con._err("address", f"is missing (console kind '{kind}' needs its base address)")
    flash, ram = _region(f, "flash"), _region(f, "ram")
    if flash.origin < ram.end and ram.origin < flash.end:
        raise f._err("ram", f"overlaps flash ({ram.origin:#x}+{ram.length:#x} vs "
                            f"{flash.origin:#x}+{flash.length:#x})")
    stack = f.get("stack_bytes", int, 8192)
    if stack % 8 or stack == 0:
        raise f._err("stack_bytes", f"must be a positive multiple of 8 (is {stack})")
    if stack >= ram.length:
        raise f._err("stack_bytes", f"is {stack}, not less than the RAM ({ram.length} bytes)")
    exit_ = f.get("exit", str, choices=EXIT_METHODS)
    machine = f.get("qemu_machine", str, "")
    if machine and exit_ != "semihosting":
        raise f._err("exit", "must be \"semihosting\" for a board run under QEMU (qemu_machine is set)")
    extra = f.get("extra_cflags", list, [])
    for i, x in enumerate(extra):
        if not isinstance(x, str):
            raise f._err(f"extra_cflags[{i}]", "must be a string")
    return Board(path.stem, path, desc, arch, cpu, fpu, float_abi, f.get("clock_hz", int),
                 flash, ram, kind, addr, exit_, machine, stack, tuple(extra))


def board_dir() -> Path:
    return resource_dir("boards")


def all_boards() -> list[Board]:
    return [load_board_file(p) for p in sorted(board_dir().glob("*.toml"))]


def get_board(name: str) -> Board:
    """A board by name (a file in boards/) or by the path of a .toml file."""
    p = Path(name)
    if name.endswith(".toml") and p.is_file():
        return load_board_file(p)
    cand = board_dir() / f"{name}.toml"
    if not cand.is_file():
        names = ", ".join(sorted(q.stem for q in board_dir().glob("*.toml")))
        raise TinykilnError(f"unknown board '{name}'; known boards: {names}.")
    return load_board_file(cand)
