"""TRANSPOSE_CONV, int8 and 16x8 (int16 activations, int64 bias), against TFLM, bit-exact: one
model of independent single-op cases (strides, SAME / VALID, filters larger than the stride and
smaller, output sizes Keras gives and others TFLM accepts, activations, per-tensor weights, zero
points, batches, bias or none), 50 input rows with the extremes, under ASan+UBSan. Then the
refusals, one sentence each. The int8 cases run through the fast kernel (its portable build and
its Cortex-M DSP-extension build, host C models of the instructions) and the reference one."""
import numpy as np
import pytest

from modelgen import ModelBuilder
from tflm_oracle import assert_cases_match_tflm, tflm_run
from tinykiln.compile import compile_graph
from tinykiln.errors import TinykilnError
from tinykiln.frontend.tflite_import import parse_tflite
from tinykiln.lower import transpose_conv
from tinykiln.targets.hostrun import HostBuild

ROWS = 50

# x: input NHWC; k: filter (h, w); oc: output channels; s: strides; out: output (h, w) or None
# for Keras's size (SAME: in * stride, VALID: (in - 1) * stride + k); zp: (input, output); os:
# output scale over input scale x typical filter scale
_D = dict(s=(1, 1), pad="SAME", act="NONE", w="pc", bias=True, zp=(0, 0), out=None)
CASES = [dict(_D, **c) for c in [
    dict(name="s8_k3_s2_same", t="int8", x=(1, 4, 4, 3), k=(3, 3), oc=5, s=(2, 2), zp=(-3, 5)),
    dict(name="s8_k2_s2_valid", t="int8", x=(1, 3, 5, 4), k=(2, 2), oc=3, s=(2, 2), pad="VALID"),
    dict(name="s8_k3_s1_same_relu", t="int8", x=(1, 5, 5, 2), k=(3, 3), oc=4, act="RELU",
         zp=(10, -128)),
    dict(name="s8_k4_s2_same_relu6_pt", t="int8", x=(2, 3, 3, 3), k=(4, 4), oc=2, s=(2, 2),
         act="RELU6", w="pt"),
    dict(name="s8_k3_s3_valid_nobias", t="int8", x=(1, 3, 2, 5), k=(3, 3), oc=4, s=(3, 3),
         pad="VALID", bias=False, zp=(127, -7)),
    dict(name="s8_k1_s2_same", t="int8", x=(1, 4, 3, 6), k=(1, 1), oc=3, s=(2, 2)),
    dict(name="s8_k5x3_s2x1_same_n1to1", t="int8", x=(1, 3, 4, 2), k=(5, 3), oc=3, s=(2, 1),
         act="RELU_N1_TO_1"),
    dict(name="s8_out_minus_one", t="int8", x=(1, 4, 4, 3), k=(3, 3), oc=2, s=(2, 2),
         out=(7, 7), zp=(-128, 0)),
    dict(name="s8_out_larger", t="int8", x=(1, 3, 3, 2), k=(3, 3), oc=2, s=(2, 2), pad="VALID",
         out=(9, 8)),
    # output smaller than the filter under VALID: TFLM's padding check fails, both paddings 0
    dict(name="s8_valid_filter_over_output", t="int8", x=(1, 2, 2, 2), k=(5, 5), oc=2,
         pad="VALID", out=(3, 3)),
    # C's division truncates toward zero: height (2 + 3 - 7) / 3 = 0, so padding 1 ...
    dict(name="s8_valid_truncated_pad", t="int8", x=(1, 1, 2, 2), k=(7, 3), oc=2,
         pad="VALID", s=(3, 1), out=(2, 4), zp=(5, 5)),
    # ... unless the width's output size is negative: then both paddings are 0
    dict(name="s8_valid_width_fails", t="int8", x=(1, 1, 2, 2), k=(7, 7), oc=2,
         pad="VALID", s=(3, 1), out=(2, 2)),
    # wide enough for the fast int8 kernel (input.c >= 4): groups of four output channels and
    # single ones, blocks of four input channels and the last input.c % 4
    dict(name="s8f_k3_s2_same", t="int8", x=(1, 5, 4, 8), k=(3, 3), oc=9, s=(2, 2), zp=(-128, 3)),
    dict(name="s8f_k4_s2_valid", t="int8", x=(2, 3, 4, 5), k=(4, 4), oc=6, s=(2, 2), pad="VALID",
         zp=(127, -128), act="RELU"),
    dict(name="s8f_k3_s1_same_pt", t="int8", x=(1, 4, 5, 7), k=(3, 3), oc=4, w="pt", zp=(1, 0),
         bias=False),
    dict(name="s8f_k5x3_s3x2_valid", t="int8", x=(1, 3, 3, 16), k=(5, 3), oc=3, s=(3, 2),
         pad="VALID", act="RELU6", zp=(-5, 9)),
    dict(name="s8f_k2_s2_same_out_larger", t="int8", x=(1, 3, 3, 4), k=(2, 2), oc=5, s=(2, 2),
         out=(7, 8), zp=(-128, -128)),
    dict(name="s8f_k1_s1", t="int8", x=(1, 2, 3, 12), k=(1, 1), oc=8, zp=(0, 0)),
    dict(name="s8f_valid_filter_over_output", t="int8", x=(1, 2, 2, 6), k=(5, 5), oc=5,
         pad="VALID", out=(3, 3), zp=(-3, 2)),
    # requantization multipliers above 1 (left shifts): the fast kernel's exact output stage
    dict(name="s8f_left_shift", t="int8", x=(1, 3, 3, 4), k=(1, 1), oc=5, s=(2, 2), os=0.7,
         zp=(-1, 2)),
    dict(name="s16_k3_s2_same", t="int16", x=(1, 4, 4, 3), k=(3, 3), oc=5, s=(2, 2)),
    dict(name="s16_k2_s2_valid_relu", t="int16", x=(1, 3, 5, 4), k=(2, 2), oc=3, s=(2, 2),
         pad="VALID", act="RELU"),
    dict(name="s16_k4_s2_same_pt_batch2", t="int16", x=(2, 3, 3, 3), k=(4, 4), oc=2, s=(2, 2),
         w="pt"),
    dict(name="s16_k3_s1_nobias_relu6", t="int16", x=(1, 5, 4, 2), k=(3, 3), oc=4, bias=False,
         act="RELU6"),
    dict(name="s16_k5x3_s3x2_valid", t="int16", x=(1, 3, 4, 6), k=(5, 3), oc=3, s=(3, 2),
         pad="VALID"),
    dict(name="s16_out_minus_one", t="int16", x=(1, 4, 4, 3), k=(3, 3), oc=2, s=(2, 2),
         out=(7, 7)),
]]


def _out_hw(c):
    if c["out"]:
        return c["out"]
    (h, w), (kh, kw), (sh, sw) = c["x"][1:3], c["k"], c["s"]
    if c["pad"] == "SAME":
        return h * sh, w * sw
    return (h - 1) * sh + kh, (w - 1) * sw + kw


def add_case(b: ModelBuilder, c: dict, rng, rows: list) -> None:
    s16 = c["t"] == "int16"
    lim = 1 << 15 if s16 else 1 << 7
    in_scale = 1.0 / 4096 if s16 else 0.05
    x = b.input(c["x"], scale=in_scale, zero_point=c["zp"][0], dtype=c["t"])
    r = rng.integers(-lim, lim, (ROWS, *c["x"])).astype(c["t"])
    r[0], r[1] = -lim, lim - 1
    rows.append(r)
    n, _, _, ic = c["x"]
    kh, kw = c["k"]
    oc = c["oc"]
    taps = -(-kh // c["s"][0]) * -(-kw // c["s"][1]) * ic
    w_typ = 0.01
    out_scale = in_scale * w_typ * (lim * 0.58) * 73 * np.sqrt(taps) / (lim * 0.4)
    if "os" in c:
        out_scale = in_scale * w_typ * c["os"]
    wscale = rng.uniform(0.3, 3.0, oc) * w_typ if c["w"] == "pc" else np.array([w_typ])
    weights = rng.integers(-127, 128, (oc, kh, kw, ic), dtype=np.int8)
    oh, ow = _out_hw(c)
    shape = b.const(np.array([n, oh, ow, oc], np.int32))
    ins = [shape, b.const(weights, scale=wscale, zero_point=[0] * len(wscale)), x]
    if c["bias"]:
        blim = int(lim * 0.58 * 73 * np.sqrt(taps))
        bias = rng.integers(-blim, blim, (oc,)).astype(np.int64 if s16 else np.int32)
        ins.append(b.const(bias, scale=in_scale * np.broadcast_to(wscale, (oc,)),
                           zero_point=[0] * oc))
    y = b.tensor((n, oh, ow, oc), scale=out_scale, zero_point=c["zp"][1], dtype=c["t"])
    b.op("TRANSPOSE_CONV", ins, [y], padding=c["pad"], stride_h=c["s"][0], stride_w=c["s"][1],
         fused_activation_function=c["act"])
    b.output(y)


@pytest.fixture(scope="module")
def table_model():
    rng = np.random.default_rng(23)
    b, rows = ModelBuilder("tconv_cases"), []
    for c in CASES:
        add_case(b, c, rng, rows)
    buf = b.build()
    return buf, rows, tflm_run(buf, rows, len(CASES))


def _kernel(c: dict, fast: bool) -> str:
    if c["t"] == "int16":
        return "tk_transpose_conv_s16"
    return "tk_transpose_conv_s8" + ("_fast" if fast and c["x"][3] >= 4 else "")


@pytest.mark.parametrize("fast,cflags", [(True, []), (True, ["-DTK_DSP_EMULATE_SIMD"]),
                                         (False, [])], ids=["fast", "fast-simd", "reference"])
def test_transpose_conv_cases_bit_exact(table_model, fast, cflags, monkeypatch):
    buf, rows, ref = table_model
    monkeypatch.setattr(transpose_conv, "USE_FAST_KERNELS", fast)
    compiled = compile_graph(parse_tflite(buf))
    assert [layer["kernel"] for layer in compiled.report["layers"]] == [
        _kernel(c, fast) for c in CASES]
    with HostBuild(compiled, sanitize=True, extra_cflags=cflags) as hb:
        out = hb.run(rows)
    bad = {c["name"]: int((o != r).sum()) for c, o, r in zip(CASES, out, ref)
           if o.shape != r.shape or o.dtype != r.dtype or (o != r).any()}
    assert not bad, f"differing values per case: {bad}"
    for c, r in zip(CASES, ref):        # cases that prove something
        assert len(np.unique(r)) > 2 or c["act"] == "RELU_N1_TO_1", c["name"]


def _one(dtype="int8", bias_dtype=np.int32, filter_shape=(2, 3, 3, 2), zp=0, stride=2):
    b = ModelBuilder()
    x = b.input((1, 3, 3, 2), scale=0.05, zero_point=zp, dtype=dtype)
    oc = filter_shape[0]
    w = b.const(np.ones(filter_shape, np.int8), scale=[0.01] * oc, zero_point=[0] * oc)
    bias = b.const(np.zeros(oc, bias_dtype), scale=[0.0005] * oc, zero_point=[0] * oc)
    y = b.tensor((1, 6, 6, oc), scale=0.1, dtype=dtype)
    shape = b.const(np.array([1, 6, 6, oc], np.int32))
    b.op("TRANSPOSE_CONV", [shape, w, x, bias], [y], padding="SAME", stride_h=stride,
         stride_w=stride)
    b.output(y)
    return parse_tflite(b.build())


@pytest.mark.parametrize("kw,words", [
    (dict(bias_dtype=np.int64), "bias must be int32"),
    (dict(dtype="int16"), "bias must be int64"),
    (dict(dtype="int16", bias_dtype=np.int64, zp=3), "zero point 3"),
    (dict(filter_shape=(2, 3, 3, 4)), "input channels"),
    (dict(stride=0), "strides"),
])
def test_transpose_conv_refusals(kw, words):
    g = _one(**kw)
    with pytest.raises(TinykilnError) as e:
        compile_graph(g)
    msg = str(e.value)
    assert words in msg and "TRANSPOSE_CONV" in msg and msg.count(". ") == 0, msg


def _keras_models() -> dict:
    """A small Keras model with Conv2DTranspose (fused ReLU, SAME stride 2 and VALID), Conv2D,
    DepthwiseConv2D and Dense, random biases, converted to int8 and to 16x8."""
    tf = pytest.importorskip("tensorflow")
    keras = tf.keras
    tf.random.set_seed(1)
    i = keras.Input((6, 6, 3), batch_size=1)
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(i)
    x = keras.layers.Conv2DTranspose(5, 3, strides=2, padding="same", activation="relu")(x)
    x = keras.layers.DepthwiseConv2D(3, padding="valid")(x)
    x = keras.layers.Conv2DTranspose(3, 4, strides=2, padding="valid")(x)
    x = keras.layers.Dense(6)(keras.layers.Flatten()(x))
    m = keras.Model(i, x)
    r = np.random.default_rng(5)
    for layer in m.layers:
        ws = layer.get_weights()
        if len(ws) == 2:
            layer.set_weights([ws[0], r.normal(0, 0.3, ws[1].shape).astype(np.float32)])

    def rep():
        for _ in range(20):
            yield [r.normal(size=(1, 6, 6, 3)).astype(np.float32)]

    out = {}
    for mode, ops, dtype in (
            ("int8", tf.lite.OpsSet.TFLITE_BUILTINS_INT8, tf.int8),
            ("int16", tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8,
             tf.int16)):
        c = tf.lite.TFLiteConverter.from_keras_model(m)
        c.optimizations = [tf.lite.Optimize.DEFAULT]
        c.representative_dataset = rep
        c.target_spec.supported_ops = [ops]
        c.inference_input_type = c.inference_output_type = dtype
        out[mode] = c.convert()
    return out


def test_keras_conv2d_transpose_int8_and_16x8():
    """What the converter emits for Keras Conv2DTranspose (and 16x8 CONV_2D, DEPTHWISE_CONV_2D,
    FULLY_CONNECTED with int64 biases) compiles and matches TFLM on the whole model."""
    for mode, buf in _keras_models().items():
        g = parse_tflite(buf)
        tconv = [op for op in g.ops if op.opcode == "TRANSPOSE_CONV"]
        assert len(tconv) == 2 and len(tconv[0].inputs) == 4, mode
        if mode == "int16":
            assert g.tensors[tconv[0].inputs[3]].dtype == "int64"
        t = g.tensors[g.inputs[0]]
        lim = 128 if mode == "int8" else 32768
        x = np.random.default_rng(1).integers(-lim, lim, (ROWS, *t.shape)).astype(t.dtype)
        x[0], x[1] = -lim, lim - 1
        assert assert_cases_match_tflm(buf, [x], [mode]) > 0
