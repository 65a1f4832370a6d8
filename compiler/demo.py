"""`tinykiln demo`: the main job on a built-in example. Builds a small keyword-spotting-shaped
int8 DS-CNN (seeded random weights), compiles it to C, builds and runs it on the host, and, when
tflite-micro is installed, checks the outputs against TFLM byte for byte."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .compile import compile_graph, plan_picture, write_output
from .hostrun import HostBuild
from .modelbuilder import ModelBuilder
from .tflite_import import parse_tflite


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


def run_demo(out_dir: Path, rows: int = 20) -> int:
    model = demo_model()
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "demo_dscnn.tflite").write_bytes(model)
    c = compile_graph(parse_tflite(model, "demo_dscnn.tflite"), model_name="demo_dscnn.tflite")
    lib = write_output(c, out_dir / "c")
    r = c.report
    print(f"built-in demo: {out_dir / 'demo_dscnn.tflite'} (DS-CNN, {r['ops']} ops, "
          f"{r['macs']} MACs)")
    print(f"  C library in {lib}/: weights {r['weight_bytes']} B, arena {r['arena_bytes']} B "
          f"(lower bound {r['arena_lower_bound']})")
    print(plan_picture(c))
    g = c.graph
    x = np.random.default_rng(1).integers(-128, 128, (rows, *g.tensors[g.inputs[0]].shape),
                                           dtype=np.int8)
    with HostBuild(c) as hb:
        y = hb.run([x])[0]
    print(f"  ran {rows} random inputs on the host; predicted classes: "
          f"{' '.join(str(int(v)) for v in y.reshape(rows, -1).argmax(1))}")
    try:
        from tflite_micro.python.tflite_micro import runtime
    except ImportError:
        print("  tflite-micro is not installed: skipped the comparison with TFLM "
              "(pip install tflite-micro)")
        return 0
    it = runtime.Interpreter.from_bytes(model, arena_size=1 << 20)
    ref = []
    for row in x:
        it.set_input(row, 0)
        it.invoke()
        ref.append(np.array(it.get_output(0)))
    diff = int((np.stack(ref).reshape(y.shape) != y).sum())
    print(f"  TFLM comparison: {diff} differing bytes of {y.size}")
    return 1 if diff or _impulse_demo(out_dir, model) else 0


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


def _impulse_demo(out_dir: Path, model: bytes) -> int:
    """The same model behind a fixed-point MFCC front end: raw samples in. Checked against the
    Python model of the front end feeding TFLM, and run under QEMU when the tools are there."""
    import shutil
    from .dsp.ref import speech_like
    from .impulse import compile_impulse, features
    toml = out_dir / "demo_kws.toml"
    toml.write_text(DEMO_IMPULSE)
    c = compile_impulse(toml)
    write_output(c, out_dir / "impulse_c")
    x = np.stack([speech_like(s, level_dbfs=lv) for s, lv in ((0, -20), (1, -35), (2, -10))])
    with HostBuild(c) as hb:
        y = hb.run([x])[0]
    r = c.report
    print(f"impulse {toml}: raw int16 window ({r['dsp']['window']} samples) -> MFCC "
          f"{r['dsp']['frames']}x{r['dsp']['features_per_frame']} -> model; C library in "
          f"{out_dir / 'impulse_c'}/, arena {r['arena_bytes']} B (window and DSP scratch included)")
    from tflite_micro.python.tflite_micro import runtime
    it = runtime.Interpreter.from_bytes(model, arena_size=1 << 20)
    diff = 0
    for row, f in zip(y, features(c, x)):
        it.set_input(f[None], 0)
        it.invoke()
        diff += int((np.array(it.get_output(0)).reshape(row.shape) != row).sum())
    print(f"  3 speech-like windows on the host; vs Python front end + TFLM: {diff} differing "
          f"bytes of {y.size}")
    if shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None:
        print("  arm-none-eabi-gcc or qemu-system-arm is not installed: skipped the firmware run")
        return diff
    from .board import get_board
    from .firmware import build_firmware
    from .qemu import run_firmware
    b = get_board("mps2-an386")
    rep = build_firmware(c, b, out_dir / "impulse_fw")
    res = run_firmware(out_dir / "impulse_fw", b, c.graph, [x], profile=True)
    qd = int((res.outputs[0] != y).sum())
    dsp = res.profile["layers"][0]["instructions"]
    print(f"  firmware for {b.name} ({b.cpu}) in {out_dir / 'impulse_fw'}/: flash "
          f"{rep['flash']['used']:,} B, RAM {rep['ram']['used']:,} B; under QEMU {qd} bytes "
          f"differ from the host; {res.profile['instructions']:,} instructions per window "
          f"(front end {dsp:,})")
    return diff + qd
