"""The picture `--show-plan` prints of a compiled model's memory."""
from __future__ import annotations

from .planner import Plan, lower_bound, render, render_variables


def plan_picture(c) -> str:
    """--show-plan: the arena's picture (one per RAM region), the max-live bound of whole
    tensors, each depth-first chain and op in place, and the variables (c: compile.Compiled)."""
    p = c.plan
    if not p.region_sizes:
        pic = render(c.buffers, p, c.labels)
    else:       # one picture per RAM region
        parts = []
        for r, (name, size) in enumerate(zip(p.region_names, p.region_sizes)):
            mine = [b for b in c.buffers if p.region_of.get(b.key, 0) == r]
            parts.append(f"RAM region {name or 'ram (main RAM)'}:\n" + render(
                mine, Plan(p.offsets, size, lower_bound(mine), p.strategy), c.labels))
        pic = "\n".join(parts)
    r = c.report
    pic += (f"\nmax-live bound with every tensor whole: {r['max_live_bound']} bytes (arena "
            f"{r['arena_gap_to_max_live_bound']:+d}); --optimize {r['optimize']}")
    for d in r["depth_first"]:
        pic += (f"\n  ops {', '.join(map(str, d['ops']))}: depth first, row by row ("
                + ", ".join(f"{t} {n} rows" for t, n in d["rows"].items()) + ")")
    for o in r["in_place_ops"]:     # each op's schedule where it is not the plain one
        pic += (f"\n  op {o['op']} {o['opcode']}: in place ({o['kind']}"
                + (f", {o['lag']} bytes ahead" if o['lag'] > 0 else "")
                + f"), t{o['tensor']} written " + (f"at byte {o['offset']} of t{o['over']}"
                                                   if o['offset'] > 0 else f"over t{o['over']}"))
    if c.plan.variables:        # state beside the arena, reported apart from it
        pic += "\n" + render_variables(c.plan, c.labels)
    return pic
