"""The generated model.c/model.h read well: lines of at most 120 characters, a named macro per
activation tensor (shape in its comment), a comment on every const array and parameter struct,
requantization tables that say what they hold, and no struct field the chosen kernel ignores
(checked against the kernel sources in runtime_c, not against our own lowering)."""
import re
import shutil
import subprocess

import numpy as np
import pytest

from conftest import ROOT, shared_model
from test_names import HOSTILE, fc_model
from test_ops_conv import CASES, ModelBuilder, _add_case
from test_ops_misc import _elementwise_cases, _Model, _pool_cases
from tinykiln.compile import compile_graph
from tinykiln.frontend.tflite_import import parse_tflite

LINE = 120


def _conv_cases() -> bytes:
    rng = np.random.default_rng(7)
    b = ModelBuilder("conv_cases")
    for c in CASES:
        _add_case(b, c, rng)
    return b.build()


@pytest.fixture(scope="module")
def compiled():
    """kws (shared), every conv case (fast and reference kernels, left and right shifts) and a
    model whose tensor names are hostile and very long."""
    out = {"kws": compile_graph(parse_tflite(shared_model("kws_ref_model.tflite").read_bytes())),
           "conv": compile_graph(parse_tflite(_conv_cases())),
           "names": compile_graph(parse_tflite(fc_model(HOSTILE + ["n" * 500, "\u2603" * 300])),
                                  model_name="m" * 300),
           "misc": compile_graph(parse_tflite(_misc_model()))}
    return out


def _misc_model() -> bytes:
    """Every pooling, ADD and MUL case of test_ops_misc in one model (broadcasts included)."""
    m = _Model(seed=3)
    _pool_cases(m)
    _elementwise_cases(m)
    return m.b.build()


def _model_c(c) -> str:
    return c.files["model.c"]


@pytest.mark.parametrize("which", ["kws", "conv", "names", "misc"])
def test_lines_fit_120(compiled, which):
    for name, text in compiled[which].files.items():
        if name in ("model.c", "model.h"):
            long = [(k + 1, len(line)) for k, line in enumerate(text.splitlines())
                    if len(line) > LINE]
            assert not long, f"{which} {name}: lines longer than {LINE}: {long[:5]}"


@pytest.mark.parametrize("which", ["kws", "conv", "names"])
def test_every_const_array_and_struct_is_commented(compiled, which):
    lines = _model_c(compiled[which]).splitlines()
    decls = [k for k, line in enumerate(lines) if line.startswith("static const ")]
    assert len(decls) > 5
    for k in decls:
        top = k         # a table in two forms (#if MACRO ... #else ...): the comment above both
        if lines[k - 1].startswith("#else"):
            top = max(i for i in range(k) if lines[i].startswith("#if "))
        elif lines[k - 1].startswith("#if "):
            top = k - 1
        above = lines[top - 1]
        assert above.rstrip().endswith("*/"), f"no comment above {lines[k]!r}"
        # the comment (maybe several lines) names the op that reads the array
        j = top - 1
        while not lines[j].startswith("/*"):
            j -= 1
        text = " ".join(re.sub(r"^\s*(/\*|\*) ", "", line) for line in lines[j:top])
        assert re.search(r"\bop \d+ [A-Z_0-9]+", text), f"{lines[k]!r}: comment {text!r}"


@pytest.mark.parametrize("which", ["kws", "conv", "names"])
def test_a_named_macro_per_activation_tensor(compiled, which):
    c = compiled[which]
    text = _model_c(c)
    g = c.graph
    used = {t for op in g.ops for t in op.inputs + op.outputs if t >= 0} | set(g.inputs)
    for t in sorted(used):
        tt = g.tensors[t]
        if tt.is_const:
            continue
        m = re.search(rf"^#define TK_T{t} \(\((\w+) \*\)\(tk_arena \+ (\d+)\)\) +"
                      rf"/\* ((?:(?!\*/).)*) \*/$", text, re.M | re.S)
        assert m, f"no macro for tensor {t}"
        comment = re.sub(r"\n\s*\* ", " ", m.group(3))      # a wrapped comment as one line
        assert comment.startswith(f"t{t} ") and str(list(tt.shape)) in comment, comment
        assert m.group(1) == {"int8": "int8_t", "int16": "int16_t", "float32": "float",
                              "int32": "int32_t"}[tt.dtype]
        assert int(m.group(2)) == c.plan.address(("t", g.root(t))) + g.root_offset(t)
    # the kernel calls use the macros, never a bare arena offset
    body = text[text.index("_invoke(void) {"):]
    assert "tk_arena" not in body
    # identifiers come from indices only: every #define is TK_T<n>, TK_SCRATCH<n> or the hook
    names = set(re.findall(r"^#define (\w+)", text, re.M))
    assert all(re.fullmatch(r"TK_T\d+|TK_SCRATCH\d+|TK_LAYER_HOOK", n) for n in names), names


def test_requant_tables_say_what_they_hold(compiled):
    """A table that holds -shift - 1 (rq_fast = 1) says so; a table of plain shifts says that
    shift > 0 shifts left. Both kinds occur among the conv cases."""
    seen = set()
    for which in ("kws", "conv"):
        text = _model_c(compiled[which])
        for name, fast in re.findall(r"\.rq = (tk_op\d+_rq),\n\s+\.rq_fast = ([01]),", text):
            m = re.search(rf"(/\*(?:(?!\*/).)*\*/)\nstatic const int32_t {name}\[", text, re.S)
            assert m, f"{name} has no comment"
            comment = re.sub(r"\n\s*\* ", " ", m.group(1))     # a wrapped comment as one line
            assert "requantization" in comment
            if fast == "1":
                assert "-shift - 1" in comment, comment
            else:
                assert "-shift - 1" not in comment and "shift > 0: left shift" in comment, comment
            seen.add(fast)
    assert seen == {"0", "1"}


def _c_functions(src: str) -> dict[str, str]:
    """Top-level function name -> body, from a runtime .c file."""
    out = {}
    for m in re.finditer(r"^[A-Za-z_][^;{}()]*?\b(\w+)\(([^;{}]*?)\)\s*\{(.*?)^\}", src,
                         re.M | re.S):
        out[m.group(1)] = m.group(2) + m.group(3)
    return out


def _fields_read(func: str, source: str) -> set[str]:
    """Every p->field (p->sub.field for a nested struct) read by `func` or by a function of its
    file (or of the kernel headers the file includes: its Helium path) that it calls,
    transitively."""
    text = (ROOT / "runtime_c" / source).read_text()
    for h in re.findall(r'#include "(\w+_(?:core|mve)\.h)"', text):
        text += (ROOT / "runtime_c" / h).read_text()
    fns = _c_functions(text)
    assert func in fns, f"{func} not found in {source}"
    todo, seen = [func], set()
    while todo:
        f = todo.pop()
        if f in seen:
            continue
        seen.add(f)
        todo += [g for g in fns if g != f and re.search(rf"\b{g}\(", fns[f])]
    return {fld for f in seen for fld in re.findall(r"\bp->(\w+(?:\.\w+)?)", fns[f])}


def _printed_fields(initializer: str) -> set[str]:
    """The fields a generated struct initializer sets; a nested one, .a = {.b = 1}, as a.b (on
    one line or several); an array value, .d = {1, 2}, is the field d."""
    printed, path, last = set(), [], None
    for m in re.finditer(r"\.(\w+) = |[{}]", initializer):
        if m.group(0) == "{":
            path.append(last)
            last = None
        elif m.group(0) == "}":
            path.pop()
            last = None
        else:
            last = m.group(1)
            if not re.compile(r"\{\s*\.").match(initializer, m.end()):   # not a struct
                printed.add(".".join([*filter(None, path), last]))
    assert not path, "unbalanced braces"
    return printed


def test_printed_fields_reads_nested_initializers():
    assert _printed_fields("    .a = 1,\n    .input = {.n = 1, .h = 25},\n    .rq = tk_op1_rq,\n"
                           "    .bcast = {.dims = {1, 2}, .stride1 = {0, 1}},\n    .d = {3, 4},\n"
                           "    .geom = {\n        .stride_h = 2,\n        .pad_w = {0},\n    },\n"
                           "    .e = 5,") \
        == {"a", "input.n", "input.h", "rq", "bcast.dims", "bcast.stride1", "d", "geom.stride_h",
            "geom.pad_w", "e"}


@pytest.mark.parametrize("which", ["kws", "conv", "misc"])
def test_no_struct_field_the_kernel_ignores(compiled, which):
    c = compiled[which]
    text = _model_c(c)
    checked = 0
    for call in c.lowered.calls:
        if call.is_copy_free or not call.args or not call.args[0].startswith("&tk_op"):
            continue
        struct = call.args[0][1:]
        m = re.search(rf"static const \w+ {struct} = \{{\n(.*?)\n\}};", text, re.S)
        assert m, struct
        printed = _printed_fields(m.group(1))
        source = next(s for s in c.lowered.sources if (ROOT / "runtime_c" / s).is_file()
                      and re.search(rf"\b{call.func}\(", (ROOT / "runtime_c" / s).read_text()))
        extra = printed - _fields_read(call.func, source)
        assert not extra, f"{struct} sets {sorted(extra)}, which {call.func} does not read"
        checked += 1
    assert checked >= 5


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed")
@pytest.mark.parametrize("which", ["kws", "names", "misc"])
def test_generated_c_compiles_without_warnings(compiled, which, tmp_path):
    for name, text in compiled[which].files.items():
        (tmp_path / name).write_text(text)
    r = subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-c", "model.c",
                        "-o", "model.o"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("which", ["kws", "conv", "names"])
def test_an_image_copies_only_the_kernels_it_calls(compiled, which):
    """Each copied runtime_c file defines only kernels model.c calls (a reference kernel and its
    fast sibling live in sibling files), and each called kernel is defined in a copied file."""
    c = compiled[which]
    called = set(re.findall(r"\b(tk_\w+)\(", _model_c(c)))
    defined = set()
    for name, text in c.files.items():
        if name.endswith(".c") and name != "model.c":
            assert (ROOT / "runtime_c" / name).is_file(), name
            extern = set(re.findall(r"^void (tk_\w+)\(", text, re.M))
            defined |= extern
            # one kernel's entries per path (tk_conv2d_s8_cols/_lines/_im2col): the link keeps
            # the called ones
            stems = {f.rsplit("_", 1)[0] for f in extern & called}
            unused = {f for f in extern - called if f.rsplit("_", 1)[0] not in stems}
            assert not unused, f"{which}: {name} is copied but model.c never calls {sorted(unused)}"
    assert called <= defined, sorted(called - defined)
    if which == "conv":     # both siblings of both ops are used, each from its own file
        assert {"conv2d_s8.c", "conv2d_s8_ref.c", "depthwise_conv2d_s8.c",
                "depthwise_conv2d_s8_ref.c", "conv2d_s8.h", "depthwise_conv2d_s8.h"} <= set(c.files)
