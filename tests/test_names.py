"""Names never become code: tensor names, model and impulse file names and board names reach the
generated C, headers, linker scripts and SConstruct only as comment text or escaped string
literals. The oracle: the same model with plain names must give the same code once comments and
string literals are stripped (after C's trigraph and line-splicing phases, which run before
comments are recognised), every generated file must be printable ASCII, and the hostile build
must compile with -Wall -Wextra -Werror, run, and match TFLM (and QEMU)."""
from __future__ import annotations

import io
import json
import re
import shutil
import tokenize

import numpy as np
import pytest

from impulse_data import dense_model
from tinykiln.targets.board import get_board
from tinykiln.cli.main import main as cli
from tinykiln.inputs import compile_file
from tinykiln.errors import TinykilnError
from tinykiln.targets.firmware import firmware_sources
from tinykiln.targets.hostrun import HostBuild
from tinykiln.frontend.modelbuilder import ModelBuilder

# what an attacker (or an unlucky exporter) may put in a name
HOSTILE = [
    "evil */ #error injected /*",
    "new\nline\n#error newline",
    "cont \\\n#error continued",
    "trigraph ??/\n#error tri ??= ??' ??( ??) ??! ??< ??> ??-",
    "quotes \" ' \\\" and \\ backslash \\",
    "na\u00efve \u00fcn\u00efc\u00f6d\u00e9 \u2603 \u202e rtl",
    "ctrl \x00 \x07 \x1b[31m \r\n# not a directive \f\v",
    "// line comment \\",
    "*/",
    "/*",
    "?" "?/",
]
# a file name cannot hold '/', but newlines, quotes and backslashes break SConstruct's '#'
# comments and C string literals
HOSTILE_FILE = "evil \"q\" 'a' \\ \u2603 ??= *\n#error nl\nimport os; os.exit(3) \\\n#x"
no_arm = shutil.which("arm-none-eabi-gcc") is None
need_arm = pytest.mark.skipif(no_arm, reason="arm-none-eabi-gcc is not installed")
need_qemu = pytest.mark.skipif(shutil.which("qemu-system-arm") is None,
                               reason="qemu-system-arm is not installed")

_TRIGRAPHS = {"=": "#", "/": "\\", "'": "^", "(": "[", ")": "]", "!": "|", "<": "{", ">": "}",
              "-": "~"}


def c_code(text: str) -> str:
    """The C (or linker script) text with every comment replaced by a space and every string or
    character literal by an empty one, after trigraphs and backslash-newline splicing (gcc
    -std=c99 does both). Fails on a comment or literal that does not close where C says."""
    text = re.sub(r"\?\?([=/'()!<>\-])", lambda m: _TRIGRAPHS[m.group(1)], text)
    text = text.replace("\\\n", "")
    out, i, n = [], 0, len(text)
    while i < n:
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            assert j >= 0, "unterminated comment"
            out.append(" ")
            i = j + 2
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text[i] in "\"'":
            q, j = text[i], i + 1
            while text[j] != q:
                assert text[j] != "\n", f"literal runs past the line: {text[i:j + 1]!r}"
                j += 2 if text[j] == "\\" else 1
            out.append(q + q)
            i = j + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def py_code(text: str) -> list[tuple[int, str]]:
    """A Python file's tokens without comments, with string literals emptied."""
    toks = []
    for t in tokenize.generate_tokens(io.StringIO(text).readline):
        if t.type == tokenize.COMMENT:
            continue
        toks.append((t.type, "''" if t.type == tokenize.STRING else t.string))
    return toks


def code_of(name: str, text: str):
    return py_code(text) if name == "SConstruct" else c_code(text)


def assert_same_code(plain: dict[str, str], hostile: dict[str, str]):
    """Same files; the same code outside comments and literals; printable ASCII throughout."""
    assert sorted(plain) == sorted(hostile)
    for name, text in hostile.items():
        assert code_of(name, plain[name]) == code_of(name, text), f"{name}: names became code"
        bad = sorted({c for c in text if not (" " <= c <= "~" or c == "\n")})
        assert not bad, f"{name} holds characters {bad}"
        assert not re.search(r"^\s*#\s*error", c_code(text) if name != "SConstruct" else "", re.M)


def fc_model(names: list[str]) -> bytes:
    """FULLY_CONNECTED 16 -> 4, ADD of a constant (whose name the C quotes in a comment), SOFTMAX;
    tensors named from `names` (cycled)."""
    rng = np.random.default_rng(7)
    b = ModelBuilder("names")
    x = b.input((1, 16), scale=0.05, zero_point=-3)
    w = b.const(rng.integers(-127, 128, (4, 16), dtype=np.int8), scale=[0.02] * 4,
                zero_point=[0] * 4, axis=0)
    bias = b.const(rng.integers(-300, 300, 4).astype(np.int32), scale=[0.001] * 4,
                   zero_point=[0] * 4)
    y = b.tensor((1, 4), scale=0.1, zero_point=2)
    b.op("FULLY_CONNECTED", [x, w, bias], [y], fused_activation_function="NONE")
    k = b.const(np.array([[3, -7, 50, -90]], np.int8), scale=0.05, zero_point=1)
    s = b.tensor((1, 4), scale=0.12, zero_point=-1)
    b.op("ADD", [y, k], [s], fused_activation_function="NONE")
    z = b.tensor((1, 4), scale=1 / 256, zero_point=-128)
    b.op("SOFTMAX", [s], [z], beta=1.0)
    b.output(z)
    for i, t in enumerate(b.g.tensors):
        t.name = names[i % len(names)]
    return b.build()


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("names")
    plain, hostile = d / "plain" / "m.tflite", d / "hostile" / (HOSTILE_FILE + ".tflite")
    for p in (plain, hostile):
        p.parent.mkdir()
    plain.write_bytes(fc_model([f"t{i}" for i in range(len(HOSTILE))]))
    hostile.write_bytes(fc_model(HOSTILE))
    # the plain model stands at the same path length: names are the only difference
    return plain, hostile


def _rows(n=40, seed=1):
    return np.random.default_rng(seed).integers(-128, 128, (n, 1, 16), dtype=np.int8)


def test_compiled_sources_keep_names_out_of_code(models):
    plain, hostile = (compile_file(p) for p in models)
    assert [t.name for t in hostile.graph.tensors][:3] == HOSTILE[:3]
    assert_same_code(plain.files, hostile.files)


def test_hostile_names_build_run_and_match_tflm(models, tmp_path, capsys):
    from tflm_oracle import tflm_run
    _, hostile = models
    out = tmp_path / "out"
    assert cli(["compile", str(hostile), "-o", str(out)]) == 0
    capsys.readouterr()
    c = compile_file(hostile)
    xs = [_rows()]
    with HostBuild(c) as hb:        # -Wall -Wextra -Werror
        got = hb.run(xs)
        assert hb.build_log == ""
    want = tflm_run(hostile.read_bytes(), xs)
    assert np.array_equal(got[0], want[0])
    report = json.loads((out / "report.json").read_text())
    assert report["model"] == hostile.name          # JSON keeps the real name


@need_arm
def test_firmware_sources_keep_names_out_of_code(models):
    board = get_board("mps2-an386")
    plain, hostile = (compile_file(p) for p in models)
    assert_same_code(firmware_sources(plain, board), firmware_sources(hostile, board))


@need_arm
@need_qemu
def test_hostile_names_on_qemu(models, tmp_path, capsys):
    from tflm_oracle import tflm_run
    _, hostile = models
    out = tmp_path / "fw"
    assert cli(["build", str(hostile), "--board", "mps2-an386", "-o", str(out)]) == 0
    assert json.loads((out / "report.json").read_text())["build_warnings"] == []
    x = tmp_path / "x.npy"
    np.save(x, _rows(8, 2))
    y = tmp_path / "y.npy"
    assert cli(["run", str(hostile), "--board", "mps2-an386", "--input", str(x),
                "--output", str(y)]) == 0
    assert np.array_equal(np.load(y), tflm_run(hostile.read_bytes(), [np.load(x)])[0])
    capsys.readouterr()


MOTION = """\
[input]
sample_rate = 100
axes = 1
window = 128

[dsp]
block = "spectral"
frame_length = 128
n_fft = 128
bands = [[0.5, 5.0], [5.0, 20.0]]
n_peaks = 2

[model]
path = {path}
"""


def test_impulse_names_stay_out_of_code(tmp_path):
    files = {}
    for kind, names, stem in (("plain", [f"t{i}" for i in range(5)], "imp"),
                              ("hostile", HOSTILE, HOSTILE_FILE)):
        d = tmp_path / kind
        d.mkdir()
        model = stem + ".tflite"
        (d / model).write_bytes(dense_model(7, 3, seed=5, name="imp", names=names))
        p = d / (stem + ".toml")
        p.write_text(MOTION.format(path=json.dumps(model)))
        c = compile_file(p)
        files[kind] = c.files
        if kind == "hostile":
            with HostBuild(c) as hb:
                hb.run([np.random.default_rng(3).integers(-3000, 3000, (4, 128), dtype=np.int16)])
    assert_same_code(files["plain"], files["hostile"])


# ---- the --name prefix and board names

@pytest.mark.parametrize("name,msg", [
    ("tk_nn", "tinykiln's runtime"),
    ("TK", "tinykiln's runtime"),
    ("host_main", "generated file host_main.c"),
    ("startup_arm", "generated file startup_arm.c"),
    ("_model", "underscore"),
    ("int", "C keyword"),
    ("x" * 300, "is 300 characters long"),
])
def test_bad_prefix_is_refused(models, tmp_path, capsys, name, msg):
    plain, _ = models
    out = tmp_path / "out"
    assert cli(["compile", str(plain), "-o", str(out), "--name", name]) == 1
    err = capsys.readouterr().err.strip()
    assert msg in err and "--name" in err and err.count("\n") == 0, err
    assert not out.exists()


def test_prefix_is_made_an_identifier(models, tmp_path, capsys):
    plain, _ = models
    out = tmp_path / "out"
    assert cli(["compile", str(plain), "-o", str(out), "--name", "my-model 2"]) == 0
    assert (out / "my_model_2.h").is_file()
    capsys.readouterr()


def test_board_file_name_must_be_a_plain_name(tmp_path):
    src = get_board("mps2-an386").path.read_text()
    for ok in ("my-board_2.0",):
        (tmp_path / f"{ok}.toml").write_text(src)
        assert get_board(str(tmp_path / f"{ok}.toml")).name == ok
    for bad in ("evil \" x", "a b", "a\nb", "b\u00e4d", "-dash", "a;b"):
        p = tmp_path / f"{bad}.toml"
        p.write_text(src)
        with pytest.raises(TinykilnError, match="board name"):
            get_board(str(p))


# ---- the escaping functions themselves

def test_c_string_round_trips_through_gcc(tmp_path):
    """gcc -std=c99 (trigraphs on) reads every c_string literal back as the name's UTF-8 bytes."""
    import subprocess
    from tinykiln.codegen.csource import c_string
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed")
    names = HOSTILE + [HOSTILE_FILE, "", "\\", '"', "??/", "???/", "?" * 7, "\x7f\x01", "1\x002"]
    body = "".join(f"    fwrite({c_string(n)}, 1, sizeof({c_string(n)}) - 1, stdout); "
                   f"putchar(0xff);\n" for n in names)
    (tmp_path / "t.c").write_text(f"#include <stdio.h>\nint main(void) {{\n{body}    return 0;\n}}\n")
    subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-o", "t", "t.c"],
                   cwd=tmp_path, check=True)
    out = subprocess.run([str(tmp_path / "t")], capture_output=True, check=True).stdout
    assert out.split(b"\xff")[:-1] == [n.encode() for n in names]


def test_comment_text_cannot_end_a_comment():
    from tinykiln.codegen.csource import comment_text
    for n in HOSTILE + [HOSTILE_FILE, "*" * 5 + "/" * 5, "/*/*/", "*/*", "???/"]:
        t = comment_text(n)
        assert all(" " <= c <= "~" for c in t), t
        assert "*/" not in t and "/*" not in t and "??" not in t, t


def test_error_messages_print_names_as_one_safe_line(tmp_path, capsys):
    """A name in an error message cannot break the one-line message or drive the terminal."""
    b = ModelBuilder("names")
    x = b.input((1, 4), scale=0.05, zero_point=0)
    y = b.tensor((1, 4), scale=0.05, zero_point=0)
    b.op("FLOOR", [x], [y])         # unsupported: the message names the op's tensors
    b.output(y)
    for t in b.g.tensors:
        t.name = "evil\n#x \x1b[31m red \u202e"
    m = tmp_path / "m.tflite"
    m.write_bytes(b.build())
    assert cli(["compile", m, "-o", tmp_path / "out"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("tinykiln: error: ")
    assert all(c.isprintable() for c in err[:-1]), err
    assert "evil\\n#x \\x1b[31m red \\u202e" in err
