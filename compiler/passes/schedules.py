"""Undoing and redoing what passes/in_place.py, concat_in_place.py and depth_first.py set on a
graph (compile plans a graph both ways and keeps the smaller arena)."""
from __future__ import annotations


def undo_schedules(graph) -> list:
    """Every op's output back to a buffer of its own and every op to its own step; returns what
    redo_schedules restores ([] where nothing was in place or depth first)."""
    saved = [(t, t.alias_of, t.alias_offset, t.in_place, t.df_rows) for t in graph.tensors
             if t.in_place or t.df_rows]
    saved += [(op, op.chain, op.run_at) for op in graph.ops if op.chain or op.run_at is not None]
    saved += [(op,) for op in graph.ops if op.lean and op.opcode == "DEPTHWISE_CONV_2D"]
    for x in saved:
        if len(x) == 5:
            x[0].alias_of, x[0].alias_offset, x[0].in_place, x[0].df_rows = None, 0, False, 0
        elif len(x) == 3:
            x[0].chain, x[0].run_at = [], None
        else:           # a depthwise moved to the raster kernel for its lag: back
            x[0].lean = False
    return saved


def redo_schedules(saved: list) -> None:
    for x in saved:
        if len(x) == 5:
            x[0].alias_of, x[0].alias_offset, x[0].in_place, x[0].df_rows = x[1:]
        elif len(x) == 3:
            x[0].chain, x[0].run_at = x[1:]
        else:
            x[0].lean = True


MAX_TRIALS = 64         # plans tried without one overlap, per compile variant
IN_PLACE = ("pointwise", "dw3", "elementwise")     # ops over their input (in_place.py)


def drop_overlaps(graph, planned, replan):
    """A run of lagged ops drifts down one buffer the planner places whole (lag_orders.prune_lags),
    and ops in place tie their output to their input's buffer: the plan may pack worse than
    with some of them off. Where the plan (buffers, labels, Plan, ...) is above its own bound:
    each lag or op in place still on is tried off (its op back to a buffer of its own), the one
    whose replan(graph) gives the smallest arena taken off, and so on while the arena drops (at
    most MAX_TRIALS plans). Returns the best plan."""
    from .lag_orders import LAGS
    made = {op.outputs[0]: op for op in graph.ops if op.outputs and op.outputs[0] >= 0}
    over = [t for t in graph.tensors if t.index in made and (
        t.in_place in LAGS and t.alias_offset < 0 or t.in_place in IN_PLACE)]

    def off(t):
        was = (t.alias_of, t.alias_offset, t.in_place, made[t.index].lean)
        if t.in_place == "lag_raster":      # (the raster kernel was taken for the lag)
            made[t.index].lean = False
        t.alias_of, t.alias_offset, t.in_place = None, 0, False
        return was

    def on(t, was):
        t.alias_of, t.alias_offset, t.in_place, made[t.index].lean = was
    trials = 0
    while over and planned[2].arena_size > planned[2].lower_bound and trials < MAX_TRIALS:
        best = None
        for t in over[:MAX_TRIALS - trials]:
            was = off(t)
            trial = replan(graph)
            on(t, was)
            trials += 1
            if trial[2].arena_size < (best[0] if best else planned)[2].arena_size:
                best = (trial, t)
        if best is None:
            break
        planned, t = best
        over.remove(t)
        off(t)
    return planned
