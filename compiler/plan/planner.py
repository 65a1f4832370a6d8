"""Static arena planning. `plan(buffers)` is a pure function: buffers with sizes and lifetimes
(op steps, inclusive) in, byte offsets out. Several greedy first-fit orderings are tried and the
smallest arena kept; `lower_bound` and `check_overlaps` are what the tests hold a plan against."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import UnsupportedError

ALIGN = 4
MAX_ARENA = 1 << 31


@dataclass(frozen=True)
class Buffer:
    key: object
    size: int
    first: int      # first op step at which the buffer is live
    last: int       # last op step at which it is live (inclusive)

    def overlaps_in_time(self, other: "Buffer") -> bool:
        return self.first <= other.last and other.first <= self.last


@dataclass
class Plan:
    offsets: dict           # key -> byte offset
    arena_size: int
    lower_bound: int
    strategy: str
    # variable tensors (state kept across invokes): their own buffer beside the arena, never
    # shared, never reused: key -> byte offset in it, and its size
    variables: dict = field(default_factory=dict)
    variable_bytes: int = 0
    # an arena across RAM regions (plan/regions.py): each region's name ("" for [ram]) and
    # bytes, and the region of each key not in region 0; offsets are within the key's region
    region_names: tuple = ("",)
    region_sizes: tuple = ()
    region_of: dict = field(default_factory=dict)

    @property
    def total_arena(self) -> int:
        return sum(self.region_sizes) if self.region_sizes else self.arena_size


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


def lower_bound(buffers: list[Buffer]) -> int:
    """The largest total (aligned) size of buffers live at one step: no plan can be smaller."""
    steps = {b.first for b in buffers}
    return max((sum(_align(b.size) for b in buffers if b.first <= s <= b.last) for s in steps),
               default=0)


def _first_fit(order: list[Buffer]) -> dict:
    placed: list[tuple[Buffer, int]] = []
    offsets = {}
    for b in order:
        size = _align(b.size)
        busy = sorted((off, off + _align(p.size)) for p, off in placed if p.overlaps_in_time(b))
        off = 0
        for lo, hi in busy:
            if off + size <= lo:
                break
            off = max(off, hi)
        offsets[b.key] = off
        placed.append((b, off))
    return offsets


def _size(buffers, offsets) -> int:
    return max((offsets[b.key] + _align(b.size) for b in buffers), default=0)


ORDERINGS = {
    "largest first": lambda b: (-b.size, b.first, str(b.key)),
    "longest-lived first": lambda b: (-(b.last - b.first), -b.size, b.first, str(b.key)),
    "earliest first": lambda b: (b.first, -b.size, str(b.key)),
    "largest area first": lambda b: (-(b.last - b.first + 1) * b.size, b.first, str(b.key)),
    "busiest step first": None,   # filled in by plan(): buffers live at the peak step first
}


def plan(buffers: list[Buffer]) -> Plan:
    buffers = [b for b in buffers if b.size > 0]
    bound = lower_bound(buffers)
    best: Plan | None = None
    for name, key in ORDERINGS.items():
        if key is None:
            key = _peak_key(buffers)
        offsets = _first_fit(sorted(buffers, key=key))
        size = _size(buffers, offsets)
        if best is None or size < best.arena_size:
            best = Plan(offsets, size, bound, name)
        if size == bound:
            break
    if best is None:
        best = Plan({}, 0, 0, "empty")
    if best.arena_size >= MAX_ARENA:
        raise UnsupportedError(f"the model needs an arena of {best.arena_size} bytes; tinykiln "
                               f"plans arenas below 2^31 bytes (int32 offsets on the target).")
    return best


def plan_variables(sizes: dict) -> tuple[dict, int]:
    """Variables (key -> bytes) packed one after another, each aligned, in a buffer of their
    own: every one lives across all invokes, so none may share a byte with another or with the
    arena. Returns (key -> offset, total bytes)."""
    offsets, end = {}, 0
    for key, size in sizes.items():
        offsets[key] = end
        end += _align(size)
    if end >= MAX_ARENA:
        raise UnsupportedError(f"the model's variables need {end} bytes; tinykiln plans them "
                               f"below 2^31 bytes (int32 offsets on the target).")
    return offsets, end


def render_variables(p: Plan, labels: dict | None = None) -> str:
    """The variables' buffer, one line per variable (the plan picture's footer)."""
    if not p.variables:
        return "variables: none"
    lines = [f"variables {p.variable_bytes} bytes (persistent across invokes, beside the arena)"]
    for key, off in p.variables.items():
        lines.append(f"  {(labels or {}).get(key, key)} at {off}")
    return "\n".join(lines)


def _peak_key(buffers):
    live = {s: sum(_align(b.size) for b in buffers if b.first <= s <= b.last)
            for s in {b.first for b in buffers}}

    def key(b):
        peak = max(live[s] for s in live if b.first <= s <= b.last)
        return (-peak, -b.size, b.first, str(b.key))
    return key


def check_overlaps(buffers: list[Buffer], offsets: dict) -> list[tuple]:
    """Pairs of buffers that are live at the same step and share bytes: must be empty."""
    bad = []
    for i, a in enumerate(buffers):
        for b in buffers[i + 1:]:
            if a.size and b.size and a.overlaps_in_time(b):
                oa, ob = offsets[a.key], offsets[b.key]
                if oa < ob + b.size and ob < oa + a.size:
                    bad.append((a.key, b.key))
    return bad


def render(buffers: list[Buffer], p: Plan, labels: dict | None = None, width: int = 64) -> str:
    """An ASCII picture of the plan: one row per op step, the arena left to right, one character
    per buffer live at that step (like TFLM's GreedyMemoryPlanner::PrintMemoryPlan)."""
    if not buffers or p.arena_size == 0:
        return "(empty arena)"
    chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    letter = {b.key: chars[i % len(chars)] for i, b in enumerate(buffers)}
    nsteps = max(b.last for b in buffers) + 1
    scale = p.arena_size / width
    lines = [f"arena {p.arena_size} bytes (lower bound {p.lower_bound}, {p.strategy}); "
             f"one column = {scale:.0f} bytes"]
    for s in range(nsteps):
        row = ["."] * width
        for b in buffers:
            if b.first <= s <= b.last:
                lo = int(p.offsets[b.key] / scale)
                hi = max(lo + 1, int((p.offsets[b.key] + b.size) / scale + 0.999))
                for c in range(lo, min(hi, width)):
                    row[c] = letter[b.key]
        used = sum(_align(b.size) for b in buffers if b.first <= s <= b.last)
        lines.append(f"{s:4d} |{''.join(row)}| {used}")
    lines.append("legend: " + "  ".join(
        f"{letter[b.key]}={(labels or {}).get(b.key, b.key)} ({b.size} B)" for b in buffers))
    return "\n".join(lines)
