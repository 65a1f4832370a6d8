"""Render the generated C library from the lowered model: Python prepares every value and name,
the jinja2 templates only lay them out."""
from __future__ import annotations

import re

import jinja2
import numpy as np

from . import __version__
from .ir import C_TYPES, Graph
from .lower.context import Lowered
from .planner import Plan
from .resources import resource_dir

ARENA_ALIGN = 16


def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(resource_dir("templates"))),
                              keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
                              undefined=jinja2.StrictUndefined)


def _format_values(values: np.ndarray, ctype: str, per_line: int = 16) -> list[str]:
    if ctype == "float":
        items = [repr(float(v)) + "f" for v in values.astype(np.float32)]
    else:
        items = []
        for v in values.tolist():
            v = int(v)
            items.append("INT32_MIN" if ctype == "int32_t" and v == -(1 << 31) else str(v))
    return [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]


def c_identifier(name: str) -> str:
    s = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return ("m_" + s) if not s or s[0].isdigit() else s


def io_list(graph: Graph, ids: list[int], ptr_of) -> list[dict]:
    out = []
    for t in ids:
        tt = graph.tensors[t]
        out.append({"tensor": t, "name": tt.name, "ctype": C_TYPES[tt.dtype], "dtype": tt.dtype,
                    "shape": list(tt.shape), "elements": tt.num_elements, "bytes": tt.nbytes,
                    "ptr": ptr_of(t),
                    "scale": repr(tt.quant.scale[0]) if tt.quant else None,
                    "zero_point": tt.quant.zero_point[0] if tt.quant else None})
    return out


def render_sources(graph: Graph, lowered: Lowered, plan: Plan, prefix: str = "model",
                   model_name: str = "model", pre: list[dict] | None = None) -> dict[str, str]:
    from .lower.context import LowerContext
    prefix = c_identifier(prefix)
    ptrs = LowerContext(graph, plan.offsets)
    ctx = {
        "version": __version__,
        "model_name": model_name,
        "sha256": graph.source_sha256,
        "prefix": prefix,
        "PREFIX": prefix.upper(),
        "arena_size": max(plan.arena_size, 1),
        "arena_align": ARENA_ALIGN,
        "headers": sorted(s[:-2] + ".h" for s in lowered.sources),
        "consts": [{"name": c.name, "ctype": c.ctype, "count": len(c.values), "comment": c.comment,
                    "lines": _format_values(c.values, c.ctype)} for c in lowered.consts],
        "structs": lowered.structs,
        "calls": lowered.calls,
        "inputs": io_list(graph, graph.inputs, ptrs.ptr),
        "outputs": io_list(graph, graph.outputs, ptrs.ptr),
        "pre": pre or [],
    }
    env = _env()
    files = {
        f"{prefix}.h": env.get_template("model.h.j2").render(ctx),
        f"{prefix}.c": env.get_template("model.c.j2").render(ctx),
    }
    rt = resource_dir("runtime_c")
    files["tk_nn.h"] = _stamp(rt / "tk_nn.h")
    for src in sorted(lowered.sources):
        files[src] = _stamp(rt / src)
        files[src[:-2] + ".h"] = _stamp(rt / (src[:-2] + ".h"))
    for extra in _extra_headers(files, rt):
        files[extra] = _stamp(rt / extra)
    return files


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


def _stamp(path) -> str:
    return f"/* copied by tinykiln {__version__} from runtime_c/{path.name}; do not edit */\n" \
        + path.read_text()
