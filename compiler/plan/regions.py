"""An arena across RAM regions. A board may declare RAM beyond [ram] ([[ram_regions]], by speed
rank). When the arena does not fit what [ram] leaves beside the stack and static data, the
buffers are split: the most used bytes (the work of the ops that touch a buffer, per byte of it)
go to the fastest region as long as its plan fits, the rest spill to the next, and so on. Each
region's buffers are then planned on their own, so every region's plan is a plan like any other
(check_overlaps holds per region). Buffers that a kernel addresses from one base (the parts of
SPLIT, PACK, UNPACK, ... : one arena pointer and offsets) stay in one region."""
from __future__ import annotations

from dataclasses import dataclass

from .planner import Buffer, Plan, plan


@dataclass(frozen=True)
class ArenaRegion:
    name: str           # "" for the main RAM ([ram]); else the board's region name
    capacity: int       # bytes the arena may take there


def _units(buffers: list[Buffer], together: list[set]) -> list[list[Buffer]]:
    """Buffers grouped so that each set of `together` keys lands in one unit."""
    parent = {b.key: b.key for b in buffers}

    def find(k):
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for group in together:
        keys = [k for k in group if k in parent]
        for k in keys[1:]:
            parent[find(k)] = find(keys[0])
    units: dict = {}
    for b in buffers:
        units.setdefault(find(b.key), []).append(b)
    return list(units.values())


def split_regions(buffers: list[Buffer], regions: list[ArenaRegion], work: dict,
                  together: list[set]) -> tuple[list[Plan], dict]:
    """Plans per region (index as in `regions`, fastest first) and key -> region index.
    `work`: key -> how much the ops touching the buffer do (any unit; per byte it ranks).
    Everything in region 0 when the whole plan fits it. Units no region has room for go to the
    last region regardless: the fit check then names the overflow."""
    whole = plan(buffers)
    if len(regions) < 2 or whole.arena_size <= regions[0].capacity:
        return [whole], {b.key: 0 for b in buffers}

    def density(u):
        size = sum(b.size for b in u) or 1
        return (-sum(work.get(b.key, 0) for b in u) / size, -size, min(str(b.key) for b in u))

    left = sorted(_units([b for b in buffers if b.size > 0], together), key=density)
    plans, where = [], {}
    for i, reg in enumerate(regions):
        last = i == len(regions) - 1
        mine: list[Buffer] = []
        rest = []
        for u in left:
            if last or plan(mine + u).arena_size <= reg.capacity:
                mine += u
            else:
                rest.append(u)
        left = rest
        plans.append(plan(mine))
        where.update({b.key: i for b in mine})
    where.update({b.key: 0 for b in buffers if b.size == 0})
    return plans, where


def regional_plan(whole: Plan, plans: list[Plan], where: dict, regions: list[ArenaRegion]) -> Plan:
    """One Plan of the region plans: offsets within each key's region, arena_size region 0's."""
    if len(plans) == 1:
        return whole
    offsets = {}
    for p in plans:
        offsets.update(p.offsets)
    return Plan(offsets, plans[0].arena_size, whole.lower_bound,
                f"{whole.strategy}; split across {len(plans)} RAM regions",
                region_names=tuple(r.name for r in regions),
                region_sizes=tuple(p.arena_size for p in plans),
                region_of={k: i for k, i in where.items() if i})
