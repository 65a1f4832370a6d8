"""MCUboot images: a board's slot layout (its [mcuboot] table), the board an image for the slot is
linked for, and signing with MCUboot's own imgtool (header, SHA-256 and signature TLVs).
The layout follows MCUboot's flash map: the bootloader at the start of flash, the primary slot
(slot0) it boots, the secondary slot (slot1) an update is written to, each ending in a trailer
MCUboot writes its swap status to."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ..errors import TinykilnError
from .fields import Region as Slot

IMAGE_HEADER_MIN = 32           # struct image_header (bootutil/image.h)
ALIGNS = (1, 2, 4, 8, 16, 32)   # flash write sizes imgtool and bootutil accept
MAX_ALIGN_MIN = 8               # bootutil's trailer fields are at least 8 bytes apart
MAGIC_SIZE = 16
VECTOR_ALIGN = 128              # VTOR holds bits [31:7]: the image's vector table address
# room kept after the image for the TLVs imgtool appends: the TLV info header, the SHA-256 and
# key-hash TLVs and a signature up to RSA-3072 (4 + 36 + 36 + 388 bytes), rounded up
TLV_ROOM = 0x400
VERSION = re.compile(r"(\d+)(?:\.(\d+)(?:\.(\d+)(?:\+(\d+))?)?)?")
VERSION_LIMITS = (255, 255, 65535, 0xFFFFFFFF)      # struct image_version
CHAIN_FLAG = "-DTK_CHAINLOADED=1"                   # startup_arm.c: VTOR and MSP set on entry


@dataclass(frozen=True)
class SlotLayout:
    header_size: int        # bytes before the image's vector table (imgtool --header-size)
    slot0: Slot             # the primary slot: the image runs from here
    slot1: Slot | None      # the secondary slot (None: single-slot MCUboot)
    align: int              # the flash's write size (imgtool --align)
    max_sectors: int        # sectors in a slot MCUboot's swap status covers (--max-sectors)

    @property
    def slot_size(self) -> int:
        """What an image may fill: it must fit either slot to be swapped (imgtool --slot-size)."""
        return min(self.slot0.length, self.slot1.length) if self.slot1 else self.slot0.length

    @property
    def trailer_size(self) -> int:
        """The swap status, image_ok/copy_done/swap_info/swap_size and magic at a slot's end
        (bootutil's boot_trailer_sz for the swap modes, as imgtool computes it)."""
        max_align = max(MAX_ALIGN_MIN, self.align)
        magic = -(-MAGIC_SIZE // max_align) * max_align
        return self.max_sectors * 3 * self.align + 4 * max_align + magic

    @property
    def image_origin(self) -> int:
        return self.slot0.origin + self.header_size

    @property
    def image_length(self) -> int:
        """The flash an image linked for the slot may use: the slot less the header, the room
        for the TLVs and the trailer."""
        return self.slot_size - self.header_size - TLV_ROOM - self.trailer_size


_FIELDS = {"header_size", "slot0", "slot1", "align", "max_sectors"}


def load_slot_layout(f, flash) -> SlotLayout:
    """Validate a board's [mcuboot] table (Fields) against its flash region."""
    if f is None:
        raise TinykilnError("no [mcuboot] table.")
    f.no_unknown(_FIELDS)
    header = f.get_int("header_size", IMAGE_HEADER_MIN, 0x10000, 0x200,
                       what=" bytes (MCUboot's image header is 32 bytes)")
    align = f.get("align", int)
    if align not in ALIGNS:
        raise f.error("align", f"is {align}; the flash write size MCUboot accepts is one of "
                               f"{', '.join(map(str, ALIGNS))}")
    sectors = f.get_int("max_sectors", 1, 4096, 128, what=" (sectors of a slot)")
    slot0 = _slot(f, "slot0", flash, align)
    slot1 = _slot(f, "slot1", flash, align) if "slot1" in f.t else None
    if slot1 and slot0.origin < slot1.end and slot1.origin < slot0.end:
        raise f.error("slot1", f"overlaps slot0 ({slot1.origin:#x}+{slot1.length:#x} vs "
                               f"{slot0.origin:#x}+{slot0.length:#x})")
    for key, slot in (("slot0", slot0), ("slot1", slot1)):
        if slot is not None and slot.origin == flash.origin:
            raise f.table(key).error("origin", f"is the start of flash ({flash.origin:#x}), "
                                               f"where MCUboot itself must be")
    if (slot0.origin + header) % VECTOR_ALIGN:
        raise f.error("header_size", f"is {header:#x}: the image's vector table at slot0 + "
                                     f"header_size ({slot0.origin + header:#x}) must be a "
                                     f"multiple of {VECTOR_ALIGN} bytes (VTOR)")
    layout = SlotLayout(header, slot0, slot1, align, sectors)
    if layout.image_length < 1024:
        raise f.error("header_size", f"({header:#x}), the TLVs ({TLV_ROOM:#x}) and the trailer "
                                     f"({layout.trailer_size:#x}) leave "
                                     f"{max(layout.image_length, 0)} bytes of the "
                                     f"{layout.slot_size:#x}-byte slot for the image")
    return layout


def _slot(f, key: str, flash, align: int) -> Slot:
    t = f.table(key)
    t.no_unknown({"origin", "length"})
    s = Slot(t.get("origin", int), t.get("length", int))
    if s.length == 0:
        raise t.error("length", "must be greater than 0")
    if not (flash.origin <= s.origin and s.end <= flash.end):
        raise t.error("origin", f"puts the slot ({s.origin:#x}+{s.length:#x}) outside flash "
                                f"({flash.origin:#x}+{flash.length:#x})")
    if s.origin % align or s.length % align:
        raise t.error("origin", f"and length must be multiples of align ({align})")
    return s


# ---- the board an image for slot0 is linked for

def slot_board(board):
    """`board` with its flash narrowed to what an image in slot0 may use (linked at slot0 +
    header_size) and the startup code that takes over from a bootloader (CHAIN_FLAG). The build
    is otherwise the board's own."""
    lay = mcuboot_layout(board)
    if board.arch != "arm" or board.cpu == "cortex-m0":
        raise TinykilnError(f"board {board.name}: MCUboot images are built for Arm cores with a "
                            f"VTOR (not {board.cpu}).")
    flash = dataclasses.replace(board.flash, origin=lay.image_origin, length=lay.image_length)
    return dataclasses.replace(board, flash=flash, boot2="none",
                               extra_cflags=(*board.extra_cflags, CHAIN_FLAG))


def mcuboot_layout(board) -> SlotLayout:
    if board.mcuboot is None:
        raise TinykilnError(f"board {board.name} has no MCUboot slot layout (an [mcuboot] table "
                            f"in {board.path.name}), so it has no signed image.")
    return board.mcuboot


# ---- signing

def check_version(version: str) -> str:
    """An image version as MCUboot's header holds it: major.minor.revision+build."""
    m = VERSION.fullmatch(version)
    if not m or any(int(x) > hi for x, hi in zip(m.groups(""), VERSION_LIMITS) if x):
        raise TinykilnError(f"image version {version!r} is not MAJOR[.MINOR[.REVISION[+BUILD]]] "
                            f"with MAJOR and MINOR at most 255 and REVISION at most 65535.")
    return version


def key_kind(key: str | Path) -> str:
    """The signature a PEM private key makes ("ed25519", "ecdsa-p256", "rsa-2048", ...), after
    checking that it is one."""
    try:
        data = Path(key).read_bytes()
    except OSError as e:
        raise TinykilnError(f"cannot read signing key {key}: {e.strerror}.") from None
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    try:
        k = load_pem_private_key(data, password=None)
    except TypeError:
        raise TinykilnError(f"signing key {key} is encrypted with a password; give an "
                            f"unencrypted PEM private key.") from None
    except Exception:     # ValueError, UnsupportedAlgorithm: not a private key we can read
        raise TinykilnError(f"signing key {key} is not a PEM private key (make one with "
                            f"`imgtool keygen -k key.pem -t ed25519`).") from None
    if isinstance(k, ed25519.Ed25519PrivateKey):
        return "ed25519"
    if isinstance(k, ec.EllipticCurvePrivateKey) and k.curve.name in ("secp256r1", "secp384r1"):
        return {"secp256r1": "ecdsa-p256", "secp384r1": "ecdsa-p384"}[k.curve.name]
    if isinstance(k, rsa.RSAPrivateKey) and k.key_size in (2048, 3072):
        return f"rsa-{k.key_size}"
    raise TinykilnError(f"signing key {key} is not a key MCUboot verifies (ed25519, ECDSA P-256 "
                        f"or P-384, RSA-2048 or RSA-3072).")


def deterministic(kind: str) -> bool:
    """Ed25519 signatures are a function of key and message; ECDSA (random nonce) and RSA-PSS
    (random salt), as imgtool makes them, differ at every signing."""
    return kind == "ed25519"


def _imgtool(args: list[str]) -> subprocess.CompletedProcess:
    try:
        import imgtool  # noqa: F401
    except ImportError:
        raise TinykilnError("signing MCUboot images needs MCUboot's imgtool: "
                            "pip install \"tinykiln[release]\" (or pip install imgtool).") from None
    return subprocess.run([sys.executable, "-m", "imgtool.main", *args], capture_output=True,
                          text=True)


def sign_image(image: str | Path, board, key: str | Path, version: str,
               out_path: str | Path) -> Path:
    """Sign an image linked for the board's slot0 (firmware.bin, or a .hex) with imgtool: header
    (version), SHA-256, key hash and signature TLVs. Returns out_path."""
    lay = mcuboot_layout(board)
    check_version(version)
    key_kind(key)
    args = ["sign", "--key", str(key), "--header-size", hex(lay.header_size), "--pad-header",
            "--align", str(lay.align), "--max-sectors", str(lay.max_sectors),
            "--slot-size", hex(lay.slot_size), "--version", version, str(image), str(out_path)]
    r = _imgtool(args)
    if r.returncode != 0:
        why = (r.stderr.strip().splitlines() or ["(no message)"])[-1].removeprefix("Error: ")
        raise TinykilnError(f"imgtool could not sign {Path(image).name} for board "
                            f"{board.name}: {why}.")
    return Path(out_path)


def linked_origin(elf: Path) -> int:
    """The address of an image's vector table (.isr_vector)."""
    from elftools.elf.elffile import ELFFile
    with open(elf, "rb") as fh:
        sec = ELFFile(fh).get_section_by_name(".isr_vector")
        if sec is None:
            raise TinykilnError(f"{elf} has no vector table (.isr_vector): not a tinykiln Arm "
                                f"image.")
        return sec["sh_addr"]


def signed_image_for(fw_dir: Path, board, key: Path, version: str) -> Path:
    """Sign fw_dir/firmware.bin, built with slot_board(board), into fw_dir/firmware.signed.bin
    and record the slot and version in fw_dir/report.json. Returns the signed image's path."""
    fw_dir = Path(fw_dir)
    lay = mcuboot_layout(board)
    at = linked_origin(fw_dir / "firmware.elf")
    if at != lay.image_origin:
        raise TinykilnError(f"the image in {fw_dir} is linked at {at:#x}, not for board "
                            f"{board.name}'s MCUboot slot ({lay.image_origin:#x}); an image "
                            f"for the slot is built with `tinykiln build --sign`.")
    out = sign_image(fw_dir / "firmware.bin", board, key, version, fw_dir / "firmware.signed.bin")
    rep = fw_dir / "report.json"
    if rep.is_file():
        r = json.loads(rep.read_text())
        r["mcuboot"] = mcuboot_report(board, key, version, out)
        rep.write_text(json.dumps(r, indent=2) + "\n")
    return out


def mcuboot_report(board, key: str | Path, version: str, signed: Path) -> dict:
    """report.json's "mcuboot" entry for a signed image (no paths: reproducible)."""
    lay, kind = mcuboot_layout(board), key_kind(key)
    return {"image": signed.name, "version": version, "signature": kind,
            "reproducible": deterministic(kind),
            "slot0": {"origin": lay.slot0.origin, "length": lay.slot0.length},
            "header_size": lay.header_size, "slot_size": lay.slot_size,
            "size": signed.stat().st_size,
            "sha256": hashlib.sha256(signed.read_bytes()).hexdigest()}
