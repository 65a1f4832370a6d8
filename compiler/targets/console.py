"""The [console] table of a board file: the UART kind and address, and how the image brings it
up (clocks, pins) on a real chip, with the baud-rate register values prepared here in integer
math and checked for range and for the rate they really give."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .chips import MAX_CLOCK_HZ, U32
from .fields import Fields

CONSOLE_KINDS = ("none", "cmsdk_uart", "pl011", "nrf51_uart", "nrf52_uarte", "stm32_usart_sr",
                 "stm32_usart_isr", "stm32_lpuart", "sifive_uart", "ns16550")
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
MAX_BAUD = 20_000_000


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


_CONSOLE = {"kind", "address", "setup", "baud", "clock_hz", "tx_pin", "rx_pin", "pin_af",
            "gpio_base", "enable"}
# which bring-up fields each setup takes ("baud" and "clock_hz" are handled by load_console)
_SETUP_FIELDS = {"none": set(), "stm32": {"tx_pin", "rx_pin", "pin_af", "gpio_base", "enable"},
                 "nrf52": {"tx_pin", "rx_pin"}, "rp2040": {"tx_pin", "rx_pin"}}
_STM32_PIN = re.compile(r"P([A-K])([0-9]|1[0-5])")


def _stm32_pin(con: Fields, key: str) -> int:
    """"PA2" -> port * 16 + pin; -1 when an optional pin is absent."""
    if key == "rx_pin" and key not in con.t:
        return -1
    v = con.get(key, str)
    m = _STM32_PIN.fullmatch(v)
    if not m:
        raise con.error(key, f"is '{v}'; expected an STM32 pin such as \"PA2\" (port A-K, pin 0-15)")
    return (ord(m.group(1)) - ord("A")) * 16 + int(m.group(2))


def _gpio_number(con: Fields, key: str, allowed, what: str) -> int:
    if key == "rx_pin" and key not in con.t:
        return -1
    v = con.get(key, int)
    if v not in allowed:
        raise con.error(key, f"is {v}; expected {what}")
    return v


def _enable_list(con: Fields) -> tuple[tuple[int, int], ...]:
    v = con.get("enable", list)
    if not v:
        raise con.error("enable", "is empty; list the [address, bits] that enable the UART's and "
                                  "its GPIO ports' clocks")
    out = []
    for i, e in enumerate(v):
        if not (isinstance(e, list) and len(e) == 2
                and all(isinstance(x, int) and not isinstance(x, bool) for x in e)):
            raise con.error(f"enable[{i}]", f"must be a pair [address, bits] of integers, not {e!r}")
        a, b = e
        if a % 4 or not 0 <= a < 1 << 32:
            raise con.error(f"enable[{i}]", f"has address {a:#x}, not a 32-bit register address")
        if not 0 < b < 1 << 32:
            raise con.error(f"enable[{i}]", f"has bits {b:#x}, not a nonzero 32-bit mask")
        out.append((a, b))
    return tuple(out)


def _divisor(con: Fields, kind: str, baud: int, clock: int) -> tuple[tuple[str, int], ...]:
    """The UART's baud-rate register values (integer math, rounded to nearest), checked for
    range and for the rate they really give."""
    if kind == "nrf52_uarte":
        if baud not in NRF52_UARTE_BAUDRATE:
            raise con.error("baud", f"is {baud}; the nRF52 UARTE runs at "
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
        raise con.error("baud", f"is {baud}, out of reach of console kind '{kind}' from clock_hz "
                                f"{clock} (divisor {d} out of range)")
    if abs(got / baud - 1) > BAUD_TOLERANCE:
        raise con.error("baud", f"is {baud} but clock_hz {clock} gives {got:.0f} baud "
                                f"({abs(got / baud - 1):.1%} off; at most {BAUD_TOLERANCE:.0%})")
    return regs


def load_console(con: Fields) -> Console:
    con.no_unknown(_CONSOLE)
    kind = con.get("kind", str, choices=CONSOLE_KINDS)
    addr = con.get_int("address", 0, U32, 0, " (a 32-bit address)")
    if addr % 4:
        raise con.error("address", f"is {addr:#x}, not a 4-byte aligned register address")
    if kind != "none" and "address" not in con.t:
        raise con.error("address", f"is missing (console kind '{kind}' needs its base address)")
    setup = con.get("setup", str, "none", choices=tuple(CONSOLE_SETUPS))
    if setup != "none" and kind not in CONSOLE_SETUPS[setup]:
        raise con.error("setup", f"is '{setup}', which brings up console kinds "
                                 f"{', '.join(CONSOLE_SETUPS[setup])}, not '{kind}'")
    if kind == "nrf52_uarte" and setup != "nrf52":
        raise con.error("setup", "must be \"nrf52\" for console kind 'nrf52_uarte' (the image "
                                 "routes the UARTE's pins)")
    allowed = {"kind", "address", "setup"} | _SETUP_FIELDS[setup]
    if setup != "none":
        allowed |= {"baud"} | ({"clock_hz"} if setup != "nrf52" else set())
    for k in con.t:
        if k not in allowed:
            why = ("set console.setup to the chip family that brings the console up" if setup == "none"
                   else "the nRF52 UARTE has its own baud generator" if k == "clock_hz"
                   else f"not a field of setup '{setup}'")
            raise con.error(k, f"is not used with console.setup = \"{setup}\" ({why})")
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
            raise con.error("pin_af", f"is {af}; STM32 alternate functions are 0-15")
        gpio = con.get("gpio_base", int)
        if gpio % 0x400 or gpio + 11 * 0x400 > 1 << 32:
            raise con.error("gpio_base", f"is {gpio:#x}, not the address of a GPIO port block "
                                         f"(GPIOA; ports 0x400 apart)")
        enable = _enable_list(con)
    elif setup == "nrf52":
        what = "a GPIO number 0-47 (P0.00-P0.31 are 0-31, P1.00-P1.15 are 32-47)"
        tx = _gpio_number(con, "tx_pin", range(48), what)
        rx = _gpio_number(con, "rx_pin", range(48), what)
    else:   # rp2040
        if addr not in RP2040_UART_TX_PINS:
            raise con.error("address", f"is {addr:#x}; the RP2040's UARTs are at "
                                       f"{', '.join(f'{a:#x}' for a in RP2040_UART_TX_PINS)}")
        txs = RP2040_UART_TX_PINS[addr]
        tx = _gpio_number(con, "tx_pin", txs, f"a TX pin of the UART at {addr:#x} (GPIO "
                                              f"{', '.join(map(str, txs))})")
        rxs = tuple(t + 1 for t in txs)
        rx = _gpio_number(con, "rx_pin", rxs, f"an RX pin of the UART at {addr:#x} (GPIO "
                                              f"{', '.join(map(str, rxs))})")
        if not 1_000_000 <= clock <= 15_000_000:
            raise con.error("clock_hz", f"is {clock}; setup 'rp2040' runs the UART from the crystal "
                                        f"oscillator, which takes 1-15 MHz crystals (the Pico's: 12 MHz)")
    if rx == tx:
        raise con.error("rx_pin", "is the same pin as tx_pin")
    return Console(kind, addr, setup, baud, clock, tx, rx, af, gpio, enable,
                   _divisor(con, kind, baud, clock))
