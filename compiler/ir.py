"""The small IR every stage shares: importers produce it, passes rewrite it, the planner and the
code generator read it. Plain data only: no backend logic lives here."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

# bytes per element of the tensor types tinykiln handles
DTYPE_SIZE = {"int8": 1, "uint8": 1, "int16": 2, "int32": 4, "float32": 4, "int64": 8, "bool": 1}
C_TYPES = {"int8": "int8_t", "uint8": "uint8_t", "int16": "int16_t", "int32": "int32_t",
           "float32": "float", "int64": "int64_t", "bool": "uint8_t"}
# numpy's type for each (what TFLM's interpreter returns; bool as numpy's one-byte bool)
NP_TYPES = {"int8": "i1", "uint8": "u1", "int16": "i2", "int32": "i4", "float32": "f4",
            "int64": "i8", "bool": "?"}
CTYPE_SIZE = {"int8_t": 1, "uint8_t": 1, "int16_t": 2, "uint16_t": 2, "int32_t": 4, "uint32_t": 4,
              "float": 4, "int64_t": 8}


@dataclass
class QuantParams:
    """Affine quantization: real = scale * (q - zero_point), per tensor or per channel along `axis`."""
    scale: list[float]
    zero_point: list[int]
    axis: int = 0

    @property
    def per_channel(self) -> bool:
        return len(self.scale) > 1


@dataclass
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    quant: QuantParams | None = None
    data: np.ndarray | None = None      # constant contents (weights, biases, shape operands)
    alias_of: int | None = None         # set by passes: this tensor shares the storage of another
    alias_offset: int = 0               # ... starting this many bytes after its start (may be < 0)
    in_place: bool | str = False              # ... written over it by an op run in place (passes/in_place)
    df_rows: int = 0                    # > 0: only this many rows held at once (passes/depth_first)
    # a variable tensor keeps its contents across invokes (TFLite is_variable, LSTM/SVDF state,
    # and one per resource variable): persistent storage of its own, restored by <prefix>_reset()
    # to `init` (its contents, shape and dtype of the tensor; None: all zero bytes)
    is_variable: bool = False
    init: np.ndarray | None = None

    @property
    def is_const(self) -> bool:
        return self.data is not None

    @property
    def num_elements(self) -> int:
        n = 1
        for d in self.shape:
            n *= int(d)
        return n

    @property
    def nbytes(self) -> int:
        return self.num_elements * DTYPE_SIZE[self.dtype]


@dataclass
class Op:
    index: int
    opcode: str                         # TFLite builtin name, e.g. "CONV_2D"
    inputs: list[int]                   # tensor indices, -1 for an omitted optional input
    outputs: list[int]
    options: dict[str, Any] = field(default_factory=dict)
    # depth first (passes/depth_first): the op runs inside the chain that starts at op run_at;
    # that first op holds the chain's ops in `chain`
    run_at: int | None = None
    chain: list[int] = field(default_factory=list)
    chain_step: int = 1                 # the chain's last conv: output rows per step
    # the op runs on a kernel that trades instructions for memory: FULLY_CONNECTED without its
    # stack buffer (passes/lean_stack.py), DEPTHWISE_CONV_2D on the raster kernel, whose output
    # may lag its input less than the line kernel's (passes/in_place.py)
    lean: bool = False


@dataclass
class Graph:
    tensors: list[Tensor]
    ops: list[Op]
    inputs: list[int]
    outputs: list[int]
    name: str = "model"
    subgraphs: list["Graph"] = field(default_factory=list)     # a file's subgraphs 1, 2, ...
    source_sha256: str = ""             # hash of the imported file, stamped on generated sources

    def root_offset(self, t: int) -> int:
        """Where t starts relative to its root's start (the alias offsets along the chain)."""
        off = 0
        for _ in range(len(self.tensors) + 1):
            if self.tensors[t].alias_of is None:
                return off
            off += self.tensors[t].alias_offset
            t = self.tensors[t].alias_of
        return off

    def root(self, t: int) -> int:
        """The tensor whose storage t shares (following alias_of), t itself if none. A chain
        longer than the tensor count is a loop (the validator refuses models that could make
        one; this stays finite whatever a pass did)."""
        start = t
        for _ in range(len(self.tensors) + 1):
            nxt = self.tensors[t].alias_of
            if nxt is None:
                return t
            t = nxt
        from .errors import ModelError
        raise ModelError(f"tensor {start} '{self.tensors[start].name}' shares storage with "
                         f"itself through a loop of RESHAPE/SQUEEZE ops.")

    def producers(self) -> dict[int, int]:
        """Map tensor index -> index (in self.ops) of the op that writes it."""
        return {t: i for i, op in enumerate(self.ops) for t in op.outputs}

    def consumers(self) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {}
        for i, op in enumerate(self.ops):
            for t in op.inputs:
                if t >= 0:
                    out.setdefault(t, []).append(i)
        return out
