"""`tinykiln export-platformio`: the exported project builds offline with `pio run` wherever it
is moved or copied, and the image PlatformIO builds runs bit-exact under QEMU."""
import json
import os
import shutil
import subprocess

import numpy as np
import pytest

from conftest import shared_model
from tflm_oracle import tflm_run
from tinykiln.targets.board import get_board
from tinykiln.inputs import compile_file
from tinykiln.targets.platformio_export import export
from tinykiln.targets.qemu import run_firmware

pytestmark = [
    pytest.mark.skipif(shutil.which("pio") is None, reason="PlatformIO (pio) is not installed"),
    pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None,
                       reason="arm-none-eabi-gcc is not installed"),
]


def pio_run(proj):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLATFORMIO_")}
    r = subprocess.run(["pio", "run"], cwd=proj, capture_output=True, text=True, timeout=600,
                       env=env)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "warning:" not in r.stdout + r.stderr
    return r


def files_naming(proj, path, under=""):
    """Files of the project (below `under`) whose bytes contain the absolute path `path`."""
    needle = str(path).encode()
    return sorted(str(f.relative_to(proj)) for f in (proj / under).rglob("*")
                  if f.is_file() and needle in f.read_bytes())


def test_pio_run_builds_offline_after_a_move_and_runs_bit_exact(tmp_path):
    model = shared_model("ad01_int8.tflite")
    board = get_board("mps2-an386")
    c = compile_file(model)
    written = export(c, board, tmp_path / "first" / "proj")
    assert {"platformio.ini", "src", "lib", "platform", ".pio-core"} <= \
        {p.name for p in written.iterdir()}
    assert files_naming(written, tmp_path) == []        # no absolute path anywhere
    proj = tmp_path / "elsewhere" / "moved"
    proj.parent.mkdir()
    shutil.move(written, proj)
    pio_run(proj)
    build = proj / ".pio" / "build" / "mps2_an386"
    assert (build / "firmware.bin").stat().st_size > 270_000      # weights are in the image
    if shutil.which(board.tools["qemu"]) is None:
        pytest.skip(f"{board.tools['qemu']} is not installed: built, not run")
    fw = tmp_path / "fw"
    fw.mkdir()
    shutil.copy(build / "program.elf", fw / "firmware.elf")
    (fw / "report.json").write_text(json.dumps({}))
    x = np.random.default_rng(9).integers(-128, 128, (8, 1, 640), dtype=np.int8)
    out = run_firmware(fw, board, c.graph, [x]).outputs[0]
    assert (out == tflm_run(model.read_bytes(), [x])[0]).all()


def test_built_project_copied_builds_with_its_own_platform(tmp_path):
    """After a build PlatformIO's core records where the platform was; a copy of the built
    project (original kept, then deleted) must build from its own platform/, not the original."""
    c = compile_file(shared_model("ad01_int8.tflite"))
    a = export(c, get_board("mps2-an386"), tmp_path / "a")
    pio_run(a)
    assert files_naming(a, a, ".pio-core")        # PlatformIO recorded this folder
    b = tmp_path / "b"
    shutil.copytree(a, b, symlinks=True)
    pio_run(b)
    assert files_naming(b, a, ".pio-core") == []
    shutil.rmtree(a)
    pio_run(b)
    assert (b / ".pio" / "build" / "mps2_an386" / "firmware.bin").is_file()


def test_real_board_project_names_stock_platform(tmp_path):
    c = compile_file(shared_model("ad01_int8.tflite"))
    proj = export(c, get_board("nucleo-f446re"), tmp_path / "p")
    ini = (proj / "platformio.ini").read_text()
    assert "\nplatform = symlink://${PROJECT_DIR}/platform\n" in ini
    assert "; platform = ststm32" in ini


def test_pico_project_builds_flash_ready_image(tmp_path):
    """The Pico project carries boot2 and the console bring-up: `pio run` gives an image whose
    first 256 bytes are tinykiln's boot2 and whose vector table follows at 0x100."""
    import struct

    from elftools.elf.elffile import ELFFile
    from tinykiln.targets.boot2 import boot2_image
    from tinykiln.demo import demo_model
    board = get_board("rpi-pico")
    p = tmp_path / "demo.tflite"
    p.write_bytes(demo_model())
    proj = export(compile_file(p), board, tmp_path / "proj")
    for f in ("src/boot2.c", "src/console_setup_rp2040.c", "src/console_pl011.c"):
        assert (proj / f).is_file(), f
    pio_run(proj)
    build = proj / ".pio" / "build" / "rpi_pico"
    image = (build / "firmware.bin").read_bytes()
    assert image[:256] == boot2_image(board, "arm-none-eabi-gcc", "arm-none-eabi-objcopy")
    with open(build / "program.elf", "rb") as fh:
        syms = {s.name: s["st_value"] for s in
                ELFFile(fh).get_section_by_name(".symtab").iter_symbols()}
    assert syms["tk_vectors"] == 0x10000100 and syms["tk_console_setup"]
    assert struct.unpack_from("<2I", image, 0x100) == (syms["__stack_top__"], syms["tk_reset"] | 1)


def test_export_refuses_a_model_that_cannot_fit(tmp_path):
    """The fit check runs before a project is written: ad01's weights alone exceed microbit's
    flash, so no project folder appears."""
    from tinykiln.errors import TinykilnError
    c = compile_file(shared_model("ad01_int8.tflite"))
    with pytest.raises(TinykilnError, match=r"does not fit on microbit: flash over by at least \d+"):
        export(c, get_board("microbit"), tmp_path / "p")
    assert not (tmp_path / "p").exists() and list(tmp_path.iterdir()) == []
