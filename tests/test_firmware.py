"""Firmware images: board-file validation, images built per board and run under QEMU bit-exact
against TFLM, "does not fit" errors, reproducible images, repeatable instruction profiles, and
faults/hangs reported as such."""
from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from tinykiln.targets.board import all_boards, get_board, load_board_file
from tinykiln.errors import TinykilnError

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT.parent / "shared" / "models"
AD01 = MODELS / "ad01_int8.tflite"
KWS = MODELS / "kws_ref_model.tflite"
ROWS = 32
KWS_ROWS = 50

EMULATED = ["mps2-an385", "mps2-an386", "mps2-an500", "mps2-an505", "mps3-an547", "lm3s6965evb",
            "microbit", "netduinoplus2", "sifive_e"]
REAL = ["nucleo-f446re", "nucleo-l4r5zi", "stm32f746g-disco", "nrf52840-dk", "rpi-pico",
        "nucleo-h743zi"]
# ad01 needs about 274 KB of flash: boards with 256 KB of flash must refuse it
AD01_DOES_NOT_FIT = {"lm3s6965evb": "flash", "microbit": "flash"}
# kws runs its layers in place (an 8,064-byte arena) with a stack sized by
# analysis: it fits every emulated board, the 16 KB ones (microbit, sifive_e) included
KWS_DOES_NOT_FIT: dict[str, str] = {}

no_arm = shutil.which("arm-none-eabi-gcc") is None
no_qemu_arm = shutil.which("qemu-system-arm") is None
no_riscv = shutil.which("riscv64-unknown-elf-gcc") is None
no_qemu_riscv = shutil.which("qemu-system-riscv32") is None
need_arm = pytest.mark.skipif(no_arm, reason="arm-none-eabi-gcc is not installed "
                              "(apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi)")
need_qemu_arm = pytest.mark.skipif(no_qemu_arm, reason="qemu-system-arm is not installed")


def _tools_for(board: str):
    if board == "sifive_e":
        return [pytest.mark.skipif(no_riscv, reason="riscv64-unknown-elf-gcc is not installed"),
                pytest.mark.skipif(no_qemu_riscv, reason="qemu-system-riscv32 is not installed")]
    return [need_arm, need_qemu_arm]


# ---- board files

VALID = """\
description = "test board"
arch = "arm"
cpu = "cortex-m4"
fpu = "fpv4-sp-d16"
float_abi = "hard"
clock_hz = 1000000
exit = "semihosting"
qemu_machine = "mps2-an386"

[flash]
origin = 0x0
length = 0x40000

[ram]
origin = 0x20000000
length = 0x10000

[console]
kind = "cmsdk_uart"
address = 0x40004000
"""

# (case, edit of VALID: (old, new), the field the message must name)
BAD_BOARDS = [
    ("missing cpu", ('cpu = "cortex-m4"\n', ""), "'cpu' is missing"),
    ("unknown cpu", ('"cortex-m4"', '"cortex-m99"'), "'cpu' is 'cortex-m99'"),
    ("fpu not on this cpu", ('fpu = "fpv4-sp-d16"', 'fpu = "fpv5-d16"'), "'fpu' is 'fpv5-d16'"),
    ("hard float without fpu", ('fpu = "fpv4-sp-d16"', 'fpu = "none"'), "'float_abi'"),
    ("origin as string", ("origin = 0x0", 'origin = "0"'), "'flash.origin' must be an integer"),
    ("zero length", ("length = 0x40000", "length = 0"), "'flash.length' must be greater than 0"),
    ("missing ram", ("[ram]\norigin = 0x20000000\nlength = 0x10000\n", ""), "'ram' is missing"),
    ("overlapping ram", ("origin = 0x20000000", "origin = 0x100"), "'ram' overlaps flash"),
    ("unknown field", ('clock_hz = 1000000', 'clock_hz = 1000000\nclock_mhz = 1'),
     "'clock_mhz' is not a board field"),
    ("console without address", ("address = 0x40004000", ""), "'console.address' is missing"),
    ("bad console kind", ('"cmsdk_uart"', '"uart9000"'), "'console.kind' is 'uart9000'"),
    ("qemu without semihosting", ('exit = "semihosting"', 'exit = "none"'), "'exit' must be"),
    ("arch mismatch", ('arch = "arm"', 'arch = "riscv"'), "'cpu' is 'cortex-m4' (arch arm) but arch is 'riscv'"),
    ("clock negative", ("clock_hz = 1000000", "clock_hz = -5"), "'clock_hz' must not be negative"),
    ("not toml", ("[console]", "[console"), "is not valid TOML"),
]


def test_valid_board_file_loads(tmp_path):
    p = tmp_path / "myboard.toml"
    p.write_text(VALID)
    b = load_board_file(p)
    assert (b.name, b.cpu, b.flash.length, b.ram.origin) == ("myboard", "cortex-m4", 0x40000,
                                                             0x20000000)
    assert b.gcc_flags() == ["-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"]


@pytest.mark.parametrize("case,edit,field", BAD_BOARDS, ids=[c[0] for c in BAD_BOARDS])
def test_bad_board_file(tmp_path, case, edit, field):
    old, new = edit
    assert old in VALID, case
    p = tmp_path / "bad.toml"
    p.write_text(VALID.replace(old, new, 1))
    with pytest.raises(TinykilnError) as e:
        load_board_file(p)
    msg = str(e.value)
    assert str(p) in msg and field in msg, msg


def test_shipped_boards():
    names = {b.name for b in all_boards()}
    assert set(EMULATED + REAL + ["host"]) <= names
    for n in EMULATED:
        assert get_board(n).emulated, n
    for n in REAL:
        assert not get_board(n).emulated, n
    with pytest.raises(TinykilnError, match="unknown board 'nope'; known boards: .*mps2-an386"):
        get_board("nope")


# ---- images for ad01

@pytest.fixture(scope="module")
def ad01():
    if not AD01.is_file():
        pytest.skip(f"{AD01} is absent (the shared reference models are not in this checkout)")
    from tinykiln.inputs import compile_file
    return compile_file(AD01)


@pytest.fixture(scope="module")
def ad01_io(ad01):
    from tflm_oracle import tflm_run
    x = np.random.default_rng(2024).integers(-128, 128, (ROWS, 1, 640), dtype=np.int8)
    ref = tflm_run(AD01.read_bytes(), [x])[0]
    return x, ref


@pytest.fixture(scope="module")
def an386_image(ad01, tmp_path_factory):
    if no_arm:
        pytest.skip("arm-none-eabi-gcc is not installed")
    from tinykiln.targets.firmware import build_firmware
    d = tmp_path_factory.mktemp("an386") / "fw"
    build_firmware(ad01, get_board("mps2-an386"), d)
    return d


@pytest.mark.parametrize("board", [pytest.param(b, marks=_tools_for(b)) for b in EMULATED])
def test_ad01_bitexact_on_board(board, ad01, ad01_io, an386_image, tmp_path):
    from tinykiln.targets.firmware import build_firmware
    from tinykiln.targets.qemu import run_firmware
    b = get_board(board)
    out = tmp_path / "fw"
    if board in AD01_DOES_NOT_FIT:
        _assert_does_not_fit(ad01, b, AD01_DOES_NOT_FIT[board], tmp_path)
        return
    if board == "mps2-an386":
        out = an386_image
    else:
        build_firmware(ad01, b, out)
    x, ref = ad01_io
    res = run_firmware(out, b, ad01.graph, [x])
    y = res.outputs[0].reshape(ref.shape)
    assert y.dtype == ref.dtype == np.int8
    assert int((y != ref).sum()) == 0, f"{board}: {(y != ref).sum()} of {y.size} bytes differ"
    assert 0 < res.stack_peak < res.stack_size


# ---- kws_ref_model (DS-CNN keyword spotting, 2.7 M MACs) on every emulated board

@pytest.fixture(scope="module")
def kws():
    if not KWS.is_file():
        pytest.skip(f"{KWS} is absent (the shared reference models are not in this checkout)")
    from tflm_oracle import tflm_run
    from tinykiln.inputs import compile_file
    c = compile_file(KWS)
    t = c.graph.tensors[c.graph.inputs[0]]
    x = np.random.default_rng(50).integers(-128, 128, (KWS_ROWS, *t.shape), dtype=np.int8)
    return c, x, tflm_run(KWS.read_bytes(), [x])[0]


@pytest.mark.parametrize("board", [pytest.param(b, marks=_tools_for(b)) for b in EMULATED])
def test_kws_bitexact_on_board(board, kws, tmp_path):
    from tinykiln.targets.firmware import build_firmware
    from tinykiln.targets.qemu import run_firmware
    c, x, ref = kws
    b = get_board(board)
    out = tmp_path / "fw"
    if board in KWS_DOES_NOT_FIT:
        _assert_does_not_fit(c, b, KWS_DOES_NOT_FIT[board], tmp_path)
        return
    build_firmware(c, b, out)
    res = run_firmware(out, b, c.graph, [x])
    y = res.outputs[0].reshape(ref.shape)
    assert y.dtype == ref.dtype == np.int8
    assert int((y != ref).sum()) == 0, f"{board}: {(y != ref).sum()} of {y.size} bytes differ"
    assert 0 < res.stack_peak < res.stack_size


FIT_MSG = (r"does not fit on {board}: {region} over by {by}(\d+) bytes "
           r"\(flash \d+ bytes, RAM \d+ bytes\)\.")


@contextlib.contextmanager
def _no_compiler():
    """No process may start and no cross compiler is on PATH: what happens here is Python only."""
    def refuse(*a, **k):
        raise AssertionError(f"a process was started: {a[0] if a else k}")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(subprocess, "run", refuse)
        mp.setattr(subprocess, "Popen", refuse)
        mp.setattr(shutil, "which", lambda *a, **k: None)
        yield


@contextlib.contextmanager
def _link_decides():
    """The Python fit check off: only ld's error (the backstop) can refuse."""
    from tinykiln.targets import firmware
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(firmware, "check_fit", lambda c, b, stack=0: None)
        yield


def _assert_does_not_fit(c, b, region: str, tmp_path):
    """Where the Python lower bound (usage_lower_bound) already exceeds the region, building c
    for b fails before any compiler runs with "does not fit on B: REGION over by at least N
    bytes" and leaves no output (else, the stack being known only after the first link, only
    the link refuses); with the Python check off, the link fails with "REGION over by M bytes",
    M what the same board with 4 MiB of that memory uses minus the real size, and 0 < N <= M."""
    from tinykiln.targets.firmware import build_firmware, usage_lower_bound
    out = tmp_path / "fw"
    early = None
    if usage_lower_bound(c, b)[region.lower()] > getattr(b, region.lower()).length:
        with _no_compiler(), pytest.raises(TinykilnError) as e:
            build_firmware(c, b, out)
        early = re.fullmatch(FIT_MSG.format(board=b.name, region=region, by="at least "),
                             str(e.value))
        assert early, str(e.value)
        assert not out.exists() and not list(tmp_path.glob(".fw.tmp*"))
    with _link_decides(), pytest.raises(TinykilnError) as e:
        build_firmware(c, b, out)
    m = re.fullmatch(FIT_MSG.format(board=b.name, region=region, by=""), str(e.value))
    assert m, str(e.value)
    assert not out.exists() and not list(tmp_path.glob(".fw.tmp*"))
    big = _resized(b, tmp_path, region, 4 << 20)
    used = build_firmware(c, big, tmp_path / "big")[region.lower()]["used"]
    assert int(m.group(1)) == used - getattr(b, region.lower()).length
    assert early is None or 0 < int(early.group(1)) <= int(m.group(1))


def _resized(board, tmp_path, region: str, length: int):
    """A copy of `board` (same name, so the same image) with one memory region resized."""
    d = tmp_path / f"resized-{region}-{length}"
    d.mkdir()
    text = board.path.read_text()
    text, n = re.subn(rf"(\[{region.lower()}\]\norigin = \S+\nlength = )\S+", rf"\g<1>{length:#x}",
                      text)
    assert n == 1, board.path
    if region == "RAM" and length <= board.stack_bytes:     # the default (unbounded) stack
        text = re.sub(r"stack_bytes = \d+", f"stack_bytes = {max(1024, length // 4 // 8 * 8)}",
                      text)
    p = d / board.path.name
    p.write_text(text)
    return get_board(str(p))


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The built-in demo model (CONV, DEPTHWISE, POOL, FC, SOFTMAX; about 18 KB): small enough
    for every emulated board."""
    from tflm_oracle import tflm_run
    from tinykiln.inputs import compile_file
    from tinykiln.demo import demo_model
    buf = demo_model()
    p = tmp_path_factory.mktemp("demo") / "demo.tflite"
    p.write_bytes(buf)
    c = compile_file(p)
    t = c.graph.tensors[c.graph.inputs[0]]
    x = np.random.default_rng(5).integers(-128, 128, (8, *t.shape), dtype=np.int8)
    return c, x, tflm_run(buf, [x])[0]


@pytest.mark.parametrize("board", [pytest.param(b, marks=_tools_for(b)) for b in EMULATED])
def test_demo_bitexact_on_every_emulated_board(board, demo, tmp_path):
    from tinykiln.targets.firmware import build_firmware
    from tinykiln.targets.qemu import run_firmware
    c, x, ref = demo
    b = get_board(board)
    build_firmware(c, b, tmp_path / "fw")
    res = run_firmware(tmp_path / "fw", b, c.graph, [x])
    y = res.outputs[0].reshape(ref.shape)
    assert int((y != ref).sum()) == 0, f"{board}: {(y != ref).sum()} of {y.size} bytes differ"


@need_arm
def test_ram_does_not_fit(demo, tmp_path):
    """An arena larger than the RAM: refused before the link, by at least what the image would
    overflow; with RAM at the Python lower bound (arena, variables and runtime floor: the stack
    is known only after the analysis of the first link) the check passes and ld refuses with the
    exact overflow of the final link (its computed stack included)."""
    from tinykiln.targets.firmware import build_firmware, usage_lower_bound
    c = demo[0]
    b = get_board("mps2-an386")
    used = build_firmware(c, b, tmp_path / "ok")["ram"]["used"]
    small_ram = c.plan.arena_size // 2 // 8 * 8
    small = _resized(b, tmp_path, "RAM", small_ram)
    with _no_compiler(), pytest.raises(TinykilnError) as e:
        build_firmware(c, small, tmp_path / "fw")
    m = re.fullmatch(FIT_MSG.format(board=b.name, region="RAM", by="at least "), str(e.value))
    assert m, str(e.value)
    assert 0 < int(m.group(1)) <= used - small_ram
    assert not (tmp_path / "fw").exists()
    edge = usage_lower_bound(c, b)["ram"]
    assert edge < used, "the lower bound must leave the close cases to the link"
    close = _resized(b, tmp_path, "RAM", edge)
    with pytest.raises(TinykilnError) as e:
        build_firmware(c, close, tmp_path / "fw")
    m = re.fullmatch(FIT_MSG.format(board=b.name, region="RAM", by=""), str(e.value))
    assert m, str(e.value)
    assert int(m.group(1)) == used - edge
    assert not (tmp_path / "fw").exists()


def _big_model(tmp_path, name: str, weights: int = 0, arena: int = 0) -> Path:
    """One MAX_POOL_2D over an input of about `arena` bytes and, with weights, beside it a
    FULLY_CONNECTED from 1,000 inputs with about `weights` bytes of int8 weights."""
    from tinykiln.frontend.modelbuilder import ModelBuilder
    b = ModelBuilder(name)
    side = max(2, int((max(arena, 8) / 2) ** 0.5) // 2 * 2)
    x = b.input((1, side, side, 2), 0.05, 0)
    y = b.tensor((1, side // 2, side // 2, 2), scale=0.05, zero_point=0)
    b.op("MAX_POOL_2D", [x], [y], padding="VALID", stride_h=2, stride_w=2, filter_height=2,
         filter_width=2)
    b.output(y)
    if weights:
        n_in, n_out = 1000, max(1, weights // 1000)
        x = b.input((1, n_in), 0.05, 0)
        rng = np.random.default_rng(1)
        w = b.const(rng.integers(-127, 128, (n_out, n_in), dtype=np.int8), scale=0.01)
        bias = b.const(np.zeros(n_out, np.int32), scale=0.0005)
        y = b.tensor((1, n_out), scale=0.5, zero_point=0)
        b.op("FULLY_CONNECTED", [x, w, bias], [y])
        b.output(y)
    p = tmp_path / f"{name}.tflite"
    p.write_bytes(b.build())
    return p


# (model: weights, arena), board, the regions the check must name
FAR_TOO_LARGE = [
    ("weights", dict(weights=400_000), "microbit", ["flash"]),
    ("arena", dict(arena=40_000), "microbit", ["RAM"]),
    ("both", dict(weights=300_000, arena=30_000), "microbit", ["flash", "RAM"]),
]


@pytest.mark.parametrize("case,size,board,regions", FAR_TOO_LARGE,
                         ids=[f[0] for f in FAR_TOO_LARGE])
def test_fit_check_before_any_compiler(case, size, board, regions, tmp_path, capsys):
    """A model far too large for the board is refused in Python from the planned arena, the weights
    and the board's stack, before any compiler runs (none is on PATH here, no process may start),
    in well under a second, with one sentence naming each region and at least the model's own
    excess; the command line says the same with exit status 1."""
    from tinykiln.cli.main import main
    from tinykiln.inputs import compile_file
    from tinykiln.targets.firmware import build_firmware
    model = _big_model(tmp_path, case, **size)
    c = compile_file(model)
    b = get_board(board)
    own = {"flash": c.report["weight_bytes"] - b.flash.length,
           "RAM": c.report["arena_bytes"] - b.ram.length}
    with _no_compiler():
        t0 = time.perf_counter()
        with pytest.raises(TinykilnError) as e:
            build_firmware(c, b, tmp_path / "fw")
        took = time.perf_counter() - t0
        assert main(["build", str(model), "--board", board, "-o", str(tmp_path / "cli")]) == 1
    msg = str(e.value)
    parts = ", ".join(rf"{r} over by at least (\d+) bytes" for r in regions)
    m = re.fullmatch(rf"does not fit on {board}: {parts} \(flash {b.flash.length} bytes, "
                     rf"RAM {b.ram.length} bytes\)\.", msg)
    assert m, msg
    for r, n in zip(regions, m.groups()):
        assert own[r] > 0 and int(n) >= own[r], (r, n, own[r])
    assert took < 0.5, took
    assert not (tmp_path / "fw").exists() and not (tmp_path / "cli").exists()
    err = capsys.readouterr().err
    assert msg in err and "Traceback" not in err, err


def _edit(text: str, *edits: tuple[str, str]) -> str:
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    return text


# boards with the least runtime: no console, no exit
_BARE = (('exit = "semihosting"', 'exit = "none"'), ('"mps2-an386"', '""'),
         ('kind = "cmsdk_uart"\naddress = 0x40004000', 'kind = "none"'))
BARE = {
    "bare-arm": _edit(VALID, ('"cortex-m4"', '"cortex-m33"'), ('"fpv4-sp-d16"', '"fpv5-sp-d16"'),
                      *_BARE),
    "bare-riscv": _edit(VALID, ('arch = "arm"', 'arch = "riscv"'), ('"cortex-m4"', '"rv32imac"'),
                        ('"fpv4-sp-d16"', '"none"'), ('"hard"', '"soft"'),
                        ("origin = 0x20000000", "origin = 0x80000000"), *_BARE),
}


@pytest.mark.parametrize("board", [pytest.param(b, marks=_tools_for(b)[:1])
                                   for b in EMULATED + REAL]
                         + [pytest.param("bare-arm", marks=need_arm),
                            pytest.param("bare-riscv", marks=_tools_for("sifive_e")[:1])])
def test_fit_lower_bound_holds(board, demo, tmp_path):
    """The Python check never refuses an image that links: its lower bound of flash and RAM is at
    most what the smallest image (one MAX_POOL_2D, no weights) and the demo really use, on every
    shipped board and on bare ones."""
    from tinykiln.inputs import compile_file
    from tinykiln.targets.firmware import build_firmware, usage_lower_bound
    if board in BARE:
        (tmp_path / f"{board}.toml").write_text(BARE[board])
        b = load_board_file(tmp_path / f"{board}.toml")
    else:
        b = get_board(board)
    smallest = compile_file(_big_model(tmp_path, "smallest"))
    for name, c in [("smallest", smallest), ("demo", demo[0])]:
        r = build_firmware(c, b, tmp_path / name)
        low = usage_lower_bound(c, b)
        for region in ("flash", "ram"):
            assert low[region] <= r[region]["used"], (name, region, low[region], r[region])


@need_arm
def test_report_and_outputs(an386_image, ad01):
    import json
    r = json.loads((an386_image / "report.json").read_text())
    for f in ("firmware.elf", "firmware.bin", "firmware.hex", "firmware.map", "src/SConstruct",
              "src/link.ld", "src/model.c", "src/startup_arm.c"):
        assert (an386_image / f).is_file(), f
    fl, ram = r["flash"], r["ram"]
    # every int8/int32 table the model needs except scalars gcc folds into code
    assert ad01.report["weight_bytes"] - 200 <= fl["weights"] <= ad01.report["weight_bytes"]
    assert fl["code"] + fl["weights"] + fl["rest"] == fl["used"] == \
        (an386_image / "firmware.bin").stat().st_size
    assert ram["arena"] == ad01.report["arena_bytes"]
    st = r["stack"]     # reserved by analysis: the worst case (a path from the reset handler)
    assert st["computed"] is not None and st["unbounded_because"] == []
    assert ram["stack"] == st["reserved"] == (st["computed"] + 64 + 15) // 16 * 16
    assert st["deepest_path"][:3] == ["tk_reset", "main", "model_invoke"]
    assert 200 < st["computed"] < get_board("mps2-an386").stack_bytes
    assert fl["headroom"] == fl["size"] - fl["used"] and ram["headroom"] == ram["size"] - ram["used"]
    assert r["largest_symbols"][0]["size"] == 81920 and r["largest_symbols"][0]["memory"] == "flash"
    assert r["build_warnings"] == []


@need_arm
def test_identical_images(ad01, an386_image, tmp_path):
    from tinykiln.targets.firmware import build_firmware
    other = tmp_path / "somewhere" / "else"
    build_firmware(ad01, get_board("mps2-an386"), other)
    for f in ("firmware.bin", "firmware.elf"):
        assert (other / f).read_bytes() == (an386_image / f).read_bytes(), f


@pytest.mark.parametrize("board", REAL)
@need_arm
def test_real_board_builds(board, ad01, tmp_path):
    from tinykiln.targets.firmware import build_firmware
    b = get_board(board)
    r = build_firmware(ad01, b, tmp_path / "fw")
    assert r["flash"]["used"] + r["flash"]["headroom"] == b.flash.length
    assert r["ram"]["used"] <= b.ram.length
    assert r["build_warnings"] == []
    # the image brings its console up (tests/test_real_boards.py runs it from reset)
    assert (tmp_path / "fw" / "src" / f"console_setup_{b.console.setup}.c").is_file()


@need_arm
@need_qemu_arm
def test_profile_repeatable(ad01, ad01_io, an386_image):
    from tinykiln.targets.qemu import run_firmware
    x = ad01_io[0][:2]
    b = get_board("mps2-an386")
    p1 = run_firmware(an386_image, b, ad01.graph, [x], profile=True)
    p2 = run_firmware(an386_image, b, ad01.graph, [x], profile=True)
    assert p1.samples == p2.samples and len(p1.samples) == 2 * 11
    prof = p1.profile
    assert [L["op"] for L in prof["layers"]] == list(range(10))
    assert sum(L["instructions"] for L in prof["layers"]) == prof["instructions"]
    # ad01 is 264,192 MACs; on the M4 its FC kernel takes 14 instructions per 16 MACs at best
    assert prof["macs"] == 264192 and 0.05 < prof["macs_per_instruction"] < 1.2


def _inject(ad01, board, old: str, new: str) -> dict:
    from tinykiln.targets.firmware import firmware_sources
    files = firmware_sources(ad01, board)
    assert old in files["main_semihosting.c"]
    files["main_semihosting.c"] = files["main_semihosting.c"].replace(old, new)
    return files


@need_arm
@need_qemu_arm
def test_fault_is_reported(ad01, ad01_io, tmp_path):
    from tinykiln.targets.firmware import build_firmware
    from tinykiln.targets.qemu import FirmwareFailure, run_firmware
    b = get_board("mps2-an386")
    files = _inject(ad01, b, "TK_INVOKE();", '__asm__ volatile(".inst.n 0xde00");')  # udf #0
    build_firmware(ad01, b, tmp_path / "fw", files=files)
    with pytest.raises(FirmwareFailure, match=r"crashed on mps2-an386: HardFault r0=.* pc=0x"):
        run_firmware(tmp_path / "fw", b, ad01.graph, [ad01_io[0][:1]])


@need_arm
@need_qemu_arm
def test_lockup_is_reported(ad01, ad01_io, tmp_path):
    from tinykiln.targets.firmware import build_firmware
    from tinykiln.targets.qemu import FirmwareFailure, run_firmware
    b = get_board("mps2-an386")
    # with FAULTMASK set no fault handler may run: the core locks up
    files = _inject(ad01, b, "TK_INVOKE();", '__asm__ volatile("cpsid f\\n\\tudf #0");')
    build_firmware(ad01, b, tmp_path / "fw", files=files)
    with pytest.raises(FirmwareFailure, match=r"locked up on mps2-an386: Lockup.*; pc=0x[0-9a-f]+"):
        run_firmware(tmp_path / "fw", b, ad01.graph, [ad01_io[0][:1]])


@need_arm
@need_qemu_arm
def test_hang_is_reported(ad01, ad01_io, tmp_path):
    from tinykiln.targets.firmware import build_firmware
    from tinykiln.targets.qemu import FirmwareFailure, run_firmware
    b = get_board("mps2-an386")
    files = _inject(ad01, b, "TK_INVOKE();", "for (;;) {}")
    build_firmware(ad01, b, tmp_path / "fw", files=files)
    with pytest.raises(FirmwareFailure, match="did not finish within 3 s"):
        run_firmware(tmp_path / "fw", b, ad01.graph, [ad01_io[0][:1]], timeout=3)


@need_arm
@need_qemu_arm
def test_cli(ad01_io, tmp_path, monkeypatch, capsys):
    if not AD01.is_file():
        pytest.skip(f"{AD01} is absent")
    from tinykiln.cli.main import main
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    x, ref = ad01_io
    np.save(tmp_path / "x.npy", x[:4])
    assert main(["run", str(AD01), "--board", "mps2-an386", "--input", str(tmp_path / "x.npy"),
                 "--output", str(tmp_path / "y.npy"), "--profile"]) == 0
    out = capsys.readouterr().out
    assert "ran 4 input rows on mps2-an386" in out and "total per inference" in out
    assert np.array_equal(np.load(tmp_path / "y.npy").reshape(ref[:4].shape), ref[:4])
    assert main(["build", str(AD01), "--board", "microbit", "-o", str(tmp_path / "mb")]) == 1
    err = capsys.readouterr().err
    assert re.search(r"does not fit on microbit: flash over by at least \d+ bytes", err), err
    assert not (tmp_path / "mb").exists()
    assert main(["run", str(AD01), "--board", "nucleo-f446re", "--input", str(tmp_path / "x.npy"),
                 "--output", str(tmp_path / "z.npy")]) == 1
    assert "real hardware" in capsys.readouterr().err
    assert main(["boards"]) == 0
    assert re.search(r"mps2-an386\s+cortex-m4\s+fpv4-sp-d16\s+4096 KiB\s+4096 KiB",
                     capsys.readouterr().out)


@pytest.mark.parametrize("board", [pytest.param("mps2-an386", marks=_tools_for("mps2-an386"))])
def test_int8_filters_where_the_widened_ones_do_not_fit(board, kws, tmp_path):
    """DSP cores read CONV_2D filters widened to int16 (model.c holds both forms); where that
    form would certainly not fit the flash, the build keeps the int8 one (TK_CONV_NARROW), says
    so, and stays bit-exact."""
    from tinykiln.targets.firmware import build_firmware
    from tinykiln.targets.qemu import run_firmware
    c, x, ref = kws
    b = get_board(board)
    wide = build_firmware(c, b, tmp_path / "wide")
    assert wide["conv_filters"].startswith("int16")
    small = _resized(b, tmp_path, "flash", wide["flash"]["used"] - 8192)
    r = build_firmware(c, small, tmp_path / "narrow")
    assert r["conv_filters"].startswith("int8")
    assert r["flash"]["used"] < small.flash.length < wide["flash"]["used"]
    res = run_firmware(tmp_path / "narrow", small, c.graph, [x])
    assert (res.outputs[0].reshape(ref.shape) == ref).all()
