"""Render the generated C library from the lowered model: Python prepares every value and name,
the jinja2 templates only lay them out."""
from __future__ import annotations

import json
import re

import jinja2
import numpy as np

from .. import __version__
from ..errors import TinykilnError
from ..ir import C_TYPES, NP_TYPES, Graph
from ..lower.context import Lowered, scratch_macro, tensor_desc, tensor_macro
from ..plan.planner import Plan
from ..resources import resource_dir

ARENA_ALIGN = 16
LINE = 120      # longest line of generated C


def template_env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(resource_dir("templates"))),
                             keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined, finalize=_only_safe_text)
    env.filters.update(comment=comment_text, c_string=c_string, py_string=py_string)
    return env


# ---- names from a model, board or impulse file never become code
# Every such name reaches a generated file through one of these functions (jinja filters of the
# same name): comment text, a C string literal, a Python string literal, or a C identifier.
# `_only_safe_text` refuses, when a template is rendered, any other text that could end a
# comment or a literal, so a template that forgets a filter fails loudly instead of emitting code.

class Escaped(str):
    """Text that one of the escaping functions below produced (passes the template guard)."""


_UNSAFE = re.compile(r"[^\x20-\x7e]|\*/|/\*|\?\?|\\")


def _escape_char(ch: str) -> str:
    o = ord(ch)
    return f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}" if o < 0x10000 else f"\\U{o:08x}"


def comment_text(s) -> Escaped:
    """`s` as text for any comment we emit (C and linker-script /* */ and //, Python #, ini ;):
    printable ASCII on one line; a backslash, a non-printable or non-ASCII character is written
    as a Python-style escape (\\ \\n \\x1b \\u00e9); '*/', '/*' and '??' (trigraphs: gcc
    -std=c99 reads ??/ as a backslash) are broken up with a backslash."""
    s = str(s)
    out = "".join("\\\\" if c == "\\" else c if " " <= c <= "~" else
                  {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(c) or _escape_char(c) for c in s)
    out = re.sub(r"\*(?=/)", "*\\\\", out)      # */ -> *\/
    out = re.sub(r"/(?=\*)", "/\\\\", out)      # /* -> /\*
    out = re.sub(r"\?(?=\?)", "?\\\\", out)    # ?? -> ?\?
    return Escaped(out)


def c_string(s) -> Escaped:
    """A C string literal (quotes included) whose value is the UTF-8 bytes of `s`: printable
    ASCII as itself, '"', '\\' and '?' (no trigraph can form) escaped, every other byte as a
    three-digit octal escape (which, unlike \\x, cannot run into a following digit)."""
    out = []
    for b in str(s).encode("utf-8", "surrogateescape"):
        c = chr(b)
        out.append("\\" + c if c in '"\\?' else c if 0x20 <= b <= 0x7e else f"\\{b:03o}")
    return Escaped('"' + "".join(out) + '"')


def py_string(s) -> Escaped:
    """A Python string literal (double quotes, ASCII only) whose value is `s` (SConstruct)."""
    return Escaped(json.dumps(str(s), ensure_ascii=True))


def _only_safe_text(v):
    if isinstance(v, Escaped) or isinstance(v, (int, float)) or v is None:
        return v
    text = v if isinstance(v, str) else str(v)
    m = _UNSAFE.search(text)
    if m:       # a template printed a name without escaping it: our bug, never the user's
        raise AssertionError(f"unescaped text {text!r} (at {m.group()!r}) reached a template; "
                             f"pass it through comment_text, c_string or py_string")
    return v


def _format_values(values: np.ndarray, ctype: str, width: int = LINE - 5) -> list[str]:
    """Array initializer lines (without indent and trailing comma) of at most `width`."""
    if ctype == "float":
        items = [repr(float(v)) + "f" for v in values.astype(np.float32)]
    elif ctype == "int32_t":
        items = ["INT32_MIN" if v == -(1 << 31) else str(v) for v in values.tolist()]
    else:
        items = [str(v) for v in values.tolist()]
    lines, start, used = [], 0, -2
    for i, item in enumerate(items):
        used += len(item) + 2
        if used > width and i > start:
            lines.append(", ".join(items[start:i]))
            start, used = i, len(item)
    if start < len(items):
        lines.append(", ".join(items[start:]))
    return lines


def block_comment(text, indent: str = "", width: int = LINE, lead: str = "") -> Escaped:
    """`text` (escaped here) as a /* */ comment whose lines, each starting with `indent`, stay
    within `width`: broken at spaces where possible, never right after a backslash. `lead` (code,
    e.g. a #define) goes before the comment on its first line, which `indent` must be as long as."""
    words = comment_text(text).split(" ")
    room = width - len(indent) - 3         # "/* " or " * " before, " */" after the last
    lines, cur = [], ""
    for w in words:
        while len(w) > room - 3:            # a word longer than a line: hard break
            cut = room - 3
            while cut > 1 and w[cut - 1] == "\\":
                cut -= 1
            if cur:
                lines.append(cur)
                cur = ""
            lines.append(w[:cut])
            w = w[cut:]
        if cur and len(cur) + 1 + len(w) > room - 3:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}" if cur else w
    lines.append(cur)
    out = (lead or indent) + "/* " + lines[0]
    for line in lines[1:]:
        out += "\n" + indent + " * " + line
    return Escaped(out + " */")


def _call_line(func: str, args: list[str], indent: str = "    ") -> str:
    """`func(args);` broken after commas, continuation lines aligned, to stay within LINE."""
    head = f"{indent}{func}("
    lines, cur = [], head
    for k, a in enumerate(args):
        piece = a + (", " if k < len(args) - 1 else ");")
        if len(cur) + len(piece.rstrip()) > LINE and cur.strip() != head.strip():
            lines.append(cur.rstrip())
            cur = " " * len(head)
        cur += piece
    lines.append(cur)
    return "\n".join(lines) if args else head + ");"


def _tensor_macros(graph: Graph, plan: Plan) -> list[Escaped]:
    """`#define TK_T<i> ((ctype *)(tk_arena + offset))` for every activation tensor the plan
    placed (tk_vars for a variable), with a comment: index, name, type, shape, and the tensor
    whose storage it shares."""
    out = []
    for i, t in enumerate(graph.tensors):
        root = graph.root(i)
        key = ("t", root)
        if t.is_const or (key not in plan.offsets and key not in plan.variables):
            continue
        base, off = ("tk_vars", plan.variables[key]) if key in plan.variables \
            else (arena_base(plan, key), plan.address(key) + graph.root_offset(i))
        define = f"#define {tensor_macro(i)} (({C_TYPES[t.dtype]} *)({base} + {off}))"
        what = tensor_desc(t, i) + (f", shares t{root}'s storage" if root != i else "") \
            + (", variable: kept across invokes" if base == "tk_vars" else "")
        # the layout of the code never depends on a name: the comment follows the #define (one
        # space after column 44) and wraps onto lines aligned under it
        lead = f"{define:<{max(len(define), 44)}} "
        out.append(block_comment(what, " " * len(lead), lead=lead))
    return out


def arena_base(plan: Plan, key) -> str:
    """The array a buffer lives in: tk_arena ([ram]) or tk_arena_<region> (plan/regions.py)."""
    r = plan.region_of.get(key, 0)
    return f"tk_arena_{plan.region_names[r]}" if r else "tk_arena"


def _scratch_macros(lowered: Lowered, plan: Plan) -> list[Escaped]:
    out = []
    for i, nbytes in sorted(lowered.scratch.items()):
        define = (f"#define {scratch_macro(i)} (({lowered.scratch_ctype[i]} *)"
                  f"({arena_base(plan, ('s', i))} + {plan.offsets[('s', i)]}))")
        out.append(Escaped(f"{define} /* op {i}'s scratch, {nbytes} bytes */"))
    return out


def c_identifier(name: str) -> str:
    """`name` reduced to a C identifier: every other character becomes '_'."""
    s = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return ("m_" + s) if not s or s[0].isdigit() else s


C_KEYWORDS = frozenset(
    "auto break case char const continue default do double else enum extern float for goto if "
    "inline int long register restrict return short signed sizeof static struct switch typedef "
    "union unsigned void volatile while alignas alignof bool constexpr false nullptr "
    "static_assert thread_local true typeof typeof_unqual".split())
MAX_PREFIX = 200        # {prefix}_net.c etc. stay well inside a 255-byte file name


def _generated_files() -> dict[str, str]:
    """Lower-case stem -> name of the files written beside {prefix}.c/.h (runtime, firmware,
    host driver)."""
    files = {"host_main": "host_main.c", "host_dump": "host_dump.c", "link": "link.ld",
             "sconstruct": "SConstruct", "report": "report.json"}
    for d in (resource_dir("runtime_c"), resource_dir("runtime_c") / "dsp",
              resource_dir("templates") / "firmware"):
        for p in sorted(d.iterdir(), reverse=True):     # x.c wins over x.h
            if p.suffix in (".c", ".h", ".j2"):
                files[p.name.split(".")[0].lower()] = p.name.removesuffix(".j2")
    return files


def c_prefix(name: str, max_len: int = MAX_PREFIX) -> str:
    """The --name symbol prefix as a C identifier (other characters become '_'); refused when it
    would clash with tinykiln's own symbols or files, with C, or is unreasonably long."""
    s = c_identifier(name)
    if len(s) > max_len:
        raise TinykilnError(f"--name is {len(s)} characters long; a C prefix may have at most "
                            f"{max_len}.")
    low = s.lower()
    why = None
    if low == "tk" or low.startswith("tk_"):
        why = "begins with tk, the prefix of tinykiln's runtime symbols"
    elif s.startswith("_"):
        why = "begins with an underscore, which C reserves"
    elif s in C_KEYWORDS:
        why = "is a C keyword"
    elif low in _generated_files():
        why = f"would overwrite the generated file {_generated_files()[low]}"
    if why:
        also = "" if s == name else f" (C prefix {s})"
        raise TinykilnError(f"--name '{comment_text(name)}'{also} {why}; choose another prefix.")
    return s


def io_list(graph: Graph, ids: list[int]) -> list[dict]:
    out = []
    for k, t in enumerate(ids):
        tt = graph.tensors[t]
        out.append({"tensor": t, "name": tt.name, "ctype": C_TYPES[tt.dtype], "dtype": tt.dtype,
                    "shape": list(tt.shape), "elements": tt.num_elements, "bytes": tt.nbytes,
                    "macro": tensor_macro(t),
                    "comment": block_comment(
                        f"{'in' if t in graph.inputs else 'out'}put {k}: {tensor_desc(tt, t)}"
                        + (f", scale {tt.quant.scale[0]!r}, zero point {tt.quant.zero_point[0]}"
                           if tt.quant else "")),
                    "scale": repr(tt.quant.scale[0]) if tt.quant else None,
                    "zero_point": tt.quant.zero_point[0] if tt.quant else None})
    return out


def render_sources(graph: Graph, lowered: Lowered, plan: Plan, prefix: str = "model",
                   model_name: str = "model", pre: list[dict] | None = None) -> dict[str, str]:
    prefix = c_prefix(prefix)
    # a parameter struct is the first argument (&name) of its op's kernel call
    kernel_of = {c.args[0][1:]: c.func for c in lowered.calls if c.args and c.args[0][:1] == "&"}
    ctx = {
        "version": __version__,
        "model_name": model_name,
        "sha256": graph.source_sha256,
        "prefix": prefix,
        "PREFIX": prefix.upper(),
        "arena_size": max(plan.arena_size, 1),
        "arena_align": ARENA_ALIGN,
        "headers": sorted({runtime_header(s) for s in lowered.sources}),
        "banner": block_comment(f"generated by tinykiln {__version__} from {model_name} (sha256 "
                                f"{graph.source_sha256}); do not edit"),
        "consts": [{"name": c.name, "ctype": c.ctype, "count": len(c.values),
                    "comment": block_comment(c.comment or c.name),
                    "lines": _format_values(c.values, c.ctype),
                    "alt": None if c.alt is None else {
                        "macro": c.alt[0], "ctype": c.alt[1], "count": len(c.alt[2]),
                        "lines": _format_values(c.alt[2], c.alt[1])}}
                   for c in lowered.consts],
        "structs": [{"ctype": st.ctype, "name": st.name, "lines": _struct_lines(st.fields),
                     "comment": block_comment(st.comment + (f" -> {kernel_of[st.name]}"
                                                            if st.name in kernel_of else ""))}
                    for st in lowered.structs],
        "calls": [{"op_index": c.op_index, "is_copy_free": c.is_copy_free,
                   "comment": block_comment(c.comment, "    "),
                   "line": "" if c.is_copy_free else _call_line(c.func, c.args)}
                  for c in lowered.calls],
        "tensor_macros": _tensor_macros(graph, plan),
        "scratch_macros": _scratch_macros(lowered, plan),
        "functions": [Escaped(f) for f in lowered.functions],
        # the arena's part in each RAM region beyond [ram] (its own array and linker section)
        "arena_regions": [{"name": n, "NAME": n.upper(), "size": max(b, 1)}
                          for n, b in zip(plan.region_names[1:], plan.region_sizes[1:])],
        "inputs": io_list(graph, graph.inputs),
        "outputs": io_list(graph, graph.outputs),
        "pre": pre or [],
        "variables_size": plan.variable_bytes,
        **_variables(graph, plan),
    }
    env = template_env()
    files = {
        f"{prefix}.h": env.get_template("model.h.j2").render(ctx),
        f"{prefix}.c": env.get_template("model.c.j2").render(ctx),
    }
    rt = resource_dir("runtime_c")
    files["tk_nn.h"] = stamp_copy(rt / "tk_nn.h")
    for src in sorted(lowered.sources):
        files[src] = stamp_copy(rt / src)
        files[runtime_header(src)] = stamp_copy(rt / runtime_header(src))
    for extra in _extra_headers(files, rt):
        files[extra] = stamp_copy(rt / extra)
    return files


def _variables(graph: Graph, plan: Plan) -> dict:
    """What <prefix>_reset() does, as lines of C: every variable's bytes back to its reset value
    (Tensor.init: a byte repeated, or a table); `reset_first` when that is not all zero (the
    zero-initialised tk_vars then needs a reset before the first invoke)."""
    lines, consts, first = [], [], False
    for (_, i), off in plan.variables.items():
        t = graph.tensors[i]
        raw = np.zeros(t.nbytes, np.uint8) if t.init is None else np.frombuffer(
            np.ascontiguousarray(np.asarray(t.init).astype(NP_TYPES[t.dtype])).tobytes(), np.uint8)
        loop = f"    for (uint32_t i = 0; i < {t.nbytes}u; ++i) tk_vars[{off}u + i] = "
        first = first or bool(raw.any())
        if raw.size and (raw == raw[0]).all():
            lines.append(block_comment(f"{tensor_desc(t, i)}: every byte {int(raw[0])}", "    "))
            lines.append(Escaped(loop + f"{int(raw[0])}u;"))
            continue
        name = f"tk_v{i}_init"
        consts.append({"name": name, "ctype": "uint8_t", "count": int(raw.size),
                       "comment": block_comment(f"{tensor_desc(t, i)}: its reset value, bytes"),
                       "lines": _format_values(raw, "uint8_t")})
        lines.append(block_comment(f"{tensor_desc(t, i)}: from {name}", "    "))
        lines.append(Escaped(loop + f"{name}[i];"))
    return {"reset_lines": lines, "variable_consts": consts, "reset_first": first}


NESTED_WIDTH = 90   # a nested initializer longer than this gets a line per field (lines <= 100)


def _struct_lines(fields) -> list[str]:
    """The lines of a parameter struct's initializer: .k = v, with a nested struct (a list of
    pairs) as .k = {.a = 1, .b = 2}, or over several lines when that would be long."""
    lines = []
    for k, v in fields:
        if isinstance(v, list):
            inner = [f".{f} = {e}" for f, e in v]
            one_line = "{" + ", ".join(inner) + "}"
            if len(k) + len(one_line) <= NESTED_WIDTH:
                lines.append(f".{k} = {one_line},")
            else:
                lines += [f".{k} = {{", *(f"    {x}," for x in inner), "},"]
        else:
            lines.append(f".{k} = {v},")
    return lines


def runtime_header(source: str) -> str:
    """The header declaring a runtime_c kernel file's functions: the op header the file includes
    first (x.c includes x.h; a sibling such as x_ref.c or softmax_s8_s16.c, its op's x.h)."""
    m = re.search(r'^#include "([^"]+)"', (resource_dir("runtime_c") / source).read_text(), re.M)
    if not m:
        raise AssertionError(f"runtime_c/{source} includes no header")
    return m.group(1)


def _extra_headers(files: dict[str, str], rt) -> list[str]:
    """Headers that copied runtime files include (e.g. tk_fixedpoint.h), found transitively."""
    need: set[str] = set()
    todo = list(files.values())
    while todo:
        text = todo.pop()
        for h in re.findall(r'#include "([^"]+)"', text):
            if h not in files and h not in need and (rt / h).is_file():
                need.add(h)
                todo.append((rt / h).read_text())
    return sorted(need)


def stamp_copy(path) -> str:
    return f"/* copied by tinykiln {__version__} from runtime_c/{path.name}; do not edit */\n" \
        + path.read_text()
