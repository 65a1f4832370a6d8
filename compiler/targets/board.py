"""Boards are data: one TOML file per board in boards/, validated here into a `Board` dataclass.
Facts shared by every board with the same CPU (architecture, gcc flags, which FPUs exist, which
fault registers the core has) live once, in CPU_FAMILIES (chips.py); the [console] table is
checked in console.py, typed field access is fields.py."""
from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import TinykilnError
from ..resources import resource_dir
from .chips import ARCH_TOOLS, BOOT2_KINDS, CPU_FAMILIES, MAX_CLOCK_HZ, U32, Boot2Kind, CpuFamily
from .console import CONSOLE_KINDS, Console, load_console
from .fields import Fields, Region
from .mcuboot import load_slot_layout

__all__ = ["ARCH_TOOLS", "BOOT2_KINDS", "CONSOLE_KINDS", "CPU_FAMILIES", "Board", "Boot2Kind",
           "Console", "CpuFamily", "Fields", "RamRegion", "Region", "all_boards", "board_dir", "get_board",
           "load_board_file"]

EXIT_METHODS = ("semihosting", "none")
MIN_STACK = 1024            # bytes: main, the console and the deepest kernel's frame
# a board's name is its file name without .toml: it names folders, PlatformIO environments and
# appears in generated files, so it is kept to these characters
BOARD_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
QEMU_MACHINE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# qemu_args: extra QEMU options and their values for a machine that needs them (virt: -bios none);
# the options tinykiln sets itself (machine, image, console, semihosting, counting) are refused
QEMU_ARG = re.compile(r"-?[A-Za-z0-9_=,.+:/-]+")
QEMU_OWN_OPTIONS = ("-M", "-machine", "-kernel", "-serial", "-monitor", "-display", "-nographic",
                    "-semihosting", "-semihosting-config", "-icount", "-plugin", "-chardev",
                    "-device", "-drive", "-append", "-initrd", "-S", "-s", "-gdb", "-daemonize",
                    "-D", "-d")
# extra_cflags reach gcc through SCons, which runs commands through a shell and expands '$'
CFLAG = re.compile(r"-[A-Za-z0-9_=,.+:/-]+")
FLOAT_ABIS = ("soft", "softfp", "hard")


@dataclass(frozen=True)
class RamRegion(Region):
    """More RAM than [ram] (an [[ram_regions]] entry): the arena spills into it, fastest first
    (lowest speed rank), when [ram], which holds the stack and static data, cannot hold it all."""
    name: str = ""
    speed: int = 1


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
    console: Console | None = None
    boot2: str = "none"             # a key of BOOT2_KINDS, or "none"
    qemu_args: tuple[str, ...] = field(default_factory=tuple)   # after -M qemu_machine
    mcuboot: object | None = None   # mcuboot.SlotLayout: the slots an MCUboot bootloader boots
    ram_regions: tuple[RamRegion, ...] = ()     # by speed rank, fastest first

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

_TOP = {"description", "arch", "cpu", "fpu", "float_abi", "clock_hz", "flash", "ram", "console",
        "exit", "qemu_machine", "stack_bytes", "extra_cflags", "boot2", "qemu_args", "mcuboot",
        "ram_regions"}
# a RAM region's name names a linker memory region and section (RAM_<name>, .tk_arena_<name>)
REGION_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")


def _region(f: Fields, key: str | None) -> Region:
    """origin and length of table `key` of f (key None: of f itself)."""
    t = f if key is None else f.table(key)
    if key is not None:
        t.no_unknown({"origin", "length"})
    r = Region(t.get_int("origin", 0, U32, what=" (a 32-bit address)"), t.get("length", int))
    if r.length == 0:
        raise t.error("length", "must be greater than 0")
    if r.end > 1 << 32:
        raise t.error("length", f"puts the region's end at {r.end:#x}, beyond the 32-bit address space")
    return r


def load_board_file(path: str | Path) -> Board:
    """Read and validate one board file; any mistake is a TinykilnError naming file and field."""
    path = Path(path)
    if not BOARD_NAME.fullmatch(path.stem):
        from ..codegen.csource import comment_text
        raise TinykilnError(f"board file {comment_text(path)}: the board name (the file name "
                            f"without .toml) may hold only letters, digits, '.', '_' and '-', "
                            f"beginning with a letter or digit.")
    try:
        data = tomllib.loads(path.read_text())
    except OSError as e:
        raise TinykilnError(f"cannot read board file {path}: {e.strerror}.") from None
    except tomllib.TOMLDecodeError as e:
        raise TinykilnError(f"board file {path} is not valid TOML: {e}.") from None
    f = Fields(path, data)
    f.no_unknown(_TOP)
    arch = f.get("arch", str, choices=("arm", "riscv", "host"))
    cpu = f.get("cpu", str, choices=tuple(CPU_FAMILIES))
    fam = CPU_FAMILIES[cpu]
    if fam.arch != arch:
        raise f.error("cpu", f"is '{cpu}' (arch {fam.arch}) but arch is '{arch}'")
    desc = f.get("description", str, "")
    if arch == "host":
        return Board(path.stem, path, desc, arch, cpu, "none", "soft", 0, None, None, "none", 0,
                     "none", "", 0)
    fpu = f.get("fpu", str, choices=tuple(fam.fpus))
    float_abi = f.get("float_abi", str, "soft", choices=FLOAT_ABIS)
    if arch == "arm" and fpu == "none" and float_abi != "soft":
        raise f.error("float_abi", f"is '{float_abi}' but the board has no FPU (fpu = \"none\"); use \"soft\"")
    console = load_console(f.table("console"))
    flash, ram = _region(f, "flash"), _region(f, "ram")
    boot2 = f.get("boot2", str, "none", choices=("none", *BOOT2_KINDS))
    if boot2 != "none":
        bk = BOOT2_KINDS[boot2]
        if cpu != bk.cpu:
            raise f.error("boot2", f"is '{boot2}', a boot stage of {bk.cpu} chips, but cpu is '{cpu}'")
        if flash.origin != bk.flash_origin:
            raise f.table("flash").error("origin", f"is {flash.origin:#x}, but the boot ROM loads "
                                                   f"boot2 '{boot2}' from {bk.flash_origin:#x}: flash "
                                                   f"starts there, boot2 first, then the image")
    if flash.origin < ram.end and ram.origin < flash.end:
        raise f.error("ram", f"overlaps flash ({ram.origin:#x}+{ram.length:#x} vs "
                             f"{flash.origin:#x}+{flash.length:#x})")
    stack = f.get("stack_bytes", int, 8192)
    if stack % 8 or stack < MIN_STACK:
        raise f.error("stack_bytes", f"is {stack}; it must be a multiple of 8 and at least "
                                     f"{MIN_STACK}")
    if stack >= ram.length:
        raise f.error("stack_bytes", f"is {stack}, not less than the RAM ({ram.length} bytes)")
    exit_ = f.get("exit", str, choices=EXIT_METHODS)
    machine = f.get("qemu_machine", str, "")
    if machine and not QEMU_MACHINE.fullmatch(machine):
        raise f.error("qemu_machine", f"is {machine!r}, not a QEMU machine name (letters, digits, "
                                      f"'.', '_' and '-')")
    if machine and exit_ != "semihosting":
        raise f.error("exit", "must be \"semihosting\" for a board run under QEMU (qemu_machine is set)")
    qemu_args = _qemu_args(f, machine)
    extra = f.get("extra_cflags", list, [])
    for i, x in enumerate(extra):
        if not isinstance(x, str):
            raise f.error(f"extra_cflags[{i}]", "must be a string")
        if not CFLAG.fullmatch(x):
            raise f.error(f"extra_cflags[{i}]", f"is {x!r}; a flag begins with '-' and holds only "
                                                f"letters, digits and _ = , . + : / -")
    clock_hz = f.get_int("clock_hz", 1, MAX_CLOCK_HZ, what=" Hz")
    mcuboot = load_slot_layout(f.table("mcuboot"), flash) if "mcuboot" in data else None
    return Board(path.stem, path, desc, arch, cpu, fpu, float_abi, clock_hz,
                 flash, ram, console.kind, console.address, exit_, machine, stack, tuple(extra),
                 console, boot2, qemu_args, mcuboot, _ram_regions(f, flash, ram))


def _ram_regions(f: Fields, flash: Region, ram: Region) -> tuple[RamRegion, ...]:
    """[[ram_regions]]: name, origin, length, speed (1 = the fastest after [ram]); each one
    apart from flash, [ram] and the others."""
    items = f.get("ram_regions", list, [])
    out: list[RamRegion] = []
    for i, t in enumerate(items):
        if not isinstance(t, dict):
            raise f.error(f"ram_regions[{i}]", "must be a table (name, origin, length, speed)")
        g = Fields(f.path, t, f"{f.where}ram_regions[{i}].")
        g.no_unknown({"name", "origin", "length", "speed"})
        name = g.get("name", str)
        if not REGION_NAME.fullmatch(name) or name.upper() in ("FLASH", "RAM"):
            raise g.error("name", f"is {name!r}; a region name is a letter then letters, digits "
                                  f"or '_' (at most 32), and not FLASH or RAM")
        r = _region(g, None)
        reg = RamRegion(r.origin, r.length, name=name,
                        speed=g.get_int("speed", 1, 255, what=" (a rank: 1 is the fastest after "
                                                              "[ram])"))
        for other, what in [(flash, "flash"), (ram, "[ram]"),
                            *((o, f"region '{o.name}'") for o in out)]:
            if reg.origin < other.end and other.origin < reg.end:
                raise g.error("origin", f"puts the region ({reg.origin:#x}+{reg.length:#x}) over "
                                        f"{what} ({other.origin:#x}+{other.length:#x})")
            if getattr(other, "name", "").upper() == name.upper():
                raise g.error("name", f"is {name!r}, the name of another region")
        out.append(reg)
    return tuple(sorted(out, key=lambda r: r.speed))


def _qemu_args(f: Fields, machine: str) -> tuple[str, ...]:
    args = f.get("qemu_args", list, [])
    if args and not machine:
        raise f.error("qemu_args", "is set but qemu_machine is not (only emulated boards run QEMU)")
    for i, x in enumerate(args):
        if not isinstance(x, str):
            raise f.error(f"qemu_args[{i}]", "must be a string")
        if not QEMU_ARG.fullmatch(x):
            raise f.error(f"qemu_args[{i}]", f"is {x!r}; an option or value holds only letters, "
                                             f"digits and _ = , . + : / - (no spaces)")
        if x.startswith("-") and x.lstrip("-") in {o.lstrip("-") for o in QEMU_OWN_OPTIONS}:
            raise f.error(f"qemu_args[{i}]", f"is {x!r}, an option tinykiln sets itself or that "
                                             f"would change how the image runs")
    return tuple(args)


def board_dir() -> Path:
    return resource_dir("boards")


def all_boards() -> list[Board]:
    return [load_board_file(p) for p in sorted(board_dir().glob("*.toml"))]


def get_board(name: str) -> Board:
    """A board by name (a file in boards/) or by the path of a .toml file."""
    p = Path(name)
    if name.endswith(".toml") or "/" in name:
        if not p.exists():
            raise TinykilnError(f"board file {name} does not exist.")
        if p.suffix != ".toml":
            raise TinykilnError(f"board file {name} is not a .toml file.")
        return load_board_file(p)
    known = sorted(q.stem for q in board_dir().glob("*.toml"))
    if name not in known:
        near = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
        hint = (f" (did you mean {', '.join(near[:-1])}{' or ' if len(near) > 1 else ''}"
                f"{near[-1]}?)" if near else "")
        raise TinykilnError(f"unknown board '{name}'{hint}; known boards: {', '.join(known)}.")
    return load_board_file(board_dir() / f"{name}.toml")
