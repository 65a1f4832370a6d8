"""The qemu-virt-rv32 board: QEMU's riscv32 `virt` machine (the rv32imac core of sifive_e, no
SIMD) with megabytes of RAM, so that models larger than sifive_e's 16 KiB run on RISC-V. It needs
`-bios none` (the board's qemu_args) and has an NS16550A console. Tested here: the board is
listed, its QEMU command, a small DS-CNN-shaped model (CONV_2D, DEPTHWISE_CONV_2D,
AVERAGE_POOL_2D, FULLY_CONNECTED, SOFTMAX) bit-exact with TFLM under QEMU with its console text
and a repeatable profile, kws_ref_model bit-exact (it does not fit sifive_e), a trap and an exit
status reported through semihosting, and wrong console / qemu_args fields refused in one
sentence."""
from __future__ import annotations

import json

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from modelgen import ModelBuilder
from tinykiln.errors import TinykilnError
from tinykiln.targets.board import get_board, load_board_file

BOARD = "qemu-virt-rv32"
KWS = Path(__file__).resolve().parents[2] / "shared" / "models" / "kws_ref_model.tflite"
ROWS = 12
need_riscv = [
    pytest.mark.skipif(shutil.which("riscv64-unknown-elf-gcc") is None,
                       reason="riscv64-unknown-elf-gcc is not installed"),
    pytest.mark.skipif(shutil.which("qemu-system-riscv32") is None,
                       reason="qemu-system-riscv32 is not installed")]


def _apply(marks):
    def deco(f):
        for m in marks:
            f = m(f)
        return f
    return deco


# ---- the board file and the command line


def test_board_listed(capsys):
    from tinykiln.cli.main import main
    assert main(["boards"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"qemu-virt-rv32\s+rv32imac\s+none\s+4096 KiB\s+4096 KiB\s+qemu -M virt", out), out
    b = get_board(BOARD)
    assert (b.arch, b.cpu, b.emulated, b.console.kind, b.console.address) == \
        ("riscv", "rv32imac", True, "ns16550", 0x10000000)
    assert b.gcc_flags() == get_board("sifive_e").gcc_flags()     # the same core, no SIMD


def test_qemu_command(monkeypatch):
    from tinykiln.targets import qemu
    monkeypatch.setattr(qemu.shutil, "which", lambda exe: f"/usr/bin/{exe}")
    cmd = qemu.qemu_command(get_board(BOARD), Path("/x/app.elf"))
    assert cmd[:5] == ["qemu-system-riscv32", "-M", "virt", "-bios", "none"]
    assert cmd[-2:] == ["-kernel", "/x/app.elf"]
    # a board without qemu_args gets the command it always had
    assert qemu.qemu_command(get_board("sifive_e"), Path("/x/app.elf"))[:4] == \
        ["qemu-system-riscv32", "-M", "sifive_e", "-display"]


def _board_text() -> str:
    return get_board(BOARD).path.read_text()


# (case, edit of the board file: (old, new), the message's field and reason)
BAD = [
    ("unknown console kind", ('kind = "ns16550"', 'kind = "ns16550a"'),
     "field 'console.kind' is 'ns16550a'; expected one of: "),
    ("console baud without setup", ('kind = "ns16550"', 'kind = "ns16550"\nbaud = 115200'),
     "field 'console.baud' is not used with console.setup = \"none\""),
    ("console setup of another family", ('kind = "ns16550"', 'kind = "ns16550"\nsetup = "stm32"'),
     "field 'console.setup' is 'stm32', which brings up console kinds"),
    ("console address unaligned", ("address = 0x10000000", "address = 0x10000002"),
     "field 'console.address' is 0x10000002, not a 4-byte aligned register address"),
    ("qemu_args not a list", ('qemu_args = ["-bios", "none"]', 'qemu_args = "-bios none"'),
     "field 'qemu_args' must be a list"),
    ("qemu_args with a space", ('qemu_args = ["-bios", "none"]', 'qemu_args = ["-bios none"]'),
     "field 'qemu_args[0]' is '-bios none'; an option or value holds only"),
    ("qemu_args sets the kernel", ('qemu_args = ["-bios", "none"]',
                                   'qemu_args = ["-bios", "none", "-kernel", "x.elf"]'),
     "field 'qemu_args[2]' is '-kernel', an option tinykiln sets itself"),
    ("qemu_args with two dashes", ('qemu_args = ["-bios", "none"]',
                                   'qemu_args = ["--semihosting-config", "enable=off"]'),
     "field 'qemu_args[0]' is '--semihosting-config', an option tinykiln sets itself"),
    ("qemu_args without a machine", ('qemu_machine = "virt"', 'qemu_machine = ""\n'
                                                             'exit = "none"'),
     "field 'qemu_args' is set but qemu_machine is not"),
]


@pytest.mark.parametrize("case,edit,phrase", BAD, ids=[c[0] for c in BAD])
def test_bad_field_is_one_sentence(tmp_path, capsys, case, edit, phrase):
    from tinykiln.cli.main import main
    text = _board_text()
    old, new = edit
    assert old in text, case
    text = text.replace(old, new, 1)
    if case == "qemu_args without a machine":
        text = text.replace('exit = "semihosting"\n', "", 1)
    p = tmp_path / "myvirt.toml"
    p.write_text(text)
    with pytest.raises(TinykilnError) as e:
        load_board_file(p)
    msg = str(e.value)
    assert msg.startswith(f"board file {p}: ") and phrase in msg, msg
    assert "\n" not in msg and msg.endswith(".") \
        and not re.search(r"\.\s+[A-Z]", msg), msg
    # the command line prints it alone and exits 1
    (tmp_path / "m.tflite").write_bytes(_small_model())
    assert main(["build", str(tmp_path / "m.tflite"), "--board", str(p), "-o",
                 str(tmp_path / "fw")]) == 1
    err = capsys.readouterr().err
    assert phrase in err and "Traceback" not in err, err


# ---- images under QEMU


def _small_model() -> bytes:
    """A small DS-CNN: conv 3x3 stride 2, depthwise 3x3, pointwise conv, average pool, FC,
    softmax; per-channel weights, int8 throughout."""
    rng = np.random.default_rng(12)
    b = ModelBuilder("virt_dscnn")
    x = b.input((1, 13, 10, 1), scale=0.5, zero_point=-3)

    def conv(src, in_scale, shape, out_shape, kind, **opts):
        oc = shape[0] if kind == "CONV_2D" else shape[3]
        ws = rng.uniform(0.004, 0.012, oc)
        w = b.const(rng.integers(-127, 128, shape, dtype=np.int8), scale=ws, zero_point=[0] * oc,
                    axis=0 if kind == "CONV_2D" else 3)
        bias = b.const(rng.integers(-3000, 3000, oc).astype(np.int32), scale=in_scale * ws,
                       zero_point=[0] * oc)
        y = b.tensor(out_shape, scale=0.05, zero_point=-128)
        b.op(kind, [src, w, bias], [y], fused_activation_function="RELU", **opts)
        return y
    same = dict(padding="SAME", dilation_h_factor=1, dilation_w_factor=1)
    h = conv(x, 0.5, (16, 3, 3, 1), (1, 7, 5, 16), "CONV_2D", stride_h=2, stride_w=2, **same)
    h = conv(h, 0.05, (1, 3, 3, 16), (1, 7, 5, 16), "DEPTHWISE_CONV_2D", stride_h=1, stride_w=1,
             depth_multiplier=1, **same)
    h = conv(h, 0.05, (24, 1, 1, 16), (1, 7, 5, 24), "CONV_2D", stride_h=1, stride_w=1, **same)
    p = b.tensor((1, 1, 1, 24), scale=0.05, zero_point=-128)
    b.op("AVERAGE_POOL_2D", [h], [p], padding="VALID", stride_h=7, stride_w=5, filter_height=7,
         filter_width=5, fused_activation_function="NONE")
    f = b.tensor((1, 24), scale=0.05, zero_point=-128)
    b.op("RESHAPE", [p], [f], new_shape=[1, 24])
    ws = rng.uniform(0.004, 0.012, 6)
    w = b.const(rng.integers(-127, 128, (6, 24), dtype=np.int8), scale=ws, zero_point=[0] * 6)
    bias = b.const(rng.integers(-500, 500, 6).astype(np.int32), scale=0.05 * ws,
                   zero_point=[0] * 6)
    logits = b.tensor((1, 6), scale=0.1, zero_point=10)
    b.op("FULLY_CONNECTED", [f, w, bias], [logits], fused_activation_function="NONE")
    y = b.tensor((1, 6), scale=1 / 256, zero_point=-128)
    b.op("SOFTMAX", [logits], [y], beta=1.0)
    b.output(y)
    return b.build()


@pytest.fixture(scope="module")
def small():
    from tflm_oracle import tflm_run
    from tinykiln.compile import compile_graph
    from tinykiln.frontend.tflite_import import parse_tflite
    model = _small_model()
    x = np.random.default_rng(3).integers(-128, 128, (ROWS, 1, 13, 10, 1), dtype=np.int8)
    x[0], x[1] = -128, 127
    ref = tflm_run(model, [x])[0]
    assert len(np.unique(ref.reshape(ROWS, -1), axis=0)) > ROWS // 2     # outputs vary per row
    return compile_graph(parse_tflite(model)), x, ref


@pytest.fixture(scope="module")
def small_image(small, tmp_path_factory):
    if shutil.which("riscv64-unknown-elf-gcc") is None:
        pytest.skip("riscv64-unknown-elf-gcc is not installed")
    from tinykiln.targets.firmware import build_firmware
    d = tmp_path_factory.mktemp("virt") / "fw"
    build_firmware(small[0], get_board(BOARD), d)
    return d


@_apply(need_riscv)
def test_small_model_bitexact(small, small_image):
    from tinykiln.targets.qemu import run_firmware
    c, x, ref = small
    b = get_board(BOARD)
    res = run_firmware(small_image, b, c.graph, [x])
    y = res.outputs[0].reshape(ref.shape)
    assert y.dtype == ref.dtype == np.int8
    assert int((y != ref).sum()) == 0, f"{(y != ref).sum()} of {y.size} bytes differ"
    reserved = json.loads((small_image / "report.json").read_text())["stack"]["reserved"]
    assert 0 < res.stack_peak < res.stack_size == reserved < b.stack_bytes  # sized by analysis
    # the NS16550 console works: the banner comes out of QEMU's serial port
    assert f"on {BOARD}" in res.console, res.console


@_apply(need_riscv)
def test_profile_repeatable(small, small_image):
    from tinykiln.targets.qemu import run_firmware
    c, x, _ = small
    b = get_board(BOARD)
    p1 = run_firmware(small_image, b, c.graph, [x[:2]], profile=True)
    p2 = run_firmware(small_image, b, c.graph, [x[:2]], profile=True)
    assert p1.samples == p2.samples
    prof = p1.profile
    assert sum(L["instructions"] for L in prof["layers"]) == prof["instructions"] > 0
    assert prof["est_cycles"] is None       # no timing table for RISC-V


def _inject(c, board, new: str) -> dict:
    from tinykiln.targets.firmware import firmware_sources
    files = firmware_sources(c, board)
    assert "TK_INVOKE();" in files["main_semihosting.c"]
    files["main_semihosting.c"] = files["main_semihosting.c"].replace("TK_INVOKE();", new)
    return files


@_apply(need_riscv)
def test_trap_is_reported(small, tmp_path):
    from tinykiln.targets.firmware import build_firmware
    from tinykiln.targets.qemu import FirmwareFailure, run_firmware
    c, x, _ = small
    b = get_board(BOARD)
    build_firmware(c, b, tmp_path / "fw", files=_inject(c, b, '__asm__ volatile("unimp");'))
    with pytest.raises(FirmwareFailure, match=r"crashed on qemu-virt-rv32: trap mcause=0x00000002 "
                                              r"pc=0x8[0-9a-f]+"):
        run_firmware(tmp_path / "fw", b, c.graph, [x[:1]])


@_apply(need_riscv)
def test_exit_status_comes_through(small, tmp_path):
    """tk_exit's code reaches QEMU's exit status through semihosting, as on sifive_e."""
    from tinykiln.targets.firmware import build_firmware
    from tinykiln.targets.qemu import FirmwareFailure, run_firmware
    c, x, _ = small
    b = get_board(BOARD)
    build_firmware(c, b, tmp_path / "fw", files=_inject(c, b, "tk_exit(42);"))
    with pytest.raises(FirmwareFailure, match="QEMU exited with status 42 on qemu-virt-rv32"):
        run_firmware(tmp_path / "fw", b, c.graph, [x[:1]])


@_apply(need_riscv)
def test_kws_bitexact(tmp_path):
    """kws_ref_model needs more RAM than sifive_e has; here it runs, bit-exact with TFLM."""
    if not KWS.is_file():
        pytest.skip(f"{KWS} is absent (the shared reference models are not in this checkout)")
    from tflm_oracle import tflm_run
    from tinykiln.inputs import compile_file
    from tinykiln.targets.firmware import build_firmware
    from tinykiln.targets.qemu import run_firmware
    c = compile_file(KWS)
    t = c.graph.tensors[c.graph.inputs[0]]
    x = np.random.default_rng(50).integers(-128, 128, (8, *t.shape), dtype=np.int8)
    x[0] = 0
    ref = tflm_run(KWS.read_bytes(), [x])[0]
    b = get_board(BOARD)
    build_firmware(c, b, tmp_path / "fw")
    res = run_firmware(tmp_path / "fw", b, c.graph, [x])
    y = res.outputs[0].reshape(ref.shape)
    assert int((y != ref).sum()) == 0, f"{(y != ref).sum()} of {y.size} bytes differ"
