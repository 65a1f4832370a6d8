"""Recurrent models as firmware on an emulated Cortex-M4 (mps2-an386): exact instructions per
inference and MACs per instruction for the keyword spotters of the tests (49 frames of 10 MFCC:
LSTM(96), GRU(64)) and their SimpleRNN, against issue 11's goal of at least 0.5 MACs per
instruction, and for small cells (LSTM(24), GRU(24)), whose per-step gate arithmetic outweighs
their matrix products; all from tests/keras_op_models.py, converted here by TensorFlow's
converter. Usage: python benchmarks/recurrent_bench.py [NAME...] (names: lstm, gru_kws, rnn,
lstm_small, gru_small; the LSTMs need tf_keras: pip install --no-deps tf-keras==2.21.0)."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
GOAL = 0.5          # MACs per instruction (issue 11, acceptance 4)


def main(argv: list[str]) -> int:
    from firmware_bench import measure
    from tinykiln.errors import TinykilnError
    names = argv or ["lstm", "gru_kws", "rnn", "lstm_small", "gru_small"]
    goal_models = {"lstm", "gru_kws"}
    with tempfile.TemporaryDirectory(prefix="tinykiln-rnn-") as d:
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONHASHSEED="0")
        r = subprocess.run([sys.executable, str(ROOT / "tests" / "keras_op_models.py"), d,
                            *names], capture_output=True, text=True, env=env)
        if r.returncode != 0:
            print(f"conversion failed:\n{r.stderr[-2000:]}")
            return 1
        status = 0
        for name in names:
            try:
                m = measure(Path(d) / f"{name}.tflite", "mps2-an386")
            except TinykilnError as e:
                print(f"{name}: not compiled: {e}")
                status = 1
                continue
            ok = "meets" if m["mpi"] >= GOAL else "BELOW"
            ok = (f"{ok} the {GOAL} goal" if name in goal_models else
                  "a small cell, outside the goal")
            print(f"{name:10s} on mps2-an386 [{m['bitexact']}]: {m['instructions']:>10,} "
                  f"instructions per inference, {m['macs']:>9,} MACs, {m['mpi']:.3f} MACs per "
                  f"instruction ({ok}); arena {m['arena']:,} B, flash {m['flash']:,} B")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
