"""The C of a depth-first chain (passes/depth_first.py): each op is lowered as ever (its
parameters, tables and kernel call); then the chain's first call becomes a call of one static
function, `tk_df<op>`, that runs the chain row by row, calling the same kernels on row bands
with copies of their parameters (input rows, output rows 1, top padding of the band), and the
others' calls are left out (their instructions count in the first's layer)."""
from __future__ import annotations

from .context import Call, Lowered, tensor_macro
from .conv_geometry import lead_pad
from . import conv as conv_lowering
from .depthwise3x3 import line_kernel

CONV_FUNCS = ("tk_conv2d_s8_cols", "tk_conv2d_s8_lines", "tk_conv2d_s8_im2col", "tk_conv2d_s8_ref",
              "tk_depthwise_conv2d_s8", "tk_depthwise_conv2d_s8_ref")   # (the same row fields)
LINE_FUNCS = ("tk_depthwise3x3_s8",)       # lines are rows (geometry)
ADD_FUNCS = ("tk_add_s8",)

# tk_df_rows: the input rows of an output row (passes/depth_first.rows_for)
HELPER = """\
/* depth-first chains: the input rows [start, start + h) that output rows j .. j + n - 1 of a
 * window of k rows read, with pad rows of padding above them (passes/depth_first.py rows_for) */
typedef struct { int32_t start, h, pad; } tk_df_band;
static inline tk_df_band tk_df_rows(int32_t j, int32_t n, int32_t stride, int32_t pad,
                                    int32_t k, int32_t size) {
    const int32_t first = j * stride - pad, last = (j + n - 1) * stride - pad + k - 1;
    tk_df_band b;
    b.start = first < 0 ? 0 : first;
    b.h = (last >= size ? size - 1 : last) - b.start + 1;
    b.pad = b.start - first;
    return b;
}"""


def geometry(graph, op) -> dict | None:
    """stride, pad, k, size (input rows), out (output rows) of an int8 CONV_2D or
    DEPTHWISE_CONV_2D a chain can run row by row (one batch, no dilation; a depthwise on the
    line kernel only where its lines are rows); else None."""
    if op.opcode not in ("CONV_2D", "DEPTHWISE_CONV_2D") or len(op.inputs) < 2 \
            or min(op.inputs[:2]) < 0 or len(op.outputs) != 1:
        return None
    x, w, y = (graph.tensors[i] for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    if x.dtype != "int8" or y.dtype != "int8" or len(x.shape) != 4 or len(y.shape) != 4 \
            or len(w.shape) != 4 or int(x.shape[0]) != 1:
        return None
    o = op.options
    if int(o.get("dilation_h_factor", 1)) != 1 or int(o.get("dilation_w_factor", 1)) != 1:
        return None
    k, s = int(w.shape[1]), int(o.get("stride_h", 1))
    size, out = int(x.shape[1]), int(y.shape[1])
    pad = lead_pad(o.get("padding", "SAME"), size, out, s, 1, k)
    if op.opcode == "DEPTHWISE_CONV_2D":
        xs, ys = tuple(int(d) for d in x.shape), tuple(int(d) for d in y.shape)
        sw, kw = int(o.get("stride_w", 1)), int(w.shape[2])
        pw = lead_pad(o.get("padding", "SAME"), xs[2], ys[2], sw, 1, kw)
        if line_kernel(op, xs, ys, (k, kw), (s, sw), (1, 1), (pad, pw),
                       conv_lowering.USE_FAST_KERNELS) == "columns":
            return None
    return {"stride": s, "pad": pad, "k": k, "size": size, "out": out}


def _struct_type(lowered: Lowered, arg: str) -> str:
    name = arg.lstrip("&")
    for st in lowered.structs:
        if st.name == name:
            return st.ctype
    raise AssertionError(f"no parameter struct {name}")


def _row_bytes(t) -> int:
    return int(t.shape[2]) * int(t.shape[3])


def _conv_lines(var: str, call: Call, band: str, src: str, dst: str, rows: str) -> list[str]:
    """`rows` output rows of a conv or depthwise kernel from the band's input rows at src."""
    args = [f"&{var}", src, *call.args[2:4], dst, *call.args[5:]]
    if call.func in LINE_FUNCS:
        return [f"{var}.lines_in = {band}.h;", f"{var}.lines_out = {rows};",
                f"{var}.pad_line = {band}.pad;", f"{call.func}({', '.join(args)});"]
    return [f"{var}.input.h = {band}.h;", f"{var}.output.h = {rows};",
            f"{var}.geom.pad_h = {band}.pad;", f"{call.func}({', '.join(args)});"]


def chain_convs(graph, op1) -> list:
    """The chain's convolutions: its leading ops that each read the one before's output (then
    a residual block's shortcut convolution of the chain's input and the ADD, where it has
    them)."""
    ops = {op.index: op for op in graph.ops}
    convs = [op1]
    for i in op1.chain[1:]:
        op = ops[i]
        if op.opcode not in ("CONV_2D", "DEPTHWISE_CONV_2D") \
                or op.inputs[0] != convs[-1].outputs[0]:
            break
        convs.append(op)
    return convs


def _drop(level: int, band: str, ta: str, ra: int) -> list[str]:
    """Before a band of level's output rows is read: the rows below it, no later row reads,
    dropped (the rest moved to the buffer's start), or all where the band starts past them."""
    lo, hi = f"lo{level}", f"hi{level}"
    return [f"if ({band}.start > {hi}) {{",
            f"    {lo} = {band}.start, {hi} = {band}.start - 1;",
            f"}} else if ({band}.start > {lo}) {{   /* rows no later row reads: dropped */",
            f"    memmove({ta}, {ta} + ({band}.start - {lo}) * {ra}, "
            f"(size_t)(({hi} - {band}.start + 1) * {ra}));",
            f"    {lo} = {band}.start;",
            "}"]


def _fill(level: int, upto: str, levels: list) -> list[str]:
    """The rows of level's output up to row `upto` computed in one call from their band of the
    level before (pulled through the levels before it first). levels: per conv (var, Call,
    geometry, input source macro, input row bytes, output macro, output row bytes)."""
    var, call, g, src, rsrc, dst, rdst = levels[level]
    v, n = f"v{level}", f"n{level}"
    lines = [f"if (hi{level} < {upto}) {{",
             f"    const int32_t {n} = {upto} - hi{level};",
             f"    const tk_df_band {v} = tk_df_rows(hi{level} + 1, {n}, {g['stride']}, "
             f"{g['pad']}, {g['k']}, {g['size']});"]
    if level:
        lines += ["    " + ln for ln in _drop(level - 1, v, src, rsrc)
                  + _fill(level - 1, f"{v}.start + {v}.h - 1", levels)]
        band_src = f"{src} + ({v}.start - lo{level - 1}) * {rsrc}"
    else:
        band_src = f"{src} + {v}.start * {rsrc}"
    lines += ["    " + ln for ln in _conv_lines(var, call, v, band_src,
                                                f"{dst} + (hi{level} + 1 - lo{level}) * {rdst}",
                                                n)]
    return lines + [f"    hi{level} += {n};", "}"]


def chain_function(graph, lowered: Lowered, op1, calls: dict) -> str:
    """The static function that runs op1's chain (calls: op index -> its Call)."""
    ops = {op.index: op for op in graph.ops}
    convs = chain_convs(graph, op1)
    cc = [calls[op.index] for op in convs]
    if any(c.func not in CONV_FUNCS + LINE_FUNCS for c in cc):
        raise AssertionError(f"depth-first chain at op {op1.index}: kernels "
                             f"{[c.func for c in cc]}")
    geoms = [geometry(graph, op) for op in convs]
    x = op1.inputs[0]
    outs = [op.outputs[0] for op in convs]
    b = outs[-1]
    body = [f"{_struct_type(lowered, c.args[0])} p{i + 1} = {c.args[0].lstrip('&')};"
            for i, c in enumerate(cc)]
    add = sc = None
    rest = op1.chain[len(convs):]
    if rest:
        ca = calls[rest[-1]]
        if ca.func not in ADD_FUNCS:
            raise AssertionError(f"depth-first chain at op {op1.index}: kernel {ca.func}")
        add = (ca, ops[rest[-1]])
        body += [f"{_struct_type(lowered, ca.args[0])} pa = {ca.args[0].lstrip('&')};"]
    if len(rest) == 2:              # the shortcut: a conv of x, one step's rows at a time
        cs = calls[rest[0]]
        if cs.func not in CONV_FUNCS + LINE_FUNCS:
            raise AssertionError(f"depth-first chain at op {op1.index}: kernel {cs.func}")
        sc = (cs, ops[rest[0]], geometry(graph, ops[rest[0]]))
        body += [f"{_struct_type(lowered, cs.args[0])} ps = {cs.args[0].lstrip('&')};"]
    srcs = [x] + outs[:-1]
    levels = [(f"p{i + 1}", cc[i], geoms[i], tensor_macro(srcs[i]),
               _row_bytes(graph.tensors[srcs[i]]), tensor_macro(outs[i]),
               _row_bytes(graph.tensors[outs[i]])) for i in range(len(convs))]
    n = len(convs) - 1
    body += [f"int32_t lo{i} = 0, hi{i} = -1;   /* the rows of t{outs[i]} held, from its start */"
             for i in range(n)]
    _, cl, gl, src, rsrc, tb, rb = levels[n]
    step = op1.chain_step
    body += [f"for (int32_t r = 0; r < {gl['out']}; r += {step}) {{",
             f"    const int32_t m = {gl['out']} - r < {step} ? {gl['out']} - r : {step};",
             f"    const tk_df_band w = tk_df_rows(r, m, {gl['stride']}, {gl['pad']}, {gl['k']}, "
             f"{gl['size']});"]
    body += ["    " + ln for ln in _drop(n - 1, "w", src, rsrc)
             + _fill(n - 1, "w.start + w.h - 1", levels)]
    body += ["    " + ln for ln in _conv_lines(f"p{n + 1}", cl, "w",
                                               f"{src} + (w.start - lo{n - 1}) * {rsrc}",
                                               tb if add else f"{tb} + r * {rb}", "m")]
    if sc is not None:
        cs, ops_, gs = sc
        tp = tensor_macro(ops_.outputs[0])
        body += [f"    const tk_df_band u = tk_df_rows(r, m, {gs['stride']}, {gs['pad']}, "
                 f"{gs['k']}, {gs['size']});"]
        body += ["    " + ln for ln in _conv_lines("ps", cs, "u", f"{tensor_macro(ops_.inputs[0])}"
                                                   f" + u.start * {levels[0][4]}", tp, "m")]
    if add is not None:
        ca, opa = add
        ry = _row_bytes(graph.tensors[opa.outputs[0]])
        rows = {tb} | ({tensor_macro(sc[1].outputs[0])} if sc is not None else set())
        args = ["&pa"] + [a_ if a_ in rows else f"{a_} + r * {ry}" for a_ in ca.args[1:]]
        body += [f"    pa.bcast.dims[5] = m * {_row_bytes(graph.tensors[b])};   /* m rows */",
                 f"    {ca.func}({', '.join(args)});"]
    body += ["}"]
    names = ", ".join(str(i) for i in op1.chain)
    held = ", ".join(f"t{t} held {graph.tensors[t].df_rows} rows" for t in outs[:-1])
    head = (f"/* ops {names} depth first, row by row: {held} at a time"
            + (f", t{b} {graph.tensors[b].df_rows} rows" if add else "")
            + (f", t{sc[1].outputs[0]} {graph.tensors[sc[1].outputs[0]].df_rows} rows" if sc
               else "") + " */")
    return "\n".join([head, f"static void tk_df{op1.index}(void) {{",
                      *("    " + ln for ln in body), "}"])


def fuse_calls(graph, lowered: Lowered) -> None:
    """Each chain's first call becomes a call of its function; the others are left out."""
    chains = [op for op in graph.ops if op.chain]
    if not chains:
        return
    calls = {c.op_index: c for c in lowered.calls}
    lowered.functions.append(HELPER)
    for op1 in chains:
        lowered.functions.append(chain_function(graph, lowered, op1, calls))
        first = calls[op1.index]
        first.macs = sum(calls[i].macs for i in op1.chain)
        first.comment += f" ... depth first with ops {', '.join(map(str, op1.chain[1:]))}"
        first.func, first.args = f"tk_df{op1.index}", []
        for i in op1.chain[1:]:
            c = calls[i]
            c.is_copy_free, c.macs = True, 0
            c.comment += f" (runs in op {op1.index}'s depth-first loop)"
