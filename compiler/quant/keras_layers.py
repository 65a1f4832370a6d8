"""The Keras side of the per-layer comparison: a model's layer calls in order, which .tflite
tensor is which layer's output (a .tflite op is tied to the Keras layer whose TensorFlow name
scope appears in its output tensor's name), the groups of ops one layer (or a fused run of
layers) compiles to, and the float sub-model that computes a group from its inputs."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..compile import Compiled

VALUE_PRESERVING = ("QUANTIZE", "RESHAPE", "SQUEEZE")   # same real values in and out


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
class Group:
    tensor: int
    layer: object
    layers: list                # every layer whose ops the group holds, in call order
    ops: list[int]
    frontier: list[int]         # tensors the group reads (graph inputs or tensors with a layer)


def op_groups(c: Compiled, kg: KerasGraph, mapped: dict[int, object]) -> list[Group]:
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
        groups.append(Group(t, mapped[t], ordered, sorted(ops), frontier))
    return groups


def call_model(model, xs: list[np.ndarray], batch: int | None) -> list[np.ndarray]:
    """A Keras model's outputs (always a list) for a chunk of rows."""
    if batch:           # a model with a fixed batch takes its rows one batch at a time
        y = model.predict(xs if len(xs) > 1 else xs[0], batch_size=batch, verbose=0)
    else:
        y = model(xs if len(xs) > 1 else xs[0], training=False)
    ys = list(y) if isinstance(y, (list, tuple)) else [y]
    return [np.asarray(v) for v in ys]


def sub_model(keras, c, kg, gr: Group, kt_in, mapped):
    """(model, [(tensor, sample shape)...]): the float layer(s) of a group, cut out of the model
    between the KerasTensors of the tensors the group reads; None where Keras cannot cut."""
    try:
        kts = [keras_tensor(c, u, kg, kt_in, mapped) for u in gr.frontier]
        sub = keras.Model(kts, kg.output[id(gr.layer)])
    except Exception:       # noqa: BLE001 - a sub-graph Keras cannot cut out: no own figure
        return None
    return sub, [(u, tuple(int(d) for d in kt.shape[1:])) for u, kt in zip(gr.frontier, kts)]


def keras_tensor(c: Compiled, t: int, kg: KerasGraph, kt_in: dict, mapped: dict):
    if t in kt_in:
        return kt_in[t]
    if t in mapped:
        return kg.output[id(mapped[t])]
    g = c.graph             # a value-preserving op (QUANTIZE, RESHAPE): its input's tensor
    return keras_tensor(c, g.ops[g.producers()[t]].inputs[0], kg, kt_in, mapped)
