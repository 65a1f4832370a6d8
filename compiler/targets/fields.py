"""Typed access to one table of a TOML file (board files, impulse files): every mistake is one
TinykilnError naming the file and the dotted field."""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from ..errors import TinykilnError


@dataclass(frozen=True)
class Region:
    """An address range of a board: flash, RAM, an MCUboot slot."""
    origin: int
    length: int

    @property
    def end(self) -> int:
        return self.origin + self.length


class Fields:
    """Typed access to one TOML table; every mistake names the file and the dotted field.
    `noun` names the kind of file (impulse files reuse this class)."""
    noun = "board"

    def __init__(self, path: Path, table: dict, where: str = ""):
        self.path, self.t, self.where = path, table, where

    def error(self, key: str, what: str) -> TinykilnError:
        return TinykilnError(f"{self.noun} file {self.path}: field '{self.where}{key}' {what}.")

    def get(self, key: str, kind, default=..., choices=None, signed: bool = False):
        if key not in self.t:
            if default is ...:
                raise self.error(key, "is missing")
            return default
        v = self.t[key]
        if kind is float and isinstance(v, int) and not isinstance(v, bool):
            v = float(v)
        ok = isinstance(v, kind) and not (kind in (int, float) and isinstance(v, bool))
        if not ok:
            raise self.error(key, f"must be {_kind_name(kind)}, not {type(v).__name__} {v!r}")
        if kind is float and not math.isfinite(v):
            raise self.error(key, f"is {v}; it must be a finite number")
        if choices is not None and v not in choices:
            raise self.error(key, f"is '{v}'; expected one of: {', '.join(choices)}")
        if kind in (int, float) and v < 0 and not signed:
            raise self.error(key, f"must not be negative (is {v})")
        return v

    def get_int(self, key: str, lo: int, hi: int, default=..., what: str = "") -> int:
        """An integer field in [lo, hi]; `what` says why the range is what it is."""
        v = self.get(key, int, default, signed=lo < 0)
        if not lo <= v <= hi:
            raise self.error(key, f"is {v}; it must be from {lo} to {hi}{what}")
        return v

    def table(self, key: str, optional: bool = False) -> "Fields | None":
        if key not in self.t:
            if optional:
                return None
            raise self.error(key, "is missing (a table)")
        v = self.t[key]
        if not isinstance(v, dict):
            raise self.error(key, f"must be a table, not {type(v).__name__}")
        return type(self)(self.path, v, f"{self.where}{key}.")

    def no_unknown(self, known: set[str]) -> None:
        for k in self.t:
            if k not in known:
                raise self.error(k, f"is not {_article(self.noun)} {self.noun} field "
                                    f"(known: {', '.join(sorted(known))})")


def _kind_name(kind) -> str:
    return {int: "an integer", float: "a number", str: "a string", list: "a list",
            bool: "true or false"}.get(kind, kind.__name__)


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"

