"""`tinykiln flash`: which pyOCD target each real board is (checked against pyOCD's own target
list), which image of a folder goes where, and one sentence for each thing that stops it: no
probe attached, a board pyOCD cannot flash, a missing pack, pyOCD not installed. No test here
touches hardware."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tinykiln.cli.main import main
from tinykiln.errors import TinykilnError
from tinykiln.targets.board import get_board
from tinykiln.targets.flash import PYOCD_TARGETS, find_image, pyocd_target


def one_error(capsys, *words) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tinykiln: error: "), err
    for w in words:
        assert w in err[0], err[0]
    return err[0]


@pytest.fixture
def folder(tmp_path):
    """A build folder as `tinykiln build --sign` leaves it for nrf52840-dk (contents fake)."""
    d = tmp_path / "fw"
    d.mkdir()
    (d / "firmware.hex").write_text(":00000001FF\n")
    (d / "report.json").write_text(json.dumps({"board": "nrf52840-dk"}))
    return d


def test_mapped_boards_are_real_arm_boards():
    for name in PYOCD_TARGETS:
        b = get_board(name)
        assert b.arch == "arm" and b.exit == "none" and not b.emulated, name
        assert pyocd_target(b) == PYOCD_TARGETS[name]


def test_builtin_targets_are_pyocds_and_pack_targets_are_not():
    pytest.importorskip("pyocd")
    from pyocd.target import TARGET
    for name, t in PYOCD_TARGETS.items():
        assert (t.name in TARGET) == (not t.pack), (name, t)


def test_no_probe_is_one_sentence(folder, capsys):
    pytest.importorskip("pyocd")
    from pyocd.core.helpers import ConnectHelper
    if ConnectHelper.get_all_connected_probes(blocking=False, print_wait_message=False):
        pytest.skip("a debug probe is attached")
    assert main(["flash", "--board", "nrf52840-dk", folder]) == 1
    one_error(capsys, "no debug probe is attached", "nrf52840-dk")


def test_missing_pack_names_the_install_command(folder, capsys):
    pytest.importorskip("pyocd")
    from pyocd.target.pack.pack_target import ManagedPacks
    if any(d.part_number.lower() == "stm32f446retx" for d in ManagedPacks.get_installed_targets()):
        pytest.skip("the STM32F446 pack is installed")
    (folder / "report.json").write_text(json.dumps({"board": "nucleo-f446re"}))
    assert main(["flash", "--board", "nucleo-f446re", folder]) == 1
    one_error(capsys, "pyocd pack install stm32f446re")


@pytest.mark.parametrize("board,words", [
    ("mps2-an386", "runs under QEMU"), ("sifive_e", "runs under QEMU"),
    ("microbit", "runs under QEMU")])
def test_boards_pyocd_cannot_flash(folder, capsys, board, words):
    assert main(["flash", "--board", board, folder]) == 1
    one_error(capsys, words, board)


def test_unmapped_real_board_asks_for_a_target(tmp_path):
    text = get_board("nrf52840-dk").path.read_text()
    custom = tmp_path / "my-board.toml"
    custom.write_text(text)
    b = get_board(str(custom))
    with pytest.raises(TinykilnError, match="--target"):
        pyocd_target(b)
    assert pyocd_target(b, "NRF52840").name == "nrf52840"


def test_image_choice(folder):
    board = get_board("nrf52840-dk")
    img = find_image(folder, board)
    assert (img.path.name, img.format, img.address, img.signed) == ("firmware.hex", "hex",
                                                                    None, False)
    (folder / "firmware.signed.bin").write_bytes(b"\0" * 64)
    img = find_image(folder, board)
    assert (img.path.name, img.format, img.address, img.signed) == ("firmware.signed.bin", "bin",
                                                                    0xC000, True)
    # a board without a slot layout flashes the folder's hex
    (folder / "report.json").write_text(json.dumps({"board": "rpi-pico"}))
    assert find_image(folder, get_board("rpi-pico")).path.name == "firmware.hex"


@pytest.mark.parametrize("name,words", [
    ("firmware.bin", "a plain .bin holds no address"),
    ("missing.hex", "does not exist"),
])
def test_image_file_errors(folder, name, words):
    (folder / "firmware.bin").write_bytes(b"\0")
    with pytest.raises(TinykilnError, match=words):
        find_image(folder / name, get_board("nrf52840-dk"))


def test_folder_of_another_board_is_refused(folder):
    with pytest.raises(TinykilnError, match="holds an image for board nrf52840-dk, not rpi-pico"):
        find_image(folder, get_board("rpi-pico"))
    (folder / "firmware.hex").unlink()
    with pytest.raises(TinykilnError, match="holds no firmware image"):
        find_image(folder, get_board("nrf52840-dk"))


def test_signed_bin_needs_a_slot_layout(folder):
    (folder / "x.signed.bin").write_bytes(b"\0")
    with pytest.raises(TinykilnError, match="has no slot layout"):
        find_image(folder / "x.signed.bin", get_board("rpi-pico"))


def test_without_pyocd_says_how_to_install(folder, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyocd", None)
    assert main(["flash", "--board", "nrf52840-dk", folder]) == 1
    one_error(capsys, 'pip install "tinykiln[flash]"')


def test_missing_libusb_is_named(folder, capsys, monkeypatch):
    pytest.importorskip("pyocd")
    import logging
    from pyocd.core.helpers import ConnectHelper

    def no_libusb(**_):
        logging.getLogger("pyocd.probe.common").warning(
            "STLink, CMSIS-DAPv2 and PicoProbe probes are not supported because no libusb "
            "library was found.")
        return []
    monkeypatch.setattr(ConnectHelper, "get_all_connected_probes", staticmethod(no_libusb))
    assert main(["flash", "--board", "nrf52840-dk", folder]) == 1
    one_error(capsys, "libusb", "apt-get install libusb-1.0-0")


def test_programming_wiring_with_a_stand_in_probe(folder, monkeypatch, capsys):
    """What reaches pyOCD (no hardware: probe, session and programmer are stand-ins): the target
    type, the signed image at slot0's address, and a reset after programming."""
    pytest.importorskip("pyocd")
    import pyocd.core.session as session_mod
    import pyocd.flash.file_programmer as fp_mod
    from pyocd.core.helpers import ConnectHelper
    seen = {}

    class Probe:
        unique_id, description = "0123456789", "Stand-in CMSIS-DAP"

    class Target:
        def reset(self):
            seen["reset"] = True

    class Session:
        def __init__(self, probe, options=None, **_):
            seen["probe"], seen["options"] = probe, options
            self.board = type("B", (), {"target": Target()})()

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    class Programmer:
        def __init__(self, session):
            pass

        def program(self, path, file_format=None, **kw):
            seen["program"] = (path, file_format, kw)

    monkeypatch.setattr(ConnectHelper, "get_all_connected_probes",
                        staticmethod(lambda **_: [Probe()]))
    monkeypatch.setattr(session_mod, "Session", Session)
    monkeypatch.setattr(fp_mod, "FileProgrammer", Programmer)
    (folder / "firmware.signed.bin").write_bytes(b"\0" * 64)
    assert main(["flash", "--board", "nrf52840-dk", folder]) == 0
    path, fmt, kw = seen["program"]
    assert Path(path).name == "firmware.signed.bin" and fmt == "bin"
    assert kw == {"base_address": 0xC000}
    assert seen["options"]["target_override"] == "nrf52840" and seen["reset"]
    assert "0123456789" in capsys.readouterr().out
    # a hex carries its own addresses
    (folder / "firmware.signed.bin").unlink()
    assert main(["flash", "--board", "nrf52840-dk", folder]) == 0
    assert seen["program"][1:] == ("hex", {})
