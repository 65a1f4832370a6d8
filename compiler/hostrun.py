"""Build a compiled model for the host with gcc and run input rows through it."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from . import __version__
from .codegen import _env
from .compile import Compiled
from .errors import TinykilnError

WARN_FLAGS = ["-Wall", "-Wextra", "-Werror"]
SANITIZE_FLAGS = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-g"]


class HostBuild:
    """A built host executable in a private temp folder (removed by close())."""

    def __init__(self, compiled: Compiled, sanitize: bool = False, cc: str = "gcc",
                 opt: str = "-O2", extra_cflags: list[str] | tuple[str, ...] = (),
                 extra_files: dict[str, str] | None = None):
        """extra_cflags: added to the compile line (tests pass -DTK_DSP_EMULATE_SIMD to run the
        kernels' Cortex-M DSP-extension path on the host). extra_files (name -> text) join the
        build; gcc runs in the build folder, so `-include extra.h` finds an extra header."""
        self.compiled = compiled
        self.dir = Path(tempfile.mkdtemp(prefix="tinykiln-host-"))
        prefix = compiled.prefix
        files = dict(compiled.files)
        files["host_main.c"] = _env().get_template("host_main.c.j2").render(
            version=__version__, prefix=prefix, PREFIX=prefix.upper())
        files.update(extra_files or {})
        for rel, text in files.items():
            (self.dir / rel).write_text(text)
        self.exe = self.dir / f"{prefix}_host"
        if shutil.which(cc) is None:
            self.close()
            raise TinykilnError(f"the host board needs a C compiler, and '{cc}' is not on PATH.")
        cmd = [cc, "-std=c99", opt, *WARN_FLAGS, *(SANITIZE_FLAGS if sanitize else []),
               *extra_cflags,
               "-o", str(self.exe), *sorted(str(self.dir / f) for f in files if f.endswith(".c"))]
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=self.dir)
        if r.returncode != 0:
            self.close()
            raise RuntimeError(f"host build failed:\n{' '.join(cmd)}\n{r.stderr}")
        self.build_log = r.stderr

    def run(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        """inputs: one array per model input, each (N, *shape). Returns one array per output."""
        g = self.compiled.graph
        n = _check_inputs(g, inputs)
        rows = b"".join(b"".join(np.ascontiguousarray(x[r]).tobytes() for x in inputs)
                        for r in range(n))
        fin, fout = self.dir / "in.bin", self.dir / "out.bin"
        fin.write_bytes(rows)
        r = subprocess.run([str(self.exe), str(fin), str(fout), str(n)], capture_output=True,
                           text=True, timeout=600)
        if r.returncode != 0:
            raise RuntimeError(f"host run failed ({r.returncode}):\n{r.stderr[-4000:]}")
        self.run_log = r.stderr
        return split_outputs(g, fout.read_bytes(), n)

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


def _check_inputs(g, inputs) -> int:
    if len(inputs) != len(g.inputs):
        raise TinykilnError(f"the model has {len(g.inputs)} input(s), {len(inputs)} given.")
    n = None
    for k, (t, x) in enumerate(zip(g.inputs, inputs)):
        tt = g.tensors[t]
        want = np.dtype({"int8": "i1", "uint8": "u1", "int16": "i2", "int32": "i4",
                         "float32": "f4"}[tt.dtype])
        shape = tuple(tt.shape)
        if x.dtype != want:
            raise TinykilnError(f"input {k} ('{tt.name}') must be {tt.dtype}, the array is {x.dtype}.")
        if tuple(x.shape[1:]) != shape and not (x.shape[1:] == shape[1:] and shape[:1] == (1,)):
            raise TinykilnError(f"input {k} ('{tt.name}') must have shape (N, "
                                f"{', '.join(map(str, shape))}), the array has {x.shape}.")
        if n is not None and x.shape[0] != n:
            raise TinykilnError("all inputs must have the same number of rows.")
        n = x.shape[0]
    return int(n or 0)


def split_outputs(g, raw: bytes, n: int) -> list[np.ndarray]:
    outs = [g.tensors[t] for t in g.outputs]
    row = sum(t.nbytes for t in outs)
    if len(raw) != row * n:
        raise RuntimeError(f"expected {row * n} output bytes, got {len(raw)}")
    res = []
    pos = 0
    buf = np.frombuffer(raw, np.uint8).reshape(n, row) if n else np.zeros((0, row), np.uint8)
    for t in outs:
        dt = np.dtype({"int8": "i1", "uint8": "u1", "int16": "i2", "int32": "i4",
                       "float32": "f4"}[t.dtype])
        res.append(np.ascontiguousarray(buf[:, pos:pos + t.nbytes]).view(dt)
                   .reshape((n, *t.shape)))
        pos += t.nbytes
    return res
