"""MCUboot images: [mcuboot] slot layouts validated field by field, an image linked for slot0,
signed with MCUboot's imgtool and checked by `imgtool verify` (a tampered copy refused), the
header's version, reproducible ed25519 signatures, and one-sentence CLI errors."""
from __future__ import annotations

import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from tinykiln.cli.main import main
from tinykiln.errors import TinykilnError
from tinykiln.targets.board import get_board, load_board_file

pytest.importorskip("imgtool")
need_arm = pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None,
                              reason="arm-none-eabi-gcc is not installed")

IMAGE_MAGIC = 0x96F3B83D        # bootutil/image.h


def imgtool(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "imgtool.main", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    d = tmp_path_factory.mktemp("keys")
    for name, kind in [("ed25519", "ed25519"), ("ecdsa", "ecdsa-p256")]:
        r = imgtool("keygen", "-k", d / f"{name}.pem", "-t", kind)
        assert r.returncode == 0, r.stderr
    return d


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    from tinykiln.demo import demo_model
    p = tmp_path_factory.mktemp("model") / "demo.tflite"
    p.write_bytes(demo_model())
    return p


@pytest.fixture(scope="module")
def signed(model, keys, tmp_path_factory):
    """One build of the demo model for nrf52840-dk's slot0, signed through the CLI."""
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc is not installed")
    out = tmp_path_factory.mktemp("signed") / "fw"
    assert main(["build", model, "--board", "nrf52840-dk", "-o", out, "--sign",
                 keys / "ed25519.pem", "--image-version", "1.2.3+4"]) == 0
    return out


# ---- board files

BOARD = (Path(__file__).resolve().parents[1] / "boards" / "nrf52840-dk.toml").read_text()
BOARD = BOARD[:BOARD.index("[mcuboot]")]


def with_mcuboot(tmp_path, table: str):
    p = tmp_path / "b.toml"
    p.write_text(BOARD + "[mcuboot]\n" + table)
    return load_board_file(p)


GOOD = ("header_size = 0x200\nalign = 4\nslot0 = { origin = 0xC000, length = 0x77000 }\n"
        "slot1 = { origin = 0x83000, length = 0x75000 }\n")

BAD = [  # (replace, with, the field the error names, words in it)
    ("origin = 0x83000, length = 0x75000", "origin = 0x83000, length = 0x80000",
     "mcuboot.slot1.origin", "outside flash"),
    ("origin = 0x83000", "origin = 0x80000", "mcuboot.slot1", "overlaps slot0"),
    ("header_size = 0x200", "header_size = 0x240", "mcuboot.header_size", "multiple of 128"),
    ("header_size = 0x200", "header_size = 16", "mcuboot.header_size", "from 32"),
    ("align = 4", "align = 3", "mcuboot.align", "one of 1, 2, 4"),
    ("origin = 0xC000,", "origin = 0x0,", "mcuboot.slot0.origin", "MCUboot itself"),
    ("origin = 0x83000, length = 0x75000", "origin = 0x0, length = 0x8000",
     "mcuboot.slot1.origin", "MCUboot itself"),
    ("length = 0x75000", "length = 0x75002", "mcuboot.slot1.origin", "multiples of align"),
    ("length = 0x77000", "length = 0x800", "mcuboot.header_size", "bytes of the"),
    ("align = 4", "align = 4\nslot2 = 1", "mcuboot.slot2", "not a board field"),
    ("align = 4\n", "", "mcuboot.align", "is missing"),
]


@pytest.mark.parametrize("old,new,field,words", BAD)
def test_bad_slot_layouts_name_file_and_field(tmp_path, old, new, field, words):
    assert old in GOOD
    with pytest.raises(TinykilnError) as e:
        with_mcuboot(tmp_path, GOOD.replace(old, new))
    msg = str(e.value)
    assert f"field '{field}" in msg and words in msg and "b.toml" in msg, msg


def test_good_layout_and_trailer_as_imgtool_computes_it(tmp_path):
    from imgtool.image import Image
    lay = with_mcuboot(tmp_path, GOOD + "max_sectors = 64\n").mcuboot
    assert lay.slot_size == 0x75000 and lay.image_origin == 0xC200
    for board in ("nrf52840-dk", "nucleo-f446re"):
        lay = get_board(board).mcuboot
        ref = Image(align=lay.align, max_sectors=lay.max_sectors)
        assert lay.trailer_size == ref._trailer_size(lay.align, lay.max_sectors, False, None,
                                                     False, 0)


def test_slot_board_refuses_a_board_without_a_layout():
    from tinykiln.targets.mcuboot import slot_board
    with pytest.raises(TinykilnError, match="has no MCUboot slot layout"):
        slot_board(get_board("mps2-an386"))


# ---- the signed image

@need_arm
def test_image_is_linked_for_the_slot(signed):
    from elftools.elf.elffile import ELFFile
    lay = get_board("nrf52840-dk").mcuboot
    with open(signed / "firmware.elf", "rb") as fh:
        elf = ELFFile(fh)
        assert elf.get_section_by_name(".isr_vector")["sh_addr"] == 0xC200 == lay.image_origin
        syms = {s.name: s["st_value"] for s in elf.get_section_by_name(".symtab").iter_symbols()}
        top = max(s["sh_addr"] + s["sh_size"] for s in elf.iter_sections()
                  if s["sh_flags"] & 2 and s["sh_addr"] < 0x20000000)       # SHF_ALLOC in flash
    assert top <= lay.image_origin + lay.image_length
    vectors = (signed / "firmware.bin").read_bytes()[:8]
    sp, reset = struct.unpack("<II", vectors)
    assert sp == syms["__stack_top__"]
    assert reset == syms["tk_chain_entry"] | 1       # VTOR and MSP set before tk_reset runs


@need_arm
def test_imgtool_verifies_the_signed_image_and_its_version(signed, keys):
    r = imgtool("verify", "-k", keys / "ed25519.pem", signed / "firmware.signed.bin")
    assert r.returncode == 0 and "Image version: 1.2.3+4" in r.stdout, r.stdout + r.stderr
    data = (signed / "firmware.signed.bin").read_bytes()
    magic, load, hdr, _, size = struct.unpack("<IIHHI", data[:16])
    assert (magic, load, hdr) == (IMAGE_MAGIC, 0, 0x200)
    assert struct.unpack("<BBHI", data[20:28]) == (1, 2, 3, 4)
    assert data[hdr:hdr + size] == (signed / "firmware.bin").read_bytes()


@need_arm
def test_a_tampered_image_fails_verify(signed, keys, tmp_path):
    data = bytearray((signed / "firmware.signed.bin").read_bytes())
    data[0x200 + 100] ^= 0x01
    bad = tmp_path / "tampered.signed.bin"
    bad.write_bytes(bytes(data))
    r = imgtool("verify", "-k", keys / "ed25519.pem", bad)
    assert r.returncode != 0 and "validated" not in r.stdout, r.stdout


@need_arm
def test_signing_is_reproducible_with_ed25519_only(signed, keys, tmp_path):
    from tinykiln.targets.mcuboot import sign_image
    board = get_board("nrf52840-dk")
    again = sign_image(signed / "firmware.bin", board, keys / "ed25519.pem", "1.2.3+4",
                       tmp_path / "again.signed.bin")
    assert again.read_bytes() == (signed / "firmware.signed.bin").read_bytes()
    a = sign_image(signed / "firmware.bin", board, keys / "ecdsa.pem", "1.0.0", tmp_path / "a.bin")
    b = sign_image(signed / "firmware.bin", board, keys / "ecdsa.pem", "1.0.0", tmp_path / "b.bin")
    for p in (a, b):
        assert imgtool("verify", "-k", keys / "ecdsa.pem", p).returncode == 0
    assert a.read_bytes() != b.read_bytes()     # ECDSA's random nonce: documented, not hidden


@need_arm
def test_report_records_the_signed_image(signed):
    import json
    m = json.loads((signed / "report.json").read_text())["mcuboot"]
    assert m["version"] == "1.2.3+4" and m["signature"] == "ed25519" and m["reproducible"]
    assert m["slot0"] == {"origin": 0xC000, "length": 0x77000} and m["slot_size"] == 0x75000


@need_arm
def test_signed_image_for_refuses_an_image_linked_elsewhere(signed, keys):
    from tinykiln.targets.mcuboot import signed_image_for
    with pytest.raises(TinykilnError, match="linked at 0xc200, not for board nucleo-f446re"):
        signed_image_for(signed, get_board("nucleo-f446re"), keys / "ed25519.pem", "1.0.0")


CLI_ERRORS = [  # (board, key name, extra args, words)
    ("mps2-an386", "ed25519.pem", [], "has no MCUboot slot layout"),
    ("nrf52840-dk", "missing.pem", [], "cannot read signing key"),
    ("nrf52840-dk", "demo.tflite", [], "is not a PEM private key"),
    ("nrf52840-dk", "ed25519.pem", ["--image-version", "1.256"], "MAJOR and MINOR at most 255"),
    ("nrf52840-dk", None, ["--image-version", "1.0"], "give --sign"),
]


@pytest.mark.parametrize("board,key,extra,words", CLI_ERRORS)
def test_cli_sign_errors_are_one_sentence(model, keys, tmp_path, capsys, board, key, extra, words):
    keyfile = {"demo.tflite": model}.get(key, keys / (key or ""))
    args = ["build", model, "--board", board, "-o", tmp_path / "out", *extra]
    args += ["--sign", keyfile] if key else []
    assert main(args) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tinykiln: error: ") and words in err[0], err
    assert not (tmp_path / "out").exists()


# ---- a chain-loaded image runs: VTOR and the main stack are the image's own

STUB = """\
    .syntax unified
    .thumb
    .word 0x20000040        @ the stand-in bootloader's stack: 64 bytes, not the image's
    .word 9                 @ its reset handler, just below (Thumb)
    ldr r0, =0x10200        @ slot0 + header_size: the image's vector table
    ldr r1, [r0, #4]
    bx r1                   @ into the image's reset vector, VTOR still 0, MSP still the stub's
    .ltorg
"""


@need_arm
@pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="qemu-system-arm is missing")
def test_chain_loaded_image_runs_bitexact_under_qemu(model, tmp_path):
    """An MPS2-AN386 given a slot layout, booted by a 20-byte stand-in for MCUboot at address 0
    that jumps to slot0's reset vector without setting VTOR or the stack (as MCUboot built
    without CONFIG_BOOT_INTR_VEC_RELOC leaves VTOR): the image runs bit-exact with TFLM."""
    import dataclasses

    import numpy as np
    from tflm_oracle import tflm_run
    from tinykiln.inputs import compile_file
    from tinykiln.targets.firmware import build_firmware
    from tinykiln.targets.mcuboot import slot_board
    from tinykiln.targets.qemu import run_firmware
    text = get_board("mps2-an386").path.read_text()
    bf = tmp_path / "an386-mcuboot.toml"
    bf.write_text(text + "\n[mcuboot]\nheader_size = 0x200\nalign = 4\n"
                  "slot0 = { origin = 0x10000, length = 0x80000 }\n"
                  "slot1 = { origin = 0x90000, length = 0x80000 }\n")
    board = slot_board(load_board_file(bf))
    c = compile_file(model)
    build_firmware(c, board, tmp_path / "fw")
    (tmp_path / "stub.s").write_text(STUB)
    for cmd in (["arm-none-eabi-as", "-mcpu=cortex-m4", "-o", "stub.o", "stub.s"],
                ["arm-none-eabi-objcopy", "-O", "binary", "stub.o", "stub.bin"]):
        subprocess.run(cmd, cwd=tmp_path, check=True)
    booted = dataclasses.replace(board, qemu_args=(
        "-device", f"loader,file={tmp_path / 'stub.bin'},addr=0"))
    x = np.random.default_rng(3).integers(-128, 128, (3, 1, 49, 10, 1), dtype=np.int8)
    res = run_firmware(tmp_path / "fw", booted, c.graph, [x])
    ref = tflm_run(model.read_bytes(), [x])[0]
    y = res.outputs[0].reshape(ref.shape)
    assert y.dtype == ref.dtype and np.array_equal(y, ref)


@need_arm
def test_a_model_larger_than_the_slot_says_so(keys, tmp_path, capsys):
    """ad01 (about 274 KB) fits nucleo-f446re's 512 KB of flash but not its 128 KB slot0."""
    from conftest import shared_model
    ad01 = shared_model("ad01_int8.tflite")
    assert main(["build", ad01, "--board", "nucleo-f446re", "-o", tmp_path / "out", "--sign",
                 keys / "ed25519.pem"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "does not fit on nucleo-f446re" in err[0], err
    assert "129,104 bytes of MCUboot's slot0" in err[0], err
    assert not (tmp_path / "out").exists()
