"""Random small Keras models, converted to full-int8 .tflite, for whole-model tests against TFLM.

Model i depends on seed i only: `spec(i)` draws the architecture with numpy (no TensorFlow), `build`
turns it into a Keras model and `convert` into int8 .tflite bytes (byte-identical from run to run).
Every model features one op family (FEATURES[i % len(FEATURES)]) among 1-3 random extra blocks, so
any 2 * len(FEATURES) consecutive seeds cover the whole supported op set.

    python tests/keras_models.py OUT_DIR SEED [SEED ...]   # writes OUT_DIR/<seed>.tflite

runs the conversions in a separate process, so a test process never has to import TensorFlow.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

# bump when the generator changes what it builds (the test cache key also hashes this file)
GENERATOR_VERSION = 1

FEATURES = ["conv", "dwconv", "dense", "avgpool", "maxpool", "add", "mul", "gap", "pad",
            "concat", "reshape", "softmax", "sigmoid", "tanh", "relu", "relu6", "hard_swish",
            "bn", "conv_s2", "conv_dil", "dwconv_m2", "dwconv_dil", "dwconv_s2"]
# what a featured variant forces on its block
FORCE = {"conv_s2": ("conv", {"stride": 2}), "conv_dil": ("conv", {"dilation": 2}),
         "dwconv_m2": ("dwconv", {"multiplier": 2}), "dwconv_dil": ("dwconv", {"dilation": 2}),
         "dwconv_s2": ("dwconv", {"stride": 2})}
EXTRA = ["conv", "conv", "dwconv", "dwconv", "avgpool", "maxpool", "add", "mul", "pad",
         "concat", "bn", "sigmoid", "tanh", "relu", "relu6", "hard_swish"]
HEADS = ["gap_dense", "flatten_dense", "reshape_dense", "gap", "map"]
FINAL = [None, None, "softmax", "sigmoid", "tanh"]
ACTS = [None, "relu", "relu6"]
N_REPRESENTATIVE = 20


def _conv_out(n: int, k: int, s: int, d: int, padding: str) -> int:
    if padding == "same":
        return -(-n // s)
    return (n - (k - 1) * d - 1) // s + 1


def spec(seed: int) -> dict:
    """The architecture of model `seed` as plain data: input shape, list of layers, input range."""
    rng = np.random.default_rng(seed)
    feature = FEATURES[seed % len(FEATURES)]
    lo = -float(rng.uniform(0.2, 3.0)) if rng.random() < 0.8 else 0.0
    hi = float(rng.uniform(0.2, 3.0))
    if feature == "dense" and rng.random() < 0.6:
        return _mlp_spec(rng, seed, feature, (lo, hi))
    h, w, c = int(rng.integers(5, 13)), int(rng.integers(5, 13)), int(rng.integers(1, 5))
    shape = [h, w, c]
    layers: list[dict] = []
    extras = [str(rng.choice(EXTRA)) for _ in range(int(rng.integers(1, 4)))]
    blocks = extras
    at = int(rng.integers(0, len(blocks) + 1))
    if feature not in ("dense", "gap", "reshape", "softmax"):
        blocks.insert(at, feature)
    # the first layer is a convolution most of the time, as in real models
    if rng.random() < 0.7 and blocks[0] not in ("conv", "dwconv", *FORCE):
        blocks.insert(0, "conv")
    for b in blocks:
        kind, force = FORCE.get(b, (b, {}))
        layers.append(_block(rng, kind, shape, force))
    head = {"dense": str(rng.choice(["gap_dense", "flatten_dense", "reshape_dense"])),
            "gap": str(rng.choice(["gap", "gap_dense"])),
            "reshape": str(rng.choice(["flatten_dense", "reshape_dense"])),
            "softmax": str(rng.choice(["gap_dense", "flatten_dense", "map"]))}.get(
        feature, str(rng.choice(HEADS)))
    final = "softmax" if feature == "softmax" else FINAL[int(rng.integers(len(FINAL)))]
    layers.extend(_head(rng, head, final, shape))
    return {"seed": seed, "feature": feature, "input": [h, w, c], "range": [lo, hi],
            "layers": layers}


def _mlp_spec(rng, seed, feature, rng_range) -> dict:
    n = int(rng.integers(4, 65))
    layers = []
    for _ in range(int(rng.integers(1, 4))):
        layers.append({"op": "dense", "units": int(rng.integers(2, 33)),
                       "act": ACTS[int(rng.integers(3))], "bias": bool(rng.random() < 0.85)})
        if rng.random() < 0.3:
            layers.append({"op": str(rng.choice(["sigmoid", "tanh", "relu", "relu6"]))})
    final = FINAL[int(rng.integers(len(FINAL)))]
    layers.append({"op": "dense", "units": int(rng.integers(2, 13)), "act": None,
                   "bias": bool(rng.random() < 0.85)})
    if final:
        layers.append({"op": final})
    return {"seed": seed, "feature": feature, "input": [n], "range": list(rng_range),
            "layers": layers}


def _conv_params(rng, shape, force) -> dict:
    h, w, _ = shape
    kh, kw = (int(rng.choice([1, 2, 3, 3, 5])) for _ in range(2))
    if rng.random() < 0.6:
        kw = kh
    if rng.random() < 0.25:
        s, d = 1, int(rng.choice([2, 3]))
    else:
        s, d = int(rng.choice([1, 2])), 1
    if "dilation" in force:
        s, d = 1, force["dilation"]
        kh, kw = max(kh, 3), max(kw, 2)
    if "stride" in force:
        s, d = force["stride"], 1
    sh, sw = s, s
    if s == 2 and rng.random() < 0.2:
        sw = 1
    padding = str(rng.choice(["same", "valid"]))
    if (_conv_out(h, kh, sh, d, padding) < 1 or _conv_out(w, kw, sw, d, padding) < 1):
        padding = "same"
    p = {"kernel": [kh, kw], "strides": [sh, sw], "dilation": d, "padding": padding,
         "act": ACTS[int(rng.integers(3))], "bias": bool(rng.random() < 0.75)}
    shape[0] = _conv_out(h, kh, sh, d, padding)
    shape[1] = _conv_out(w, kw, sw, d, padding)
    return p


def _block(rng, kind, shape, force=None) -> dict:
    """One block; updates `shape` (H, W, C) in place."""
    c = shape[2]
    force = force or {}
    if kind == "conv":
        f = int(rng.integers(1, 9))
        p = _conv_params(rng, shape, force)
        shape[2] = f
        return {"op": "conv", "filters": f, **p}
    if kind == "dwconv":
        m = force.get("multiplier", int(rng.choice([1, 1, 2])))
        p = _conv_params(rng, shape, force)
        shape[2] = c * m
        return {"op": "dwconv", "multiplier": m, **p}
    if kind in ("avgpool", "maxpool"):
        ph, pw = int(rng.choice([2, 3])), int(rng.choice([2, 3]))
        s = int(rng.choice([1, 2]))
        padding = str(rng.choice(["same", "valid"]))
        if shape[0] < ph or shape[1] < pw:
            padding = "same"
        shape[0] = _conv_out(shape[0], ph, s, 1, padding)
        shape[1] = _conv_out(shape[1], pw, s, 1, padding)
        return {"op": kind, "pool": [ph, pw], "strides": [s, s], "padding": padding}
    if kind == "add":       # residual: x + conv(x), optionally ReLU after (fuses into ADD)
        return {"op": "add", "kernel": int(rng.choice([1, 3])), "act": ACTS[int(rng.integers(3))],
                "post_relu": bool(rng.random() < 0.3)}
    if kind == "mul":       # conv(x) * gate(x), gate = sigmoid or linear conv of x
        f = int(rng.integers(1, 9))
        shape[2] = f
        return {"op": "mul", "filters": f, "gate": str(rng.choice(["sigmoid", "linear", "tanh"]))}
    if kind == "pad":
        pads = [int(v) for v in rng.integers(0, 3, 4)]
        if sum(pads) == 0:
            pads[int(rng.integers(4))] = 1
        shape[0] += pads[0] + pads[1]
        shape[1] += pads[2] + pads[3]
        return {"op": "pad", "pads": pads}
    if kind == "concat":    # [x, conv1x1(x)] along channels, or [a, b] along H or W
        axis = int(rng.choice([-1, -1, 1, 2]))
        f = int(rng.integers(1, 7))
        if axis == -1:
            shape[2] = c + f
        else:
            shape[axis - 1] *= 2
        return {"op": "concat", "axis": axis, "filters": f}
    if kind == "bn":        # conv without activation, BatchNorm (folds), then ReLU/ReLU6/none
        f = int(rng.integers(1, 9))
        p = _conv_params(rng, shape, force)
        shape[2] = f
        p["act"] = None
        return {"op": "conv_bn", "filters": f, **p, "post": ACTS[int(rng.integers(3))]}
    if kind in ("sigmoid", "tanh", "hard_swish"):
        return {"op": kind}
    if kind in ("relu", "relu6"):
        # a standalone RELU op needs a producer it cannot fuse into: zero padding
        pads = [int(v) for v in rng.integers(0, 2, 4)]
        if sum(pads) == 0:
            pads[0] = 1
        shape[0] += pads[0] + pads[1]
        shape[1] += pads[2] + pads[3]
        return {"op": kind, "pads": pads}
    raise ValueError(kind)


def _head(rng, head, final, shape) -> list[dict]:
    out: list[dict] = []
    if head in ("gap", "gap_dense"):
        out.append({"op": "gap", "keepdims": bool(head == "gap" and rng.random() < 0.4)})
    elif head == "flatten_dense":
        out.append({"op": "flatten"})
    elif head == "reshape_dense":
        out.append({"op": "reshape", "shape": [shape[0] * shape[1] * shape[2]]})
    if head.endswith("dense"):
        if rng.random() < 0.3:
            out.append({"op": "dense", "units": int(rng.integers(4, 17)),
                        "act": ACTS[int(rng.integers(3))], "bias": True})
        out.append({"op": "dense", "units": int(rng.integers(2, 11)), "act": None,
                    "bias": bool(rng.random() < 0.85)})
    if final:
        out.append({"op": final})
    return out


def build(s: dict):
    """The Keras model of a spec, with random (seeded) biases and BatchNorm statistics."""
    import keras
    from keras import layers as L

    keras.backend.clear_session()   # layer and tensor names restart: bytes do not depend on order
    keras.utils.set_random_seed(s["seed"])
    rng = np.random.default_rng(1000 + s["seed"])
    act = {None: None, "relu": "relu", "relu6": "relu6"}
    inp = keras.Input(tuple(s["input"]), batch_size=1)
    x = inp
    for ly in s["layers"]:
        op = ly["op"]
        if op in ("conv", "conv_bn"):
            x = L.Conv2D(ly["filters"], tuple(ly["kernel"]), strides=tuple(ly["strides"]),
                         padding=ly["padding"], dilation_rate=ly["dilation"],
                         activation=act[ly["act"]], use_bias=ly["bias"])(x)
            if op == "conv_bn":
                x = L.BatchNormalization()(x)
                if ly["post"] == "relu":
                    x = L.ReLU()(x)
                elif ly["post"] == "relu6":
                    x = L.ReLU(6.0)(x)
        elif op == "dwconv":
            x = L.DepthwiseConv2D(tuple(ly["kernel"]), strides=tuple(ly["strides"]),
                                  padding=ly["padding"], depth_multiplier=ly["multiplier"],
                                  dilation_rate=ly["dilation"], activation=act[ly["act"]],
                                  use_bias=ly["bias"])(x)
        elif op in ("avgpool", "maxpool"):
            cls = L.AveragePooling2D if op == "avgpool" else L.MaxPooling2D
            x = cls(tuple(ly["pool"]), strides=tuple(ly["strides"]), padding=ly["padding"])(x)
        elif op == "add":
            y = L.Conv2D(x.shape[-1], ly["kernel"], padding="same", activation=act[ly["act"]])(x)
            x = L.Add()([x, y])
            if ly["post_relu"]:
                x = L.ReLU()(x)
        elif op == "mul":
            a = L.Conv2D(ly["filters"], 1)(x)
            g = L.Conv2D(ly["filters"], 3, padding="same")(x)
            if ly["gate"] != "linear":
                g = L.Activation(ly["gate"])(g)
            x = L.Multiply()([a, g])
        elif op == "pad":
            t, b, le, r = ly["pads"]
            x = L.ZeroPadding2D(((t, b), (le, r)))(x)
        elif op == "concat":
            if ly["axis"] == -1:
                x = L.Concatenate(axis=-1)([x, L.Conv2D(ly["filters"], 1)(x)])
            else:
                y = L.Conv2D(x.shape[-1], 3, padding="same")(x)
                x = L.Concatenate(axis=ly["axis"])([y, x])
        elif op in ("relu", "relu6"):
            if ly.get("pads"):
                t, b, le, r = ly["pads"]
                x = L.ZeroPadding2D(((t, b), (le, r)))(x)
            x = L.ReLU(6.0 if op == "relu6" else None)(x)
        elif op in ("sigmoid", "tanh", "softmax"):
            x = L.Activation(op)(x)
        elif op == "hard_swish":
            x = L.Activation(keras.activations.hard_swish)(x)
        elif op == "gap":
            x = L.GlobalAveragePooling2D(keepdims=ly["keepdims"])(x)
        elif op == "flatten":
            x = L.Flatten()(x)
        elif op == "reshape":
            x = L.Reshape(tuple(ly["shape"]))(x)
        elif op == "dense":
            x = L.Dense(ly["units"], activation=act[ly["act"]], use_bias=ly["bias"])(x)
        else:
            raise ValueError(op)
    model = keras.Model(inp, x)
    for layer in model.layers:      # non-trivial biases and BatchNorm statistics
        if isinstance(layer, L.BatchNormalization):
            n = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.5, 1.5, n), rng.normal(0, 0.2, n),
                               rng.normal(0, 0.2, n), rng.uniform(0.3, 2.0, n)])
        elif getattr(layer, "use_bias", False) and getattr(layer, "bias", None) is not None:
            ws = layer.get_weights()
            ws[-1] = rng.normal(0, 0.1, ws[-1].shape).astype(np.float32)
            layer.set_weights(ws)
    return model


def representative(s: dict) -> list[np.ndarray]:
    rng = np.random.default_rng(7919 + s["seed"])
    lo, hi = s["range"]
    return [rng.uniform(lo, hi, (1, *s["input"])).astype(np.float32)
            for _ in range(N_REPRESENTATIVE)]


def convert(model, data: list[np.ndarray]) -> bytes:
    """Full-integer conversion: int8 weights (per channel), int8 activations, int8 input/output."""
    import tensorflow as tf

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([d] for d in data)
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    return conv.convert()


def model_bytes(seed: int) -> bytes:
    s = spec(seed)
    return convert(build(s), representative(s))


def main(argv: list[str]) -> int:
    import os
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    for a in argv[1:]:
        seed = int(a)
        data = model_bytes(seed)
        tmp = out / f".{seed}.tflite.tmp"
        tmp.write_bytes(data)
        tmp.rename(out / f"{seed}.tflite")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
