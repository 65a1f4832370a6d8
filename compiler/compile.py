"""The compile driver: import -> passes -> plan (from each op's scratch query) -> lower -> C.
Output goes to a temporary sibling folder that is renamed into place only when complete."""
from __future__ import annotations

import copy
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .codegen.csource import arena_base, c_identifier, render_sources
from .errors import UnsupportedError
from .ir import CTYPE_SIZE, DTYPE_SIZE, Graph
from .outdir import staged_output
from .lower import LOWERINGS, scratch_bytes
from .lower.context import LowerContext, Lowered
from .lower.depth_first import fuse_calls
from .passes import CONCAT_IN_PLACE, DEPTH_FIRST, IN_PLACE, LEAN_STACK, run_pipeline
from .passes.in_place import check_kernels, kinds_for
from .passes.schedules import drop_overlaps, redo_schedules, undo_schedules
from .plan.planner import Buffer, Plan, check_overlaps, live_by_step, lower_bound, plan, \
    plan_variables
from .plan.picture import plan_picture  # noqa: F401 (the CLI's and demo's --show-plan)
from .plan.regions import ArenaRegion, regional_plan, split_regions


@dataclass
class Compiled:
    graph: Graph
    lowered: Lowered
    plan: Plan
    buffers: list[Buffer]
    labels: dict
    files: dict[str, str]          # relative path -> contents
    report: dict
    prefix: str = "model"
    recompile: object = None       # (**options) -> Compiled: the same input compiled again


def _lower(graph: Graph, offsets: dict, no_scratch: frozenset, scratch: dict[int, int]) -> Lowered:
    """Lower every op once, with its tensors' and scratch's arena offsets known."""
    ctx = LowerContext(graph, offsets, no_scratch=no_scratch, planned_scratch=scratch)
    for op in graph.ops:
        try:
            LOWERINGS[op.opcode](op, ctx)
        except UnsupportedError as e:
            if str(e).startswith(f"op {op.index} "):
                raise
            raise ctx.fail(op, str(e).rstrip(".")) from None
    return ctx.out


def _scratch(graph: Graph, no_scratch: frozenset) -> dict[int, int]:
    """Op index -> bytes of scratch, for the ops whose kernels need some."""
    out = {}
    for op in graph.ops:
        n = scratch_bytes(op, graph, op.index not in no_scratch)
        if n > 0:
            out[op.index] = n
    return out


def activation_buffers(graph: Graph, scratch: dict[int, int],
                       pre: dict[str, int] | None = None) -> tuple[list[Buffer], dict]:
    """Lifetimes of every non-constant tensor (aliases merged into their root) and scratch.
    `pre` (name -> bytes): buffers live in a step before the first op, together with the model's
    inputs (an impulse's raw window and DSP scratch, which fill the input)."""
    n = len(graph.ops)
    off = 1 if pre else 0
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    size: dict[int, int] = {}
    members: dict[int, set] = {}             # root -> the tensors stored in it
    t_first: dict[int, int] = {}             # per tensor, its own first and last step
    t_last: dict[int, int] = {}

    def touch(t: int, step: int):
        r = graph.root(t)
        if graph.tensors[r].is_const or graph.tensors[r].is_variable:
            return      # flash, or the variables' own buffer (variable_sizes)
        first[r] = min(first.get(r, step), step)
        last[r] = max(last.get(r, step), step)
        t_first[t] = min(t_first.get(t, step), step)
        t_last[t] = max(t_last.get(t, step), step)
        size[r] = max(size.get(r, 0), graph.root_offset(t) + held_bytes(graph.tensors[t]),
                      held_bytes(graph.tensors[r]))
        members.setdefault(r, set()).add(t)

    for t in graph.inputs:
        touch(t, 0)
    at = _steps(graph)
    for op in graph.ops:
        for t in op.inputs + op.outputs:
            if t >= 0:
                touch(t, at[op.index] + off)
    for t in graph.outputs:
        touch(t, max(n - 1, 0) + off)
    buffers = []
    for r in sorted(first):
        if members[r] == {r}:
            buffers.append(Buffer(("t", r), size[r], first[r], last[r]))
            continue
        # tensors sharing a root (in place, with a lag, concatenated, reshaped): each one's
        # bytes are live from the step that writes them to its own last read; an output
        # written with a lag starts before the root (passes/in_place.py), whose part comes first
        lo = min(0, min(graph.root_offset(t) for t in members[r]))
        parts = [(-lo, -lo + held_bytes(graph.tensors[r]), t_first.get(r, first[r]),
                  t_last.get(r, last[r]))]
        parts += [(graph.root_offset(t) - lo, graph.root_offset(t) - lo +
                   held_bytes(graph.tensors[t]), t_first[t], t_last[t])
                  for t in sorted(members[r] - {r})]
        buffers.append(Buffer(("t", r), size[r] - lo, first[r], last[r], tuple(parts)))
    labels = {("t", r): f"t{r}" for r in first}
    for i, nbytes in sorted(scratch.items()):
        buffers.append(Buffer(("s", i), nbytes, at[i] + off, at[i] + off))
        labels[("s", i)] = f"scratch{i}"
    for name, nbytes in (pre or {}).items():
        buffers.append(Buffer(("p", name), nbytes, 0, 0))
        labels[("p", name)] = name
    return buffers, labels


def _steps(graph: Graph) -> dict:
    """Op index -> the step it runs at: its place in the list, or its chain's first op's
    (depth first: passes/depth_first.py)."""
    pos = {op.index: i for i, op in enumerate(graph.ops)}
    return {op.index: pos[op.run_at if op.run_at is not None else op.index] for op in graph.ops}


def held_bytes(t) -> int:
    """The bytes a tensor's buffer holds: all, or df_rows rows of it (depth first)."""
    if t.df_rows:
        return t.df_rows * int(t.shape[2]) * int(t.shape[3]) * DTYPE_SIZE[t.dtype]
    return t.nbytes


def _max_live_whole(graph: Graph, scratch: dict[int, int], pre) -> int:
    """The max-live lower bound with every tensor whole: the in-place aliases undone."""
    saved = undo_schedules(graph)
    try:
        return lower_bound(activation_buffers(graph, scratch, pre)[0])
    finally:
        redo_schedules(saved)


def variable_sizes(graph: Graph) -> dict:
    """("t", index) -> bytes of every variable tensor an op or the model's outputs use."""
    used = {t for op in graph.ops for t in op.inputs + op.outputs if t >= 0} | set(graph.outputs)
    return {("t", t.index): t.nbytes for t in graph.tensors
            if t.is_variable and not t.is_const and t.index in used}


def _plan_arena(graph: Graph, scratch_may_grow_arena: bool = False,
                pre: dict[str, int] | None = None):
    """Plan tensors and op scratch. Optional scratch (e.g. im2col) buys speed but must not
    enlarge the arena beyond what the tensors and the scratch kernels cannot do without (SVDF's
    sums; the scratch query with allowed=False) need: ops whose optional scratch does are
    planned (and then lowered) without it, worst first, until the arena is back to that size."""
    # a depth-first chain's convolutions run at its first op's step, on row bands: no scratch
    no_scratch: frozenset = frozenset(i for op in graph.ops for i in op.chain)
    base = None
    while True:
        scratch = _scratch(graph, no_scratch)
        buffers, labels = activation_buffers(graph, scratch, pre)
        p = plan(buffers)
        if not scratch or scratch_may_grow_arena:
            return buffers, labels, p, no_scratch, scratch
        if base is None:
            needed = _scratch(graph, frozenset(op.index for op in graph.ops))
            base = plan(activation_buffers(graph, needed, pre)[0]).arena_size
        optional = [i for i in sorted(scratch) if i not in no_scratch]
        if p.arena_size <= base or not optional:
            return buffers, labels, p, no_scratch, scratch

        def pressure(i):
            step = i + (1 if pre else 0)
            return sum(b.size for b in buffers if b.key[0] == "t" and b.first <= step <= b.last) \
                + scratch[i]
        worst = max(optional, key=pressure)
        no_scratch = no_scratch | {worst}


def _scheduled(graph: Graph, kinds: frozenset, grow: bool, pre):
    """The graph with ops in place and depth first (passes), planned (_plan_arena). Chains are
    chosen two ways, the smaller arena kept: where they lower each step's live bytes, largest
    first, through a depthwise and three convolutions (ram: a row a step; balanced: four, kept
    only where a tenth of the arena goes); and where they lower the peak, two at most."""
    def live(g: Graph) -> list[int]:        # the ops' steps (a stage before the model: step 0)
        return live_by_step(activation_buffers(g, {}, pre)[0], len(g.ops) + bool(pre))[bool(pre):]
    variants, gain = [kinds], 1.0
    if "depth_first_dw" in kinds and "depth_first_peak" not in kinds:
        variants.append(kinds | {"depth_first_peak"})
    elif "depth_first_balanced" in kinds:
        variants.append(kinds - {"depth_first_peak"} | {"depth_first_dw", "depth_first_rows4"})
        gain = 0.9
    def measure(g: Graph) -> list[int]:     # the steps' live bytes, largest first
        return sorted(live(g), reverse=True)
    best = None
    for i, k in enumerate(variants):
        g = copy.deepcopy(graph) if i + 1 < len(variants) else graph
        g = IN_PLACE(DEPTH_FIRST(CONCAT_IN_PLACE(g, k, measure), k, measure), k, live)
        planned, saved = _plan_arena(g, grow, pre), []
        if "keep_schedules" not in k:   # (tests keep what the passes set)
            planned = drop_overlaps(g, planned, lambda h: _plan_arena(h, grow, pre))
            saved = undo_schedules(g)
        if saved:       # ops in place, with a lag or depth first, whose plan the greedy planner
            whole = _plan_arena(g, grow, pre)       # packs worse than whole tensors' (small
            if whole[2].arena_size < planned[2].arena_size:     # models): dropped
                planned = whole
            else:
                redo_schedules(saved)
        if best is None or planned[2].arena_size < best[1][2].arena_size * (gain if i else 1):
            best = (g, planned)
    return best


def compile_graph(graph: Graph, prefix: str = "model", model_name: str = "model",
                  scratch_may_grow_arena: bool = False,
                  pre_buffers: dict[str, int] | None = None, optimize: str = "balanced",
                  helium: bool = False,
                  arena_regions: tuple[tuple[str, int], ...] = (),
                  kinds: frozenset | None = None) -> Compiled:
    """scratch_may_grow_arena: keep every fast kernel's scratch even where it enlarges the arena
    (tests use it to exercise the fast kernels on every case). pre_buffers (name -> bytes): arena
    space for a stage that runs before the model and writes its input (the DSP front end of an
    impulse); `<prefix>_<name>()` returns it, disjoint from the inputs, overwritten by the model.
    optimize: ram | speed | balanced, which ops run in place (passes/in_place.py); helium: the
    target is a Cortex-M55 (balanced weighs its costs). arena_regions: (name, bytes) of the RAM
    the arena may take, fastest first, "" (the board's [ram]) first, its bytes less the stack and
    static data: the arena spills beyond [ram] only where it must (plan/regions.py)."""
    t0 = time.perf_counter()
    kinds = kinds_for(optimize, helium) if kinds is None else kinds   # (tests pick kinds)
    graph, (buffers, labels, p, no_scratch, scratch) = _scheduled(
        LEAN_STACK(run_pipeline(graph), kinds), kinds, scratch_may_grow_arena, pre_buffers)
    variables, variable_bytes = plan_variables(variable_sizes(graph))
    p = _place(graph, buffers, p, arena_regions, variable_bytes)
    p.variables, p.variable_bytes = variables, variable_bytes
    labels.update({k: f"t{k[1]} ({graph.tensors[k[1]].nbytes} B)" for k in p.variables})
    # a buffer with a tensor before its root (a lag): the root starts at its first part's start
    p.shift = {b.key: b.extents[0][0] for b in buffers if b.extents}
    # a lowering's ctx.ptr finds a variable's place (in the variables' buffer) like any tensor's
    lowered = _lower(graph, {**{k: p.address(k) for k in p.offsets}, **p.variables},
                     no_scratch, scratch)
    check_kernels(graph, lowered.calls)
    fuse_calls(graph, lowered)
    if lowered.scratch != scratch:     # a family's scratch query disagrees with its lowering
        raise AssertionError(f"planned scratch {scratch}, lowered {lowered.scratch}")
    pre = [{"name": k, "bytes": v, "offset": p.offsets[("p", k)], "base": arena_base(p, ("p", k))}
           for k, v in (pre_buffers or {}).items()]
    files = render_sources(graph, lowered, p, prefix=prefix, model_name=model_name, pre=pre)
    weight_bytes = sum(len(c.values) * CTYPE_SIZE[c.ctype] for c in lowered.consts)
    report = {
        "tinykiln_version": __version__,
        "model": model_name,
        "model_sha256": graph.source_sha256,
        "ops": len(graph.ops),
        "op_counts": _counts(op.opcode for op in graph.ops),
        "tensors": len(graph.tensors),
        "weight_bytes": int(weight_bytes),
        "optimize": optimize + (" (Helium target)" if helium and optimize == "balanced" else ""),
        **_memory_report(graph, p, scratch, pre_buffers),
        "macs": int(sum(c.macs for c in lowered.calls)),
        "kernels": sorted(lowered.sources),
        "inputs": [_io(graph, t) for t in graph.inputs],
        "outputs": [_io(graph, t) for t in graph.outputs],
        "layers": [{"op": c.op_index, "opcode": c.opcode, "kernel": c.func or None, "macs": c.macs}
                   for c in lowered.calls],
        "warnings": list(lowered.warnings),
        "compile_seconds": round(time.perf_counter() - t0, 3),
    }
    return Compiled(graph, lowered, p, buffers, labels, files, report, c_identifier(prefix))


def _place(graph: Graph, buffers: list[Buffer], p: Plan, arena_regions, variable_bytes: int):
    """The plan split across the board's RAM regions where it must be, each region's plan
    checked (no two buffers live at once share a byte)."""
    if arena_regions:
        regions = [ArenaRegion(n, b - (variable_bytes if not i else 0))
                   for i, (n, b) in enumerate(arena_regions)]
        plans, where = split_regions(buffers, regions, _work(graph, buffers),
                                     _together(graph))
        p = regional_plan(p, plans, where, regions)
    for r in range(len(p.region_names)):
        bad = check_overlaps([b for b in buffers if p.region_of.get(b.key, 0) == r], p.offsets)
        if bad:     # the planner's own invariant; never the user's fault
            raise AssertionError(f"arena plan overlaps: {bad[:3]}")
    return p


def _memory_report(graph: Graph, p: Plan, scratch: dict, pre_buffers) -> dict:
    """report.json's arena, bounds, regions, ops in place, depth-first chains and variables."""
    whole = _max_live_whole(graph, scratch, pre_buffers)
    return {
        "arena_bytes": p.total_arena,
        "arena_lower_bound": p.lower_bound,
        "arena_gap_to_lower_bound": p.total_arena - p.lower_bound,
        **({"arena_regions": [{"region": n or "ram", "bytes": b}
                              for n, b in zip(p.region_names, p.region_sizes)]}
           if p.region_sizes else {}),
        # the max-live bound of whole tensors (no op in place): negative gap where we beat it
        "max_live_bound": whole,
        "arena_gap_to_max_live_bound": p.total_arena - whole,
        "in_place_ops": [{"op": op.index, "opcode": op.opcode, "tensor": op.outputs[0],
                          "over": graph.tensors[op.outputs[0]].alias_of,
                          "kind": graph.tensors[op.outputs[0]].in_place,
                          # bytes before the start of the tensor written over, or after it
                          "lag": max(0, -graph.tensors[op.outputs[0]].alias_offset),
                          "offset": graph.tensors[op.outputs[0]].alias_offset} for op in graph.ops
                         if op.outputs and graph.tensors[op.outputs[0]].in_place],
        "depth_first": [{"ops": op.chain, "rows": {f"t{t}": graph.tensors[t].df_rows
                                                  for o in op.chain for t in
                                                  graph.ops[_pos(graph, o)].outputs
                                                  if graph.tensors[t].df_rows}}
                        for op in graph.ops if op.chain],
        "planner_strategy": p.strategy,
        "variable_bytes": p.variable_bytes,
        "variables": [{"tensor": k[1], "name": graph.tensors[k[1]].name,
                       "bytes": graph.tensors[k[1]].nbytes, "offset": off}
                      for k, off in p.variables.items()],
    }


def _work(graph: Graph, buffers: list[Buffer]) -> dict:
    """Buffer key -> the work of the ops that touch it (output elements times weights per
    output): where the arena spans RAM regions, the most worked bytes go to the fastest."""
    work: dict = {}
    for op in graph.ops:
        n = sum(math.prod(graph.tensors[t].shape) for t in op.outputs if t >= 0)
        per = 1
        for t in op.inputs:
            w = graph.tensors[t] if t >= 0 else None
            if w is not None and w.is_const and len(w.shape) >= 2:
                dims = w.shape[1:-1] if op.opcode.startswith("DEPTHWISE") else w.shape[1:]
                per = max(per, math.prod(dims))
        keys = {("t", graph.root(t)) for t in op.inputs + op.outputs if t >= 0}
        for k in [*keys, ("s", op.index)]:
            work[k] = work.get(k, 0) + n * per
    return {b.key: work.get(b.key, 0) for b in buffers}


# ops whose kernel reaches its parts from one arena pointer and offsets (datamove_split.py)
_PARTS = ("SPLIT", "SPLIT_V", "UNPACK", "PACK")


def _together(graph: Graph) -> list[set]:
    return [{("t", graph.root(t)) for t in op.inputs + op.outputs if t >= 0}
            for op in graph.ops if op.opcode in _PARTS]


def _pos(graph: Graph, index: int) -> int:
    return next(i for i, op in enumerate(graph.ops) if op.index == index)


def _counts(names) -> dict:
    out: dict[str, int] = {}
    for n in names:
        out[n] = out.get(n, 0) + 1
    return dict(sorted(out.items()))


def _io(graph: Graph, t: int) -> dict:
    tt = graph.tensors[t]
    d = {"name": tt.name, "shape": list(tt.shape), "dtype": tt.dtype}
    if tt.quant:
        d["scale"] = tt.quant.scale[0]
        d["zero_point"] = tt.quant.zero_point[0]
    return d


def write_output(c: Compiled, out_dir: str | Path, extra: dict[str, bytes] | None = None) -> Path:
    """Write all files (and `extra` binary files, e.g. the int8 .tflite of a Keras model) into
    out_dir atomically: a temp folder beside it, renamed when complete."""
    out_dir = Path(out_dir)
    with staged_output(out_dir) as tmp:
        for rel, text in sorted(c.files.items()):
            (tmp / rel).write_text(text)
        for rel, data in sorted((extra or {}).items()):
            (tmp / rel).write_bytes(data)
        (tmp / "report.json").write_text(json.dumps(
            {k: v for k, v in c.report.items() if k != "compile_seconds"}, indent=2) + "\n")
    return out_dir
