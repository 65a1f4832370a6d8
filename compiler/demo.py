"""`tinykiln demo`: the main job on a built-in example, in stages (STAGES). A small
keyword-spotting-shaped int8 DS-CNN (seeded random weights) is compiled to C, run on the host and
compared with TFLM; the same model behind a fixed-point MFCC front end is run on the host, compared
with the Python front end feeding TFLM, and run as Cortex-M4 firmware under QEMU. A stage whose tool
is missing is skipped with the reason, the others still run, and a summary ends the output."""
from __future__ import annotations

import math
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from .compile import compile_graph, plan_picture, write_output
from .errors import TinykilnError
from .targets.hostrun import HostBuild
from .frontend.modelbuilder import ModelBuilder
from .outdir import claim_folder
from .frontend.tflite_import import parse_tflite


def _conv_out_scale(s_in: float, s_w: float, taps: int) -> float:
    # keep typical accumulators inside the int8 range: |acc| ~ sqrt(taps) * 70 * 60
    return s_in * s_w * math.sqrt(taps) * 70 * 60 / 60


def demo_model(seed: int = 7) -> bytes:
    """A DS-CNN like MLPerf Tiny's KWS model, scaled down: 49x10 MFCC in, 12 classes out."""
    rng = np.random.default_rng(seed)
    b = ModelBuilder("tinykiln_demo_dscnn")
    s_in = 0.1
    x = b.input((1, 49, 10, 1), scale=s_in, zero_point=-10)

    def conv(inp, s_in, shape_in, cout, k, stride, depthwise=False):
        h, w, cin = shape_in
        kh, kw = k
        oh, ow = -(-h // stride[0]), -(-w // stride[1])
        n_out = cin if depthwise else cout
        s_w = rng.uniform(0.002, 0.01, n_out)
        if depthwise:
            wt = rng.integers(-127, 128, (1, kh, kw, cin), dtype=np.int8)
            taps = kh * kw
        else:
            wt = rng.integers(-127, 128, (cout, kh, kw, cin), dtype=np.int8)
            taps = kh * kw * cin
        w_t = b.const(wt, scale=s_w, zero_point=[0] * n_out, axis=3 if depthwise else 0)
        bias = b.const(rng.integers(-2000, 2000, n_out).astype(np.int32),
                       scale=s_in * s_w, zero_point=[0] * n_out)
        s_out = _conv_out_scale(s_in, float(np.mean(s_w)), taps)
        y = b.tensor((1, oh, ow, n_out), scale=s_out, zero_point=-128)
        if depthwise:
            b.op("DEPTHWISE_CONV_2D", [inp, w_t, bias], [y], padding="SAME", stride_w=stride[1],
                 stride_h=stride[0], depth_multiplier=1, fused_activation_function="RELU")
        else:
            b.op("CONV_2D", [inp, w_t, bias], [y], padding="SAME", stride_w=stride[1],
                 stride_h=stride[0], fused_activation_function="RELU")
        return y, s_out, (oh, ow, n_out)

    y, s, shp = conv(x, s_in, (49, 10, 1), 32, (10, 4), (2, 2))
    for _ in range(2):
        y, s, shp = conv(y, s, shp, 0, (3, 3), (1, 1), depthwise=True)
        y, s, shp = conv(y, s, shp, 32, (1, 1), (1, 1))
    pooled = b.tensor((1, 1, 1, shp[2]), scale=s, zero_point=-128)
    b.op("AVERAGE_POOL_2D", [y], [pooled], padding="VALID", stride_w=1, stride_h=1,
         filter_width=shp[1], filter_height=shp[0])
    shape_c = b.const(np.array([1, shp[2]], np.int32))
    flat = b.tensor((1, shp[2]), scale=s, zero_point=-128)
    b.op("RESHAPE", [pooled, shape_c], [flat], new_shape=[1, shp[2]])
    s_w = 0.004
    w_fc = b.const(rng.integers(-127, 128, (12, shp[2]), dtype=np.int8), scale=s_w, zero_point=0)
    b_fc = b.const(rng.integers(-500, 500, 12).astype(np.int32), scale=s * s_w, zero_point=0)
    logits = b.tensor((1, 12), scale=_conv_out_scale(s, s_w, shp[2]), zero_point=0)
    b.op("FULLY_CONNECTED", [flat, w_fc, b_fc], [logits])
    probs = b.tensor((1, 12), scale=1 / 256, zero_point=-128)
    b.op("SOFTMAX", [logits], [probs], beta=1.0)
    b.output(probs)
    return b.build()


DEMO_IMPULSE = """\
# raw 1 s of 16 kHz audio -> MFCC (49 frames x 10) -> the demo DS-CNN
[input]
sample_rate = 16000
window = 16000

[dsp]
block = "mfcc"
preset = "tf_mfcc"
frame_length = 640
frame_stride = 320
n_fft = 1024
n_mfcc = 10

[model]
path = "demo_dscnn.tflite"
"""


QEMU_BOARD = "mps2-an386"
HOST_CC = "gcc"

# The stages in order: name, what it does, what it needs beyond `pip install .`. The demo's
# --help and the README list the same.
STAGES = (
    ("compile", "the built-in DS-CNN to C (c/)", ""),
    ("host run", "build that C with gcc, run 20 random inputs", HOST_CC),
    ("TFLM comparison", "the host's outputs against TFLM's, byte for byte", "tflite-micro"),
    ("impulse", "the model behind a fixed-point MFCC front end (impulse_c/), 3 speech-like "
                "windows on the host", HOST_CC),
    ("impulse vs TFLM", "the impulse's outputs against the Python front end feeding TFLM",
     "tflite-micro"),
    ("QEMU run", f"the impulse as {QEMU_BOARD} (Cortex-M4) firmware under QEMU, instructions "
                 "counted", "arm-none-eabi-gcc, qemu-system-arm, gcc"),
)
SETUP_HINT = "`sh install.sh` in tinykiln's source folder installs everything the demo uses"
HELP = ("Run the main job on a built-in example, in stages: "
        + "; ".join(f"{name}: {what}" + (f" (needs {needs})" if needs else "")
                    for name, what, needs in STAGES)
        + ". A stage whose tool is missing is skipped and the others still run; a summary "
          "ends the output with each stage done, skipped (and why) or failed. Exit status 1 "
          "only if a stage that ran failed (a wrong result or an error), 0 if some were "
          "skipped. " + SETUP_HINT + ".")


@dataclass
class StageResult:
    name: str
    status: str            # "done", "skipped" or "failed"
    detail: str = ""       # the result, or why it was skipped or failed


def _missing_program(exe: str, debian: str) -> str | None:
    if shutil.which(exe) is None:
        return f"{exe} is not on PATH (Debian: apt-get install {debian})"
    return None


def _tflm_runtime():
    from tflite_micro.python.tflite_micro import runtime
    return runtime


def _missing_tflm() -> str | None:
    try:
        _tflm_runtime()
    except ImportError:
        return "tflite-micro is not installed (pip install tflite-micro)"
    except Exception as e:          # a broken install: say what importing it raised
        return f"tflite-micro cannot be imported ({type(e).__name__}: {e})"
    return None


def _bytes(n: int) -> str:
    return f"{n} differing byte{'' if n == 1 else 's'}"


def _differ(n: int) -> str:
    return "1 byte differs" if n == 1 else f"{n} bytes differ"


def _tflm_outputs(model: bytes, rows) -> np.ndarray:
    it = _tflm_runtime().Interpreter.from_bytes(model, arena_size=1 << 20)
    out = []
    for row in rows:
        it.set_input(row, 0)
        it.invoke()
        out.append(np.array(it.get_output(0)))
    return np.stack(out)


class _Demo:
    """The stages share what earlier ones made (the model, compiled libraries, host outputs)."""

    def __init__(self, out: Path, rows: int):
        self.out, self.rows = out, rows
        self.results: dict[str, StageResult] = {}

    def stage(self, name: str, body: Callable[[], tuple[bool, str]], missing=(), after=()):
        """Run body unless a tool in `missing` (reasons, None when present) is absent or a stage
        in `after` did not finish; body returns (outputs as expected, one-line result)."""
        why = [m for m in missing if m]
        why += [f"needs the {n} stage, which "
                f"{'failed' if self.results[n].status == 'failed' else 'was skipped'}"
                for n in after if self.results[n].status != "done"]
        if why:
            res = StageResult(name, "skipped", "; ".join(why))
            print(f"[{name}] skipped: {res.detail}")
        else:
            try:
                ok, detail = body()
                res = StageResult(name, "done" if ok else "failed", detail)
            except TinykilnError as e:
                res = StageResult(name, "failed", str(e))
            except Exception as e:       # not the user's doing: name it, keep the other stages
                res = StageResult(name, "failed", f"{type(e).__name__}: {e}")
            if res.status == "failed":
                print(f"[{name}] failed: {res.detail}")
        self.results[name] = res

    def compile(self):
        self.model = demo_model()
        (self.out / "demo_dscnn.tflite").write_bytes(self.model)
        c = compile_graph(parse_tflite(self.model, "demo_dscnn.tflite"),
                          model_name="demo_dscnn.tflite")
        write_output(c, self.out / "c")
        self.c, r = c, c.report
        print(f"[compile] {self.out / 'demo_dscnn.tflite'} (DS-CNN, {r['ops']} ops, {r['macs']} "
              f"MACs) -> C library in {self.out / 'c'}/: weights {r['weight_bytes']} B, arena "
              f"{r['arena_bytes']} B (lower bound {r['arena_lower_bound']})")
        print(plan_picture(c))
        return True, (f"C library in {self.out / 'c'}/, weights {r['weight_bytes']} B, arena "
                      f"{r['arena_bytes']} B")

    def host_run(self):
        g = self.c.graph
        self.x = np.random.default_rng(1).integers(
            -128, 128, (self.rows, *g.tensors[g.inputs[0]].shape), dtype=np.int8)
        with HostBuild(self.c) as hb:
            self.y = hb.run([self.x])[0]
        classes = " ".join(str(int(v)) for v in self.y.reshape(self.rows, -1).argmax(1))
        print(f"[host run] ran {self.rows} random inputs on the host; predicted classes: {classes}")
        return True, f"{self.rows} random inputs run on the host"

    def tflm_comparison(self):
        ref = _tflm_outputs(self.model, self.x)
        diff = int((ref.reshape(self.y.shape) != self.y).sum())
        print(f"[TFLM comparison] {_bytes(diff)} of {self.y.size}")
        return diff == 0, f"{_bytes(diff)} of {self.y.size}"

    def impulse(self):
        from .dsp.ref import speech_like
        from .impulse.impulse import compile_impulse
        toml = self.out / "demo_kws.toml"
        toml.write_text(DEMO_IMPULSE)
        c = compile_impulse(toml)
        write_output(c, self.out / "impulse_c")
        self.ix = np.stack([speech_like(s, level_dbfs=lv) for s, lv in ((0, -20), (1, -35),
                                                                        (2, -10))])
        with HostBuild(c) as hb:
            self.iy = hb.run([self.ix])[0]
        self.ic, r = c, c.report
        print(f"[impulse] {toml}: raw int16 window ({r['dsp']['window']} samples) -> MFCC "
              f"{r['dsp']['frames']}x{r['dsp']['features_per_frame']} -> model; C library in "
              f"{self.out / 'impulse_c'}/, arena {r['arena_bytes']} B (window and DSP scratch "
              f"included); ran {len(self.ix)} speech-like windows on the host")
        return True, f"{len(self.ix)} speech-like windows run on the host"

    def impulse_vs_tflm(self):
        from .impulse.impulse import features
        ref = _tflm_outputs(self.model, [f[None] for f in features(self.ic, self.ix)])
        diff = int((ref.reshape(self.iy.shape) != self.iy).sum())
        print(f"[impulse vs TFLM] vs Python front end + TFLM: {_bytes(diff)} of "
              f"{self.iy.size}")
        return diff == 0, f"{_bytes(diff)} of {self.iy.size}"

    def qemu_run(self):
        from .targets.board import get_board
        from .targets.firmware import build_firmware
        from .targets.qemu import run_firmware
        b = get_board(QEMU_BOARD)
        fw = self.out / "impulse_fw"
        rep = build_firmware(self.ic, b, fw)
        res = run_firmware(fw, b, self.ic.graph, [self.ix], profile=True)
        qd = int((res.outputs[0] != self.iy).sum())
        n, dsp = res.profile["instructions"], res.profile["layers"][0]["instructions"]
        print(f"[QEMU run] firmware for {b.name} ({b.cpu}) in {fw}/: flash "
              f"{rep['flash']['used']:,} B, RAM {rep['ram']['used']:,} B; under QEMU "
              f"{_differ(qd)} from the host; {n:,} instructions per window (front end {dsp:,})")
        return qd == 0, f"{b.name}: {_differ(qd)} from the host, {n:,} instructions per window"


def _qemu_missing() -> list[str | None]:
    """What the QEMU run lacks here: the board's cross gcc and QEMU, and the host gcc that
    builds the instruction-counting plugin."""
    from .targets.board import get_board
    t = get_board(QEMU_BOARD).tools
    return [_missing_program(t["prefix"] + "gcc", t["packages"]),
            _missing_program(t["qemu"], t["qemu_package"]),
            _missing_program(HOST_CC, "gcc libc6-dev")]


def run_demo(out_dir: Path, rows: int = 20) -> int:
    """Run every stage that can run here; exit status 1 only if a stage that ran failed.
    out_dir is checked and marked as tinykiln's (outdir.claim_folder), then written file by
    file: a rerun rewrites it."""
    claim_folder(out_dir)
    d = _Demo(Path(out_dir), rows)
    print(f"tinykiln demo in {d.out}/: {len(STAGES)} stages")
    gcc = _missing_program(HOST_CC, "gcc libc6-dev")
    tflm = _missing_tflm()
    d.stage("compile", d.compile)
    d.stage("host run", d.host_run, [gcc], ["compile"])
    d.stage("TFLM comparison", d.tflm_comparison, [tflm], ["host run"])
    d.stage("impulse", d.impulse, [gcc], ["compile"])
    d.stage("impulse vs TFLM", d.impulse_vs_tflm, [tflm], ["impulse"])
    d.stage("QEMU run", d.qemu_run, _qemu_missing(), ["impulse"])
    assert [n for n, _, _ in STAGES] == list(d.results)
    print("summary:")
    for res in d.results.values():
        print(f"  {res.name:<17}{res.status}{': ' if res.detail else ''}{res.detail}")
    counts = {s: sum(r.status == s for r in d.results.values()) for s in
              ("done", "skipped", "failed")}
    if counts["done"] == len(STAGES):
        print(f"all {len(STAGES)} stages done.")
    else:
        print(f"{counts['done']} done, {counts['skipped']} skipped, {counts['failed']} failed"
              + (f" ({SETUP_HINT})" if counts["skipped"] else "") + ".")
    return 1 if counts["failed"] else 0

