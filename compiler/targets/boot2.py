"""Second boot stages that a chip's boot ROM loads from the start of flash and checks before it
runs them (the RP2040's boot2): assembled from templates/firmware/<source> with the board's cross
compiler, padded and checksummed here, and handed to the firmware as a C array in section .boot2."""
from __future__ import annotations

import functools
import subprocess
import tempfile
from pathlib import Path

from .board import BOOT2_KINDS, Board
from ..errors import TinykilnError
from ..resources import resource_dir

CRC_POLY = 0x04C11DB7


def crc32_mpeg2(data: bytes) -> int:
    """CRC-32 as the RP2040 bootrom checks boot2: polynomial 0x04C11DB7, initial value
    0xFFFFFFFF, no input or output reflection, no final XOR (catalogued as CRC-32/MPEG-2)."""
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b << 24
        for _ in range(8):
            crc = ((crc << 1) ^ CRC_POLY) & 0xFFFFFFFF if crc & 0x80000000 else (crc << 1) & 0xFFFFFFFF
    return crc


def boot2_image(board: Board, gcc: str, objcopy: str) -> bytes:
    """The board's boot2 bytes: code, zero padding, CRC-32 (little-endian) last."""
    kind = BOOT2_KINDS[board.boot2]
    src = resource_dir("templates") / "firmware" / kind.source
    return _assemble(src.read_text(), kind.cpu, kind.size, gcc, objcopy)


@functools.lru_cache(maxsize=8)
def _assemble(text: str, cpu: str, size: int, gcc: str, objcopy: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="tinykiln-boot2-") as d:
        d = Path(d)
        (d / "boot2.c").write_text(text)
        cmds = [[gcc, f"-mcpu={cpu}", "-mthumb", "-Wall", "-Wextra", "-Werror", "-c", "boot2.c",
                 "-o", "boot2.o"],
                [objcopy, "-O", "binary", "-j", ".text.tk_boot2", "boot2.o", "boot2.bin"]]
        for cmd in cmds:
            r = subprocess.run(cmd, cwd=d, capture_output=True, text=True)
            if r.returncode != 0:
                raise RuntimeError(f"assembling boot2 failed: {' '.join(cmd)}\n{r.stderr}")
        _no_relocations(d / "boot2.o")
        code = (d / "boot2.bin").read_bytes()
    if not code or len(code) > size - 4:
        raise TinykilnError(f"boot2 code is {len(code)} bytes; it must fit in {size - 4}.")
    padded = code + bytes(size - 4 - len(code))
    return padded + crc32_mpeg2(padded).to_bytes(4, "little")


def _no_relocations(obj: Path) -> None:
    """The bytes run wherever the boot ROM copies them: nothing may be left for a linker."""
    from elftools.elf.elffile import ELFFile
    with open(obj, "rb") as fh:
        for sec in ELFFile(fh).iter_sections():
            if sec.name in (".rel.text.tk_boot2", ".rela.text.tk_boot2") and sec.num_relocations():
                raise RuntimeError("boot2 code has relocations; it must be position-independent")
