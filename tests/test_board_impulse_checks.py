"""Numbers and names in impulse and board files, through the CLI: NaN, infinities and values out
of range are refused with the file and the field named, in one sentence, exit status 1, before
anything is written; board names: a missing board file, a near-miss name ("did you mean") and a
board file whose name cannot be a board name."""
from __future__ import annotations

import re

import pytest

from tinykiln.targets.board import get_board
from tinykiln.cli.main import main as cli
from tinykiln.demo import DEMO_IMPULSE, demo_model

MFE = """\
[input]
sample_rate = 16000
window = 16000

[dsp]
block = "mfe"
preset = "librosa_mfe"
frame_length = 640
frame_stride = 320
n_fft = 1024
n_mels = 10

[model]
path = "demo_dscnn.tflite"
"""
# only field checks use this one (its 7 features do not fit the demo model)
SPECTRAL = """\
[input]
sample_rate = 100
window = 490

[dsp]
block = "spectral"
frame_length = 490
n_fft = 512
bands = [[0.5, 5.0], [5.0, 20.0]]
n_peaks = 2

[model]
path = "demo_dscnn.tflite"
"""

# (case, base file, (old, new) edit, what the message must contain)
IMPULSE = [
    ("gain inf", DEMO_IMPULSE, ("n_mfcc = 10", "n_mfcc = 10\ngain = inf"),
     "field 'dsp.gain' is inf; it must be a finite number"),
    ("gain nan", DEMO_IMPULSE, ("n_mfcc = 10", "n_mfcc = 10\ngain = nan"),
     "field 'dsp.gain' is nan; it must be a finite number"),
    ("spectrum_scale nan", DEMO_IMPULSE, ("n_mfcc = 10", "n_mfcc = 10\nspectrum_scale = nan"),
     "field 'dsp.spectrum_scale' is nan"),
    ("offset inf", MFE, ("n_mels = 10", "n_mels = 10\noffset = inf"),
     "field 'dsp.offset' is inf; it must be a finite number"),
    ("offset -inf", MFE, ("n_mels = 10", "n_mels = 10\noffset = -inf"), "field 'dsp.offset' is -inf"),
    ("clip nan", MFE, ("n_mels = 10", "n_mels = 10\nclip = [nan, nan]"),
     "field 'dsp.clip' is [nan, nan]; it must be [low, high], finite"),
    ("clip inf", MFE, ("n_mels = 10", "n_mels = 10\nclip = [-inf, inf]"), "field 'dsp.clip' is [-inf, inf]"),
    ("eps inf", MFE, ("n_mels = 10", "n_mels = 10\neps = inf"), "field 'dsp.eps' is inf"),
    ("fmin nan", MFE, ("n_mels = 10", "n_mels = 10\nfmin = nan"), "field 'dsp.fmin' is nan"),
    ("preemph nan", MFE, ("n_mels = 10", "n_mels = 10\npreemph = nan"), "field 'dsp.preemph' is nan"),
    ("floor_db nan", SPECTRAL, ("n_peaks = 2", "n_peaks = 2\nfloor_db = nan"),
     "field 'dsp.floor_db' is nan"),
    # out of range
    ("offset too large", MFE, ("n_mels = 10", "n_mels = 10\noffset = 1e300"),
     "field 'dsp.offset' is 1e+300; it must be from -10000 to 10000"),
    ("gain too large", MFE, ("n_mels = 10", "n_mels = 10\ngain = 1e30"),
     "field 'dsp.gain' is 1e+30; its magnitude must be from 1e-09 to 1e+09"),
    ("gain too small", MFE, ("n_mels = 10", "n_mels = 10\ngain = -1e-300"), "field 'dsp.gain' is -1e-300"),
    ("eps too large", MFE, ("n_mels = 10", "n_mels = 10\neps = 1e300"),
     "field 'dsp.eps' is 1e+300; the log's floor must be from 1e-40 to 1e+06"),
    ("eps denormal", MFE, ("n_mels = 10", "n_mels = 10\neps = 5e-324"), "field 'dsp.eps' is 4.94066e-324"),
    ("spectrum_scale tiny", MFE, ("n_mels = 10", "n_mels = 10\nspectrum_scale = 9.332636185032189e-302"),
     "field 'dsp.spectrum_scale' is 9.332636185032189e-302; it must be a power of two from 2^-32"),
    ("floor_db too large", SPECTRAL, ("n_peaks = 2", "n_peaks = 2\nfloor_db = 1e300"),
     "field 'dsp.floor_db' is 1e+300; it must be from -1000 to 1000 dB"),
    ("sample_rate too large", MFE, ("sample_rate = 16000", "sample_rate = 9223372036854775807"),
     "field 'input.sample_rate' is 9223372036854775807; it must be from 1 to 10000000 Hz"),
    ("sample_rate zero", MFE, ("sample_rate = 16000", "sample_rate = 0"),
     "field 'input.sample_rate' is 0; it must be from 1 to 10000000"),
    ("window too large", MFE, ("window = 16000", "window = 100000000000"),
     "field 'input.window' is 100000000000; it must be from 1 to 16777216 samples per axis"),
    ("stride beyond window", MFE, ("frame_stride = 320", "frame_stride = 9223372036854775807"),
     "field 'dsp.frame_stride' is 9223372036854775807 samples, longer than the window"),
    ("clip outside the model's input range", MFE, ("n_mels = 10", "n_mels = 10\nclip = [1000.0, 2000.0]"),
     "field 'dsp.clip' is [1000.0, 2000.0], outside what the model's int8 input holds"),
]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("checks")
    (d / "demo_dscnn.tflite").write_bytes(demo_model())
    return d


def _refused(argv, capsys) -> str:
    assert cli(argv) == 1
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and err.count("\n") == 0, err
    assert err.startswith("tinykiln: error: ") and err.endswith((".", "?")), err
    return err


@pytest.mark.parametrize("case,base,edit,msg", IMPULSE, ids=[c[0] for c in IMPULSE])
def test_impulse_number_is_refused(case, base, edit, msg, model_dir, tmp_path, capsys):
    assert base.count(edit[0]) == 1, case
    p = tmp_path / "imp.toml"
    p.write_text(base.replace(edit[0], edit[1]))
    (tmp_path / "demo_dscnn.tflite").write_bytes((model_dir / "demo_dscnn.tflite").read_bytes())
    out = tmp_path / "out"
    err = _refused(["compile", str(p), "-o", str(out)], capsys)
    assert f"impulse file {p}" in err and msg in err, err
    assert not out.exists()


def test_unedited_bases_compile(model_dir, tmp_path, capsys):
    """The bases of the table are good files: the edit alone is refused."""
    for i, base in enumerate((DEMO_IMPULSE, MFE)):
        p = model_dir / f"ok{i}.toml"
        p.write_text(base)
        assert cli(["compile", str(p), "-o", str(tmp_path / f"out{i}")]) == 0
    capsys.readouterr()


# ---- board files

BOARD = get_board("mps2-an386").path.read_text()

BOARDS = [
    ("origin beyond 32 bits", ("origin = 0x00000000", "origin = 0x100000000"),
     "field 'flash.origin' is 4294967296; it must be from 0 to 4294967295 (a 32-bit address)"),
    ("region end beyond 32 bits", ("length = 0x00400000", "length = 0x100000001"),
     "field 'flash.length' puts the region's end at 0x100000001"),
    ("length zero", ("length = 0x00400000", "length = 0"), "field 'flash.length' must be greater than 0"),
    ("length negative", ("length = 0x00400000", "length = -4"), "field 'flash.length' must not be negative"),
    ("ram overlaps flash", ("origin = 0x20000000", "origin = 0x00100000"), "field 'ram' overlaps flash"),
    ("stack tiny", ("stack_bytes = 16384", "stack_bytes = 8"),
     "field 'stack_bytes' is 8; it must be a multiple of 8 and at least 1024"),
    ("stack odd", ("stack_bytes = 16384", "stack_bytes = 16383"), "field 'stack_bytes' is 16383"),
    ("stack beyond ram", ("stack_bytes = 16384", "stack_bytes = 0x7FFFFFFFFFFFFFF8"),
     "field 'stack_bytes' is 9223372036854775800, not less than the RAM"),
    ("clock zero", ("clock_hz = 25000000", "clock_hz = 0"),
     "field 'clock_hz' is 0; it must be from 1 to 4294967295 Hz"),
    ("clock huge", ("clock_hz = 25000000", "clock_hz = 9223372036854775807"), "field 'clock_hz' is 9223372036854775807"),
    ("console address beyond 32 bits", ("address = 0x40004000", "address = 0x140004000"),
     "field 'console.address' is 5368725504; it must be from 0 to 4294967295"),
    ("console address unaligned", ("address = 0x40004000", "address = 0x40004001"),
     "field 'console.address' is 0x40004001, not a 4-byte aligned register address"),
    ("qemu machine with options", ('qemu_machine = "mps2-an386"', 'qemu_machine = "mps2-an386,dumpdtb=x"'),
     "field 'qemu_machine' is 'mps2-an386,dumpdtb=x', not a QEMU machine name"),
    ("cflag with shell or SCons syntax", ("[flash]", 'extra_cflags = ["-DX=$(touch /tmp/pwned)"]\n\n[flash]'),
     "field 'extra_cflags[0]' is '-DX=$(touch /tmp/pwned)'; a flag begins with '-'"),
]


@pytest.mark.parametrize("case,edit,msg", BOARDS, ids=[c[0] for c in BOARDS])
def test_board_number_is_refused(case, edit, msg, model_dir, tmp_path, capsys):
    assert BOARD.count(edit[0]) >= 1, case
    p = tmp_path / "myboard.toml"
    p.write_text(BOARD.replace(edit[0], edit[1], 1))
    out = tmp_path / "out"
    err = _refused(["build", str(model_dir / "demo_dscnn.tflite"), "--board", str(p), "-o",
                    str(out)], capsys)
    assert f"board file {p}" in err and msg in err, err
    assert not out.exists()


def test_board_base_and_console_baud(tmp_path):
    """The base file loads; baud out of range is named (a board with console bring-up)."""
    p = tmp_path / "ok.toml"
    p.write_text(BOARD)
    assert get_board(str(p)).name == "ok"
    pico = get_board("rpi-pico").path.read_text()
    assert "baud = 115200" in pico
    p.write_text(pico.replace("baud = 115200", "baud = 0"))
    with pytest.raises(Exception, match=r"field 'console.baud' is 0; it must be from 1 to 20000000"):
        get_board(str(p))


@pytest.mark.parametrize("board,msg", [
    ("missing.toml", "board file {tmp}/missing.toml does not exist."),
    ("sub/dir/x.toml", "board file {tmp}/sub/dir/x.toml does not exist."),
    ("mps2-an368", "unknown board 'mps2-an368' (did you mean mps2-an386, "),
    ("nrf52840dk", "unknown board 'nrf52840dk' (did you mean nrf52840-dk?); known boards: "),
    ("zzz", "unknown board 'zzz'; known boards: host, "),
    ("a b.toml", "board file {tmp}/a b.toml: the board name (the file name without .toml) may "
                 "hold only letters, digits, '.', '_' and '-'"),
    ("x.txt", "board file {tmp}/x.txt is not a .toml file."),
])
def test_board_names(board, msg, model_dir, tmp_path, capsys):
    if board in ("a b.toml", "x.txt"):
        (tmp_path / board).write_text(BOARD)
    arg = board if "/" not in board and not board.endswith((".toml", ".txt")) else str(tmp_path / board)
    out = tmp_path / "out"
    err = _refused(["build", str(model_dir / "demo_dscnn.tflite"), "--board", arg, "-o", str(out)],
                   capsys)
    assert msg.format(tmp=tmp_path) in err, err
    assert re.search(r"\bTraceback\b", err) is None
