"""MCUboot slot layouts of boards (the [mcuboot] table of a board file) and signed images.
Placeholder: the helper working on issue 14's MCUboot part owns and replaces this file."""
from __future__ import annotations

from ..errors import TinykilnError


def load_slot_layout(f, flash):
    raise f.error("", "is not supported yet") if f is not None else TinykilnError("no [mcuboot] table.")
