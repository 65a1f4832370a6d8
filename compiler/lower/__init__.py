"""Lowering: each supported op becomes one kernel call with its parameters computed here, at
compile time (TFLM's Prepare). One module per kernel family; its LOWERINGS maps an opcode to its
function `lower(op, ctx)`, which reads the graph through `ctx` and records what the C needs, and
its TYPES maps the opcode to the tensor types it accepts (`tinykiln ops`), its OPERANDS
the operands the validator checks (context.Operands). A family whose kernels
need arena scratch also answers `scratch(op, graph, allowed) -> bytes` (SCRATCH), without
lowering, so the planner can size the arena before the one lowering that emits the C with every
offset known. Every module of this package that defines LOWERINGS is a family: a new family is a
new module, and nothing here changes."""
from __future__ import annotations

import functools
import importlib
import pkgutil

import numpy as np


def _quiet(lower):
    """Float32 scale arithmetic of a hostile model may overflow to inf (or NaN); the checks that
    follow refuse such values with a sentence, so numpy's RuntimeWarnings would only add noise to
    the user's one-line error."""
    @functools.wraps(lower)
    def run(op, ctx):
        with np.errstate(all="ignore"):
            return lower(op, ctx)
    return run


LOWERINGS = {}
SCRATCH = {}
TYPES: dict[str, tuple[str, ...]] = {}
OPERANDS = {}                           # opcode -> context.Operands, for the validator
FAMILY: dict[str, str] = {}             # opcode -> the module that lowers it
for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    _mod = importlib.import_module(f"{__name__}.{_info.name}")
    if not hasattr(_mod, "LOWERINGS"):
        continue
    for _k, _f in _mod.LOWERINGS.items():
        if _k in LOWERINGS:
            raise AssertionError(f"{_k} is lowered by both {FAMILY[_k]} and {_info.name}")
        LOWERINGS[_k] = _quiet(_f)
        FAMILY[_k] = _info.name
        TYPES[_k] = tuple(getattr(_mod, "TYPES", {}).get(_k, ()))
        if not TYPES[_k]:
            raise AssertionError(f"{_info.name} lowers {_k} but its TYPES does not list it")
    SCRATCH.update(getattr(_mod, "SCRATCH", {}))
    OPERANDS.update(getattr(_mod, "OPERANDS", {}))
    for _k in _mod.LOWERINGS:
        if _k not in OPERANDS:
            raise AssertionError(f"{_info.name} lowers {_k} but its OPERANDS does not list it")


def scratch_bytes(op, graph, allowed: bool = True) -> int:
    """Bytes of arena op's kernel needs while it runs (0: none), the kernel it would get with
    scratch `allowed` or not; what its lowering will ask for."""
    query = SCRATCH.get(op.opcode)
    if query is None:
        return 0
    with np.errstate(all="ignore"):
        return int(query(op, graph, allowed))


def ops_table() -> list[tuple[str, tuple[str, ...], str]]:
    """(opcode, accepted types, limits) of every supported op, sorted by name: what `tinykiln ops`
    prints and the README's table holds (not the internal TK_ ops that passes make)."""
    from .op_notes import NOTES
    return [(k, TYPES[k], NOTES.get(k, "")) for k in sorted(LOWERINGS) if not k.startswith("TK_")]
