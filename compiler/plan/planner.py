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
    # the bytes live at each step where not all are throughout: (lo, hi, first, last) ranges
    # within [0, size) (tensors sharing the buffer at offsets, passes/in_place.py)
    extents: tuple = ()

    def overlaps_in_time(self, other: "Buffer") -> bool:
        return self.first <= other.last and other.first <= self.last

    def spans(self) -> tuple:
        """(lo, hi, first, last) of every part of the buffer, hi aligned."""
        if not self.extents:
            return ((0, _align(self.size), self.first, self.last),)
        return tuple((lo, _align(hi), f, la) for lo, hi, f, la in self.extents)

    def live_bytes(self, step: int) -> int:
        """Bytes of the buffer live at `step` (the union of its live parts)."""
        parts = sorted((lo, hi) for lo, hi, f, la in self.spans() if f <= step <= la)
        total, end = 0, 0
        for lo, hi in parts:
            total += max(0, hi - max(lo, end))
            end = max(end, hi)
        return total


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
    # a buffer holding tensors at several offsets (an output written over its input with a
    # lag, passes/in_place.py) begins before its root tensor: key -> the root's start in it
    shift: dict = field(default_factory=dict)

    def address(self, key) -> int:
        """Where the buffer's root tensor (or the scratch) starts within its region."""
        return self.offsets[key] + self.shift.get(key, 0)

    @property
    def total_arena(self) -> int:
        return sum(self.region_sizes) if self.region_sizes else self.arena_size


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


def _steps(buffers: list[Buffer]) -> set:
    return {f for b in buffers for _, _, f, _ in b.spans()}


def lower_bound(buffers: list[Buffer]) -> int:
    """The largest total (aligned) size of buffers live at one step: no plan can be smaller."""
    return max((sum(b.live_bytes(s) for b in buffers) for s in _steps(buffers)), default=0)


def live_by_step(buffers: list[Buffer], steps: int) -> list[int]:
    """The total (aligned) size of the buffers live at each step 0 .. steps - 1."""
    return [sum(b.live_bytes(s) for b in buffers) for s in range(steps)]


def _first_fit(order: list[Buffer]) -> dict:
    """Each buffer at the lowest offset where none of its parts meets a part placed before it
    that is live at the same step."""
    placed: list[tuple[int, int, int, int]] = []      # (lo, hi, first, last), absolute
    offsets = {}
    for b in order:
        spans = b.spans()
        # offsets O in the open interval (plo - hi, phi - lo) put part (lo, hi) over (plo, phi)
        forbidden = sorted((plo - hi, phi - lo) for plo, phi, pf, pl in placed
                           for lo, hi, f, la in spans if f <= pl and pf <= la)
        off = 0
        for a, z in forbidden:
            if off <= a:
                break
            off = max(off, z)
        offsets[b.key] = off
        placed += [(off + lo, off + hi, f, la) for lo, hi, f, la in spans]
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
    live = {s: sum(b.live_bytes(s) for b in buffers) for s in _steps(buffers)}

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
                if any(oa + alo < ob + bhi and ob + blo < oa + ahi and af <= bl and bf <= al
                       for alo, ahi, af, al in a.spans() for blo, bhi, bf, bl in b.spans()):
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
            for elo, ehi, f, la in b.spans():
                if f <= s <= la:
                    lo = int((p.offsets[b.key] + elo) / scale)
                    hi = max(lo + 1, int((p.offsets[b.key] + min(ehi, b.size)) / scale + 0.999))
                    for c in range(lo, min(hi, width)):
                        row[c] = letter[b.key]
        used = sum(b.live_bytes(s) for b in buffers)
        lines.append(f"{s:4d} |{''.join(row)}| {used}")
    lines.append("legend: " + "  ".join(
        f"{letter[b.key]}={(labels or {}).get(b.key, b.key)} ({b.size} B)" for b in buffers))
    return "\n".join(lines)
