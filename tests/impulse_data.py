"""Synthetic tone/chirp/noise audio classes and a small MFCC keyword-spotting-like impulse trained
on them (tests/test_impulse.py). Run as a script in a TensorFlow subprocess to train the model:

    python tests/impulse_data.py OUT_DIR      # writes OUT_DIR/tones.toml and OUT_DIR/tones.tflite
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

# bump when the data, the impulse or the model change (the test cache key also hashes this file)
VERSION = 1
SR = 8000
WINDOW = 4000                        # 0.5 s
CLASSES = ["tone", "rising chirp", "falling chirp", "noise"]
IMPULSE = f"""\
[input]
sample_rate = {SR}
window = {WINDOW}

[dsp]
block = "mfcc"
preset = "tf_mfcc"
frame_length = 256
frame_stride = 128
n_fft = 256
n_mels = 32
fmin = 60.0
fmax = 3800.0
n_mfcc = 13

[model]
path = "tones.tflite"
"""


def dense_model(n_in: int, n_out: int, seed: int, name: str = "dense",
                names: list[str] | None = None) -> bytes:
    """FULLY_CONNECTED n_in -> n_out with random weights, input scale 0.5 and zero point -20: a
    model behind a spectral block; tensors named from `names` (cycled) when given."""
    from tinykiln.frontend.modelbuilder import ModelBuilder
    rng = np.random.default_rng(seed)
    b = ModelBuilder(name)
    x = b.input((1, n_in), scale=0.5, zero_point=-20)
    w = b.const(rng.integers(-127, 128, (n_out, n_in), dtype=np.int8), scale=[0.01] * n_out,
                zero_point=[0] * n_out, axis=0)
    bias = b.const(rng.integers(-500, 500, n_out).astype(np.int32), scale=[0.005] * n_out,
                   zero_point=[0] * n_out)
    y = b.tensor((1, n_out), scale=0.2, zero_point=3)
    b.op("FULLY_CONNECTED", [x, w, bias], [y], fused_activation_function="NONE")
    b.output(y)
    for i, t in enumerate(b.g.tensors if names else ()):
        t.name = names[i % len(names)]
    return b.build()


def signals(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n int16 windows, classes balanced: a steady tone, a rising or a falling chirp (an octave
    or more), or noise; random level (-30 to -6 dBFS), phase, start frequency and noise floor."""
    rng = np.random.default_rng(seed)
    t = np.arange(WINDOW) / SR
    xs, ys = [], []
    for i in range(n):
        c = i % len(CLASSES)
        amp = 10 ** (rng.uniform(-30, -6) / 20)
        if c == 3:
            x = rng.normal(0, amp / 2, WINDOW)
        else:
            if c == 0:
                f0 = f1 = rng.uniform(200, 3000)
            else:
                lo, hi = rng.uniform(150, 500), rng.uniform(1500, 3500)
                f0, f1 = (lo, hi) if c == 1 else (hi, lo)
            f = f0 + (f1 - f0) * t / t[-1]
            phase = 2 * np.pi * np.cumsum(f) / SR + rng.uniform(0, 2 * np.pi)
            x = amp * np.sin(phase) + rng.normal(0, amp * 10 ** (rng.uniform(-40, -20) / 20), WINDOW)
        xs.append(np.clip(np.round(x * 32768), -32768, 32767).astype(np.int16))
        ys.append(c)
    return np.stack(xs), np.array(ys)


def train(out: Path) -> None:
    import tensorflow as tf
    from tinykiln.impulse.impulse import float_features, load_impulse
    out.mkdir(parents=True, exist_ok=True)
    (out / "tones.toml").write_text(IMPULSE)
    imp = load_impulse(out / "tones.toml", check_model=False)
    x, y = signals(800, seed=1)
    f = float_features(imp, x)[..., None].astype(np.float32)     # (N, frames, 13, 1)
    tf.keras.utils.set_random_seed(0)
    L = tf.keras.layers
    model = tf.keras.Sequential([
        L.Input(f.shape[1:], batch_size=1),
        L.Conv2D(8, (3, 3), activation="relu"),
        L.MaxPooling2D((2, 2)),
        L.Conv2D(16, (3, 3), activation="relu"),
        L.Flatten(),
        L.Dense(4),
        L.Softmax(),
    ])
    train_model = tf.keras.Sequential([L.Input(f.shape[1:]), *model.layers])
    train_model.compile(optimizer=tf.keras.optimizers.Adam(3e-3),
                        loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    train_model.fit(f, y, epochs=12, batch_size=32, verbose=0, shuffle=True)
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([f[i:i + 1]] for i in range(0, 200))
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    (out / "tones.tflite").write_bytes(conv.convert())


if __name__ == "__main__":
    train(Path(sys.argv[1]))
