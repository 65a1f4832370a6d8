"""The int8 model on the host, through our own generated C: its real-valued outputs for float
input rows (run_int8), and every layer's output tensor (LayerDump, through the layer hook
TK_LAYER_HOOK in model.c, which appends each op's outputs to a file)."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np

from .. import __version__
from ..codegen.csource import template_env
from ..compile import Compiled
from ..frontend.keras_tf import Progress
from ..targets.hostrun import HostBuild
from .int8 import dequantize, np_dtype, qparams, quantize

HOST_CHUNK = 256                # rows per host run (one progress step)


def run_int8(c: Compiled, x: np.ndarray, label: str = "int8 model (generated C)") -> np.ndarray:
    """Real-valued output of our generated C for float input rows x: quantized with the model's
    input scale and zero point, run on the host, dequantized with the output's."""
    g = c.graph
    t_in, t_out = g.inputs[0], g.outputs[0]
    q = quantize(x, *qparams(c, t_in), dtype=np_dtype(g.tensors[t_in].dtype))
    outs = []
    with HostBuild(c) as hb, Progress(label, x.shape[0]) as bar:
        for lo in range(0, x.shape[0], HOST_CHUNK):
            outs.append(hb.run([q[lo:lo + HOST_CHUNK]])[0])
            bar.update(lo + len(outs[-1]))
    return dequantize(np.concatenate(outs), *qparams(c, t_out))


class LayerDump:
    """A host build of the compiled model whose layer hook (TK_LAYER_HOOK in model.c) records
    every op's outputs right after the op ran; run() returns every non-constant tensor."""

    def __init__(self, c: Compiled):
        self.c = c
        g = c.graph
        self.entries = []
        ops = {op.index: op for op in g.ops}
        for call in c.lowered.calls:
            if call.is_copy_free:
                continue
            # a depth-first chain's call computes the outputs of all of its ops
            chain = ops[call.op_index].chain or [call.op_index]
            for t in [t for i in chain for t in ops[i].outputs]:
                if ("t", g.root(t)) not in c.plan.offsets or g.tensors[t].df_rows:
                    continue        # a variable (state, in tk_vars), or held by rows
                self.entries.append({"op": call.op_index, "tensor": t,
                                     "offset": c.plan.address(("t", g.root(t)))
                                     + g.root_offset(t),
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
        return have | {t for t, tt in enumerate(g.tensors) if _same_bytes(tt) and g.root(t) in have}

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
                .view(np.dtype(np_dtype(tt.dtype))).reshape((n, *tt.shape))
            pos += e["bytes"]
        more = True     # aliases: a reshape's bytes are its source's (an op run in place
        while more:     # writes over its input's storage, but its output was recorded)
            more = False
            for t, tt in enumerate(g.tensors):
                if _same_bytes(tt) and t not in out and tt.alias_of in out:
                    out[t] = out[tt.alias_of].reshape((n, *tt.shape))
                    more = True
        return out

    def close(self):
        if self.hb is not None:
            self.hb.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _same_bytes(tt) -> bool:
    """A tensor that is another's bytes as they are (a reshape), not one written over another's
    storage later (in place, with a lag, depth first), which the dump records itself."""
    return tt.alias_of is not None and not tt.in_place and not tt.alias_offset


def dump_layers(c: Compiled, q: np.ndarray) -> dict[int, np.ndarray]:
    """Every non-constant tensor of the compiled graph (N, *shape), as our C computes it for the
    integer input rows q."""
    with LayerDump(c) as d:
        return d.run(q)

