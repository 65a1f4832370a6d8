"""The Keras models of issue 11's acceptance (recurrent, 16x8, U-Net, transformer), built with
Keras and converted to .tflite by TensorFlow's converter, for whole-model tests against TFLM.

    python tests/keras_op_models.py OUT_DIR NAME [NAME ...]   # writes OUT_DIR/<NAME>.tflite

runs in a subprocess of the tests (which never import TensorFlow themselves). Each model is small
enough for the 16 KiB of RAM of the sifive_e board, seeded, and converted byte-identically from
run to run. Weights are random (the models are untrained): the int8 arithmetic is what is tested.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

# bump when a model changes (the tests' cache key also hashes this file)
GENERATOR_VERSION = 2

# name -> (input shape without the batch, activations: "int8" or "int16" (16x8))
MODELS = {
    # keyword spotters of a realistic size, 49 frames of 10 MFCC as in ARM's ML-KWS models
    "lstm": ((49, 10), "int8"),             # Keras LSTM(96): one UNIDIRECTIONAL_SEQUENCE_LSTM
    "gru_kws": ((49, 10), "int8"),          # Keras GRU(64), unrolled by the converter
    "rnn": ((20, 8), "int8"),               # SimpleRNN, unrolled
    "conv1d_16x8": ((512, 1), "int16"),     # raw int16 audio in, 16x8 Conv1D
    "unet": ((12, 12, 1), "int8"),          # Conv2DTranspose, UpSampling2D, Concatenate
    "transformer": ((16, 32), "int8"),      # attention (BATCH_MATMUL, SOFTMAX), LayerNormalization
    "stream": ((8,), "int8"),               # streaming: a tf.Variable updated at every invoke
}
# benchmark-only (benchmarks/recurrent_bench.py): small cells, where the per-step gate
# arithmetic outweighs the matrix products
BENCH_MODELS = {
    "lstm_small": ((20, 8), "int8"),        # LSTM(24)
    "gru_small": ((49, 10), "int8"),        # GRU(24), unrolled
}
SHAPES = {**MODELS, **BENCH_MODELS}
N_REPRESENTATIVE = 32


# Keras 3's LSTM crashes TensorFlow 2.21's calibrator (a segmentation fault); Keras 2 (tf_keras,
# `pip install --no-deps tf-keras==2.21.0`) converts it to the fused int8 op
NEEDS_TF_KERAS = {"lstm", "lstm_small"}


def _build_lstm(name: str):
    import tf_keras
    from tf_keras import layers as L
    tf_keras.utils.set_random_seed(7)
    shape, _ = SHAPES[name]
    units, classes = (24, 4) if name == "lstm_small" else (96, 12)
    return tf_keras.Sequential([L.InputLayer(input_shape=shape, batch_size=1), L.LSTM(units),
                                L.Dense(classes)])


def build(name: str):
    if name in NEEDS_TF_KERAS:
        return _build_lstm(name)
    import keras
    from keras import layers as L
    keras.utils.set_random_seed(7)
    shape, _ = SHAPES[name]
    inp = L.Input(shape, batch_size=1)
    if name in ("gru_kws", "gru_small"):
        # unroll=True: the converter keeps a rolled GRU as a WHILE loop, which TFLM cannot
        # calibrate (TensorFlow 2.21's calibrator crashes on it)
        x = L.GRU(64 if name == "gru_kws" else 24, unroll=True)(inp)
        out = L.Dense(12)(x)
    elif name == "rnn":
        x = L.SimpleRNN(16, unroll=True)(inp)
        out = L.Dense(4)(x)
    elif name == "conv1d_16x8":
        x = L.Conv1D(8, 9, strides=4, activation="relu")(inp)
        x = L.Conv1D(16, 5, strides=2, activation="relu")(x)
        x = L.GlobalAveragePooling1D()(x)
        out = L.Softmax()(L.Dense(3)(x))
    elif name == "unet":
        c1 = L.Conv2D(4, 3, padding="same", activation="relu")(inp)
        c2 = L.Conv2D(8, 3, padding="same", activation="relu")(L.MaxPool2D()(c1))
        up_t = L.Conv2DTranspose(4, 2, strides=2, padding="same")(c2)
        # bilinear: a nearest UpSampling2D converts to TILE, which TFLM does not run
        up_s = L.UpSampling2D(interpolation="bilinear")(c2)
        out = L.Conv2D(2, 1)(L.Concatenate()([up_t, up_s, c1]))
    elif name == "transformer":
        a = L.MultiHeadAttention(num_heads=2, key_dim=16)(inp, inp)
        x = L.LayerNormalization()(inp + a)
        f = L.Dense(32)(L.Dense(48, activation="relu")(x))
        x = L.LayerNormalization()(x + f)
        out = L.Dense(4)(L.GlobalAveragePooling1D()(x))
    else:
        raise ValueError(name)
    return keras.Model(inp, out)


def _stream_converter(tf):
    """A streaming model as TensorFlow writes it: a layer's output leaks into a state tf.Variable
    (VAR_HANDLE, READ_VARIABLE, ASSIGN_VARIABLE, CALL_ONCE in the .tflite)."""
    shape, _ = SHAPES["stream"]
    rs = np.random.RandomState(7)
    w = tf.constant(rs.randn(shape[0], 8).astype(np.float32) * 0.4)
    b = tf.constant(rs.randn(8).astype(np.float32) * 0.1)

    class Stream(tf.Module):
        def __init__(self):
            self.state = tf.Variable(tf.zeros([1, 8]), trainable=False)

        @tf.function(input_signature=[tf.TensorSpec([1, *shape], tf.float32)])
        def __call__(self, x):
            new = tf.tanh(0.7 * self.state + tf.matmul(x, w) + b)
            self.state.assign(new)
            return new

    m = Stream()
    return tf.lite.TFLiteConverter.from_concrete_functions([m.__call__.get_concrete_function()],
                                                           m)


def convert(name: str) -> bytes:
    import tensorflow as tf
    shape, acts = SHAPES[name]
    rng = np.random.default_rng(11)

    def representative():
        for _ in range(N_REPRESENTATIVE):
            yield [rng.standard_normal((1, *shape)).astype(np.float32)]

    if name == "stream":
        c = _stream_converter(tf)
    else:
        c = tf.lite.TFLiteConverter.from_keras_model(build(name))
    c.optimizations = [tf.lite.Optimize.DEFAULT]
    c.representative_dataset = representative
    if acts == "int16":
        c.target_spec.supported_ops = [
            tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
        c.inference_input_type = c.inference_output_type = tf.int16
    else:
        c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        c.inference_input_type = c.inference_output_type = tf.int8
    return c.convert()


def main(argv: list[str]) -> int:
    out, names = Path(argv[0]), argv[1:]
    if len(names) > 1:
        # one process per model (two at a time), so that no conversion depends on what another
        # imported (tf_keras beside Keras 3) or left behind in TensorFlow
        import subprocess
        procs = []
        for name in names:
            procs.append(subprocess.Popen([sys.executable, __file__, str(out), name]))
            if len(procs) == 2:
                if procs.pop(0).wait() != 0:
                    return 1
        return 1 if any(p.wait() != 0 for p in procs) else 0
    for name in names:
        data = convert(name)
        tmp = out / f".{name}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, out / f"{name}.tflite")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
