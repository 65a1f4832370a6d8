"""The case-table model the per-op tests share: one model holding many independent single-op
cases (one output per case, so a mismatch names its case), compiled once, run on ROWS input rows
whose first two hold the type's extremes, and compared with TFLM byte for byte
(tflm_oracle.assert_cases_match_tflm). A test file subclasses it for its own input() forms."""
from __future__ import annotations

import numpy as np

from modelgen import ModelBuilder
from tflm_oracle import assert_cases_match_tflm

ROWS = 50
LIMITS = {"int8": (-128, 127), "int16": (-32768, 32767), "int32": (-(1 << 31), (1 << 31) - 1),
          "int64": (-(1 << 63), (1 << 63) - 1), "bool": (0, 1)}


class CaseModel:
    def __init__(self, seed=0, rows: int = ROWS):
        self.b = ModelBuilder()
        self.rng = np.random.default_rng(seed)
        self.n_rows = rows
        self.rows: list[np.ndarray] = []
        self.names: list[str] = []

    def rand(self, shape, dtype, lo=None, hi=None) -> np.ndarray:
        """Uniform values of dtype in [lo, hi] (default: the type's whole range)."""
        a, z = LIMITS[dtype]
        lo, hi = a if lo is None else lo, z if hi is None else hi
        return self.rng.integers(lo, hi, shape, endpoint=True, dtype=np.int64).astype(dtype)

    def feed(self, shape, dtype="int8", lo=None, hi=None, extremes=True, **quant) -> int:
        """A model input of shape and dtype (quantized if quant gives scale/zero_point), fed
        random rows, rows 0 and 1 all minimum and all maximum unless extremes is False."""
        t = self.b.input(shape, dtype=dtype, **quant)
        x = self.rand((self.n_rows, *shape), dtype, lo, hi)
        if extremes:
            x[0], x[1] = LIMITS[dtype]
        self.rows.append(x)
        return t

    def case(self, name, opcode, x_rows, in_q, out_shape, out_q, out_dtype="int8", **options):
        """One single-input case fed the given rows (x_rows: (rows, *shape), its dtype the
        input's), its output of out_shape and out_dtype quantized as out_q."""
        in_dtype = {np.int8: "int8", np.int16: "int16", np.float32: "float32"}[x_rows.dtype.type]
        x = self.b.input(x_rows.shape[1:], scale=in_q[0], zero_point=in_q[1], dtype=in_dtype)
        y = self.b.tensor(out_shape, scale=out_q[0], zero_point=out_q[1], dtype=out_dtype)
        self.b.op(opcode, [x], [y], **options)
        self.rows.append(x_rows)
        self.output(y, name)

    def output(self, t, name):
        self.b.output(t)
        self.names.append(name)

    def check(self, cflags=()):
        return assert_cases_match_tflm(self.b.build(), self.rows, self.names, cflags)
