"""Build a compiled model for the host with gcc and run input rows through it. With
sanitize=True the build has AddressSanitizer and UndefinedBehaviorSanitizer: any access outside
a buffer or undefined arithmetic in the generated C stops the run with a report."""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from .. import __version__
from ..codegen.csource import template_env
from ..compile import Compiled
from ..errors import TinykilnError
from ..ir import NP_TYPES

WARN_FLAGS = ["-Wall", "-Wextra", "-Werror"]
SANITIZE_FLAGS = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-g"]
SANITIZE_ENV = "TINYKILN_SANITIZE"      # "1": HostBuild's default is sanitize=True (for tests)


class HostFailure(RuntimeError):
    """The generated C did not compile, crashed, or a sanitizer reported on it: a tinykiln bug,
    never the user's mistake. str() is one sentence; `log` holds the compiler's or the run's
    full output; `sanitizer` names the sanitizer that reported, if one did."""

    def __init__(self, sentence: str, log: str = "", sanitizer: str | None = None):
        super().__init__(sentence)
        self.log, self.sanitizer = log, sanitizer


_SAN = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer): (.*)"
                  r"|([^\s:]+:\d+:\d+): runtime error: (.*)")


def sanitizer_report(stderr: str) -> tuple[str, str] | None:
    """(sanitizer, first finding) from a sanitized run's stderr, or None."""
    m = _SAN.search(stderr)
    if m is None:
        return None
    if m.group(1):
        what = m.group(2).strip()
        frame = re.search(r"#\d+ 0x[0-9a-f]+ in (\S+) (\S+)", stderr[m.end():])
        return m.group(1), what.split(" on address")[0] + (
            f" in {frame.group(1)} ({Path(frame.group(2)).name})" if frame else "")
    return "UndefinedBehaviorSanitizer", f"{m.group(4).strip()} at {Path(m.group(3)).name}"


class HostBuild:
    """A built host executable in a private temp folder (removed by close())."""

    def __init__(self, compiled: Compiled, sanitize: bool | None = None, cc: str = "gcc",
                 opt: str = "-O2", extra_cflags: list[str] | tuple[str, ...] = (),
                 extra_files: dict[str, str] | None = None):
        """extra_cflags: added to the compile line (tests pass -DTK_DSP_EMULATE_SIMD to run the
        kernels' Cortex-M DSP-extension path on the host). extra_files (name -> text) join the
        build; gcc runs in the build folder, so `-include extra.h` finds an extra header.
        sanitize=None: True when the environment sets TINYKILN_SANITIZE=1."""
        if sanitize is None:
            sanitize = os.environ.get(SANITIZE_ENV, "") == "1"
        self.compiled, self.sanitize = compiled, sanitize
        self.dir = Path(tempfile.mkdtemp(prefix="tinykiln-host-"))
        prefix = compiled.prefix
        files = dict(compiled.files)
        files["host_main.c"] = template_env().get_template("host_main.c.j2").render(
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
            first = next((ln for ln in r.stderr.splitlines() if "error:" in ln), "").strip()
            first = first.replace(f"{self.dir}/", "")
            raise HostFailure(f"the generated C for {self.model} does not compile with {cc} "
                              f"({first or 'exit status ' + str(r.returncode)}); this is a "
                              f"tinykiln bug: please report it with the model.",
                              f"{' '.join(cmd)}\n{r.stderr}")
        self.build_log = r.stderr

    def run(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        """inputs: one array per model input, each (N, *shape). Returns one array per output."""
        g = self.compiled.graph
        n = check_inputs(g, inputs)
        rows = b"".join(b"".join(np.ascontiguousarray(x[r]).tobytes() for x in inputs)
                        for r in range(n))
        fin, fout = self.dir / "in.bin", self.dir / "out.bin"
        fin.write_bytes(rows)
        r = subprocess.run([str(self.exe), str(fin), str(fout), str(n)], capture_output=True,
                           text=True, timeout=600)
        if r.returncode != 0:
            raise self._failure(r.returncode, r.stderr)
        self.run_log = r.stderr
        return split_outputs(g, fout.read_bytes(), n)

    @property
    def model(self) -> str:
        return str(self.compiled.report.get("model", "the model"))

    def _failure(self, status: int, stderr: str) -> HostFailure:
        san = sanitizer_report(stderr)
        if san:
            return HostFailure(f"{san[0]} reported on the generated C for {self.model}: {san[1]}; "
                               f"this is a tinykiln bug: please report it with the model.",
                               stderr, san[0])
        try:
            how = f"was killed by {signal.Signals(-status).name}" if status < 0 else \
                f"exited with status {status}"
        except ValueError:
            how = f"exited with status {status}"
        hint = "" if self.sanitize else "; rerun with --sanitize for the details"
        return HostFailure(f"the host build of {self.model} {how} ({_last_line(stderr)}); this is "
                           f"a tinykiln bug: please report it with the model{hint}.", stderr)

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1][:200] if lines else "no message"


def _shape(dims) -> str:
    return "(" + ", ".join(map(str, dims)) + ("," if len(dims) == 1 else "") + ")"


def check_inputs(g, inputs) -> int:
    """The number of rows N if `inputs` (one array per model input) fit the model: each of
    dtype and shape (N, *shape), or (N, *shape[1:]) when the model's shape starts with a batch
    of 1; else one sentence (TinykilnError)."""
    if len(inputs) != len(g.inputs):
        n_in = len(g.inputs)
        raise TinykilnError(f"the model has {n_in} input{'s' if n_in != 1 else ''}, {len(inputs)} "
                            f"array{'s' if len(inputs) != 1 else ''} given.")
    n = None
    for k, (t, x) in enumerate(zip(g.inputs, inputs)):
        tt = g.tensors[t]
        want = np.dtype(NP_TYPES[tt.dtype])
        shape = tuple(tt.shape)
        if x.dtype != want:
            raise TinykilnError(f"input {k} ('{tt.name}') must be {tt.dtype}, the array is {x.dtype}.")
        forms = [_shape(("N", *shape))]
        if shape[:1] == (1,):
            forms.append(_shape(("N", *shape[1:])))
        if x.ndim == 0 or (tuple(x.shape[1:]) != shape and
                           not (shape[:1] == (1,) and tuple(x.shape[1:]) == shape[1:])):
            raise TinykilnError(f"input {k} ('{tt.name}') must have shape {' or '.join(forms)}, "
                                f"the array has {_shape(x.shape)}.")
        if n is not None and x.shape[0] != n:
            raise TinykilnError(f"all inputs must have the same number of rows; input {k} has "
                                f"{x.shape[0]}, input 0 has {n}.")
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
        dt = np.dtype(NP_TYPES[t.dtype])
        res.append(np.ascontiguousarray(buf[:, pos:pos + t.nbytes]).view(dt)
                   .reshape((n, *t.shape)))
        pos += t.nbytes
    return res
