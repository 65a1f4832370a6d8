"""A MobileNet-v2-style int8 model for the memory benchmark and tests (no TensorFlow needed):
inverted bottlenecks (1x1 expansion, 3x3 depthwise, 1x1 projection, a residual ADD where the
shape is kept), the blocks whose expanded tensors depth-first chains hold by rows. Seeded
random weights; the same bytes every time.

    python benchmarks/inverted_model.py OUT.tflite
"""
from __future__ import annotations

import sys

import numpy as np

from tinykiln.frontend.modelbuilder import ModelBuilder

NAME = "inverted_bottlenecks"


def mobilenet_v2(hw: int = 32, seed: int = 5) -> bytes:
    """input hw x hw x 3 -> 3x3 conv stride 2 (16) -> five inverted bottlenecks (expansion 6;
    outputs 16, 24, 24, 32, 32; stride 1, 2, 1, 2, 1; an ADD where the shape is kept) -> 1x1
    conv (8, the output)."""
    rng = np.random.default_rng(seed)
    b = ModelBuilder("mbv2")

    def conv(x, ic, oc, k, s, shape, act, name, dw=False):
        w = b.const(rng.integers(-80, 80, (1, k, k, oc)).astype(np.int8), 0.01) if dw else \
            b.const(rng.integers(-60, 60, (oc, k, k, ic)).astype(np.int8), 0.02)
        bias = b.const(rng.integers(-500, 500, oc).astype(np.int32), 0.05 * (0.01 if dw else 0.02))
        y = b.tensor(shape, 0.05, int(rng.integers(-5, 5)), name=name)
        opts = dict(padding="SAME", stride_h=s, stride_w=s, fused_activation_function=act)
        b.op("DEPTHWISE_CONV_2D" if dw else "CONV_2D", [x, w, bias], [y],
             **(dict(opts, depth_multiplier=1) if dw else opts))
        return y
    x = b.input((1, hw, hw, 3), 0.05, 3)
    h, c = hw // 2, 16
    t = conv(x, 3, c, 3, 2, (1, h, h, c), "RELU6", "stem")
    for i, (oc, s) in enumerate([(16, 1), (24, 2), (24, 1), (32, 2), (32, 1)]):
        e = conv(t, c, 6 * c, 1, 1, (1, h, h, 6 * c), "RELU6", f"b{i}e")
        d = conv(e, 6 * c, 6 * c, 3, s, (1, h // s, h // s, 6 * c), "RELU6", f"b{i}d", dw=True)
        h //= s
        p = conv(d, 6 * c, oc, 1, 1, (1, h, h, oc), "NONE", f"b{i}p")
        if s == 1 and oc == c:
            y = b.tensor((1, h, h, oc), 0.06, -1, name=f"b{i}")
            b.op("ADD", [t, p], [y], fused_activation_function="NONE")
            p = y
        t, c = p, oc
    b.output(conv(t, c, 8, 1, 1, (1, h, h, 8), "NONE", "head"))
    return b.build()


if __name__ == "__main__":
    with open(sys.argv[1], "wb") as f:
        f.write(mobilenet_v2())
