"""The stack an image reserves, sized by analysis (tinykiln.targets.stack): gcc's -fstack-usage
frames and the image's call graph give the worst case from the reset handler (plus a fault
handler's share on Arm); the image reserves that and a margin; under QEMU the measured peak must
never exceed it (run_firmware checks it on every run); --stack overrides; an image the analysis
cannot bound (recursion, an indirect call, a frame of dynamic size) says why and reserves the
board's default."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import shared_model
from tinykiln.errors import TinykilnError
from tinykiln.targets.board import get_board

need_arm = pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None
                              or shutil.which("qemu-system-arm") is None,
                              reason="arm-none-eabi-gcc or qemu-system-arm is not installed")
need_riscv = pytest.mark.skipif(shutil.which("riscv64-unknown-elf-gcc") is None
                                or shutil.which("qemu-system-riscv32") is None,
                                reason="riscv64-unknown-elf-gcc or qemu-system-riscv32 is not "
                                       "installed")


@pytest.fixture(scope="module")
def ad01():
    from tinykiln.inputs import compile_file
    return compile_file(shared_model("ad01_int8.tflite"))


def _run(c, board, fw):
    from tinykiln.targets.qemu import run_firmware
    g = c.graph
    x = np.random.default_rng(0).integers(-128, 128, (2, *g.tensors[g.inputs[0]].shape),
                                          dtype=np.int8)
    return run_firmware(fw, board, g, [x])


@pytest.mark.parametrize("board", [pytest.param("mps2-an386", marks=need_arm),
                                   pytest.param("mps3-an547", marks=need_arm),
                                   pytest.param("sifive_e", marks=need_riscv)])
def test_computed_stack_is_reserved_and_holds_under_qemu(ad01, board, tmp_path):
    from tinykiln.targets.firmware import build_firmware
    b = get_board(board)
    r = build_firmware(ad01, b, tmp_path / "fw")
    st = r["stack"]
    assert st["computed"] is not None, st["unbounded_because"]
    assert r["ram"]["stack"] == st["reserved"] == (st["computed"] + 64 + 15) // 16 * 16
    assert st["reserved"] < b.stack_bytes       # far below the board's default
    res = _run(ad01, b, tmp_path / "fw")        # raises if the peak exceeds the analysis
    assert 0 < res.stack_peak <= st["computed"]
    # the same image with the computed worst case tampered below the peak: run fails loudly
    rep = json.loads((tmp_path / "fw" / "report.json").read_text())
    rep["stack"]["computed"] = res.stack_peak - 4
    (tmp_path / "fw" / "report.json").write_text(json.dumps(rep))
    from tinykiln.targets.qemu import FirmwareFailure
    with pytest.raises(FirmwareFailure, match="exceeds the .* bytes the stack analysis"):
        _run(ad01, b, tmp_path / "fw")


@need_arm
def test_stack_option_overrides(ad01, tmp_path):
    from tinykiln.cli.main import main
    from tinykiln.targets.firmware import build_firmware
    r = build_firmware(ad01, get_board("mps2-an386"), tmp_path / "fw", stack=4096)
    assert r["ram"]["stack"] == r["stack"]["reserved"] == 4096
    assert r["stack"]["source"] == "--stack" and r["stack"]["computed"] is not None
    model = str(shared_model("ad01_int8.tflite"))
    assert main(["build", model, "--board", "mps2-an386", "-o", str(tmp_path / "cli"),
                 "--stack", "100"]) == 1
    assert not (tmp_path / "cli").exists()


UNBOUNDED = {
    "recursion": ("__attribute__((noipa)) int g(int n);\n"
                  "__attribute__((noipa)) int f(int n) { volatile int k[4]; k[0] = n; "
                  "return n ? g(k[0] - 1) * 3 : 1; }\n"
                  "__attribute__((noipa)) int g(int n) { volatile int k[4]; k[1] = n; "
                  "return n ? f(k[1] - 1) * 5 : 2; }\n"
                  "int main(void) { return f(3) == 30 ? 0 : 1; }\n", "recursion: f -> g -> f"),
    "indirect call": ("int g(int n) { return n + 1; }\n"
                      "int (*volatile fp)(int) = g;\n"
                      "int main(void) { return fp(1) == 2 ? 0 : 1; }\n", "indirect"),
    "dynamic frame": ("static int h(int n) { volatile char b[n]; b[0] = 1; return b[0]; }\n"
                      "int main(void) { volatile int n = 8; return h(n) == 1 ? 0 : 1; }\n",
                      "dynamic size"),
}


@need_arm
@pytest.mark.parametrize("case", sorted(UNBOUNDED))
def test_unbounded_images_say_why(case, tmp_path):
    from tinykiln.targets.firmware import _tool, build_harness
    from tinykiln.targets.stack import analyse
    b = get_board("mps2-an386")
    src, why = UNBOUNDED[case]
    elf = build_harness(b, {"main_test.c": src}, tmp_path)
    a = analyse(tmp_path / "build", elf, _tool(b, "objdump"), "arm", "tk_reset",
                ("tk_fault_entry",), 32)
    assert a.computed is None
    assert any(why in p for p in a.problems), a.problems


@need_arm
def test_bounded_harness_path_and_frames(tmp_path):
    """A known call chain: the deepest path and its frames add up; the fault handler's share
    and the exception frame come on top."""
    from tinykiln.targets.firmware import _tool, build_harness
    from tinykiln.targets.stack import analyse
    b = get_board("mps2-an386")
    src = ("__attribute__((noinline)) int leaf(int n) { volatile char b[200]; b[n] = 1; "
           "return b[3]; }\n"
           "__attribute__((noinline)) int mid(int n) { volatile char b[40]; b[n] = 2; "
           "return leaf(n) + b[1]; }\n"
           "int main(void) { return mid(3) == 3 ? 0 : 1; }\n")
    elf = build_harness(b, {"main_test.c": src}, tmp_path)
    a = analyse(tmp_path / "build", elf, _tool(b, "objdump"), "arm", "tk_reset",
                ("tk_fault_entry",), 32)
    assert a.path[:4] == ["tk_reset", "main", "mid", "leaf"], a.path
    assert a.frames["leaf"] >= 200 and a.frames["mid"] >= 40
    no_fault = analyse(tmp_path / "build", elf, _tool(b, "objdump"), "arm", "tk_reset")
    assert no_fault.computed == sum(a.frames[f] for f in no_fault.path)
    assert a.computed >= no_fault.computed + 32 + a.frames["tk_fault_c"]


def test_bad_stack_option_is_one_sentence(capsys, tmp_path):
    from tinykiln.cli.main import main
    code = main(["build", str(shared_model("ad01_int8.tflite")), "--board", "mps2-an386", "-o",
                 str(tmp_path / "never"), "--stack", "12"])
    assert code == 1 and not (tmp_path / "never").exists()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--stack is 12" in err[0], err


def test_stack_error_is_a_tinykiln_error():
    from tinykiln.cli.common import stack_arg

    class A:
        stack = 60
    with pytest.raises(TinykilnError, match="multiple of 8 and at least 64"):
        stack_arg(A())
