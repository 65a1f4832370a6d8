"""`tinykiln compile` is a quick command: the KWS reference model compiles in under 3 s (wall time
of the whole process, as a user runs it) and TensorFlow is never imported along the way."""
import re
import shutil
import subprocess
import sys
import time

from conftest import shared_model

LIMIT_S = 3.0
HEAVY = ("tensorflow", "keras", "tf_keras", "jax", "torch")


def _cli() -> list[str]:
    exe = shutil.which("tinykiln")
    return [exe] if exe else [sys.executable, "-m", "tinykiln"]


def test_compile_kws_under_3_seconds(tmp_path):
    model = shared_model("kws_ref_model.tflite")
    times = []
    for k in range(3):      # best of 3: the machine may be busy with other work
        out = tmp_path / f"out{k}"
        t0 = time.perf_counter()
        r = subprocess.run([*_cli(), "compile", str(model), "-o", str(out)],
                           capture_output=True, text=True, timeout=120)
        times.append(time.perf_counter() - t0)
        assert r.returncode == 0, r.stderr
        assert (out / "report.json").is_file() and any(out.glob("*.c")), sorted(out.iterdir())
        if times[-1] < LIMIT_S:
            break
    assert min(times) < LIMIT_S, f"tinykiln compile took {min(times):.2f} s (best of {times})"


def test_compile_never_imports_tensorflow(tmp_path):
    model = shared_model("kws_ref_model.tflite")
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "tinykiln", "compile", str(model),
                        "-o", str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    imported = re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)", r.stderr, re.M)
    assert "tinykiln.compile" in imported, "no -X importtime report: the check would be blind"
    heavy = sorted({m for m in imported if m.split(".")[0] in HEAVY})
    assert not heavy, f"tinykiln compile imported {heavy[:10]}"
