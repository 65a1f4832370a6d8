"""The conversion in a child process, both ends: Conversion starts `python -m
tinykiln.frontend.keras_child` and reads its progress pipe and result file; main() is the child.
TensorFlow's converter can crash its process (e.g. a segmentation fault calibrating an LSTM): in
a child, that becomes one sentence instead of a dead CLI.

The protocol: the child writes "total N" on the pipe, then "n" as calibration proceeds (one
line per whole percent), and on exit RESULT.json holding {"samples": N} or {"error": sentence}."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from ..errors import TinykilnError
from .keras_data import load_calibration
from .keras_int8 import convert
from .keras_model import load_model
from .keras_tf import Progress


class Conversion:
    """convert() in a child Python process, started at once so the caller can load the model and
    check its data meanwhile. TensorFlow's converter can crash the process (e.g. a segmentation
    fault calibrating an LSTM): in a child, that becomes one sentence instead of a dead CLI."""

    def __init__(self, model: str | Path, calibration: str | Path):
        self.model = Path(model)
        self.dir = Path(tempfile.mkdtemp(prefix="tinykiln-convert-"))
        self.out, self.result = self.dir / "model.tflite", self.dir / "result.json"
        self._log = open(self.dir / "log.txt", "w+b")
        r, w = os.pipe()
        # the child's temporary files (its SavedModel export) live in self.dir, which close()
        # removes even when the child was killed or crashed
        env = dict(os.environ, PYTHONHASHSEED="0", TF_CPP_MIN_LOG_LEVEL="3",
                   TMPDIR=str(self.dir))
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tinykiln.frontend.keras_child", str(model), str(calibration),
                 str(self.out), str(self.result), str(w)],
                stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log, env=env,
                pass_fds=(w,))
        except BaseException:
            os.close(r)
            self.close()
            raise
        finally:
            os.close(w)
        self._pipe = os.fdopen(r, "r")

    def wait(self) -> tuple[bytes, int]:
        """(.tflite bytes, calibration samples), or a TinykilnError (the child's own sentence,
        or its crash). Draws the calibration progress bar."""
        done, total, bar = 0, 0, None
        try:
            for line in self._pipe:     # "total N", then "N" per step; EOF when the child ends
                word = line.split()
                if len(word) == 2 and word[0] == "total" and word[1].isdigit():
                    total = int(word[1])
                    bar = Progress("calibrating", total)
                elif len(word) == 1 and word[0].isdigit():
                    done = int(word[0])
                    if bar is not None:
                        bar.update(done)
        finally:
            if bar is not None:
                bar.close()
        rc = self.proc.wait()
        if self.result.is_file():
            info = json.loads(self.result.read_text())
            if "error" in info:
                raise TinykilnError(info["error"])
            if rc == 0:
                return self.out.read_bytes(), int(info["samples"])
        if rc < 0:
            try:
                sig = signal.Signals(-rc).name
            except ValueError:
                sig = f"signal {-rc}"
            stage = (f"while calibrating {self.model.name} ({done} of {total} samples done)"
                     if total else f"while loading {self.model.name}")
            raise TinykilnError(f"TensorFlow's converter crashed ({sig}) {stage}; a layer of this "
                                f"model is probably not supported by TensorFlow's int8 "
                                f"conversion.")
        self._log.seek(0)
        log = self._log.read().decode(errors="replace")
        raise RuntimeError(f"the conversion process failed ({rc}):\n{log[-4000:]}")

    def close(self) -> None:
        proc = getattr(self, "proc", None)
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        pipe = getattr(self, "_pipe", None)
        if pipe is not None:
            pipe.close()
        self._log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _PipeProgress:
    """The child's end of the progress pipe: one line per whole percent."""

    def __init__(self, fd: int, total: int):
        self.fd, self.total, self._last = fd, max(total, 1), -1

    def update(self, n: int) -> None:
        pct = 100 * n // self.total
        if pct != self._last:
            self._last = pct
            os.write(self.fd, f"{n}\n".encode())


def main(argv: list[str]) -> int:
    """The child: MODEL CALIBRATION OUT.tflite RESULT.json PROGRESS_FD."""
    model, calibration, out, result, fd = argv
    try:
        fm = load_model(model)
        cal = load_calibration(calibration, fm)
        os.write(int(fd), f"total {cal[0].shape[0]}\n".encode())
        data = convert(fm, cal, _PipeProgress(int(fd), cal[0].shape[0]))
        Path(out).write_bytes(data)
        Path(result).write_text(json.dumps({"samples": int(cal[0].shape[0])}))
        return 0
    except TinykilnError as e:
        Path(result).write_text(json.dumps({"error": str(e)}))
        return 1
    finally:
        os.close(int(fd))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
