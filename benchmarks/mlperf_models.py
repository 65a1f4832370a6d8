"""The MLPerf Tiny reference architectures that ../shared/models lacks, built as int8 .tflite files
for the speed benchmark: the image-classification ResNet-8 (CIFAR-10, 32x32x3) and the
visual-wake-words MobileNet-v1 alpha 0.25 (96x96x3, 2 classes). Weights are seeded random (the
int8 arithmetic is what is measured, not the accuracy); TensorFlow's converter makes them full
int8 with int8 input and output from a seeded representative dataset. The conversion is
byte-identical from run to run (tests/test_speed_bench.py checks it).

Against mlcommons/tiny's own int8 files (pretrainedResnet_quant.tflite, vww_96_int8.tflite, which
BASELINES.md measured; not stored here), measured at da68db8 on mps2-an386: ResNet-8 35,982,453
instructions there, 35,978,308 here (0.01% apart); MobileNet 19,400,495 there, 18,243,059 here.
The trained VWW model has dead channels (weight scale ~1e-9, |bias| ~2^30) in every 1x1
CONV_2D from op 10 on, whose accumulator bound drops the whole layer off the fast requantization
(rq_fast = 0); seeded weights have none, so this MobileNet runs about 6% faster than the real one.
To measure the real files, pass their paths to speed_bench.py.

The conversion runs in a child Python process (the benchmark itself never imports TensorFlow) and
its result is cached under ~/.cache/tinykiln/bench/, keyed by a hash of the generator's source and
the TensorFlow and Keras versions. Usage:

    python benchmarks/mlperf_models.py [--force] [resnet8|mobilenet_v1_025 ...]
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.util
import os
import subprocess
import sys
import tempfile
from pathlib import Path

# The architectures' MACs (BASELINES.md: IC 12.50 M, VWW 7.49 M), counted layer by layer by hand:
# ResNet-8: 442,368 + 2 x 2,359,296 + (1,179,648 + 2,359,296 + 131,072) x 2 + 640.
# MobileNet-v1 0.25: 497,664 + 13 depthwise-separable blocks + 512 (see mobilenet in CHILD).
EXPECTED_MACS = {"resnet8": 12_501_632, "mobilenet_v1_025": 7_489_664}
BASELINE_MACS = {"resnet8": 12.50e6, "mobilenet_v1_025": 7.49e6}
# op histogram of each converted model (the test checks it); the converter folds Flatten away
# (FULLY_CONNECTED reads the pooled 1x1xC tensor directly)
EXPECTED_OPS = {
    "resnet8": {"CONV_2D": 9, "ADD": 3, "AVERAGE_POOL_2D": 1, "FULLY_CONNECTED": 1, "SOFTMAX": 1},
    "mobilenet_v1_025": {"CONV_2D": 14, "DEPTHWISE_CONV_2D": 13, "AVERAGE_POOL_2D": 1,
                         "FULLY_CONNECTED": 1, "SOFTMAX": 1},
}
NAMES = tuple(EXPECTED_MACS)
SEED = 1234
CALIBRATION_SAMPLES = 16

# The child: builds one model with Keras and converts it. argv: name, out path, seed, samples.
CHILD = r'''
import os, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import tensorflow as tf
import keras
from keras import layers

name, out, seed, samples = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
keras.utils.set_random_seed(seed)
tf.config.experimental.enable_op_determinism()


def conv_bn(x, filters, k, s, relu=True):
    x = layers.Conv2D(filters, k, strides=s, padding="same", kernel_initializer="he_normal")(x)
    x = layers.BatchNormalization()(x)
    return layers.Activation("relu")(x) if relu else x


def resnet8():
    # mlcommons/tiny benchmark/training/image_classification/keras_model.py, 16 filters
    inp = keras.Input((32, 32, 3), batch_size=1)
    x = conv_bn(inp, 16, 3, 1)
    for stack, filters in enumerate((16, 32, 64)):
        s = 1 if stack == 0 else 2
        y = conv_bn(x, filters, 3, s)
        y = conv_bn(y, filters, 3, 1, relu=False)
        if stack:       # the shortcut adjusts to the stride and the channel count
            x = layers.Conv2D(filters, 1, strides=2, padding="same",
                              kernel_initializer="he_normal")(x)
        x = layers.Activation("relu")(layers.add([x, y]))
    x = layers.AveragePooling2D(pool_size=8)(x)
    x = layers.Flatten()(x)
    return keras.Model(inp, layers.Dense(10, activation="softmax")(x))


def mobilenet():
    # MobileNet-v1 alpha 0.25 as MLPerf Tiny's visual wake words model: 96x96x3, 2 classes
    inp = keras.Input((96, 96, 3), batch_size=1)
    x = conv_bn(inp, 8, 3, 2)
    for filters, s in ((16, 1), (32, 2), (32, 1), (64, 2), (64, 1), (128, 2), (128, 1), (128, 1),
                       (128, 1), (128, 1), (128, 1), (256, 2), (256, 1)):
        # He initialisation over the 9 taps of each channel (Keras' own counts fan-in as 9 x C,
        # which shrinks the activations ~sqrt(C)-fold per block until the softmax input is 0)
        x = layers.DepthwiseConv2D(3, strides=s, padding="same",
                                   depthwise_initializer=keras.initializers.RandomNormal(
                                       stddev=(2 / 9) ** 0.5))(x)
        x = layers.Activation("relu")(layers.BatchNormalization()(x))
        x = conv_bn(x, filters, 1, 1)
    x = layers.AveragePooling2D(pool_size=3)(x)
    x = layers.Flatten()(x)
    return keras.Model(inp, layers.Dense(2, activation="softmax")(x))


model = {"resnet8": resnet8, "mobilenet_v1_025": mobilenet}[name]()
shape = tuple(model.inputs[0].shape[1:])
data = np.random.default_rng(seed).uniform(-1.0, 1.0, (samples, 1, *shape)).astype(np.float32)


def representative():
    for x in data:
        yield [x]


conv = tf.lite.TFLiteConverter.from_keras_model(model)
conv.optimizations = [tf.lite.Optimize.DEFAULT]
conv.representative_dataset = representative
conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
conv.inference_input_type = tf.int8
conv.inference_output_type = tf.int8
with open(out + ".tmp", "wb") as fh:
    fh.write(conv.convert())
os.replace(out + ".tmp", out)
'''


def tensorflow_available() -> bool:
    return importlib.util.find_spec("tensorflow") is not None and \
        importlib.util.find_spec("keras") is not None


def _version(dist: str) -> str:
    for d in (dist, dist + "-cpu"):
        try:
            return importlib.metadata.version(d)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "absent"


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tinykiln" / "bench"


def cache_key(name: str) -> str:
    h = hashlib.sha256()
    for part in (CHILD, name, str(SEED), str(CALIBRATION_SAMPLES), _version("tensorflow"),
                 _version("keras")):
        h.update(part.encode() + b"\0")
    return h.hexdigest()[:16]


def model_path(name: str, force: bool = False, directory: Path | None = None) -> Path:
    """The cached .tflite of `name` (one of NAMES), converted in a child process if absent."""
    if name not in EXPECTED_MACS:
        raise ValueError(f"unknown model {name!r}: one of {', '.join(NAMES)}")
    d = Path(directory) if directory else cache_dir()
    out = d / f"{name}-{cache_key(name)}.tflite"
    if out.is_file() and not force:
        return out
    if not tensorflow_available():
        raise RuntimeError(f"building {name} needs TensorFlow and Keras (pip install "
                           f"tensorflow-cpu==2.21.0), which are not installed.")
    convert(name, out)
    for stale in d.glob(f"{name}-*.tflite"):      # earlier generators' files
        if stale != out:
            stale.unlink(missing_ok=True)
    return out


def convert(name: str, out: Path) -> None:
    """Run the Keras build and the int8 conversion of `name` in a child process into `out`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tinykiln-mlperf-") as tmp:
        env = dict(os.environ, PYTHONHASHSEED="0", TF_CPP_MIN_LOG_LEVEL="3", TMPDIR=tmp,
                   CUDA_VISIBLE_DEVICES="-1")
        r = subprocess.run([sys.executable, "-c", CHILD, name, str(out), str(SEED),
                            str(CALIBRATION_SAMPLES)], capture_output=True, text=True, env=env,
                           stdin=subprocess.DEVNULL, cwd=tmp)
    if r.returncode != 0 or not out.is_file():
        raise RuntimeError(f"converting {name} failed (exit {r.returncode}):\n{r.stderr[-2000:]}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", default=list(NAMES))
    ap.add_argument("--force", action="store_true", help="convert again even when cached")
    a = ap.parse_args(argv)
    for name in a.names:
        p = model_path(name, force=a.force)
        digest = hashlib.sha256(p.read_bytes()).hexdigest()[:16]
        print(f"{name}: {p} ({p.stat().st_size:,} B, sha256 {digest})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
