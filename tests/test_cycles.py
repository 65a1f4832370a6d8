"""Estimated cycles (`tinykiln run --profile`): the QEMU plugin's per-class counts on a hand-made
image whose instructions are known (SDIV, SMLAD, LDM, a counted loop), class counts that add up to
the exact instruction counts of every layer of a real model, the per-core timing tables, and the
estimate's label in the printed table and the JSON."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tinykiln.targets.board import get_board
from tinykiln.targets.cycles import CLASSES, TIMINGS, class_counts, estimate, timing_for

MODELS = Path(__file__).resolve().parents[2] / "shared" / "models"
AD01 = MODELS / "ad01_int8.tflite"

need_qemu = pytest.mark.skipif(
    shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
    reason="arm-none-eabi-gcc and qemu-system-arm are needed")

# Five windows between six marker calls; each holds the marker's own `bx lr` and the next `bl`.
HARNESS = r"""
#include "tk_firmware.h"

void tk_cyc_mark(void);
__attribute__((noinline, noipa)) void tk_cyc_mark(void) {
    __asm__ volatile("" ::: "memory");
}

static volatile int32_t sink[4];
static uint32_t words[4] __attribute__((aligned(8))) = {1, 2, 3, 4};

int main(void) {
    int32_t a = sink[0] + 1000, b = sink[1] + 7, acc = 0;
    tk_cyc_mark();
    __asm__ volatile(".rept 10\n\tsdiv %0, %1, %2\n\t.endr" : "=&r"(acc) : "r"(a), "r"(b));
    tk_cyc_mark();
    __asm__ volatile(".rept 8\n\tsmlad %0, %1, %2, %0\n\t.endr" : "+r"(acc) : "r"(a), "r"(b));
    tk_cyc_mark();
    __asm__ volatile(".rept 3\n\tldm %0, {r4, r5, r6, r7}\n\t.endr" :: "r"(words)
                     : "r4", "r5", "r6", "r7", "memory");
    tk_cyc_mark();
    __asm__ volatile("movs r4, #5\n1:\n\tsubs r4, r4, #1\n\tbne 1b" ::: "r4", "cc");
    tk_cyc_mark();
    __asm__ volatile(".rept 6\n\tldr r4, [%0]\n\t.endr\n\t.rept 4\n\tnop\n\tldr r4, [%0]\n\t.endr"
                     :: "r"(words) : "r4", "memory");
    tk_cyc_mark();
    sink[2] = acc;
    return TK_EXIT_OK;
}
"""


@pytest.fixture(scope="module")
def windows(tmp_path_factory):
    """Class counts of the five windows of HARNESS on mps2-an386."""
    from tinykiln.targets.firmware import build_harness
    from tinykiln.targets.qemu import run_harness
    board = get_board("mps2-an386")
    d = tmp_path_factory.mktemp("cyc")
    elf = build_harness(board, {"tk_cyc.c": HARNESS}, d)
    res = run_harness(elf, board, marker="tk_cyc_mark", classes=True, timeout=60)
    assert len(res.rows) == 6 and [r[0] for r in res.rows] == res.samples
    return [class_counts(a, b) for a, b in zip(res.rows, res.rows[1:])]


def _others(w: dict, *names: str) -> dict:
    return {k: v for k, v in w.items() if k not in ("instructions", *names) and v}


@need_qemu
def test_hand_made_classes(windows):
    for w in windows:
        assert sum(w[c] for c in CLASSES) == w["instructions"]
        # every window: the marker's `bx lr` and the `bl` to the next marker, both taken
        assert w["branch"] >= 2 and w["taken"] >= 2
    div, mac, ldm, loop, loads = windows
    assert div["div"] == 10 and mac["div"] == 0
    assert mac["dsp_mac"] == 8 and div["dsp_mac"] == 0
    assert (ldm["multiple"], ldm["registers"]) == (3, 12)
    # (the address of `words` may come from a literal load)
    assert _others(ldm, "multiple", "registers", "alu", "load") == {"branch": 2, "taken": 2}
    # 5 iterations: 5 subs + 5 bne, 4 taken; plus movs, bx lr and bl
    assert (loop["branch"], loop["taken"]) == (5 + 2, 4 + 2)
    # six back-to-back loads: the first is a 2-cycle load, the next five pipeline; a load after
    # a nop does not
    assert (loads["load"], loads["ldst_pipelined"]) == (1 + 4, 5)


@need_qemu
def test_hand_made_cycles_per_core(windows):
    div, mac, ldm, loop, loads = windows
    m4, m7 = TIMINGS["cortex-m4"], TIMINGS["cortex-m7"]
    # Cortex-M4 TRM: SDIV 2-12 (7 taken), LDM 1+N, taken branch 1+P (P = 2), LDR 2, pipelined 1
    assert timing_for("cortex-m4") is m4
    assert estimate(div, m4) == div["instructions"] + 10 * (7 - 1) + 2 * 2
    assert estimate(ldm, m4) == ldm["instructions"] + 12 + ldm["load"] + 2 * 2
    assert estimate(loop, m4) == loop["instructions"] + 6 * 2
    assert estimate(loads, m4) == loads["instructions"] + 5 + 2 * 2
    # the M7 loads in one cycle and refills a predicted branch in one: its estimate is lower
    assert estimate(loads, m7) == loads["instructions"] + 2 * 1
    assert estimate(loads, m7) < estimate(loads, m4)
    for w in windows:
        assert estimate(w, m4) >= w["instructions"]
    assert timing_for("rv32imac") is None and timing_for("cortex-m0") is None


def test_tables_and_rows():
    assert set(TIMINGS) == {"cortex-m4", "cortex-m33", "cortex-m7", "cortex-m55"}
    for t in TIMINGS.values():
        assert set(t.cost) == set(CLASSES) and all(v >= 1 for v in t.cost.values())
    assert TIMINGS["cortex-m4"].cost["load"] == 2 and TIMINGS["cortex-m7"].cost["load"] == 1
    with pytest.raises(RuntimeError, match="columns"):
        class_counts([1, 2], [3, 4])
    from tinykiln.targets.cycles import timing_rows
    rows = {r[0]: r for r in timing_rows()}
    assert set(rows) == {*CLASSES, "taken"}
    assert rows["div"][2] == "7 (2-12)" and rows["multiple"][2:4] == ("1 + N", "1 + N")
    assert rows["load"][2:] == ("2", "2", "1", "2")


def test_format_without_estimate():
    from tinykiln.targets.qemu import format_profile
    p = {"layers": [{"op": 0, "opcode": "FULLY_CONNECTED", "instructions": 100, "macs": 50,
                     "macs_per_instruction": 0.5}],
         "instructions": 100, "macs": 50, "macs_per_instruction": 0.5, "est_cycles": None,
         "cycle_note": "no cycle estimate for rv32imac: timing tables exist for Cortex-M4, "
                       "M7, M33 and M55 only"}
    text = format_profile(p)
    assert "est. cycles" in text and "no cycle estimate for rv32imac" in text
    assert text.splitlines()[1].split()[3] == "-"


@need_qemu
def test_model_profile_estimate(tmp_path, monkeypatch, capsys):
    if not AD01.is_file():
        pytest.skip(f"{AD01} is absent")
    from tinykiln.cli.main import main
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    x = np.random.default_rng(1).integers(-128, 128, (1, 640), dtype=np.int8)
    np.save(tmp_path / "x.npy", x)
    profiles = {}
    for board in ("mps2-an386", "mps2-an500"):
        pj = tmp_path / f"{board}.json"
        assert main(["run", str(AD01), "--board", board, "--input", str(tmp_path / "x.npy"),
                     "-o", str(tmp_path / "y.npy"), "--profile-json", str(pj)]) == 0
        out = capsys.readouterr().out
        assert "est. cycles" in out and "an ESTIMATE for Cortex-M" in out
        profiles[board] = p = json.loads(pj.read_text())
        assert p["cycle_model"]["estimate"] is True
        for L in p["layers"]:
            assert sum(L["classes"][c] for c in CLASSES) == L["instructions"]
        assert sum(L["est_cycles"] for L in p["layers"]) == pytest.approx(p["est_cycles"], abs=10)
    m4, m7 = profiles["mps2-an386"], profiles["mps2-an500"]
    assert m4["cycle_model"]["core"] == "Cortex-M4" and m7["cycle_model"]["core"] == "Cortex-M7"
    assert m4["est_cycles"] > m4["instructions"]
    assert all(L["est_cycles"] >= L["instructions"] for L in m4["layers"])
    # the fully-connected layers run the DSP path on the M4: SMLAD family, no divisions
    fcs = [L for L in m4["layers"] if L["opcode"] == "FULLY_CONNECTED"]
    assert fcs and all(L["classes"]["dsp_mac"] > 0 for L in fcs)
    assert all(L["classes"]["div"] == 0 for L in fcs)
    # the M7 table (single-cycle loads) gives fewer cycles for the same kind of code
    assert m7["est_cycles"] < m4["est_cycles"]


LOB_HARNESS = r"""
#include "tk_firmware.h"

void tk_cyc_mark(void);
__attribute__((noinline, noipa)) void tk_cyc_mark(void) {
    __asm__ volatile("" ::: "memory");
}

int main(void) {
    tk_cyc_mark();
    __asm__ volatile("movs r4, #6\n\tdls lr, r4\n1:\n\tadds r4, r4, #1\n\tle lr, 1b"
                     ::: "r4", "lr", "cc");
    tk_cyc_mark();
    return TK_EXIT_OK;
}
"""


@need_qemu
def test_low_overhead_loop_on_m55(tmp_path):
    """QEMU 7.2's disassembler does not know DLS/LE: the plugin decodes them; an LE jumping back
    costs no refill (cached loop), only the `bx lr` and `bl` around the window are taken."""
    from tinykiln.targets.firmware import build_harness
    from tinykiln.targets.qemu import run_harness
    board = get_board("mps3-an547")
    elf = build_harness(board, {"tk_cyc.c": LOB_HARNESS}, tmp_path)
    res = run_harness(elf, board, marker="tk_cyc_mark", classes=True, timeout=60)
    w = class_counts(*res.rows)
    assert sum(w[c] for c in CLASSES) == w["instructions"]
    # movs, dls, 6 x (adds, le), bx lr, bl
    assert w["instructions"] == 2 + 6 * 2 + 2
    assert (w["branch"], w["taken"]) == (6 + 2, 2)
