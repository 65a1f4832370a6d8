"""UF2 images for boards whose boot ROM mounts as a USB drive (the RP2040's BOOTSEL mode): the
flash contents in 512-byte blocks of 256 payload bytes, each naming its address and the chip
family (github.com/microsoft/uf2, the format's specification)."""
from __future__ import annotations

import struct

MAGIC_START0 = 0x0A324655      # "UF2\n"
MAGIC_START1 = 0x9E5D5157
MAGIC_END = 0x0AB16F30
FLAG_FAMILY_ID = 0x00002000
PAYLOAD = 256
BLOCK = 512


def to_uf2(image: bytes, base: int, family: int) -> bytes:
    """`image` as it goes to flash from address `base` (a multiple of 256)."""
    if base % PAYLOAD:
        raise ValueError(f"UF2 base address {base:#x} is not a multiple of {PAYLOAD}")
    chunks = [image[i:i + PAYLOAD] for i in range(0, len(image), PAYLOAD)] or [b""]
    out = bytearray()
    for n, chunk in enumerate(chunks):
        data = chunk.ljust(476, b"\0")           # the payload, padded to the block's data field
        out += struct.pack("<8I", MAGIC_START0, MAGIC_START1, FLAG_FAMILY_ID, base + n * PAYLOAD,
                           PAYLOAD, n, len(chunks), family)
        out += data + struct.pack("<I", MAGIC_END)
    return bytes(out)
