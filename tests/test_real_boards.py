"""Real boards: the image a user flashes brings its console up by itself. Board-file validation
of the console bring-up fields and of boot2; the RP2040 second stage (size, the CRC-32 the
bootrom checks, its disassembly) and the Pico image's layout; every real board's image run from
reset in a small Unicorn emulation whose peripheral models follow the vendors' manuals, checking
the register writes against values taken from those documents (written out here, not read from
the board files) and that the console line comes out; and netduinoplus2 with the STM32 bring-up
under QEMU."""
from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest

from tinykiln.targets.board import get_board, load_board_file
from tinykiln.errors import TinykilnError

REAL = ["nucleo-f446re", "nucleo-l4r5zi", "stm32f746g-disco", "nrf52840-dk", "rpi-pico",
        "nucleo-h743zi"]
no_arm = shutil.which("arm-none-eabi-gcc") is None
need_arm = pytest.mark.skipif(no_arm, reason="arm-none-eabi-gcc is not installed "
                              "(apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi)")
try:
    import unicorn  # noqa: F401
    no_unicorn = False
except ImportError:
    no_unicorn = True
need_unicorn = pytest.mark.skipif(no_unicorn, reason="the unicorn package is not installed "
                                  "(pip install unicorn): the bring-up emulation needs it")


# ---- board files: the console bring-up fields and boot2

VALID = """\
description = "test board (STM32F4, USART2 on PA2/PA3)"
arch = "arm"
cpu = "cortex-m4"
fpu = "fpv4-sp-d16"
float_abi = "hard"
clock_hz = 16000000
exit = "none"

[flash]
origin = 0x08000000
length = 0x80000

[ram]
origin = 0x20000000
length = 0x20000

[console]
kind = "stm32_usart_sr"
address = 0x40004400
setup = "stm32"
baud = 115200
clock_hz = 16000000
tx_pin = "PA2"
rx_pin = "PA3"
pin_af = 7
gpio_base = 0x40020000
enable = [[0x40023830, 0x1], [0x40023840, 0x20000]]
"""

PICO = """\
arch = "arm"
cpu = "cortex-m0plus"
fpu = "none"
clock_hz = 125000000
exit = "none"
boot2 = "rp2040_03h"

[flash]
origin = 0x10000000
length = 0x200000

[ram]
origin = 0x20000000
length = 0x42000

[console]
kind = "pl011"
address = 0x40034000
setup = "rp2040"
clock_hz = 12000000
tx_pin = 0
rx_pin = 1
"""

NRF = """\
arch = "arm"
cpu = "cortex-m4"
fpu = "none"
clock_hz = 64000000
exit = "none"

[flash]
origin = 0x0
length = 0x100000

[ram]
origin = 0x20000000
length = 0x40000

[console]
kind = "nrf52_uarte"
address = 0x40002000
setup = "nrf52"
tx_pin = 6
rx_pin = 8
"""

# (case, base text, (old, new), what the message must contain besides the file name)
BAD = [
    ("unknown setup", VALID, ('setup = "stm32"', 'setup = "esp32"'), "'console.setup' is 'esp32'"),
    ("setup for another kind", VALID, ('kind = "stm32_usart_sr"', 'kind = "pl011"'),
     "'console.setup' is 'stm32', which brings up console kinds"),
    ("pin without setup", VALID, ('setup = "stm32"\n', ""), "'console.baud' is not used with "
     "console.setup = \"none\""),
    ("bad stm32 pin", VALID, ('"PA2"', '"PA16"'), "'console.tx_pin' is 'PA16'; expected an STM32 pin"),
    ("stm32 pin as number", VALID, ('"PA2"', "2"), "'console.tx_pin' must be a string"),
    ("rx equals tx", VALID, ('"PA3"', '"PA2"'), "'console.rx_pin' is the same pin as tx_pin"),
    ("af too big", VALID, ("pin_af = 7", "pin_af = 16"), "'console.pin_af' is 16"),
    ("af missing", VALID, ("pin_af = 7\n", ""), "'console.pin_af' is missing"),
    ("clock missing", VALID, ("clock_hz = 16000000\ntx_pin", "tx_pin"), "'console.clock_hz' is missing"),
    ("baud unreachable", VALID, ("baud = 115200", "baud = 921600"),
     "'console.baud' is 921600 but clock_hz 16000000 gives 941176 baud (2.1% off"),
    ("divisor out of range", VALID, ("baud = 115200", "baud = 100"), "'console.baud' is 100, out of "
     "reach of console kind 'stm32_usart_sr'"),
    ("gpio base unaligned", VALID, ("gpio_base = 0x40020000", "gpio_base = 0x40020004"),
     "'console.gpio_base' is 0x40020004"),
    ("enable not pairs", VALID, ("[0x40023830, 0x1]", "[0x40023830]"), "'console.enable[0]' must be a pair"),
    ("enable unaligned", VALID, ("[0x40023840, 0x20000]", "[0x40023842, 0x20000]"),
     "'console.enable[1]' has address 0x40023842"),
    ("enable empty", VALID, ("enable = [[0x40023830, 0x1], [0x40023840, 0x20000]]", "enable = []"),
     "'console.enable' is empty"),
    ("unknown console field", VALID, ("pin_af = 7", "pin_af = 7\nparity = 1"),
     "'console.parity' is not a board field"),
    ("lpuart clock too slow", VALID.replace('"stm32_usart_sr"', '"stm32_lpuart"'),
     ("clock_hz = 16000000\ntx", "clock_hz = 300000\ntx"),
     "'console.baud' is 115200, out of reach of console kind 'stm32_lpuart' from clock_hz 300000"),
    ("nrf52 without setup", NRF, ('setup = "nrf52"\ntx_pin = 6\nrx_pin = 8\n', ""),
     "'console.setup' must be \"nrf52\""),
    ("nrf52 pin out of range", NRF, ("tx_pin = 6", "tx_pin = 48"), "'console.tx_pin' is 48; expected a "
     "GPIO number 0-47"),
    ("nrf52 baud not in table", NRF, ("tx_pin = 6", "baud = 100000\ntx_pin = 6"),
     "'console.baud' is 100000; the nRF52 UARTE runs at"),
    ("nrf52 clock", NRF, ("tx_pin = 6", "clock_hz = 16000000\ntx_pin = 6"),
     "'console.clock_hz' is not used with console.setup = \"nrf52\""),
    ("rp2040 tx not a uart pin", PICO, ("tx_pin = 0", "tx_pin = 2"), "'console.tx_pin' is 2; expected a "
     "TX pin of the UART at 0x40034000 (GPIO 0, 12, 16, 28)"),
    ("rp2040 tx of uart1", PICO, ("tx_pin = 0", "tx_pin = 4"), "'console.tx_pin' is 4"),
    ("rp2040 rx", PICO, ("rx_pin = 1", "rx_pin = 5"), "'console.rx_pin' is 5; expected an RX pin"),
    ("rp2040 not a uart", PICO, ("address = 0x40034000", "address = 0x40034400"),
     "'console.address' is 0x40034400; the RP2040's UARTs are at 0x40034000, 0x40038000"),
    ("rp2040 crystal range", PICO, ("clock_hz = 12000000", "clock_hz = 16000000"),
     "'console.clock_hz' is 16000000; setup 'rp2040' runs the UART from the crystal"),
    ("unknown boot2", PICO, ('"rp2040_03h"', '"rp2040_qspi"'), "'boot2' is 'rp2040_qspi'"),
    ("boot2 on another cpu", VALID, ('exit = "none"', 'exit = "none"\nboot2 = "rp2040_03h"'),
     "'boot2' is 'rp2040_03h', a boot stage of cortex-m0plus chips, but cpu is 'cortex-m4'"),
    ("boot2 not at flash start", PICO, ("origin = 0x10000000", "origin = 0x10000100"),
     "'flash.origin' is 0x10000100, but the boot ROM loads boot2 'rp2040_03h' from 0x10000000"),
]


@pytest.mark.parametrize("case,base,edit,needle", BAD, ids=[c[0] for c in BAD])
def test_bad_console_field(tmp_path, case, base, edit, needle):
    old, new = edit
    assert old in base, case
    p = tmp_path / "bad.toml"
    p.write_text(base.replace(old, new, 1))
    with pytest.raises(TinykilnError) as e:
        load_board_file(p)
    msg = str(e.value)
    assert msg.startswith(f"board file {p}: field '") and needle in msg, msg


def test_console_fields_load(tmp_path):
    """Divisors from the documents' formulas: STM32 USART BRR = clock / baud (16x oversampling),
    LPUART BRR = 256 * clock / baud, PL011 IBRD.FBRD = clock / (16 * baud) in 1/64ths; the nRF52
    UARTE's BAUDRATE is a table value."""
    cases = [
        (VALID, {"BRR": 139}),                                           # 16e6 / 115200 = 138.9
        (VALID.replace('"stm32_usart_sr"', '"stm32_lpuart"').replace("= 16000000\ntx", "= 4000000\ntx"),
         {"BRR": 8889}),                                                 # 256 * 4e6 / 115200 = 8888.9
        (PICO, {"IBRD": 6, "FBRD": 33}),                                 # 12e6 / 1.8432e6 = 6 + 32.7/64
        (NRF, {"BAUDRATE": 0x01D60000}),                                 # nRF52840 PS, UARTE BAUDRATE
    ]
    for i, (text, want) in enumerate(cases):
        p = tmp_path / f"b{i}.toml"
        p.write_text(text)
        b = load_board_file(p)
        assert dict(b.console.divisor) == want, (i, b.console.divisor)
    assert b.console.tx_pin == 6 and b.console.rx_pin == 8 and b.console.baud == 115200
    p = tmp_path / "v.toml"
    p.write_text(VALID.replace('rx_pin = "PA3"\n', ""))
    c = load_board_file(p).console
    assert (c.tx_pin, c.rx_pin, c.pin_af, c.enable) == (2, -1, 7, ((0x40023830, 1), (0x40023840, 0x20000)))


def test_shipped_real_boards_bring_up_their_console():
    for name in REAL:
        b = get_board(name)
        assert not b.emulated and b.console.setup != "none", name
        assert b.console.baud == 115200, name
    assert get_board("rpi-pico").boot2 == "rp2040_03h"
    assert get_board("rpi-pico").flash.origin == 0x10000000
    for name in ("mps2-an386", "lm3s6965evb", "netduinoplus2", "microbit", "sifive_e"):
        b = get_board(name)
        assert b.console.setup == "none" and b.boot2 == "none", name


# ---- the RP2040 second stage

def _crc_mpeg2_via_zlib(data: bytes) -> int:
    """CRC-32/MPEG-2 from zlib's reflected CRC-32: reflect every input byte and the result, and
    undo zlib's final XOR. Independent of tinykiln.targets.boot2's bitwise loop."""
    rev8 = bytes(int(f"{b:08b}"[::-1], 2) for b in data)
    return int(f"{zlib.crc32(rev8) ^ 0xFFFFFFFF:032b}"[::-1], 2)


def test_crc32_is_the_bootroms():
    """RP2040 datasheet, boot2 checksum: polynomial 0x04c11db7, no reflection, initial value
    0xffffffff, no final XOR. The catalogued check value of that CRC (CRC-32/MPEG-2) for the
    ASCII digits 1-9 is 0x0376e6e7."""
    from tinykiln.targets.boot2 import crc32_mpeg2
    assert crc32_mpeg2(b"123456789") == 0x0376E6E7 == _crc_mpeg2_via_zlib(b"123456789")
    rng = np.random.default_rng(3)
    for n in (0, 1, 7, 252):
        data = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        assert crc32_mpeg2(data) == _crc_mpeg2_via_zlib(data), n


@pytest.fixture(scope="module")
def boot2():
    if no_arm:
        pytest.skip("arm-none-eabi-gcc is not installed")
    from tinykiln.targets.boot2 import boot2_image
    return boot2_image(get_board("rpi-pico"), "arm-none-eabi-gcc", "arm-none-eabi-objcopy")


def test_boot2_size_and_checksum(boot2):
    assert len(boot2) == 256
    assert int.from_bytes(boot2[252:], "little") == _crc_mpeg2_via_zlib(boot2[:252])
    code = boot2[:252].rstrip(b"\0")
    assert 16 <= len(code) <= 252


# ---- images of every real board (the demo model: small, always available)

@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from tinykiln.inputs import compile_file
    from tinykiln.demo import demo_model
    p = tmp_path_factory.mktemp("demo") / "demo.tflite"
    p.write_bytes(demo_model())
    return compile_file(p)


@pytest.fixture(scope="module")
def images(demo, tmp_path_factory):
    if no_arm:
        pytest.skip("arm-none-eabi-gcc is not installed")
    from tinykiln.targets.firmware import build_firmware
    out = {}
    for name in REAL:
        d = tmp_path_factory.mktemp(name) / "fw"
        r = build_firmware(demo, get_board(name), d)
        out[name] = (d, r)
    return out


@pytest.mark.parametrize("name", REAL)
def test_real_image_builds_warning_free(images, name):
    d, r = images[name]
    assert r["build_warnings"] == [], r["build_warnings"]
    src = d / "src"
    setup = get_board(name).console.setup
    assert (src / f"console_setup_{setup}.c").is_file()
    assert "#define TK_CONSOLE_SETUP 1" in (src / "tk_config.h").read_text()


def test_pico_image_starts_with_boot2(images, boot2):
    from elftools.elf.elffile import ELFFile
    d, _ = images["rpi-pico"]
    binary = (d / "firmware.bin").read_bytes()
    assert binary[:256] == boot2
    with open(d / "firmware.elf", "rb") as fh:
        elf = ELFFile(fh)
        secs = {s.name: s for s in elf.iter_sections()}
        assert secs[".boot2"]["sh_addr"] == 0x10000000 and secs[".boot2"]["sh_size"] == 256
        assert secs[".isr_vector"]["sh_addr"] == 0x10000100
        syms = {s.name: s for s in elf.get_section_by_name(".symtab").iter_symbols()}
        assert syms["tk_boot2"]["st_value"] == 0x10000000
        assert syms["tk_vectors"]["st_value"] == 0x10000100
        reset = syms["tk_reset"]["st_value"]
        stack_top = syms["__stack_top__"]["st_value"]
    sp, pc = struct.unpack_from("<2I", binary, 0x100)       # the table boot2 reads
    assert (sp, pc) == (stack_top, reset | 1)
    # the .hex starts at 0x10000000 too: extended linear address 0x1000, then data at 0x0000
    lines = (d / "firmware.hex").read_text().split()
    assert lines[0] == ":020000041000EA"
    assert lines[1][3:7] == "0000" and lines[1][7:9] == "00"


def test_pico_uf2_holds_the_flash_image(images):
    """firmware.uf2 (BOOTSEL drag-and-drop): 512-byte blocks with the UF2 magics, the RP2040
    family ID, consecutive 256-byte payloads from 0x10000000 that reassemble firmware.bin.
    The constants are the UF2 specification's (github.com/microsoft/uf2)."""
    d, _ = images["rpi-pico"]
    binary = (d / "firmware.bin").read_bytes()
    uf2 = (d / "firmware.uf2").read_bytes()
    assert len(uf2) % 512 == 0
    blocks = [uf2[i:i + 512] for i in range(0, len(uf2), 512)]
    assert len(blocks) == -(-len(binary) // 256)
    image = b""
    for n, blk in enumerate(blocks):
        m0, m1, flags, addr, size, no, total, family = struct.unpack_from("<8I", blk)
        assert (m0, m1, struct.unpack_from("<I", blk, 508)[0]) == (0x0A324655, 0x9E5D5157, 0x0AB16F30)
        assert flags == 0x2000 and family == 0xE48BFF56          # familyID present; RP2040
        assert (addr, size, no, total) == (0x10000000 + 256 * n, 256, n, len(blocks))
        image += blk[32:32 + 256]
    assert image[:len(binary)] == binary and not image[len(binary):].strip(b"\0")
    for name, (other, _) in images.items():
        if name != "rpi-pico":
            assert not (other / "firmware.uf2").exists(), name


def _objdump_boot2(elf: Path) -> list[tuple[int, str, str]]:
    r = subprocess.run(["arm-none-eabi-objdump", "-D", "-j", ".boot2", "-M", "force-thumb",
                        str(elf)], capture_output=True, text=True, check=True)
    out = []
    for line in r.stdout.splitlines():
        m = re.match(r"\s*([0-9a-f]+):\s+(?:[0-9a-f]{4} ?)+\s+(\S+)\s*(.*)", line)
        if m:
            out.append((int(m.group(1), 16), m.group(2), m.group(3)))
    return out


def test_boot2_disassembly_sets_up_xip_and_vtor(images):
    """Interpret boot2's straight-line disassembly (arm-none-eabi-objdump) symbolically: literal
    loads, moves and stores, up to the jump. Register values: RP2040 datasheet (SSI at
    0x18000000: CTRLR0 0x00, CTRLR1 0x04, SSIENR 0x08, BAUDR 0x14, SPI_CTRLR0 0xf4) and the
    Cortex-M0+ VTOR at 0xe000ed08."""
    d, _ = images["rpi-pico"]
    mem = (d / "firmware.bin").read_bytes()[:256]
    word = lambda a: struct.unpack_from("<I", mem, a - 0x10000000)[0]
    reg: dict[str, int] = {}
    stores: list[tuple[int, int]] = []
    jumped = False
    for addr, op, args in _objdump_boot2(d / "firmware.elf"):
        a = [x.strip() for x in re.split(r",\s*(?![^\[{]*[\]}])", args.split("@")[0].strip())]
        if op == "ldr" and a[1].startswith("[pc"):
            lit = int(re.search(r"@ \(([0-9a-f]+)", args).group(1), 16)
            reg[a[0]] = word(lit)
        elif op == "movs":
            reg[a[0]] = int(a[1].lstrip("#"))
        elif op == "str":
            m = re.fullmatch(r"\[(r\d)(?:, (#\d+|r\d))?\]", a[1])
            off = m.group(2) or "#0"
            off = int(off[1:]) if off.startswith("#") else reg[off]
            stores.append((reg[m.group(1)] + off, reg[a[0]]))
        elif op == "ldmia":
            base = reg[a[0].rstrip("!")]
            for i, r in enumerate(re.findall(r"r\d", a[1])):
                reg[r] = ("vector", base + 4 * i)
        elif op == "msr":
            assert a[0].upper() == "MSP" and reg[a[1]] == ("vector", 0x10000100)
            reg["msp"] = reg[a[1]]
        elif op == "bx":
            assert reg[a[0]] == ("vector", 0x10000104) and reg.get("msp")
            jumped = True
            break
        else:
            pytest.fail(f"unexpected instruction in boot2 at {addr:#x}: {op} {args}")
    assert jumped, "boot2 never jumps to the image's reset handler"
    ssi = [(a - 0x18000000, v) for a, v in stores if 0x18000000 <= a < 0x18000100]
    assert ssi[0] == (0x08, 0), "SSIENR must be cleared before the SSI is configured"
    assert ssi[-1] == (0x08, 1), "SSIENR must be set last"
    final = dict(ssi)
    ctrlr0, spi = final[0x00], final[0xF4]
    assert (ctrlr0 >> 21) & 3 == 0 and (ctrlr0 >> 16) & 31 == 31 and (ctrlr0 >> 8) & 3 == 3
    assert spi >> 24 == 0x03 and (spi >> 8) & 3 == 2 and (spi >> 2) & 15 == 6 and spi & 3 == 0
    assert final[0x14] and final[0x14] % 2 == 0            # BAUDR: even, non-zero
    assert final[0x04] == 0                                 # CTRLR1.NDF
    assert (0xE000ED08, 0x10000100) in stores


# ---- the bring-up, run from reset in an emulation

class Emulation:
    """Runs an image from reset (the Pico: from boot2, copied to SRAM as the bootrom does) in
    Unicorn with memory-mapped I/O models until the console has printed one line. Registers
    read back what was written, from documented reset values; the models add what software
    polls (UART ready flags, XOSC stable, clock-mux selected, reset done, nRF events) and the
    UART data paths."""

    def __init__(self, board, fw: Path):
        from unicorn import UC_ARCH_ARM, UC_MODE_MCLASS, UC_MODE_THUMB, Uc
        from unicorn import arm_const as A
        self.board, self.kind = board, board.console.kind
        self.regs: dict[int, int] = {}
        self.writes: list[tuple[int, int]] = []
        self.text = bytearray()
        self.first_flash_exec = None
        cpu = {"cortex-m0plus": A.UC_CPU_ARM_CORTEX_M0, "cortex-m4": A.UC_CPU_ARM_CORTEX_M4,
               "cortex-m7": A.UC_CPU_ARM_CORTEX_M7}[board.cpu]
        uc = self.uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB | UC_MODE_MCLASS)
        uc.ctl_set_cpu_model(cpu)
        image = (fw / "firmware.bin").read_bytes()
        page = lambda n: (n + 0xFFF) & ~0xFFF
        uc.mem_map(board.flash.origin, page(board.flash.length))
        uc.mem_write(board.flash.origin, image)
        uc.mem_map(board.ram.origin, page(board.ram.length))
        for r in board.ram_regions:     # (rpi-pico: the bootrom runs boot2 from SRAM5)
            uc.mem_map(r.origin, page(r.length))
        for base, size in ((0x18000000, 0x1000), (0x40000000, 0x20000000), (0xE0000000, 0x100000)):
            uc.mmio_map(base, size, self._read, base, self._write, base)
        self.reset = {}
        if board.console.setup == "stm32":      # MODER after reset: analog mode (L4, H7)
            self.reset.update({board.console.gpio_base + 0x400 * p: 0xFFFFFFFF for p in range(11)})
        if board.console.setup == "rp2040":
            self.reset[0x4000C000] = 0x01FFFFFF                  # RESETS.RESET: all held
            self.reset.update({0x40014004 + 8 * g: 0x1F for g in range(30)})  # FUNCSEL null
            self.reset[0x40034030] = 0x300                       # UARTCR
        if board.boot2 != "none":
            uc.mem_write(0x20041F00, image[:256])                 # what the bootrom does
            pc, sp = 0x20041F00 | 1, 0x20042000
        else:
            sp, pc = struct.unpack_from("<2I", image, 0)
        uc.reg_write(A.UC_ARM_REG_SP, sp)
        self.pc = pc
        from unicorn import UC_HOOK_BLOCK
        self._hook = uc.hook_add(UC_HOOK_BLOCK, self._block, begin=board.flash.origin,
                                 end=board.flash.end - 1)

    def _block(self, uc, address, size, user):
        if self.first_flash_exec is None:
            self.first_flash_exec = (address, len(self.writes))

    def reg(self, addr: int) -> int:
        return self.regs.get(addr, self.reset.get(addr, 0))

    def _read(self, uc, offset, size, base):
        a = base + offset
        k, ua = self.kind, self.board.console.address
        if k == "stm32_usart_sr" and a == ua:
            return 0xC0                                          # SR: TXE | TC
        if k in ("stm32_usart_isr", "stm32_lpuart") and a == ua + 0x1C:
            return 0xC0                                          # ISR: TXE | TC
        if k == "pl011" and a == ua + 0x18:
            return 0x90                                          # UARTFR: TXFE | RXFE, TXFF clear
        if a == 0x4000C008:                                      # RP2040 RESETS.RESET_DONE
            return ~self.reg(0x4000C000) & 0x01FFFFFF
        if a == 0x40024004:                                      # XOSC.STATUS
            return (1 << 31) if (self.reg(0x40024000) >> 12) & 0xFFF == 0xFAB else 0
        if a == 0x40008038:                                      # CLK_REF_SELECTED, one-hot
            return 1 << (self.reg(0x40008030) & 3)
        if a == 0x40008044:                                      # CLK_SYS_SELECTED
            return 1 << (self.reg(0x4000803C) & 1)
        return self.reg(a)

    def _write(self, uc, offset, size, value, base):
        a = base + offset
        self.writes.append((a, value))
        self.regs[a] = value
        k, ua = self.kind, self.board.console.address
        byte = None
        data = {"stm32_usart_sr": 0x04, "stm32_usart_isr": 0x28, "stm32_lpuart": 0x28, "pl011": 0}
        if k in data and a == ua + data[k]:                      # DR / TDR / UARTDR
            byte = bytes([value & 0xFF])
        if k == "nrf52_uarte" and a == ua + 0x008 and value:       # TASKS_STARTTX: EasyDMA
            byte = bytes(uc.mem_read(self.reg(ua + 0x544), self.reg(ua + 0x548)))
            self.regs[ua + 0x120] = 1                            # EVENTS_ENDTX
        if a == 0x40000000 and value:                            # nRF CLOCK.TASKS_HFCLKSTART
            self.regs[0x40000100] = 1                            # EVENTS_HFCLKSTARTED
        if byte:
            self.text += byte
            if self.text.endswith(b"\n"):
                uc.emu_stop()

    def run(self, max_instructions: int = 20_000_000) -> str:
        self.uc.emu_start(self.pc, 0xFFFFFFFF, count=max_instructions)
        return self.text.decode(errors="replace")

    def index(self, addr: int, mask: int | None = None, value: int | None = None) -> int:
        """Position of the first write to addr (that sets every bit of mask, or that gives the
        bits of mask the value)."""
        for i, (a, v) in enumerate(self.writes):
            if a == addr and (mask is None or (v & mask == mask if value is None
                                               else v & mask == value)):
                return i
        raise AssertionError(f"no write to {addr:#010x}" + ("" if mask is None else f" with {mask:#x}")
                             + ("" if value is None else f" = {value:#x}"))

    def first_write_in(self, lo: int, hi: int) -> int:
        return next(i for i, (a, _) in enumerate(self.writes) if lo <= a < hi)


# The documents' values for each STM32 board: (UART base, ISR-style registers, BRR, enable bits
# as (register, bits, the block they power: first address, size), pins as (GPIO port, pin, AF)).
STM32 = {
    # RM0390 (STM32F446): RCC 0x40023800, AHB1ENR +0x30 bit 0 GPIOA, APB1ENR +0x40 bit 17 USART2;
    # USART2 0x40004400; DS10693: PA2 USART2_TX, PA3 USART2_RX on AF7; UM1724: ST-LINK VCP.
    # BRR = 16 MHz (HSI, APB1 /1 after reset) / 115200 = 138.9 -> 139.
    "nucleo-f446re": (0x40004400, False, 139,
                      [(0x40023830, 1 << 0, (0x40020000, 0x400)), (0x40023840, 1 << 17, (0x40004400, 0x400))],
                      [(0x40020000, 2, 7), (0x40020000, 3, 7)]),
    # RM0385 (STM32F746): AHB1ENR bits 0/1 GPIOA/B, APB2ENR +0x44 bit 4 USART1 (0x40011000);
    # DS10916: PA9 USART1_TX, PB7 USART1_RX on AF7; UM1907: ST-LINK VCP. 16 MHz / 115200.
    "stm32f746g-disco": (0x40011000, True, 139,
                         [(0x40023830, 1 << 0, (0x40020000, 0x400)), (0x40023830, 1 << 1, (0x40020400, 0x400)),
                          (0x40023844, 1 << 4, (0x40011000, 0x400))],
                         [(0x40020000, 9, 7), (0x40020400, 7, 7)]),
    # RM0432 (STM32L4R5): RCC 0x40021000, APB1ENR1 +0x58 bit 28 PWR, PWR_CR2 (0x40007004) bit 9
    # IOSV (VDDIO2 for port G), AHB2ENR +0x4C bit 6 GPIOG (0x48001800), APB1ENR2 +0x5C bit 0
    # LPUART1 (0x40008000); MSI 4 MHz after reset; LPUART BRR = 256 * 4e6 / 115200 = 8888.9;
    # DS12023: PG7 LPUART1_TX, PG8 LPUART1_RX on AF8; UM2179: ST-LINK VCP.
    "nucleo-l4r5zi": (0x40008000, True, 8889,
                      [(0x40021058, 1 << 28, (0x40007000, 0x400)), (0x40007004, 1 << 9, (0x48001800, 0x400)),
                       (0x4002104C, 1 << 6, (0x48001800, 0x400)), (0x4002105C, 1 << 0, (0x40008000, 0x400))],
                      [(0x48001800, 7, 8), (0x48001800, 8, 8)]),
    # RM0433 (STM32H743): RCC 0x58024400, AHB4ENR +0xE0 bit 3 GPIOD (0x58020C00), APB1LENR +0xE8
    # bit 18 USART3 (0x40004800); HSI 64 MHz after reset, PCLK1 = 64 MHz: 555.6 -> 556;
    # DS12110: PD8 USART3_TX, PD9 USART3_RX on AF7; UM1974: ST-LINK VCP.
    "nucleo-h743zi": (0x40004800, True, 556,
                      [(0x580244E0, 1 << 3, (0x58020C00, 0x400)), (0x580244E8, 1 << 18, (0x40004800, 0x400))],
                      [(0x58020C00, 8, 7), (0x58020C00, 9, 7)]),
}


def _check_stm32(emu: Emulation, name: str):
    uart, isr, brr, enables, pins = STM32[name]
    for reg, bits, (lo, size) in enables:
        on = emu.index(reg, bits)
        assert emu.reg(reg) & bits == bits, f"{reg:#x} bits {bits:#x} not left set"
        assert emu.first_write_in(lo, lo + size) > on, \
            f"the block at {lo:#x} was written before {reg:#x} bits {bits:#x} enabled it"
    for port, pin, af in pins:
        assert (emu.reg(port) >> 2 * pin) & 3 == 2, f"{port:#x} pin {pin}: MODER not alternate"
        afr = emu.reg(port + 0x20 + 4 * (pin >> 3))
        assert (afr >> 4 * (pin & 7)) & 15 == af, f"{port:#x} pin {pin}: AF is not {af}"
    cr1, brr_off = (0x00, 0x0C) if isr else (0x0C, 0x08)
    ue = 1 if isr else 1 << 13
    assert emu.reg(uart + brr_off) == brr
    assert emu.index(uart + brr_off) < emu.index(uart + cr1, ue), "BRR written after UE"
    assert emu.reg(uart + cr1) & (ue | 1 << 3) == ue | 1 << 3, "CR1: UE and TE"


def _check_rp2040(emu: Emulation):
    """RP2040 datasheet: XOSC 0x40024000 (CTRL: FREQ_RANGE 0xaa0 = 1-15 MHz, ENABLE 0xfab;
    STARTUP), CLOCKS 0x40008000 (CLK_REF_CTRL +0x30 SRC 2 = xosc, CLK_SYS_CTRL +0x3c SRC 0 =
    clk_ref, CLK_PERI_CTRL +0x48 ENABLE bit 11, AUXSRC bits 7:5 = 0 clk_sys), RESETS 0x4000c000
    (bits 5 io_bank0, 8 pads_bank0, 22 uart0), IO_BANK0 0x40014000 (GPIOn_CTRL at 8n + 4,
    FUNCSEL 2 = UART), UART0 0x40034000 (PL011). Pico: 12 MHz crystal, UART0 on GPIO0/GPIO1:
    IBRD.FBRD = 12e6 / (16 * 115200) = 6.5104 -> 6 + 33/64."""
    ctrl = emu.reg(0x40024000)
    assert ctrl & 0xFFF == 0xAA0 and (ctrl >> 12) & 0xFFF == 0xFAB
    assert emu.reg(0x4002400C) & 0x3FFF >= 47                 # >= 1 ms of 256-cycle units
    assert emu.reg(0x40008030) & 3 == 2 and emu.reg(0x4000803C) & 1 == 0
    peri = emu.reg(0x40008048)
    assert peri & (1 << 11) and (peri >> 5) & 7 == 0
    assert emu.reg(0x4000C000) & (1 << 5 | 1 << 8 | 1 << 22) == 0
    assert emu.reg(0x40014004) & 31 == 2 and emu.reg(0x4001400C) & 31 == 2
    first_uart = emu.first_write_in(0x40034000, 0x40035000)
    assert first_uart > emu.index(0x4000C000, 1 << 22, 0) and first_uart > emu.index(0x40008048, 1 << 11)
    assert first_uart > emu.index(0x40008030, 3, 2), "UART programmed before clk_ref left the ROSC"
    assert (emu.reg(0x40034024), emu.reg(0x40034028)) == (6, 33)
    lcr = emu.index(0x4003402C)
    assert lcr > emu.index(0x40034024) and lcr > emu.index(0x40034028), "LCR_H latches IBRD/FBRD"
    assert (emu.reg(0x4003402C) >> 5) & 3 == 3                 # 8 data bits
    assert emu.reg(0x40034030) & 0x101 == 0x101                # UARTEN | TXE
    # boot2: the SSI is set up for XIP before anything runs from flash; VTOR points at the image
    ssien = emu.index(0x18000008, 1, 1)
    assert emu.writes[emu.first_write_in(0x18000000, 0x18000100)] == (0x18000008, 0)
    assert emu.first_flash_exec is not None and emu.first_flash_exec[1] > ssien
    assert emu.reg(0xE000ED08) == 0x10000100


def _check_nrf52(emu: Emulation):
    """nRF52840 Product Specification: CLOCK 0x40000000 TASKS_HFCLKSTART; P0 0x50000000 OUTSET
    +0x508, PIN_CNF[n] +0x700 + 4n (DIR bit 0, INPUT disconnect bit 1); UARTE0 0x40002000:
    ENABLE +0x500 = 8, PSEL.TXD +0x50c, PSEL.RXD +0x514, BAUDRATE +0x524 = 0x01D60000 for 115200.
    nRF52840-DK: TXD P0.06, RXD P0.08 to the interface MCU's virtual COM port."""
    enable = emu.index(0x40002500, 8, 8)
    assert emu.index(0x40000000, 1) < enable, "HFXO not started before the UARTE"
    assert emu.reg(0x50000508) & (1 << 6) and emu.reg(0x50000718) & 1 == 1
    assert emu.reg(0x50000720) & 3 == 0
    for off, want in ((0x50C, 6), (0x514, 8), (0x524, 0x01D60000)):
        assert emu.reg(0x40002000 + off) == want, hex(off)
        assert emu.index(0x40002000 + off) < enable


@need_unicorn
@pytest.mark.parametrize("name", REAL)
def test_console_comes_up_from_reset(images, name):
    d, _ = images[name]
    b = get_board(name)
    emu = Emulation(b, d)
    text = emu.run()
    assert text == f"tinykiln: demo.tflite on {name}\r\n", (text, [(hex(a), hex(v)) for a, v in emu.writes[:40]])
    if b.console.setup == "stm32":
        _check_stm32(emu, name)
    elif b.console.setup == "rp2040":
        _check_rp2040(emu)
    else:
        _check_nrf52(emu)


@need_unicorn
def test_emulation_check_catches_a_missing_clock(demo, tmp_path):
    """The same check on an image whose bring-up skips one enable: it must fail."""
    from tinykiln.targets.firmware import build_firmware, firmware_sources
    b = get_board("nucleo-f446re")
    files = firmware_sources(demo, b)
    old = "*r |= tk_enables[i][1];"
    assert old in files["console_setup_stm32.c"]
    files["console_setup_stm32.c"] = files["console_setup_stm32.c"].replace(
        old, "if (i) *r |= tk_enables[i][1];")
    build_firmware(demo, b, tmp_path / "fw", files=files)
    emu = Emulation(b, tmp_path / "fw")
    assert emu.run().startswith("tinykiln: ")          # the model's UART prints regardless
    with pytest.raises(AssertionError, match="no write to 0x40023830 with 0x1"):
        _check_stm32(emu, "nucleo-f446re")


# ---- netduinoplus2 with the STM32 bring-up under QEMU

@need_arm
@pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="qemu-system-arm is not installed")
def test_netduinoplus2_runs_with_stm32_bring_up(demo, tmp_path):
    """QEMU's STM32F405 accepts the RCC and GPIO writes (unimplemented blocks there) and its USART
    takes the BRR: the STM32 bring-up path runs, prints and stays bit-exact. USART1 on PA9/PA10
    AF7 (STM32F405 datasheet), RCC_AHB1ENR.GPIOAEN, RCC_APB2ENR.USART1EN (RM0090)."""
    from tflm_oracle import tflm_run
    from tinykiln.demo import demo_model
    from tinykiln.targets.firmware import build_firmware
    from tinykiln.targets.qemu import run_firmware
    base = get_board("netduinoplus2")
    text = base.path.read_text().replace('kind = "stm32_usart_sr"\naddress = 0x40011000\n', '''\
kind = "stm32_usart_sr"
address = 0x40011000
setup = "stm32"
clock_hz = 16000000
tx_pin = "PA9"
rx_pin = "PA10"
pin_af = 7
gpio_base = 0x40020000
enable = [[0x40023830, 0x1], [0x40023844, 0x10]]
''')
    assert "setup" in text
    (tmp_path / "b").mkdir()
    p = tmp_path / "b" / "netduinoplus2.toml"
    p.write_text(text)
    b = get_board(str(p))
    build_firmware(demo, b, tmp_path / "fw")
    t = demo.graph.tensors[demo.graph.inputs[0]]
    x = np.random.default_rng(7).integers(-128, 128, (4, *t.shape), dtype=np.int8)
    res = run_firmware(tmp_path / "fw", b, demo.graph, [x])
    assert "tinykiln: demo.tflite on netduinoplus2" in res.console
    assert np.array_equal(res.outputs[0].reshape(-1), tflm_run(demo_model(), [x])[0].reshape(-1))
