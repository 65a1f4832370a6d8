"""TensorFlow for the Keras path: imported lazily (it is optional) and kept quiet (its C++ logs,
Keras prints and warnings go to a log, kept for error messages), a progress bar on the terminal,
and the first line of a TensorFlow error for a one-sentence message."""
from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
import time
import warnings
from contextlib import contextmanager

from ..errors import TinykilnError

TF_HINT = 'pip install "tinykiln[tf]"'


class Progress:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal (never in logs or
    tests). It writes to its own copy of the terminal, so it shows while quiet() is active."""

    def __init__(self, label: str, total: int):
        self.label, self.total, self.n = label, max(int(total), 0), 0
        self._last = 0.0
        self._out = None
        try:
            if self.total and sys.stderr.isatty():
                self._out = os.fdopen(os.dup(sys.stderr.fileno()), "w")
        except (AttributeError, OSError, ValueError):
            self._out = None

    def update(self, n: int) -> None:
        self.n = min(int(n), self.total)
        now = time.monotonic()
        if self._out is None or (now - self._last < 0.1 and self.n < self.total):
            return
        self._last = now
        width = 30
        done = width * self.n // self.total
        self._out.write(f"\r{self.label:<24} [{'#' * done}{'.' * (width - done)}] "
                        f"{self.n}/{self.total}")
        self._out.flush()

    def close(self) -> None:
        if self._out is not None:
            self._last = 0.0
            self.update(self.n)
            self._out.write("\n")
            self._out.close()
            self._out = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _Log:
    def __init__(self):
        self.file = tempfile.TemporaryFile()

    def text(self) -> str:
        self.file.seek(0)
        return self.file.read().decode(errors="replace")


@contextmanager
def quiet():
    """Send everything written to fd 1 and 2 (TensorFlow's C++ logs, Keras prints, Python
    warnings) to a temporary log while the block runs; yields the log for error messages."""
    log = _Log()
    for s in (sys.stdout, sys.stderr):
        s.flush()
    saved = [os.dup(1), os.dup(2)]
    try:
        os.dup2(log.file.fileno(), 1)
        os.dup2(log.file.fileno(), 2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield log
    finally:
        for s in (sys.stdout, sys.stderr):
            try:
                s.flush()
            except (OSError, ValueError):
                pass
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)


def import_tf():
    """(tensorflow, keras), or a TinykilnError telling how to install them."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # oneDNN's float kernels round differently with the CPU's instruction set; without them the
    # float model's figures (--eval) do not depend on the machine (and no oneDNN banner shows)
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    if importlib.util.find_spec("tensorflow") is None:
        raise TinykilnError(f"compiling a Keras model needs TensorFlow, which is not installed: "
                            f"{TF_HINT}.")
    try:
        with quiet():
            import tensorflow as tf
            import keras
    except ImportError as e:
        raise TinykilnError(f"compiling a Keras model needs TensorFlow and Keras, which cannot be "
                            f"imported ({first_line(e)}): {TF_HINT}.") from None
    return tf, keras


def first_line(e: BaseException | str, limit: int = 240) -> str:
    text = str(e).strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for ln in lines:        # MLIR diagnostics: the line saying what failed
        if "error:" in ln:
            text = ln[ln.index("error:") + 6:].strip()
            break
    else:
        text = lines[0] if lines else type(e).__name__
    text = text.rstrip(".")
    return text if len(text) <= limit else text[:limit - 3] + "..."
