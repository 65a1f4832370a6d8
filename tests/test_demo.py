"""The README's first fresh-machine command: `tinykiln demo` (the built-in main job)."""
from __future__ import annotations

import shutil

from tinykiln.cli import main as cli


def test_demo_runs_and_is_bit_exact(tmp_path, capsys):
    out = tmp_path / "demo"
    assert cli(["demo", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "TFLM comparison: 0 differing bytes of 240" in text
    assert "vs Python front end + TFLM: 0 differing bytes of 36" in text
    for f in ("demo_dscnn.tflite", "c/model.c", "c/model.h", "demo_kws.toml", "impulse_c/model.c",
              "impulse_c/model_dsp.c", "impulse_c/model_net.c"):
        assert (out / f).is_file(), f
    if shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm"):
        assert "under QEMU 0 bytes differ from the host" in text
        assert (out / "impulse_fw" / "firmware.bin").is_file()
    else:
        assert "skipped the firmware run" in text
