"""What quantization cost: the float model against its int8 version, the latter run through our
own generated C on the host. `evaluate` gives both accuracies and their agreement; `per_layer`
gives each layer's signal-to-quantization-noise ratio (SQNR), worst first.

Per layer, the int8 tensors come from a host build whose layer hook (TK_LAYER_HOOK in model.c)
appends every layer's output to a file; the float tensors come from the Keras model. A .tflite
op is tied to the Keras layer whose TensorFlow name scope appears in its output tensor's name."""
from __future__ import annotations

import math
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import __version__
from ..codegen.csource import template_env
from ..compile import Compiled
from ..errors import TinykilnError
from ..targets.hostrun import HostBuild
from ..frontend.keras_convert import FloatModel, Progress, check_rows, import_tf, quiet, read_arrays

PER_LAYER_MAX_SAMPLES = 500     # SQNR statistics settle long before; bounds the time
PER_LAYER_CHUNK = 50            # rows per host run and Keras call: bounds the memory
HOST_CHUNK = 256                # rows per host run (one progress step)
VALUE_PRESERVING = ("QUANTIZE", "RESHAPE", "SQUEEZE")   # same real values in and out


# ---- data

def load_eval_data(path: str | Path, fm: FloatModel) -> tuple[np.ndarray, np.ndarray]:
    """x (float32 rows for the model's single input) and y from a .npz with arrays 'x' and 'y'."""
    if len(fm.inputs) != 1 or fm.n_outputs != 1:
        raise TinykilnError(f"--eval handles models with one input and one output; {fm.name} has "
                            f"{len(fm.inputs)} input(s) and {fm.n_outputs} output(s).")
    arrays = dict(read_arrays(path, "eval data"))
    if Path(path).is_dir() or not {"x", "y"} <= set(arrays):
        has = ", ".join(repr(k) for k in arrays)
        raise TinykilnError(f"eval data {path} must be a .npz with arrays 'x' (inputs) and 'y' "
                            f"(labels); it has {has}.")
    x = check_rows(arrays["x"], f"{Path(path).name}['x']", fm.inputs[0], "eval data",
                   allow_single=False)
    y = np.asarray(arrays["y"])
    if y.ndim == 0 or y.shape[0] != x.shape[0]:
        raise TinykilnError(f"eval data {path}: 'y' has shape {y.shape} but 'x' has {x.shape[0]} "
                            f"rows; give one label (or target row) per input row.")
    if y.dtype.kind not in "fiub":
        raise TinykilnError(f"eval data {path}: 'y' holds {y.dtype} values; give class indices, "
                            f"one-hot rows or numeric targets.")
    if x.shape[0] == 0:
        raise TinykilnError(f"eval data {path} holds no samples.")
    return x, y


def quantize(x: np.ndarray, scale: float, zero_point: int, dtype=np.int8) -> np.ndarray:
    """Real values to the model's integer input: round half away from zero (as TFLite), clamp."""
    info = np.iinfo(dtype)
    v = np.asarray(x, np.float64) / scale
    q = np.sign(v) * np.floor(np.abs(v) + 0.5) + zero_point
    return np.clip(q, info.min, info.max).astype(dtype)


def dequantize(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    return (q.astype(np.float64) - zero_point) * scale


def _qparams(c: Compiled, t: int) -> tuple[float, int]:
    tt = c.graph.tensors[t]
    if tt.quant is None:
        raise TinykilnError(f"tensor '{tt.name}' of the int8 model has no quantization "
                            f"parameters.")
    return float(tt.quant.scale[0]), int(tt.quant.zero_point[0])


def sqnr_db(ref: np.ndarray, test: np.ndarray) -> float:
    """10 log10(signal power / noise power); inf when equal, -inf when the signal is zero."""
    r = np.asarray(ref, np.float64).ravel()
    e = np.asarray(test, np.float64).ravel() - r
    s, n = float(r @ r), float(e @ e)
    if n == 0.0:
        return math.inf
    if s == 0.0:
        return -math.inf
    return 10.0 * math.log10(s / n)


def _num(v: float | None, nd: int = 2):
    """A JSON-safe number: infinities become None."""
    return None if v is None or not math.isfinite(v) else round(float(v), nd)


# ---- the int8 model on the host

def run_int8(c: Compiled, x: np.ndarray, label: str = "int8 model (generated C)") -> np.ndarray:
    """Real-valued output of our generated C for float input rows x: quantized with the model's
    input scale and zero point, run on the host, dequantized with the output's."""
    g = c.graph
    t_in, t_out = g.inputs[0], g.outputs[0]
    q = quantize(x, *_qparams(c, t_in), dtype=_np_dtype(g.tensors[t_in].dtype))
    outs = []
    with HostBuild(c) as hb, Progress(label, x.shape[0]) as bar:
        for lo in range(0, x.shape[0], HOST_CHUNK):
            outs.append(hb.run([q[lo:lo + HOST_CHUNK]])[0])
            bar.update(lo + len(outs[-1]))
    return dequantize(np.concatenate(outs), *_qparams(c, t_out))


def _np_dtype(name: str):
    return {"int8": np.int8, "uint8": np.uint8, "int16": np.int16, "int32": np.int32,
            "float32": np.float32}[name]


class LayerDump:
    """A host build of the compiled model whose layer hook (TK_LAYER_HOOK in model.c) records
    every op's outputs right after the op ran; run() returns every non-constant tensor."""

    def __init__(self, c: Compiled):
        self.c = c
        g = c.graph
        self.entries = []
        for call in c.lowered.calls:
            if call.is_copy_free:
                continue
            for t in g.ops[call.op_index].outputs:
                self.entries.append({"op": call.op_index, "tensor": t,
                                     "offset": c.plan.offsets[("t", g.root(t))],
                                     "bytes": g.tensors[t].nbytes})
        self.dir = Path(tempfile.mkdtemp(prefix="tinykiln-dump-"))
        self.path = self.dir / "layers.bin"
        self.hb = None
        if self.entries:
            env = template_env()
            ctx = {"version": __version__, "prefix": c.prefix, "entries": self.entries,
                   "path": str(self.path),
                   "path_comment": "the dump file"}
            extra = {"host_dump.h": env.get_template("host_dump.h.j2").render(ctx),
                     "host_dump.c": env.get_template("host_dump.c.j2").render(ctx)}
            self.hb = HostBuild(c, extra_files=extra, extra_cflags=["-include", "host_dump.h"])

    def tensors(self) -> set[int]:
        """The tensors run() returns."""
        g = self.c.graph
        have = set(g.inputs) | {e["tensor"] for e in self.entries}
        return have | {t for t, tt in enumerate(g.tensors)
                       if tt.alias_of is not None and g.root(t) in have}

    def run(self, q: np.ndarray) -> dict[int, np.ndarray]:
        """tensor index -> (N, *shape) values of our C for the integer input rows q."""
        g = self.c.graph
        out: dict[int, np.ndarray] = {g.inputs[0]: q}
        if self.hb is None:
            return out
        n = q.shape[0]
        self.hb.run([q])
        raw = np.frombuffer(self.path.read_bytes(), np.uint8)
        row = sum(e["bytes"] for e in self.entries)
        if raw.size != row * n:
            raise RuntimeError(f"layer dump holds {raw.size} bytes, expected {row * n}")
        raw = raw.reshape(n, row)
        pos = 0
        for e in self.entries:
            tt = g.tensors[e["tensor"]]
            out[e["tensor"]] = np.ascontiguousarray(raw[:, pos:pos + e["bytes"]]) \
                .view(np.dtype(_np_dtype(tt.dtype))).reshape((n, *tt.shape))
            pos += e["bytes"]
        for t, tt in enumerate(g.tensors):    # aliases (reshapes): their root's bytes
            if tt.alias_of is not None and g.root(t) in out:
                out[t] = out[g.root(t)].reshape((n, *tt.shape))
        return out

    def close(self):
        if self.hb is not None:
            self.hb.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def dump_layers(c: Compiled, q: np.ndarray) -> dict[int, np.ndarray]:
    """Every non-constant tensor of the compiled graph (N, *shape), as our C computes it for the
    integer input rows q."""
    with LayerDump(c) as d:
        return d.run(q)


# ---- accuracy

def evaluate(fm: FloatModel, c: Compiled, x: np.ndarray, y: np.ndarray) -> dict:
    """Float and int8 accuracy (or error, for regression targets) and their agreement."""
    with Progress("float model", x.shape[0]) as bar:
        yf = fm.predict([x], progress=bar)[0]
    yq = run_int8(c, x)
    n = x.shape[0]
    yf, yq = yf.reshape(n, -1).astype(np.float64), yq.reshape(n, -1)
    res = {"samples": int(n), "output_sqnr_db": _num(sqnr_db(yf, yq))}
    task, labels, pick = _task(yf, y)
    res["task"] = task
    if task == "regression":
        t = y.reshape(n, -1).astype(np.float64)
        res["float_rmse"] = _num(math.sqrt(float(np.mean((yf - t) ** 2))), 6)
        res["int8_rmse"] = _num(math.sqrt(float(np.mean((yq - t) ** 2))), 6)
        return res
    pf, pq = pick(yf), pick(yq)
    res["float_accuracy"] = _num(100.0 * float(np.mean(pf == labels)))
    res["int8_accuracy"] = _num(100.0 * float(np.mean(pq == labels)))
    res["agreement"] = _num(100.0 * float(np.mean(pf == pq)))
    return res


def _task(yf: np.ndarray, y: np.ndarray):
    """('classification' | 'binary' | 'regression', labels, prediction function) from the
    output width and the labels: class indices or one-hot rows classify by argmax; one output
    with 0/1 labels is binary (threshold 0.5 on probabilities, 0 on logits)."""
    n, k = yf.shape
    integral = y.dtype.kind in "iub" or bool(np.all(np.mod(y, 1) == 0))
    if k > 1 and y.ndim == 2 and y.shape[1] == k and integral and set(np.unique(y)) <= {0, 1}:
        return "classification", np.argmax(y, axis=1), lambda v: np.argmax(v, axis=1)
    if k > 1 and y.size == n and integral:
        labels = y.reshape(n).astype(np.int64)
        if labels.min() < 0 or labels.max() >= k:
            raise TinykilnError(f"eval labels 'y' range over {labels.min()}..{labels.max()}, but "
                                f"the model has {k} outputs (classes 0..{k - 1}).")
        return "classification", labels, lambda v: np.argmax(v, axis=1)
    if k == 1 and y.size == n and integral and set(np.unique(y)) <= {0, 1}:
        thr = 0.5 if (yf.min() >= 0.0 and yf.max() <= 1.0) else 0.0
        return "binary", y.reshape(n).astype(np.int64), lambda v: (v[:, 0] > thr).astype(np.int64)
    if y.reshape(n, -1).shape[1] == k:
        return "regression", None, None
    raise TinykilnError(f"eval labels 'y' of shape {y.shape} do not fit the model's output width "
                        f"{k}: give class indices (N,), one-hot rows (N, {k}) or targets (N, {k}).")


def format_eval(res: dict, source: str) -> str:
    lines = [f"eval on {res['samples']} samples of {source}:"]
    if res["task"] == "regression":
        lines += [f"  float model   RMSE {res['float_rmse']}",
                  f"  int8 model    RMSE {res['int8_rmse']}   (our generated C on the host)"]
    else:
        lines += [f"  float model   accuracy {res['float_accuracy']:.2f}%",
                  f"  int8 model    accuracy {res['int8_accuracy']:.2f}%   (our generated C on "
                  f"the host)",
                  f"  agreement     {res['agreement']:.2f}% of predictions equal"]
    lines.append(f"  output SQNR   {_fmt_db(res['output_sqnr_db'])} (int8 output against float)")
    return "\n".join(lines)


def _fmt_db(v) -> str:
    if v is None:
        return "n/a"
    return f"{v:.1f} dB"


# ---- per layer

@dataclass
class KerasGraph:
    """The layer calls of a Functional (or Sequential) model, in the order the model runs them,
    with each call's output KerasTensor: the tensors sub-models are cut between."""
    inputs: list                # the model's input KerasTensors
    order: list                 # layers, in call order
    output: dict                # id(layer) -> output KerasTensor (layers called once only)


def keras_graph(model) -> KerasGraph:
    f = getattr(model, "_functional", None) or model      # a Sequential runs a Functional
    by_depth = getattr(f, "_nodes_by_depth", None)
    if not by_depth:        # not a graph model: the layers as listed, one call each
        order = [ly for ly in model.layers if type(ly).__name__ != "InputLayer"]
        return KerasGraph(list(model.inputs), order,
                          {id(ly): ly.output for ly in order})
    order, outs, calls = [], {}, {}
    for depth in sorted(by_depth, reverse=True):            # as Function._run_through_graph
        for node in by_depth[depth]:
            if node.operation is None or node.is_input:
                continue
            op = node.operation
            order.append(op)
            calls[id(op)] = calls.get(id(op), 0) + 1
            if len(node.outputs) == 1:
                outs[id(op)] = node.outputs[0]
    outs = {k: v for k, v in outs.items() if calls[k] == 1}     # shared layers: ambiguous
    return KerasGraph(list(f.inputs), order, outs)


def layer_scopes(kg: KerasGraph) -> dict[str, object]:
    """TensorFlow name scope -> Keras layer, as the converter's tracing names them.

    Keras 3 opens a layer's scope twice per call (build, then call; the ops live in the second),
    and TensorFlow makes scope names unique per graph (Graph.unique_name: 'x', 'x_1', ... skipping
    names in use), in the order the model calls its layers."""
    used: dict[str, int] = {}

    def unique(name: str) -> str:
        key = name.lower()
        i = used.get(key, 0)
        used[key] = i + 1
        if i > 0:
            base = key
            while key in used:
                key = f"{base}_{i}"
                i += 1
            used[key] = 1
            name = f"{name}_{i - 1}"
        return name

    scopes = {}
    for layer in kg.order:
        unique(layer.name)
        scopes[unique(layer.name)] = layer
    return scopes


def _layers_named(name: str, scopes: dict) -> list:
    """The layers whose scope is the second path component of a (';'-joined) tensor name."""
    found = []
    for part in name.split(";"):
        comps = part.split("/")
        if len(comps) >= 2 and comps[1] in scopes and scopes[comps[1]] not in found:
            found.append(scopes[comps[1]])
    return found


def map_layers(c: Compiled, model, kg: KerasGraph) -> dict[int, object]:
    """tensor index -> Keras layer whose output it is. A layer belongs to the last op whose output
    name carries its scope (a fused Conv+BatchNorm+ReLU op names all three); an op output tied to
    several layers is the latest one's output. The graph outputs are the model's outputs."""
    g = c.graph
    scopes = layer_scopes(kg)
    rank = {id(ly): k for k, ly in enumerate(kg.order)}
    last: dict[int, int] = {}                   # id(layer) -> tensor
    by_id = {}
    for op in g.ops:
        for t in op.outputs:
            for ly in _layers_named(g.tensors[t].name, scopes):
                last[id(ly)] = t
                by_id[id(ly)] = ly
    mapped: dict[int, object] = {}
    for lid, t in last.items():
        if t not in mapped or rank.get(lid, -1) > rank.get(id(mapped[t]), -1):
            mapped[t] = by_id[lid]
    for k, t in enumerate(g.outputs):
        try:
            ly = model.outputs[k]._keras_history.operation
        except (AttributeError, IndexError):
            continue
        for other in [s for s, v in mapped.items() if v is ly and s != t]:
            del mapped[other]
        mapped[t] = ly
    return {t: ly for t, ly in mapped.items() if id(ly) in kg.output}


@dataclass
class _Group:
    tensor: int
    layer: object
    layers: list                # every layer whose ops the group holds, in call order
    ops: list[int]
    frontier: list[int]         # tensors the group reads (graph inputs or tensors with a layer)


def _groups(c: Compiled, kg: KerasGraph, mapped: dict[int, object]) -> list[_Group]:
    """For each mapped tensor: the ops that compute it from mapped tensors (a layer's ops plus
    unmapped ones folded into it, such as an unfused BatchNorm's MUL) and the tensors they read."""
    g = c.graph
    prod = g.producers()
    inputs = set(g.inputs)
    scopes = layer_scopes(kg)
    rank = {id(ly): k for k, ly in enumerate(kg.order)}

    def has_keras(t):
        return t in inputs or t in mapped or (
            t in prod and g.ops[prod[t]].opcode in VALUE_PRESERVING
            and has_keras(g.ops[prod[t]].inputs[0]))

    groups = []
    for t in sorted(mapped, key=lambda t: prod.get(t, -1)):
        if t not in prod:
            continue
        ops, frontier, todo, seen = [], [], [prod[t]], set()
        ok = True
        while todo:
            i = todo.pop()
            if i in seen:
                continue
            seen.add(i)
            ops.append(i)
            for u in g.ops[i].inputs:
                if u < 0 or g.tensors[u].is_const:
                    continue
                if has_keras(u):
                    if u not in frontier:
                        frontier.append(u)
                elif u in prod:
                    todo.append(prod[u])
                else:
                    ok = False
        # a layer that only reshapes (Flatten) adds no error of its own: not listed
        if not ok or all(g.ops[i].opcode in ("RESHAPE", "SQUEEZE") for i in ops):
            continue
        layers = {id(mapped[t]): mapped[t]}
        for i in ops:
            for u in g.ops[i].outputs:
                for ly in _layers_named(g.tensors[u].name, scopes):
                    if rank.get(id(ly), -1) <= rank.get(id(mapped[t]), -1):
                        layers.setdefault(id(ly), ly)
        ordered = sorted(layers.values(), key=lambda ly: rank.get(id(ly), -1))
        groups.append(_Group(t, mapped[t], ordered, sorted(ops), frontier))
    return groups


def per_layer(fm: FloatModel, c: Compiled, x: np.ndarray) -> list[dict]:
    """Each layer's SQNR in dB, worst first. 'sqnr_db' is the error the layer adds itself: its
    int8 output against the float layer fed the (dequantized) int8 tensors it reads in our C.
    'cumulative_sqnr_db': the int8 tensor against the float model's tensor for the same input
    (the error of every layer up to this one). A layer fused into one op with the layers
    before it (Conv2D + BatchNormalization + ReLU) is measured together with them. Rows are
    processed in chunks, so memory stays bounded whatever the model's size."""
    model = fm.keras_model
    if model is None:
        raise TinykilnError(f"--per-layer compares with the Keras model's layers; {fm.name} is a "
                            f"SavedModel without layers: give the .keras or .h5 file.")
    _, keras = import_tf()
    g = c.graph
    x = x[:PER_LAYER_MAX_SAMPLES]
    n = x.shape[0]
    q = quantize(x, *_qparams(c, g.inputs[0]), dtype=_np_dtype(g.tensors[g.inputs[0]].dtype))
    with quiet():
        kg = keras_graph(model)
        mapped = map_layers(c, model, kg)
        groups = _groups(c, kg, mapped)
    if not groups:
        raise TinykilnError(f"cannot tie the int8 model's tensors to the layers of {fm.name} "
                            f"(no layer scope found in the converter's tensor names).")
    kt_in = {t: kg.inputs[k] for k, t in enumerate(g.inputs)}
    own = {gr.tensor: _Power() for gr in groups}
    cum = {gr.tensor: _Power() for gr in groups}
    with LayerDump(c) as dump, Progress("per-layer error", n) as bar, quiet():
        groups = [gr for gr in groups if gr.tensor in dump.tensors()]
        full = keras.Model(kg.inputs, [kg.output[id(gr.layer)] for gr in groups])
        subs = {gr.tensor: _sub_model(keras, c, kg, gr, kt_in, mapped) for gr in groups}
        for lo in range(0, n, PER_LAYER_CHUNK):
            ints = dump.run(q[lo:lo + PER_LAYER_CHUNK])
            floats = _call(full, [x[lo:lo + PER_LAYER_CHUNK]], fm.batch)
            for gr, ref in zip(groups, floats):
                real_q = dequantize(ints[gr.tensor], *_qparams(c, gr.tensor))
                cum[gr.tensor].add(ref, real_q)
                sub = subs[gr.tensor]
                if sub is not None:
                    feeds = [dequantize(ints[u], *_qparams(c, u)).astype(np.float32)
                             .reshape((real_q.shape[0], *shape)) for u, shape in sub[1]]
                    own[gr.tensor].add(_call(sub[0], feeds, fm.batch)[0], real_q)
            bar.update(min(lo + PER_LAYER_CHUNK, n))
    rows = [{"layer": gr.layer.name, "class": type(gr.layer).__name__,
             "layers": [ly.name for ly in gr.layers],
             "ops": gr.ops, "opcodes": [g.ops[i].opcode for i in gr.ops],
             "tensor": g.tensors[gr.tensor].name,
             "sqnr_db": own[gr.tensor].db() if subs[gr.tensor] is not None else None,
             "cumulative_sqnr_db": cum[gr.tensor].db(), "samples": n} for gr in groups]
    rows.sort(key=_rank)
    return rows


class _Power:
    """Signal and noise power summed over chunks; None once sizes disagree."""

    def __init__(self):
        self.s = self.n = 0.0
        self.ok = True

    def add(self, ref: np.ndarray, test: np.ndarray) -> None:
        if np.asarray(ref).size != test.size:
            self.ok = False
            return
        r = np.asarray(ref, np.float64).ravel()
        e = test.astype(np.float64).ravel() - r
        self.s += float(r @ r)
        self.n += float(e @ e)

    def db(self) -> float | None:
        if not self.ok:
            return None
        if self.n == 0.0:
            return math.inf
        if self.s == 0.0:
            return -math.inf
        return 10.0 * math.log10(self.s / self.n)


def _call(model, xs: list[np.ndarray], batch: int | None) -> list[np.ndarray]:
    """A Keras model's outputs (always a list) for a chunk of rows."""
    if batch:           # a model with a fixed batch takes its rows one batch at a time
        y = model.predict(xs if len(xs) > 1 else xs[0], batch_size=batch, verbose=0)
    else:
        y = model(xs if len(xs) > 1 else xs[0], training=False)
    ys = list(y) if isinstance(y, (list, tuple)) else [y]
    return [np.asarray(v) for v in ys]


def _sub_model(keras, c, kg, gr: _Group, kt_in, mapped):
    """(model, [(tensor, sample shape)...]): the float layer(s) of a group, cut out of the model
    between the KerasTensors of the tensors the group reads; None where Keras cannot cut."""
    try:
        kts = [_keras_tensor(c, u, kg, kt_in, mapped) for u in gr.frontier]
        sub = keras.Model(kts, kg.output[id(gr.layer)])
    except Exception:       # noqa: BLE001 - a sub-graph Keras cannot cut out: no own figure
        return None
    return sub, [(u, tuple(int(d) for d in kt.shape[1:])) for u, kt in zip(gr.frontier, kts)]


def _keras_tensor(c: Compiled, t: int, kg: KerasGraph, kt_in: dict, mapped: dict):
    if t in kt_in:
        return kt_in[t]
    if t in mapped:
        return kg.output[id(mapped[t])]
    g = c.graph             # a value-preserving op (QUANTIZE, RESHAPE): its input's tensor
    return _keras_tensor(c, g.ops[g.producers()[t]].inputs[0], kg, kt_in, mapped)


def _rank(row: dict):
    v = row["sqnr_db"] if row["sqnr_db"] is not None else row["cumulative_sqnr_db"]
    return (v is None, v if v is not None else 0.0)


def per_layer_json(rows: list[dict]) -> list[dict]:
    return [{**r, "sqnr_db": _num(r["sqnr_db"]),
             "cumulative_sqnr_db": _num(r["cumulative_sqnr_db"])} for r in rows]


def format_per_layer(rows: list[dict]) -> str:
    if not rows:
        return "per-layer quantization error: no layer could be compared."
    n = rows[0]["samples"]
    names = ["+".join(r["layers"]) for r in rows]
    w = max(12, *(len(s) for s in names))
    lines = [f"per-layer quantization error on {n} samples, worst first (SQNR in dB, higher is "
             f"better; 'own': the layer fed the int8 tensors it reads; 'cumulative': against "
             f"the float model):",
             f"  {'layer':<{w}}  {'ops':<28} {'own':>7} {'cumulative':>11}"]
    for name, r in zip(names, rows):
        ops = "+".join(r["opcodes"])
        ops = ops if len(ops) <= 28 else ops[:25] + "..."
        lines.append(f"  {name:<{w}}  {ops:<28} {_db(r['sqnr_db']):>7} "
                     f"{_db(r['cumulative_sqnr_db']):>11}")
    return "\n".join(lines)


def _db(v) -> str:
    if v is None:
        return "n/a"
    if v > 99.0:        # exact up to float32 rounding (max pooling, requantize to same scale)
        return ">99"
    if v == -math.inf:
        return "-inf"
    return f"{v:.1f}"
