"""Arenas across RAM regions (board [[ram_regions]], plan/regions.py): the board fields checked
one sentence each; the split held to the planner's invariants on random buffers (no overlap
within a region, each region within its capacity, parts addressed from one base kept together);
and kws_ref_model on an emulated board whose [ram] and second region are each too small for it:
it builds, the arena's parts sit in their regions, the report gives each region's use, and the
outputs under QEMU are TFLM's."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import shared_model
from tinykiln.errors import TinykilnError
from tinykiln.plan.planner import Buffer, check_overlaps, plan
from tinykiln.plan.regions import ArenaRegion, split_regions
from tinykiln.targets.board import load_board_file

BOARD = """description = "test: mps2-an386 with {ram} bytes of [ram] and a second region"
arch = "arm"
cpu = "cortex-m4"
fpu = "fpv4-sp-d16"
float_abi = "hard"
clock_hz = 25000000
stack_bytes = {stack}
exit = "semihosting"
qemu_machine = "mps2-an386"

[flash]
origin = 0x00000000
length = 0x00400000

[ram]
origin = 0x20000000
length = {ram}

[[ram_regions]]
name = "psram"
origin = 0x21000000
length = {region}
speed = 1
{more}
[console]
kind = "cmsdk_uart"
address = 0x40004000
"""


def _board(tmp_path, name="two-ram", ram=8192, region=8192, stack=2048, more=""):
    p = tmp_path / f"{name}.toml"
    p.write_text(BOARD.format(ram=ram, region=region, stack=stack, more=more))
    return p


@pytest.mark.parametrize("more, field", [
    ('\n[[ram_regions]]\nname = "psram"\norigin = 0x22000000\nlength = 16\nspeed = 2\n',
     "ram_regions[1].name"),
    ('\n[[ram_regions]]\nname = "b"\norigin = 0x20001000\nlength = 16\nspeed = 2\n',
     "ram_regions[1].origin"),
    ('\n[[ram_regions]]\nname = "b"\norigin = 0x21001000\nlength = 16\nspeed = 2\n',
     "ram_regions[1].origin"),
    ('\n[[ram_regions]]\nname = "b c"\norigin = 0x22000000\nlength = 16\nspeed = 2\n',
     "ram_regions[1].name"),
    ('\n[[ram_regions]]\nname = "RAM"\norigin = 0x22000000\nlength = 16\nspeed = 2\n',
     "ram_regions[1].name"),
    ('\n[[ram_regions]]\nname = "b"\norigin = 0x22000000\nlength = 16\n',
     "ram_regions[1].speed"),
    ('\n[[ram_regions]]\nname = "b"\norigin = 0x22000000\nlength = 16\nspeed = 2\nfast = 1\n',
     "ram_regions[1].fast"),
])
def test_region_fields_checked(tmp_path, more, field):
    with pytest.raises(TinykilnError) as e:
        load_board_file(_board(tmp_path, more=more))
    msg = str(e.value)
    assert f"field '{field}'" in msg and msg.count(". ") == 0 and msg.endswith("."), msg


def test_regions_sorted_by_speed(tmp_path):
    more = '\n[[ram_regions]]\nname = "fast"\norigin = 0x22000000\nlength = 64\nspeed = 0\n'
    with pytest.raises(TinykilnError, match="speed"):
        load_board_file(_board(tmp_path, more=more))
    p = _board(tmp_path, more=more.replace("speed = 0", "speed = 1"))
    p.write_text(p.read_text().replace("speed = 1\n", "speed = 2\n", 1))     # psram slower
    assert [(r.name, r.speed) for r in load_board_file(p).ram_regions] == [("fast", 1),
                                                                           ("psram", 2)]


def _random_buffers(rng, n):
    out = []
    for i in range(n):
        first = int(rng.integers(0, 12))
        out.append(Buffer(("t", i), int(rng.integers(1, 400)), first,
                          first + int(rng.integers(0, 5))))
    return out


@pytest.mark.parametrize("seed", range(8))
def test_split_holds_the_invariants(seed):
    rng = np.random.default_rng(seed)
    buffers = _random_buffers(rng, int(rng.integers(4, 30)))
    whole = plan(buffers).arena_size
    caps = [int(whole * rng.uniform(0.2, 0.7)), int(whole * rng.uniform(0.2, 0.7)), whole]
    regions = [ArenaRegion("" if i == 0 else f"r{i}", c) for i, c in enumerate(caps)]
    work = {b.key: int(rng.integers(0, 1000)) for b in buffers}
    keys = [b.key for b in buffers]
    together = [set(keys[:3])]
    plans, where = split_regions(buffers, regions, work, together)
    assert set(where) == set(keys)
    assert len({where[k] for k in keys[:3]}) == 1
    for r, p in enumerate(plans):
        mine = [b for b in buffers if where[b.key] == r]
        assert not check_overlaps(mine, p.offsets)
        assert p.arena_size <= caps[r] or r == len(caps) - 1
    # the whole plan fits region 0: nothing moves
    plans, where = split_regions(buffers, [ArenaRegion("", whole), ArenaRegion("x", 10)], work, [])
    assert len(plans) == 1 and set(where.values()) == {0}


def test_most_worked_bytes_stay_fast():
    """Two buffers live together, room for one in region 0: the one with more work per byte."""
    a, b = Buffer(("t", 0), 100, 0, 1), Buffer(("t", 1), 100, 0, 1)
    for hot in (a, b):
        cold = b if hot is a else a
        _, where = split_regions([a, b], [ArenaRegion("", 100), ArenaRegion("x", 1000)],
                                 {hot.key: 50, cold.key: 5}, [])
        assert where[hot.key] == 0 and where[cold.key] == 1


def test_too_big_for_all_regions(tmp_path, capsys):
    """Named per region, before anything is compiled by gcc."""
    from tinykiln.cli.main import main
    kws = shared_model("kws_ref_model.tflite")
    board = _board(tmp_path, ram=4096, region=4096)
    assert main(["build", str(kws), "--board", str(board), "-o", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    import re
    m = re.search(r"RAM region psram over by at least (\d+) bytes", err)
    assert m and int(m.group(1)) > 0, err
    assert not (tmp_path / "o").exists()


needs_arm = pytest.mark.skipif(not (shutil.which("arm-none-eabi-gcc")
                                    and shutil.which("qemu-system-arm")),
                               reason="needs arm-none-eabi-gcc and qemu-system-arm")


@needs_arm
@pytest.mark.parametrize("ram, stack", [(8192, 2048), (10112, 1024)])
def test_kws_across_two_regions(tmp_path, capsys, ram, stack):
    """[ram] 8 KiB, psram 8 KiB: kws needs 11 KiB. The second case sets aside too little stack
    (1 KiB): the whole arena is planned into [ram], the link overflows it, and the build plans
    again with less of [ram] for the arena."""
    from elftools.elf.elffile import ELFFile

    from tflm_oracle import tflm_run
    from tinykiln.cli.main import main
    kws = shared_model("kws_ref_model.tflite")
    board = _board(tmp_path, ram=ram, stack=stack)
    x = np.random.default_rng(5).integers(-128, 128, (3, 49, 10, 1), dtype=np.int8)
    np.save(tmp_path / "x.npy", x)
    assert main(["build", str(kws), "--board", str(board), "-o", str(tmp_path / "b")]) == 0
    out = capsys.readouterr().out
    assert "psram" in out, out
    r = json.loads((tmp_path / "b" / "report.json").read_text())
    (g,) = r["ram_regions"]
    assert g["name"] == "psram" and 0 < g["arena"] <= g["used"] <= 8192
    assert r["ram"]["used"] <= ram
    with open(tmp_path / "b" / "firmware.elf", "rb") as fh:
        sym = {s.name: s["st_value"] for s in ELFFile(fh).get_section_by_name(".symtab")
               .iter_symbols()}
    assert 0x21000000 <= sym["tk_arena_psram"] < 0x21000000 + 8192
    assert 0x20000000 <= sym["tk_arena"] < 0x20000000 + ram
    assert main(["run", str(kws), "--board", str(board), "--input", str(tmp_path / "x.npy"),
                 "-o", str(tmp_path / "y.npy")]) == 0
    want = tflm_run(Path(kws).read_bytes(), [x])[0]
    assert np.array_equal(np.load(tmp_path / "y.npy"), want.reshape(3, 1, 12))
