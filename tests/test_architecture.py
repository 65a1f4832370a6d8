"""The compiler's import graph runs one way, by pipeline stage: command line -> features ->
targets -> compile driver -> code generation -> planning -> passes -> lowering -> front ends ->
IR -> base. A circle, an import against that order, or a private name used outside its module
fails here."""
from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "compiler"

# Lowest first. A module's stage is its subpackage, or its own name for a top-level module.
STAGES = [
    {"__init__", "errors", "resources", "outdir"},      # base: version, errors, files, folders
    {"ir"},                                             # the IR every stage shares
    {"frontend"},                                       # .tflite reader/writer, Keras conversion
    {"lower"},                                          # Prepare per op family
    {"passes"},                                         # Graph -> Graph, validation first
    {"plan"},                                           # the static arena
    {"codegen"},                                        # C sources through the templates
    {"compile"},                                        # the driver: passes, lower, plan, codegen
    {"targets"},                                        # host build, boards, firmware, QEMU, PIO
    {"dsp"},                                            # the fixed-point front end
    {"impulse", "quant"},                               # features built on the above
    {"inputs"},                                         # a model or an impulse file
    {"demo"},                                           # the main job
    {"release"},                                        # a project's builds, manifest, checks
    {"cli", "__main__"},                                # parses and prints only
]
RANK = {name: i for i, names in enumerate(STAGES) for name in names}


def modules() -> dict[str, Path]:
    out = {}
    for p in sorted(PKG.rglob("*.py")):
        parts = list(p.relative_to(PKG).with_suffix("").parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


def stage(mod: str) -> int:
    head = mod.split(".")[0]
    assert head in RANK, f"compiler/{mod.replace('.', '/')}.py belongs to no stage in STAGES"
    return RANK[head]


def imports(mod: str, path: Path, mods: dict[str, Path]) -> list[tuple[str, list[str], int]]:
    """(imported module, names imported from it, line) for every import of a tinykiln module,
    top-level or inside a function."""
    is_pkg = path.name == "__init__.py"
    pkg = mod.split(".") if is_pkg else mod.split(".")[:-1]
    if mod == "__init__":
        pkg = []
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = pkg[:len(pkg) - (node.level - 1)] if node.level > 1 else pkg
            target = ".".join(base + ([node.module] if node.module else []))
            names = [a.name for a in node.names]
            if not node.module:         # from . import a, b: modules or names of the package
                for n in names:
                    sub = f"{target}.{n}".strip(".")
                    if sub in mods:
                        out.append((sub, [], node.lineno))
                    else:
                        out.append((target or "__init__", [n], node.lineno))
            else:
                out.append((target, names, node.lineno))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            for n in names:
                if n and (n == "tinykiln" or n.startswith("tinykiln.")):
                    out.append((n.removeprefix("tinykiln").lstrip(".") or "__init__", [], node.lineno))
    return out


def graph() -> tuple[dict[str, set[str]], list[str]]:
    mods = modules()
    edges: dict[str, set[str]] = {m: set() for m in mods}
    problems = []
    for mod, path in mods.items():
        for target, names, line in imports(mod, path, mods):
            where = f"compiler/{path.relative_to(PKG)}:{line}"
            if target not in mods:
                problems.append(f"{where} imports {target}, which is not a module")
                continue
            edges[mod].add(target)
            if stage(target) > stage(mod):
                problems.append(f"{where}: {mod} (stage {stage(mod)}) imports {target} "
                                f"(stage {stage(target)}), against the stage order")
            for n in names:
                if n.startswith("_") and not n.startswith("__"):
                    problems.append(f"{where}: {mod} imports the private name {n} of {target}")
    return edges, problems


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected set of more than one module (Tarjan), or a module importing
    itself."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in edges[v]:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_imports_follow_the_stage_order():
    _, problems = graph()
    assert not problems, "\n".join(problems)


def test_no_import_circles():
    circles = cycles(graph()[0])
    assert not circles, "import circles: " + "; ".join(" <-> ".join(c) for c in circles)


def test_the_checker_sees_a_circle_and_a_wrong_way_import():
    """The checks above can fail: a made-up graph with a circle and an upward import."""
    assert cycles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b"]]
    assert cycles({"a": {"a"}}) == [["a"]]
    assert stage("lower.conv") < stage("codegen.csource") < stage("cli.main")


def test_modules_and_functions_stay_small():
    """No module of compiler/ over 400 lines, no function over 80: split by concern instead."""
    big = []
    for mod, path in modules().items():
        src = path.read_text()
        if len(src.splitlines()) > 400:
            big.append(f"compiler/{path.relative_to(PKG)}: {len(src.splitlines())} lines")
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > 80:
                    big.append(f"compiler/{path.relative_to(PKG)}:{node.lineno} {node.name}: "
                               f"{n} lines")
    assert not big, "\n".join(big)
