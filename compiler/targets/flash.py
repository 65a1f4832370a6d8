"""Flashing a real board through pyOCD (an optional dependency: tinykiln[flash]): which pyOCD
target a board is, which image of a build or release folder goes where, and the programming
itself (a debug probe over USB: ST-LINK, CMSIS-DAP, J-Link)."""
from __future__ import annotations

import json
import logging
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..errors import TinykilnError


@dataclass(frozen=True)
class PyocdTarget:
    name: str           # pyOCD's target type (pyocd list --targets)
    pack: str = ""      # "" when built into pyOCD, else what `pyocd pack install` is given


# pyOCD's target of each real board tinykiln builds for. Built into pyOCD 0.46: nrf52840,
# rp2040, stm32h743xx; the other STM32 parts come from their CMSIS device pack.
PYOCD_TARGETS = {
    "nrf52840-dk": PyocdTarget("nrf52840"),
    "rpi-pico": PyocdTarget("rp2040"),
    "nucleo-h743zi": PyocdTarget("stm32h743xx"),
    "nucleo-f446re": PyocdTarget("stm32f446retx", "stm32f446re"),
    "nucleo-l4r5zi": PyocdTarget("stm32l4r5zitx", "stm32l4r5zi"),
    "stm32f746g-disco": PyocdTarget("stm32f746nghx", "stm32f746ng"),
}


@dataclass(frozen=True)
class FlashImage:
    path: Path
    format: str                 # "hex", "elf" or "bin"
    address: int | None         # where a .bin goes (hex and elf carry their addresses)
    signed: bool                # an MCUboot image: the bootloader must be on the board already


def pyocd_target(board, override: str | None = None) -> PyocdTarget:
    """The pyOCD target of a board (`override`: a target type the user names)."""
    if board.arch != "arm" or board.exit == "semihosting":
        why = "runs under QEMU (its images end through semihosting, which needs a debugger)" \
            if board.exit == "semihosting" else f"is a {board.arch} board"
        raise TinykilnError(f"board {board.name} {why}; tinykiln flashes real Arm boards "
                            f"({', '.join(sorted(PYOCD_TARGETS))}).")
    if override:
        return PyocdTarget(override.lower())
    if board.name not in PYOCD_TARGETS:
        raise TinykilnError(f"tinykiln does not know board {board.name}'s pyOCD target; name it "
                            f"with --target (see `pyocd list --targets`).")
    return PYOCD_TARGETS[board.name]


def find_image(path: str | Path, board) -> FlashImage:
    """The image to flash: PATH itself (.hex, .elf, or a signed MCUboot .bin), or in a build or
    release folder its firmware.signed.bin where the board has an MCUboot slot layout, else its
    firmware.hex."""
    p = Path(path)
    if p.is_dir():
        _same_board(p, board)
        signed = p / "firmware.signed.bin"
        if signed.is_file() and board.mcuboot is not None:
            p = signed
        elif (p / "firmware.hex").is_file():
            p = p / "firmware.hex"
        else:
            raise TinykilnError(f"{p} holds no firmware image (firmware.hex or "
                                f"firmware.signed.bin): give a build or release folder or an "
                                f"image file.")
    elif not p.is_file():
        raise TinykilnError(f"{p} does not exist.")
    kind = p.suffix.lower().lstrip(".")
    if kind in ("hex", "elf"):
        return FlashImage(p, kind, None, False)
    if kind == "bin" and p.name.endswith(".signed.bin"):
        if board.mcuboot is None:
            raise TinykilnError(f"{p.name} is an MCUboot image but board {board.name} has no "
                                f"slot layout ([mcuboot] in {board.path.name}) to place it.")
        return FlashImage(p, "bin", board.mcuboot.slot0.origin, True)
    raise TinykilnError(f"{p.name}: tinykiln flashes .hex and .elf images and signed MCUboot "
                        f"images (.signed.bin); a plain .bin holds no address, give the .hex.")


def _same_board(folder: Path, board) -> None:
    try:
        built = json.loads((folder / "report.json").read_text()).get("board")
    except (OSError, ValueError, AttributeError):
        return
    if isinstance(built, str) and built != board.name:
        raise TinykilnError(f"{folder} holds an image for board {built}, not {board.name}.")


def _pyocd():
    try:
        import pyocd  # noqa: F401
    except ImportError:
        raise TinykilnError("flashing needs pyOCD: pip install \"tinykiln[flash]\".") from None
    from pyocd.core.helpers import ConnectHelper
    return ConnectHelper


def _check_target(t: PyocdTarget, board) -> None:
    from pyocd.target import TARGET
    if t.name in TARGET:
        return
    from pyocd.target.pack.pack_target import ManagedPacks
    if any(d.part_number.lower() == t.name for d in ManagedPacks.get_installed_targets()):
        return
    how = f"install its CMSIS pack once: pyocd pack install {t.pack}" if t.pack \
        else "see `pyocd list --targets`, or install the part's pack: pyocd pack find <part>"
    raise TinykilnError(f"pyOCD has no target {t.name} for board {board.name}; {how}.")


def choose_probe(board, unique_id: str | None = None):
    """The one debug probe attached (or the one with unique_id)."""
    helper = _pyocd()
    with _pyocd_warnings() as warned:
        probes = helper.get_all_connected_probes(blocking=False, print_wait_message=False)
    if not probes and any("libusb" in w for w in warned):
        raise TinykilnError("no debug probe found: pyOCD sees ST-LINK, CMSIS-DAP v2 and "
                            "picoprobe probes through libusb, which is not installed (Debian: "
                            "apt-get install libusb-1.0-0).")
    if unique_id:
        probes = [p for p in probes if p.unique_id.lower().startswith(unique_id.lower())]
        if not probes:
            raise TinykilnError(f"no debug probe with id {unique_id} is attached.")
    if not probes:
        raise TinykilnError(f"no debug probe is attached: connect {board.name}'s debug USB port "
                            f"(ST-LINK, CMSIS-DAP or J-Link) and try again.")
    if len(probes) > 1:
        ids = ", ".join(p.unique_id for p in probes)
        raise TinykilnError(f"{len(probes)} debug probes are attached ({ids}); pick one with "
                            f"--probe ID.")
    return probes[0]


@contextmanager
def _pyocd_warnings():
    """pyOCD's log messages while probes are listed, kept from the terminal (tinykiln says what
    matters in one sentence)."""
    log = logging.getLogger("pyocd")
    seen: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            seen.append(record.getMessage())
    h, propagate = Keep(logging.WARNING), log.propagate
    log.addHandler(h)
    log.propagate = False
    try:
        yield seen
    finally:
        log.removeHandler(h)
        log.propagate = propagate


def flash_image(image: FlashImage, board, target: PyocdTarget, unique_id: str | None = None,
                frequency: int | None = None) -> str:
    """Program the image, reset the board and let it run; returns the probe's description."""
    _pyocd()
    _check_target(target, board)
    probe = choose_probe(board, unique_id)
    from pyocd.core import exceptions
    from pyocd.core.session import Session
    from pyocd.flash.file_programmer import FileProgrammer
    opts = {"target_override": target.name}
    if frequency:
        opts["frequency"] = frequency
    try:
        with Session(probe, options=opts) as session:
            where = {} if image.address is None else {"base_address": image.address}
            FileProgrammer(session).program(str(image.path), file_format=image.format, **where)
            session.board.target.reset()
    except (exceptions.Error, OSError) as e:    # OSError: USB access (udev rules, a busy probe)
        raise TinykilnError(f"pyOCD could not flash {image.path.name} to {board.name} through "
                            f"{probe.description}: {str(e).rstrip('.')}.") from None
    return f"{probe.description} ({probe.unique_id})"
