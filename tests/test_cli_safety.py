"""The command line never loses a user's file: -o is refused (one sentence, exit 1, nothing
touched) for the current folder, a folder of other files, an existing file and a folder holding
an input; a folder tinykiln wrote is rewritten; --force replaces a foreign folder but never one
holding an input. `run --output` and `features -o` write exactly the file named. Every message of
a user's mistake is one line naming the file. Commands run in-process through tinykiln.cli.main.main."""
from __future__ import annotations

import hashlib
import os
import shutil
import stat
from pathlib import Path

import numpy as np
import pytest

from modelgen import ModelBuilder
from tinykiln.cli.main import build_parser, main
from tinykiln.outdir import MARKER

need_arm = pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None,
                              reason="arm-none-eabi-gcc is not installed: no firmware build")


def fc_model(n_outputs: int = 1) -> bytes:
    """FULLY_CONNECTED 16 -> 4 (int8); with n_outputs=2 a second FULLY_CONNECTED 16 -> 3."""
    rng = np.random.default_rng(0)
    b = ModelBuilder()
    x = b.input((1, 16), scale=0.1, zero_point=3)
    for k, width in enumerate((4, 3)[:n_outputs]):
        w = b.const(rng.integers(-127, 128, (width, 16), dtype=np.int8), scale=0.01, zero_point=0)
        y = b.tensor((1, width), scale=0.3 + k, zero_point=-2)
        b.op("FULLY_CONNECTED", [x, w, -1], [y])
        b.output(y)
    return b.build()


def cli(capsys, *args):
    """(exit status, stdout, stderr lines) of `tinykiln ARGS` run in this process."""
    capsys.readouterr()
    rc = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, [ln for ln in err.splitlines() if ln.strip()]


def assert_refused(result, *words):
    rc, _, err = result
    assert rc == 1, err
    assert len(err) == 1 and err[0].startswith("tinykiln: error: "), err
    for w in words:
        assert str(w) in err[0], err[0]
    return err[0]


def tree(root: Path) -> dict:
    """Every file and folder under root: relative path -> (mode, sha256 of the bytes)."""
    out = {}
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        data = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else None
        out[str(p.relative_to(root))] = (stat.S_IMODE(st.st_mode), data)
    return out


def tree_of(root: Path, sub: Path) -> dict:
    """The entries of tree(root) at and under sub."""
    return {k: v for k, v in tree(root).items()
            if (root / k) == sub or sub in (root / k).parents}


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """A scratch folder, the current folder, holding a model and other files of the user's."""
    d = tmp_path / "work"
    (d / "other").mkdir(parents=True)
    (d / "m.tflite").write_bytes(fc_model())
    (d / "notes.txt").write_text("my notes\n")
    (d / "other" / "data.csv").write_text("1,2,3\n")
    (d / "models").mkdir()
    (d / "models" / "m2.tflite").write_bytes(fc_model())
    (d / "empty").mkdir()
    monkeypatch.chdir(d)
    return d


# ---- output folders (acceptance 1)

REFUSED = [
    (["-o", "."], ["current folder"]),
    (["-o", "./"], ["current folder"]),
    (["-o", ".."], ["holds the current folder"]),
    (["-o", "other"], ["other", "did not write", "--force"]),
    (["-o", "notes.txt"], ["notes.txt", "existing file"]),
    (["-o", "notes.txt/out"], ["notes.txt", "is a file"]),
    (["-o", "models", "--force"], ["models", "holds the input"]),
    (["-o", ".", "--force"], ["current folder"]),
]


@pytest.mark.parametrize("cmd", [["compile"], ["export-platformio", "--board", "mps2-an386"],
                                 ["build", "--board", "mps2-an386"]])
@pytest.mark.parametrize("args,words", REFUSED)
def test_output_folder_refused_and_nothing_touched(scratch, capsys, cmd, args, words):
    """Refused before any work (no toolchain needed), every file byte for byte as before."""
    model = "models/m2.tflite" if "models" in args else "m.tflite"
    before = tree(scratch.parent)
    assert_refused(cli(capsys, cmd[0], model, *cmd[1:], *args), *words)
    assert tree(scratch.parent) == before


def test_the_folder_check_comes_before_the_work(scratch, capsys):
    """A model that does not exist: the output folder is refused first (fail fast)."""
    assert_refused(cli(capsys, "compile", "missing.tflite", "-o", "other"), "other")
    assert_refused(cli(capsys, "build", "missing.tflite", "--board", "mps2-an386", "-o", "."),
                   "current folder")


def test_folder_holding_an_input_is_refused(scratch, capsys):
    """The folder of the model, of calibration data, of a board file, of an impulse's model."""
    before = tree(scratch.parent)
    assert_refused(cli(capsys, "compile", str(scratch / "m.tflite"), "-o", str(scratch)),
                   "current folder")
    assert_refused(cli(capsys, "compile", "models/m2.tflite", "-o", "models"), "models",
                   "holds the input")
    board = scratch / "boards" / "myboard.toml"
    board.parent.mkdir()
    shutil.copy(Path(__file__).resolve().parent.parent / "boards" / "mps2-an386.toml", board)
    assert tree(scratch.parent) == {**before, **tree_of(scratch.parent, board.parent)}
    before = tree(scratch.parent)
    assert_refused(cli(capsys, "build", "m.tflite", "--board", board, "-o", "boards", "--force"),
                   "boards", "holds the input")
    assert tree(scratch.parent) == before
    # an impulse file in one folder naming a model in another: both are inputs
    (scratch / "imp").mkdir()
    (scratch / "imp" / "i.toml").write_text(
        "[input]\nsample_rate = 16000\nwindow = 16000\n[dsp]\nblock = \"mfcc\"\n"
        "preset = \"tf_mfcc\"\nframe_length = 640\nframe_stride = 320\nn_fft = 1024\n"
        "n_mfcc = 10\n[model]\npath = \"../models/m2.tflite\"\n")
    before = tree(scratch.parent)
    assert_refused(cli(capsys, "compile", "imp/i.toml", "-o", "models", "--force"),
                   "models", "holds the input")
    assert_refused(cli(capsys, "compile", "imp/i.toml", "-o", "imp", "--force"), "imp",
                   "holds the input")
    assert tree(scratch.parent) == before


def test_rewriting_a_folder_tinykiln_wrote(scratch, capsys):
    rc, out, err = cli(capsys, "compile", "m.tflite", "-o", "out/")
    assert rc == 0, err
    assert "to out/ in" in out and "//" not in out
    assert (scratch / "out" / MARKER).is_file() and (scratch / "out" / "model.c").is_file()
    rc, _, err = cli(capsys, "compile", "m.tflite", "-o", "out", "--name", "kws")
    assert rc == 0, err
    names = {p.name for p in (scratch / "out").iterdir()}
    assert "kws.c" in names and "model.c" not in names      # replaced whole
    # an empty folder may be used
    assert cli(capsys, "compile", "m.tflite", "-o", "empty")[0] == 0
    assert (scratch / "empty" / "model.c").is_file() and (scratch / "empty" / MARKER).is_file()
    assert not [p for p in scratch.iterdir() if ".tmp" in p.name or ".old" in p.name]


def test_force_replaces_a_foreign_folder_only(scratch, capsys):
    rc, _, err = cli(capsys, "compile", "m.tflite", "-o", "other", "--force")
    assert rc == 0, err
    assert not (scratch / "other" / "data.csv").exists() and (scratch / "other" / "model.c").exists()
    assert (scratch / "m.tflite").read_bytes() == fc_model()


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o002])
def test_modes_follow_the_umask(scratch, capsys, umask):
    old = os.umask(umask)
    try:
        assert cli(capsys, "compile", "m.tflite", "-o", "out")[0] == 0
        assert cli(capsys, "compile", "m.tflite", "-o", "out")[0] == 0      # replaced too
    finally:
        os.umask(old)
    out = scratch / "out"
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~umask
    for f in out.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o666 & ~umask, f


def test_export_platformio_rewrites_its_folder(scratch, capsys):
    for _ in range(2):
        rc, out, err = cli(capsys, "export-platformio", "m.tflite", "--board", "mps2-an386",
                           "-o", "proj/")
        assert rc == 0, err
        assert "//" not in out
    assert (scratch / "proj" / "platformio.ini").is_file() and (scratch / "proj" / MARKER).is_file()


@need_arm
def test_build_rewrites_its_folder_and_force(scratch, capsys):
    rc, out, err = cli(capsys, "build", "m.tflite", "--board", "mps2-an386", "-o", "fw/")
    assert rc == 0, err
    assert "to fw/ in" in out
    elf = (scratch / "fw" / "firmware.elf").read_bytes()
    assert cli(capsys, "build", "m.tflite", "--board", "mps2-an386", "-o", "fw")[0] == 0
    assert (scratch / "fw" / "firmware.elf").read_bytes() == elf
    assert cli(capsys, "build", "m.tflite", "--board", "mps2-an386", "-o", "other",
               "--force")[0] == 0
    assert (scratch / "other" / "firmware.elf").is_file()
    assert not (scratch / "other" / "data.csv").exists()


def test_no_permission_is_one_sentence(scratch, capsys, monkeypatch):
    import tinykiln.outdir as od
    monkeypatch.setattr(od.os, "access", lambda *a, **k: False)
    before = tree(scratch.parent)
    assert_refused(cli(capsys, "compile", "m.tflite", "-o", "new/out"), "new/out", "no permission")
    assert tree(scratch.parent) == before


def test_folder_checked_again_when_replaced(scratch):
    """A folder of the user's that appears while tinykiln works is not replaced."""
    from tinykiln.errors import TinykilnError
    from tinykiln.outdir import staged_output
    with pytest.raises(TinykilnError, match="did not write"):
        with staged_output("late") as tmp:
            (tmp / "model.c").write_text("/* ours */\n")
            (scratch / "late").mkdir()
            (scratch / "late" / "mine.txt").write_text("keep me\n")
    assert [p.name for p in (scratch / "late").iterdir()] == ["mine.txt"]
    assert not [p for p in scratch.iterdir() if p.name.startswith(".late")]


def test_demo_folder_is_checked(scratch, capsys):
    before = tree(scratch.parent)
    assert_refused(cli(capsys, "demo", "-o", "."), "current folder")
    assert_refused(cli(capsys, "demo", "-o", "other"), "other", "did not write")
    assert_refused(cli(capsys, "demo", "-o", "notes.txt"), "notes.txt")
    assert tree(scratch.parent) == before


# ---- files written by run and features: exactly the name given

@pytest.fixture
def arrays(scratch):
    rng = np.random.default_rng(3)
    np.save(scratch / "x.npy", rng.integers(-128, 128, (5, 1, 16), dtype=np.int8))
    np.save(scratch / "x1.npy", rng.integers(-128, 128, (1, 16), dtype=np.int8))
    np.save(scratch / "x_bad.npy", np.zeros((5, 1, 15), np.int8))
    np.save(scratch / "x_none.npy", np.zeros((0, 1, 16), np.int8))
    np.save(scratch / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.savez(scratch / "arch.npz", x=np.zeros(3))
    (scratch / "empty.npy").write_bytes(b"")
    (scratch / "text.npy").write_text("1 2 3\n")
    (scratch / "cut.npy").write_bytes((scratch / "x.npy").read_bytes()[:150])
    (scratch / "two.tflite").write_bytes(fc_model(2))
    (scratch / "model.keras").write_bytes(b"PK\x03\x04 not really")
    (scratch / "kws.toml").write_text(_impulse_toml())
    from tinykiln.demo import demo_model
    (scratch / "demo_dscnn.tflite").write_bytes(demo_model())
    np.save(scratch / "raw.npy", rng.integers(-3000, 3000, (2, 16000), dtype=np.int16))
    return scratch


def _impulse_toml() -> str:
    from tinykiln.demo import DEMO_IMPULSE
    return DEMO_IMPULSE


RUN = ["run", "m.tflite", "--sanitize", "--input"]
# (arguments, words the one-line message must hold, files that must not appear)
MISTAKES = [
    # the output file
    ([*RUN, "x.npy", "--output", "nodir/y.npy"], ["nodir/y.npy", "nodir", "does not exist"], []),
    ([*RUN, "x.npy", "--output", "notes.txt/y.npy"], ["notes.txt", "is a file"], []),
    ([*RUN, "x.npy", "--output", "y.npz"], ["m.tflite", "1 output", ".npy", "y.npz"], ["y.npz"]),
    ([*RUN, "x.npy", "--output", "y.txt"], ["y.txt", ".npy or .npz"], ["y.txt", "y.txt.npy"]),
    ([*RUN, "x.npy", "--output", "other"], ["other", "is a folder"], ["other.npy"]),
    ([*RUN, "x.npy", "--output", "x.npy"], ["x.npy", "input"], []),
    (["run", "two.tflite", "--input", "x.npy", "-o", "y.npy"], ["two.tflite", "2 outputs", ".npz"],
     ["y.npy", "y.npy.npz"]),
    ([*RUN, "x.npy", "-o", "y.npy", "--profile-json", "nodir/p.json"], ["nodir/p.json"], ["y.npy"]),
    (["run", "m.tflite", "--board", "mps2-an386", "--sanitize", "--input", "x.npy", "-o", "y.npy"],
     ["--sanitize", "host"], ["y.npy"]),
    # the input arrays
    ([*RUN, "empty.npy", "-o", "y.npy"], ["empty.npy", "is empty"], ["y.npy"]),
    ([*RUN, "obj.npy", "-o", "y.npy"], ["obj.npy", "Python objects"], ["y.npy"]),
    ([*RUN, "text.npy", "-o", "y.npy"], ["text.npy", "not a .npy file"], ["y.npy"]),
    ([*RUN, "arch.npz", "-o", "y.npy"], ["arch.npz", ".npz archive"], ["y.npy"]),
    ([*RUN, "cut.npy", "-o", "y.npy"], ["cut.npy", "damaged"], ["y.npy"]),
    ([*RUN, "nope.npy", "-o", "y.npy"], ["nope.npy"], ["y.npy"]),
    ([*RUN, "other", "-o", "y.npy"], ["other", "is a folder"], ["y.npy"]),
    ([*RUN, "x_none.npy", "-o", "y.npy"], ["x_none.npy", "no rows"], ["y.npy"]),
    ([*RUN, "x_bad.npy", "-o", "y.npy"], ["(N, 1, 16) or (N, 16)", "(5, 1, 15)"], ["y.npy"]),
    # the model argument
    (["compile", "models", "-o", "out"], ["models", "is a folder", "SavedModel"], ["out"]),
    (["run", "models", "--input", "x.npy", "-o", "y.npy"], ["models", "is a folder"], ["y.npy"]),
    (["run", "model.keras", "--input", "x.npy", "-o", "y.npy"], ["model.keras", "float Keras"],
     ["y.npy"]),
    # calibration data of a Keras model (checked before TensorFlow loads)
    (["compile", "model.keras", "--calibration", "obj.npy", "-o", "out"],
     ["obj.npy", "Python objects"], ["out"]),
    (["compile", "model.keras", "--calibration", "text.npy", "-o", "out"],
     ["text.npy", "neither a .npy nor a .npz"], ["out"]),
    (["compile", "model.keras", "--calibration", "other/data.csv", "-o", "other", "--force"],
     ["other", "holds the input"], ["out"]),
    # features
    (["features", "kws.toml", "--raw", "raw.npy", "-o", "nodir/f.npy"], ["nodir/f.npy", "nodir"],
     []),
    (["features", "kws.toml", "--raw", "raw.npy", "-o", "f.txt"], ["f.txt", ".npy"],
     ["f.txt", "f.txt.npy"]),
    (["features", "kws.toml", "--raw", "empty.npy", "-o", "f.npy"], ["empty.npy", "is empty"],
     ["f.npy"]),
]


@pytest.mark.parametrize("args,words,absent", MISTAKES,
                         ids=[" ".join(a[:1] + a[-3:]) for a, _, _ in MISTAKES])
def test_one_sentence_per_mistake(arrays, capsys, args, words, absent):
    before = tree(arrays.parent)
    msg = assert_refused(cli(capsys, *args), *words)
    assert ". " not in msg and msg.endswith("."), msg       # one sentence
    for f in absent:
        assert not (arrays / f).exists(), f
    assert tree(arrays.parent) == before


def test_run_writes_exactly_the_file_named(arrays, capsys):
    from tflm_oracle import tflm_run
    x = np.load(arrays / "x.npy")
    rc, out, err = cli(capsys, *RUN, "x.npy", "-o", "y.npy")
    assert rc == 0, err
    assert out.strip() == "ran 5 input rows on host (sanitized); wrote y.npy (int8 (5, 1, 4))"
    assert (np.load(arrays / "y.npy") == tflm_run(fc_model(), [x])[0]).all()
    rc, out, err = cli(capsys, *RUN, "x1.npy", "-o", "y1.npy")
    assert rc == 0 and "ran 1 input row on host" in out, err
    rc, out, err = cli(capsys, "run", "two.tflite", "--sanitize", "--input", "x.npy",
                       "--output", "y2.npz")
    assert rc == 0, err
    assert "wrote y2.npz (output0 int8 (5, 1, 4), output1 int8 (5, 1, 3))" in out
    ref = tflm_run(fc_model(2), [x], n_outputs=2)
    with np.load(arrays / "y2.npz") as z:
        assert z.files == ["output0", "output1"]
        assert (z["output0"] == ref[0].reshape(z["output0"].shape)).all()
        assert (z["output1"] == ref[1].reshape(z["output1"].shape)).all()
    assert not [p for p in arrays.iterdir() if p.name.endswith((".npy.npy", ".npz.npy",
                                                                ".npy.npz", ".npz.npz"))]


def test_features_writes_exactly_the_file_named(arrays, capsys):
    rc, out, err = cli(capsys, "features", "kws.toml", "--raw", "raw.npy", "-o", "f.npy")
    assert rc == 0, err
    assert out.rstrip().endswith("wrote f.npy") and "2 windows" in out
    assert np.load(arrays / "f.npy").shape == (2, 49, 10)


# ---- sanitizers

BUG_C = {
    "AddressSanitizer": "#include <stdlib.h>\n"
                        "int tk_bug_size = 4;\n"
                        "__attribute__((constructor)) static void tk_bug(void) {\n"
                        "    volatile char *p = malloc(tk_bug_size); p[tk_bug_size] = 1;\n"
                        "    free((void *)p); }\n",
    "UndefinedBehaviorSanitizer": "volatile int tk_bug_shift = 40;\n"
                                  "__attribute__((constructor)) static void tk_bug(void) {\n"
                                  "    volatile int v = 1 << tk_bug_shift; (void)v; }\n",
}


@pytest.mark.parametrize("sanitizer", sorted(BUG_C))
def test_sanitizer_report_is_one_sentence_naming_the_model(arrays, capsys, monkeypatch, sanitizer):
    """A C fault planted in the host build (a sanitizer report means a tinykiln bug) ends
    `run --sanitize` with one sentence naming the sanitizer and the model, and exit 1."""
    from tinykiln.targets import hostrun
    init = hostrun.HostBuild.__init__

    def planted(self, compiled, *a, **kw):
        kw["extra_files"] = {**(kw.get("extra_files") or {}), "tk_bug.c": BUG_C[sanitizer]}
        init(self, compiled, *a, **kw)

    monkeypatch.setattr(hostrun.HostBuild, "__init__", planted)
    msg = assert_refused(cli(capsys, *RUN, "x.npy", "-o", "y.npy"), sanitizer, "m.tflite",
                         "tinykiln bug")
    assert "tk_bug" in msg or "tk_bug.c" in msg, msg
    assert not (arrays / "y.npy").exists()


# ---- help texts

def test_every_argument_has_help_and_no_internal_words():
    p = build_parser()
    texts = [p.format_help()]
    for act in p._actions:
        assert act.help and act.help.strip(), act.option_strings or act.dest
    sub = next(a for a in p._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, sp in sub.choices.items():
        texts.append(sp.format_help())
        for act in sp._actions:
            assert act.help and act.help.strip(), f"{name} {act.option_strings or act.dest}"
    for t in texts:
        for word in ("TinykilnError", "HostFailure", "cli.py", "argparse"):
            assert word not in t, (word, t)
    demo = sub.choices["demo"].format_help()
    assert "TFLM" in demo and "QEMU" in demo and "MFCC" in demo
    assert "output0" in sub.choices["run"].format_help()
