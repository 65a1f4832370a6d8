"""Boards are data: one TOML file per board in boards/, validated here into a `Board` dataclass.
Facts shared by every board with the same CPU (architecture, gcc flags, which FPUs exist, which
fault registers the core has) live once, in CPU_FAMILIES."""
from __future__ import annotations

import difflib
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import TinykilnError
from ..resources import resource_dir


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
                 "stm32_usart_isr", "stm32_lpuart", "sifive_uart")
# The C driver (templates/firmware/console_<driver>.c) of kinds that share a register layout.
CONSOLE_DRIVERS = {"stm32_lpuart": "stm32_usart_isr"}
# Console bring-up (templates/firmware/console_setup_<setup>.c): the chip family's clocks and pin
# routing, run before the UART's own registers are programmed. "none": the UART works as the
# board leaves it (emulators). Each setup serves these console kinds:
CONSOLE_SETUPS = {"none": (), "stm32": ("stm32_usart_sr", "stm32_usart_isr", "stm32_lpuart"),
                  "nrf52": ("nrf52_uarte",), "rp2040": ("pl011",)}
# nRF52 UARTE BAUDRATE register values (nRF52840 Product Specification, UARTE BAUDRATE; the
# legacy UART's values differ). The UARTE has no divisor: only these rates exist.
NRF52_UARTE_BAUDRATE = {
    1200: 0x0004F000, 2400: 0x0009D000, 4800: 0x0013B000, 9600: 0x00275000, 14400: 0x003AF000,
    19200: 0x004EA000, 28800: 0x0075C000, 31250: 0x00800000, 38400: 0x009D0000,
    56000: 0x00E50000, 57600: 0x00EB0000, 76800: 0x013A9000, 115200: 0x01D60000,
    230400: 0x03B00000, 250000: 0x04000000, 460800: 0x07400000, 921600: 0x0F000000,
    1000000: 0x10000000,
}
# RP2040 GPIOs with a UART function (datasheet, GPIO function table; FUNCSEL 2): TX pins per
# UART base address; each RX pin is its TX pin + 1.
RP2040_UART_TX_PINS = {0x40034000: (0, 12, 16, 28), 0x40038000: (4, 8, 20, 24)}
RP2040_UART_RESET_BIT = {0x40034000: 22, 0x40038000: 23}     # RESETS.RESET: uart0, uart1
BAUD_TOLERANCE = 0.01       # divisor rounding error allowed on top of the oscillator's own


@dataclass(frozen=True)
class Boot2Kind:
    """A second boot stage the chip's boot ROM loads from the start of flash and checks."""
    cpu: str
    flash_origin: int
    size: int               # bytes, checksum included
    source: str             # templates/firmware/<source>: the code, assembled by tinykiln
    uf2_family: int = 0     # UF2 family ID of the chip: build writes firmware.uf2 too (0: none)


BOOT2_KINDS = {
    # RP2040 bootrom: copies the first 256 bytes of flash to SRAM, checks their CRC-32, runs them.
    "rp2040_03h": Boot2Kind("cortex-m0plus", 0x10000000, 256, "boot2_rp2040_03h.c", 0xE48BFF56),
}
EXIT_METHODS = ("semihosting", "none")
U32 = (1 << 32) - 1
MIN_STACK = 1024            # bytes: main, the console and the deepest kernel's frame
MAX_CLOCK_HZ = U32          # C code and PlatformIO's f_cpu hold it in 32 bits
MAX_BAUD = 20_000_000
# a board's name is its file name without .toml: it names folders, PlatformIO environments and
# appears in generated files, so it is kept to these characters
BOARD_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
QEMU_MACHINE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# extra_cflags reach gcc through SCons, which runs commands through a shell and expands '$'
CFLAG = re.compile(r"-[A-Za-z0-9_=,.+:/-]+")
FLOAT_ABIS = ("soft", "softfp", "hard")


@dataclass(frozen=True)
class Region:
    origin: int
    length: int

    @property
    def end(self) -> int:
        return self.origin + self.length


@dataclass(frozen=True)
class Console:
    """The [console] table: the UART, and how the image brings it up (setup != "none")."""
    kind: str
    address: int
    setup: str = "none"
    baud: int = 0
    clock_hz: int = 0                   # the UART's kernel clock as the image leaves it
    tx_pin: int = -1                    # GPIO number (STM32: port * 16 + pin)
    rx_pin: int = -1                    # -1: no receive pin
    pin_af: int = 0                     # STM32 alternate function number
    gpio_base: int = 0                  # STM32 GPIOA; port n is at gpio_base + n * 0x400
    enable: tuple[tuple[int, int], ...] = ()    # STM32 [address, bits] set before the pins
    divisor: tuple[tuple[str, int], ...] = ()   # the baud-rate register values, prepared here

    @property
    def driver(self) -> str:
        return CONSOLE_DRIVERS.get(self.kind, self.kind)

    def config_macros(self) -> list[tuple[str, str]]:
        """tk_config.h defines for the console bring-up (none when setup is "none")."""
        if self.setup == "none":
            return []
        m = [(f"TK_CONSOLE_{k}", f"{v:#x}u") for k, v in self.divisor]
        m.append(("TK_CONSOLE_HAS_RX", str(int(self.rx_pin >= 0))))
        pins = [("TX", self.tx_pin)] + ([("RX", self.rx_pin)] if self.rx_pin >= 0 else [])
        for name, pin in pins:
            if self.setup == "stm32":
                m.append((f"TK_CONSOLE_{name}_PORT", f"{self.gpio_base + 0x400 * (pin // 16):#010x}u"))
                pin %= 16
            m.append((f"TK_CONSOLE_{name}_PIN", str(pin)))
        if self.setup == "stm32":
            m.append(("TK_CONSOLE_PIN_AF", str(self.pin_af)))
            m.append(("TK_CONSOLE_ENABLES", "{" + ", ".join(f"{{{a:#010x}u, {b:#010x}u}}"
                                                           for a, b in self.enable) + "}"))
        if self.setup == "rp2040":
            m.append(("TK_CONSOLE_RESET_BIT", str(RP2040_UART_RESET_BIT[self.address])))
            # XOSC STARTUP.DELAY counts 256 crystal cycles; wait about 6 ms, as the Pico SDK does
            m.append(("TK_XOSC_STARTUP_DELAY", str(-(-self.clock_hz * 6 // 256000))))
        return m


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

class Fields:
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
        if kind is float and not math.isfinite(v):
            raise self._err(key, f"is {v}; it must be a finite number")
        if choices is not None and v not in choices:
            raise self._err(key, f"is '{v}'; expected one of: {', '.join(choices)}")
        if kind in (int, float) and v < 0 and not signed:
            raise self._err(key, f"must not be negative (is {v})")
        return v

    def get_int(self, key: str, lo: int, hi: int, default=..., what: str = "") -> int:
        """An integer field in [lo, hi]; `what` says why the range is what it is."""
        v = self.get(key, int, default, signed=lo < 0)
        if not lo <= v <= hi:
            raise self._err(key, f"is {v}; it must be from {lo} to {hi}{what}")
        return v

    def table(self, key: str, optional: bool = False) -> "Fields | None":
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
        "exit", "qemu_machine", "stack_bytes", "extra_cflags", "boot2"}
_CONSOLE = {"kind", "address", "setup", "baud", "clock_hz", "tx_pin", "rx_pin", "pin_af",
            "gpio_base", "enable"}
# which bring-up fields each setup takes ("baud" and "clock_hz" are handled by _console)
_SETUP_FIELDS = {"none": set(), "stm32": {"tx_pin", "rx_pin", "pin_af", "gpio_base", "enable"},
                 "nrf52": {"tx_pin", "rx_pin"}, "rp2040": {"tx_pin", "rx_pin"}}
_STM32_PIN = re.compile(r"P([A-K])([0-9]|1[0-5])")


def _region(f: Fields, key: str) -> Region:
    t = f.table(key)
    t.no_unknown({"origin", "length"})
    r = Region(t.get_int("origin", 0, U32, what=" (a 32-bit address)"), t.get("length", int))
    if r.length == 0:
        raise t._err("length", "must be greater than 0")
    if r.end > 1 << 32:
        raise t._err("length", f"puts the region's end at {r.end:#x}, beyond the 32-bit address space")
    return r


def _stm32_pin(con: Fields, key: str) -> int:
    """"PA2" -> port * 16 + pin; -1 when an optional pin is absent."""
    if key == "rx_pin" and key not in con.t:
        return -1
    v = con.get(key, str)
    m = _STM32_PIN.fullmatch(v)
    if not m:
        raise con._err(key, f"is '{v}'; expected an STM32 pin such as \"PA2\" (port A-K, pin 0-15)")
    return (ord(m.group(1)) - ord("A")) * 16 + int(m.group(2))


def _gpio_number(con: Fields, key: str, allowed, what: str) -> int:
    if key == "rx_pin" and key not in con.t:
        return -1
    v = con.get(key, int)
    if v not in allowed:
        raise con._err(key, f"is {v}; expected {what}")
    return v


def _enable_list(con: Fields) -> tuple[tuple[int, int], ...]:
    v = con.get("enable", list)
    if not v:
        raise con._err("enable", "is empty; list the [address, bits] that enable the UART's and "
                                 "its GPIO ports' clocks")
    out = []
    for i, e in enumerate(v):
        if not (isinstance(e, list) and len(e) == 2
                and all(isinstance(x, int) and not isinstance(x, bool) for x in e)):
            raise con._err(f"enable[{i}]", f"must be a pair [address, bits] of integers, not {e!r}")
        a, b = e
        if a % 4 or not 0 <= a < 1 << 32:
            raise con._err(f"enable[{i}]", f"has address {a:#x}, not a 32-bit register address")
        if not 0 < b < 1 << 32:
            raise con._err(f"enable[{i}]", f"has bits {b:#x}, not a nonzero 32-bit mask")
        out.append((a, b))
    return tuple(out)


def _divisor(con: Fields, kind: str, baud: int, clock: int) -> tuple[tuple[str, int], ...]:
    """The UART's baud-rate register values (integer math, rounded to nearest), checked for
    range and for the rate they really give."""
    if kind == "nrf52_uarte":
        if baud not in NRF52_UARTE_BAUDRATE:
            raise con._err("baud", f"is {baud}; the nRF52 UARTE runs at "
                                   f"{', '.join(map(str, NRF52_UARTE_BAUDRATE))}")
        return (("BAUDRATE", NRF52_UARTE_BAUDRATE[baud]),)
    if kind == "pl011":         # 64 * clock / (16 * baud): IBRD integer part, FBRD 6-bit fraction
        d = (4 * clock + baud // 2) // baud
        regs, ok = (("IBRD", d >> 6), ("FBRD", d & 63)), 64 <= d <= 0xFFFF << 6
        got = 4 * clock / d if d else 0.0
    elif kind == "stm32_lpuart":    # 256 * clock / baud, at least 0x300 (reference manuals)
        d = (256 * clock + baud // 2) // baud
        regs, ok = (("BRR", d),), 0x300 <= d <= 0xFFFFF and 3 * baud <= clock <= 4096 * baud
        got = 256 * clock / d if d else 0.0
    else:                           # STM32 USART with 16x oversampling: clock / baud
        d = (clock + baud // 2) // baud
        regs, ok = (("BRR", d),), 16 <= d <= 0xFFFF
        got = clock / d if d else 0.0
    if not ok:
        raise con._err("baud", f"is {baud}, out of reach of console kind '{kind}' from clock_hz "
                               f"{clock} (divisor {d} out of range)")
    if abs(got / baud - 1) > BAUD_TOLERANCE:
        raise con._err("baud", f"is {baud} but clock_hz {clock} gives {got:.0f} baud "
                               f"({abs(got / baud - 1):.1%} off; at most {BAUD_TOLERANCE:.0%})")
    return regs


def _console(con: Fields) -> Console:
    con.no_unknown(_CONSOLE)
    kind = con.get("kind", str, choices=CONSOLE_KINDS)
    addr = con.get_int("address", 0, U32, 0, " (a 32-bit address)")
    if addr % 4:
        raise con._err("address", f"is {addr:#x}, not a 4-byte aligned register address")
    if kind != "none" and "address" not in con.t:
        raise con._err("address", f"is missing (console kind '{kind}' needs its base address)")
    setup = con.get("setup", str, "none", choices=tuple(CONSOLE_SETUPS))
    if setup != "none" and kind not in CONSOLE_SETUPS[setup]:
        raise con._err("setup", f"is '{setup}', which brings up console kinds "
                                f"{', '.join(CONSOLE_SETUPS[setup])}, not '{kind}'")
    if kind == "nrf52_uarte" and setup != "nrf52":
        raise con._err("setup", "must be \"nrf52\" for console kind 'nrf52_uarte' (the image "
                                "routes the UARTE's pins)")
    allowed = {"kind", "address", "setup"} | _SETUP_FIELDS[setup]
    if setup != "none":
        allowed |= {"baud"} | ({"clock_hz"} if setup != "nrf52" else set())
    for k in con.t:
        if k not in allowed:
            why = ("set console.setup to the chip family that brings the console up" if setup == "none"
                   else "the nRF52 UARTE has its own baud generator" if k == "clock_hz"
                   else f"not a field of setup '{setup}'")
            raise con._err(k, f"is not used with console.setup = \"{setup}\" ({why})")
    if setup == "none":
        return Console(kind, addr)
    baud = con.get_int("baud", 1, MAX_BAUD, 115200, " baud")
    clock = con.get_int("clock_hz", 1, MAX_CLOCK_HZ, what=" Hz") if setup != "nrf52" else 0
    af = gpio = 0
    enable: tuple = ()
    if setup == "stm32":
        tx, rx = _stm32_pin(con, "tx_pin"), _stm32_pin(con, "rx_pin")
        af = con.get("pin_af", int)
        if af > 15:
            raise con._err("pin_af", f"is {af}; STM32 alternate functions are 0-15")
        gpio = con.get("gpio_base", int)
        if gpio % 0x400 or gpio + 11 * 0x400 > 1 << 32:
            raise con._err("gpio_base", f"is {gpio:#x}, not the address of a GPIO port block "
                                        f"(GPIOA; ports 0x400 apart)")
        enable = _enable_list(con)
    elif setup == "nrf52":
        what = "a GPIO number 0-47 (P0.00-P0.31 are 0-31, P1.00-P1.15 are 32-47)"
        tx = _gpio_number(con, "tx_pin", range(48), what)
        rx = _gpio_number(con, "rx_pin", range(48), what)
    else:   # rp2040
        if addr not in RP2040_UART_TX_PINS:
            raise con._err("address", f"is {addr:#x}; the RP2040's UARTs are at "
                                      f"{', '.join(f'{a:#x}' for a in RP2040_UART_TX_PINS)}")
        txs = RP2040_UART_TX_PINS[addr]
        tx = _gpio_number(con, "tx_pin", txs, f"a TX pin of the UART at {addr:#x} (GPIO "
                                              f"{', '.join(map(str, txs))})")
        rxs = tuple(t + 1 for t in txs)
        rx = _gpio_number(con, "rx_pin", rxs, f"an RX pin of the UART at {addr:#x} (GPIO "
                                              f"{', '.join(map(str, rxs))})")
        if not 1_000_000 <= clock <= 15_000_000:
            raise con._err("clock_hz", f"is {clock}; setup 'rp2040' runs the UART from the crystal "
                                       f"oscillator, which takes 1-15 MHz crystals (the Pico's: 12 MHz)")
    if rx == tx:
        raise con._err("rx_pin", "is the same pin as tx_pin")
    return Console(kind, addr, setup, baud, clock, tx, rx, af, gpio, enable,
                   _divisor(con, kind, baud, clock))


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
        raise f._err("cpu", f"is '{cpu}' (arch {fam.arch}) but arch is '{arch}'")
    desc = f.get("description", str, "")
    if arch == "host":
        return Board(path.stem, path, desc, arch, cpu, "none", "soft", 0, None, None, "none", 0,
                     "none", "", 0)
    fpu = f.get("fpu", str, choices=tuple(fam.fpus))
    float_abi = f.get("float_abi", str, "soft", choices=FLOAT_ABIS)
    if arch == "arm" and fpu == "none" and float_abi != "soft":
        raise f._err("float_abi", f"is '{float_abi}' but the board has no FPU (fpu = \"none\"); use \"soft\"")
    console = _console(f.table("console"))
    flash, ram = _region(f, "flash"), _region(f, "ram")
    boot2 = f.get("boot2", str, "none", choices=("none", *BOOT2_KINDS))
    if boot2 != "none":
        bk = BOOT2_KINDS[boot2]
        if cpu != bk.cpu:
            raise f._err("boot2", f"is '{boot2}', a boot stage of {bk.cpu} chips, but cpu is '{cpu}'")
        if flash.origin != bk.flash_origin:
            raise f.table("flash")._err("origin", f"is {flash.origin:#x}, but the boot ROM loads "
                                                  f"boot2 '{boot2}' from {bk.flash_origin:#x}: flash "
                                                  f"starts there, boot2 first, then the image")
    if flash.origin < ram.end and ram.origin < flash.end:
        raise f._err("ram", f"overlaps flash ({ram.origin:#x}+{ram.length:#x} vs "
                            f"{flash.origin:#x}+{flash.length:#x})")
    stack = f.get("stack_bytes", int, 8192)
    if stack % 8 or stack < MIN_STACK:
        raise f._err("stack_bytes", f"is {stack}; it must be a multiple of 8 and at least "
                                    f"{MIN_STACK}")
    if stack >= ram.length:
        raise f._err("stack_bytes", f"is {stack}, not less than the RAM ({ram.length} bytes)")
    exit_ = f.get("exit", str, choices=EXIT_METHODS)
    machine = f.get("qemu_machine", str, "")
    if machine and not QEMU_MACHINE.fullmatch(machine):
        raise f._err("qemu_machine", f"is {machine!r}, not a QEMU machine name (letters, digits, "
                                     f"'.', '_' and '-')")
    if machine and exit_ != "semihosting":
        raise f._err("exit", "must be \"semihosting\" for a board run under QEMU (qemu_machine is set)")
    extra = f.get("extra_cflags", list, [])
    for i, x in enumerate(extra):
        if not isinstance(x, str):
            raise f._err(f"extra_cflags[{i}]", "must be a string")
        if not CFLAG.fullmatch(x):
            raise f._err(f"extra_cflags[{i}]", f"is {x!r}; a flag begins with '-' and holds only "
                                               f"letters, digits and _ = , . + : / -")
    clock_hz = f.get_int("clock_hz", 1, MAX_CLOCK_HZ, what=" Hz")
    return Board(path.stem, path, desc, arch, cpu, fpu, float_abi, clock_hz,
                 flash, ram, console.kind, console.address, exit_, machine, stack, tuple(extra),
                 console, boot2)


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
