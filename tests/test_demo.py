"""The README's first fresh-machine command ends with `tinykiln demo`: every stage that can run
here runs, a stage whose tool is missing is skipped with that tool named, and the summary says
which is which."""
from __future__ import annotations

import importlib.util
import os
import re
import shutil
import sys

import numpy as np
import pytest

from tinykiln import demo
from tinykiln.cli.main import main as cli

STAGES = [name for name, _, _ in demo.STAGES]
HAVE_GCC = shutil.which("gcc") is not None
HAVE_TFLM = importlib.util.find_spec("tflite_micro") is not None
HAVE_ARM = all(shutil.which(t) for t in ("arm-none-eabi-gcc", "qemu-system-arm")) and HAVE_GCC
needs_gcc = pytest.mark.skipif(not HAVE_GCC, reason="gcc is not installed")
needs_tflm = pytest.mark.skipif(not HAVE_TFLM, reason="tflite-micro is not installed")


def summary(text: str) -> dict[str, str]:
    """Stage name -> 'done: ...' / 'skipped: ...' / 'failed: ...' from the demo's summary."""
    lines = text.split("\nsummary:\n", 1)[1].splitlines()
    out = {}
    for line in lines[:len(STAGES)]:
        m = re.fullmatch(r"  (.+?) +((?:done|skipped|failed).*)", line)
        assert m, line
        out[m.group(1)] = m.group(2)
    assert list(out) == STAGES
    return out


def run_demo(out, capsys) -> tuple[int, str, dict[str, str]]:
    capsys.readouterr()
    rc = cli(["demo", "-o", str(out)])
    text = capsys.readouterr().out
    return rc, text, summary(text)


def test_stages_listed_in_order():
    assert STAGES == ["compile", "host run", "TFLM comparison", "impulse", "impulse vs TFLM",
                      "QEMU run"]


def test_demo_runs_every_stage_it_can_and_is_bit_exact(tmp_path, capsys):
    """In CI everything is installed and all six stages are done; elsewhere a stage is skipped
    exactly when its tool is missing. Run twice: the second run rewrites the demo's folder."""
    out = tmp_path / "demo"
    for _ in range(2):
        rc, text, s = run_demo(out, capsys)
        assert rc == 0, text
    assert s["compile"].startswith("done")
    if HAVE_GCC:
        assert s["host run"].startswith("done") and s["impulse"].startswith("done")
        for f in ("c/model.c", "impulse_c/model_dsp.c", "impulse_c/model_net.c"):
            assert (out / f).is_file(), f
    else:
        assert s["host run"] == s["impulse"] == \
            "skipped: gcc is not on PATH (Debian: apt-get install gcc libc6-dev)"
    if HAVE_GCC and HAVE_TFLM:
        assert s["TFLM comparison"] == "done: 0 differing bytes of 240"
        assert s["impulse vs TFLM"] == "done: 0 differing bytes of 36"
    if HAVE_ARM:
        assert re.fullmatch(r"done: mps2-an386: 0 bytes differ from the host, [\d,]+ "
                            r"instructions per window", s["QEMU run"])
        assert (out / "impulse_fw" / "firmware.bin").is_file()
    else:
        assert s["QEMU run"].startswith("skipped: ")
    if HAVE_GCC and HAVE_TFLM and HAVE_ARM:
        assert text.rstrip().endswith("all 6 stages done.")
    for f in ("demo_dscnn.tflite", "demo_kws.toml", "c/model.h"):
        assert (out / f).is_file(), f


def path_without(tmp_path, prefix: str) -> str:
    """A PATH of one folder linking every program on PATH except those named prefix*."""
    farm = tmp_path / "bin"
    farm.mkdir()
    for d in os.environ.get("PATH", "").split(os.pathsep):
        if not os.path.isdir(d):
            continue
        for name in os.listdir(d):
            exe = os.path.join(d, name)
            if not name.startswith(prefix) and not os.path.lexists(farm / name) and \
                    os.path.isfile(exe) and os.access(exe, os.X_OK):
                (farm / name).symlink_to(exe)
    return str(farm)


@needs_gcc
@needs_tflm
def test_without_the_cross_compiler_only_the_qemu_run_is_skipped(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATH", path_without(tmp_path, "arm-none-eabi-"))
    rc, text, s = run_demo(tmp_path / "demo", capsys)
    assert rc == 0, text
    assert s.pop("QEMU run") == ("skipped: arm-none-eabi-gcc is not on PATH (Debian: apt-get "
                                 "install gcc-arm-none-eabi libnewlib-arm-none-eabi)")
    assert all(v.startswith("done") for v in s.values()), s
    assert s["TFLM comparison"] == "done: 0 differing bytes of 240"
    assert "5 done, 1 skipped, 0 failed (`sh install.sh`" in text


@needs_gcc
def test_without_tflite_micro_only_the_tflm_stages_are_skipped(tmp_path, capsys, monkeypatch):
    for name in [m for m in sys.modules if m == "tflite_micro" or
                 m.startswith("tflite_micro.")] + ["tflite_micro"]:
        monkeypatch.setitem(sys.modules, name, None)      # `import tflite_micro` now fails
    rc, text, s = run_demo(tmp_path / "demo", capsys)
    assert rc == 0, text
    why = "skipped: tflite-micro is not installed (pip install tflite-micro)"
    assert s.pop("TFLM comparison") == why and s.pop("impulse vs TFLM") == why
    assert s.pop("QEMU run").startswith("done" if HAVE_ARM else "skipped")
    assert all(v.startswith("done") for v in s.values()), s


@needs_gcc
def test_a_stage_that_fails_sets_the_exit_status_and_the_rest_still_run(tmp_path, capsys,
                                                                           monkeypatch):
    """A reference that disagrees with our C: the two comparisons fail, with the count."""
    monkeypatch.setattr(demo, "_missing_tflm", lambda: None)
    monkeypatch.setattr(demo, "_tflm_outputs",
                        lambda model, rows: np.full((len(rows), 12), 127, np.int8))
    rc, text, s = run_demo(tmp_path / "demo", capsys)
    assert rc == 1
    assert re.fullmatch(r"failed: [1-9]\d* differing bytes? of 240", s.pop("TFLM comparison"))
    assert re.fullmatch(r"failed: [1-9]\d* differing bytes? of 36", s.pop("impulse vs TFLM"))
    assert all(v.startswith("done" if n != "QEMU run" or HAVE_ARM else "skipped")
               for n, v in s.items()), s
    assert f"{4 if HAVE_ARM else 3} done, {0 if HAVE_ARM else 1} skipped, 2 failed" in text


def test_an_unusable_output_folder_is_one_sentence(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("mine")
    assert cli(["demo", "-o", str(f)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(f) in err and f.read_text() == "mine"
