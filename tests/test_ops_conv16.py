"""CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED with int16 activations and int8 weights (16x8)
against TFLM, bit-exact: one model of independent single-op cases (shapes, strides, padding,
dilation, groups, depth multipliers, activations, int64 / int32 / no bias with either
accumulator, multipliers at the edges of TFLM's int64 requantization), 50 input rows with the
int16 extremes, under ASan+UBSan. Then the refusals, one sentence each."""
import numpy as np
import pytest

from modelgen import ModelBuilder
import tinykiln.lower.conv16 as conv16
from tflm_oracle import tflm_run
from tinykiln.compile import compile_graph
from tinykiln.errors import TinykilnError
from tinykiln.frontend.tflite_import import parse_tflite
from tinykiln.lower.multipliers import quantize_multiplier
from tinykiln.targets.hostrun import HostBuild

ROWS = 50
IN_SCALE = 1.0 / 4096
INT32 = 2           # TensorType INT32, for quantized_bias_type

# op: conv / dw / fc; x: input shape; k: filter (h, w); oc: output channels (conv, fc);
# bias: "i64", "i32" or None; qbt: quantized_bias_type when there is no bias;
# w: "pc" per-channel scales, "pt" one scale, "edge" multipliers at the ends of their range
_D = dict(s=(1, 1), d=(1, 1), pad="SAME", act="NONE", w="pc", bias="i64", qbt=0, groups=1,
          dm=1, zp=(0, 0))
CASES = [dict(_D, **c) for c in [
    dict(name="c3x3_same", op="conv", x=(1, 6, 6, 3), k=(3, 3), oc=5),
    dict(name="c3x3_s2_valid_relu", op="conv", x=(1, 9, 8, 4), k=(3, 3), oc=6, s=(2, 2),
         pad="VALID", act="RELU"),
    dict(name="c1x1_relu6", op="conv", x=(2, 4, 4, 8), k=(1, 1), oc=7, act="RELU6"),
    dict(name="c3x3_dil2_n1to1", op="conv", x=(1, 8, 9, 2), k=(3, 3), oc=4, d=(2, 2),
         act="RELU_N1_TO_1"),
    dict(name="c2x3_mixed_pt", op="conv", x=(1, 7, 9, 3), k=(2, 3), oc=5, s=(2, 1), d=(1, 2),
         w="pt"),
    dict(name="c3x3_groups2", op="conv", x=(1, 5, 5, 4), k=(3, 3), oc=6, groups=2),
    dict(name="c3x3_i32_bias", op="conv", x=(1, 6, 5, 4), k=(3, 3), oc=5, bias="i32"),
    dict(name="c3x3_no_bias_i64", op="conv", x=(1, 5, 5, 3), k=(3, 3), oc=4, bias=None),
    dict(name="c3x3_no_bias_i32", op="conv", x=(1, 5, 5, 3), k=(3, 3), oc=4, bias=None,
         qbt=INT32),
    dict(name="c3x3_edge", op="conv", x=(1, 5, 5, 6), k=(3, 3), oc=16, w="edge"),
    dict(name="c3x3_edge_i32", op="conv", x=(1, 4, 4, 6), k=(3, 3), oc=16, w="edge",
         bias="i32"),
    dict(name="c5x5_larger_than_input", op="conv", x=(1, 3, 3, 2), k=(5, 5), oc=3),
    dict(name="c3x3_deep_i32_wraps", op="conv", x=(1, 3, 3, 96), k=(3, 3), oc=3, bias="i32",
         w="big"),
    dict(name="dw3x3", op="dw", x=(1, 7, 7, 5), k=(3, 3)),
    dict(name="dw3x3_s2_valid_relu", op="dw", x=(1, 9, 8, 6), k=(3, 3), s=(2, 2), pad="VALID",
         act="RELU"),
    dict(name="dw_dm2", op="dw", x=(1, 6, 6, 3), k=(3, 3), dm=2, act="RELU6"),
    dict(name="dw_dm3_dil2", op="dw", x=(2, 7, 7, 2), k=(3, 3), dm=3, d=(2, 2)),
    dict(name="dw_no_bias_pt", op="dw", x=(1, 5, 6, 4), k=(3, 3), bias=None, w="pt"),
    dict(name="dw_edge", op="dw", x=(1, 5, 5, 16), k=(3, 3), w="edge"),
    dict(name="fc_pc", op="fc", x=(1, 32), oc=10),
    dict(name="fc_pt_relu", op="fc", x=(3, 20), oc=7, w="pt", act="RELU"),
    dict(name="fc_i32_bias", op="fc", x=(2, 24), oc=6, bias="i32"),
    dict(name="fc_i32_bias_pt", op="fc", x=(2, 24), oc=6, bias="i32", w="pt"),
    dict(name="fc_no_bias", op="fc", x=(1, 16), oc=5, bias=None),
    dict(name="fc_no_bias_i32", op="fc", x=(1, 16), oc=5, bias=None, qbt=INT32),
    dict(name="fc_edge", op="fc", x=(1, 40), oc=16, w="edge"),
    dict(name="fc_zero_points", op="fc", x=(2, 12), oc=4, zp=(-300, 77), act="RELU6"),
    dict(name="fc_deep_i32_wraps", op="fc", x=(1, 600), oc=3, bias="i32", w="big"),
]]

# multipliers at the ends of TFLM's int64 requantization: shifts -31 to 7 (it takes < 8),
# mantissas at and above 0x7FFF0000 / 2^31 (rounded to 0x7FFF), flushed to zero
EDGE = [2.0 ** -31.5, 2.0 ** -32.5, 1e-6, 1e-3, 0.5, 0.99999, 0.9999771, 0.99998, 1.0, 1.5,
        3.0, 37.0, 127.9, 64.0, 0.25 * (1 - 2 ** -17), 0.7]


def _taps(c):
    if c["op"] == "fc":
        return c["x"][1]
    kh, kw = c["k"]
    return kh * kw * (1 if c["op"] == "dw" else c["x"][3] // c["groups"])


def _out_shape(c):
    if c["op"] == "fc":
        return (c["x"][0], c["oc"])
    n, h, w, ch = c["x"]
    (kh, kw), (sh, sw), (dh, dw) = c["k"], c["s"], c["d"]
    if c["pad"] == "SAME":
        oh, ow = -(-h // sh), -(-w // sw)
    else:
        oh, ow = (h - (kh - 1) * dh - 1) // sh + 1, (w - (kw - 1) * dw - 1) // sw + 1
    return (n, oh, ow, c["oc"] if c["op"] == "conv" else ch * c["dm"])


def _add_case(b: ModelBuilder, c: dict, rng, rows: list) -> int:
    x = b.input(c["x"], scale=IN_SCALE, zero_point=c["zp"][0], dtype="int16")
    r = rng.integers(-32768, 32768, (ROWS, *c["x"]), dtype=np.int16)
    r[0], r[1] = -32768, 32767
    rows.append(r)
    oshape = _out_shape(c)
    oc = oshape[-1]
    if c["op"] == "conv":
        wshape, axis = (oc, *c["k"], c["x"][3] // c["groups"]), 0
    elif c["op"] == "dw":
        wshape, axis = (1, *c["k"], oc), 3
    else:
        wshape, axis = (oc, c["x"][1]), 0
    w_typ = 0.01
    # typical |accumulator| ~ 18900 * 73 * sqrt(taps): spread it over ~ +-8000 output steps
    out_scale = IN_SCALE * w_typ * 18900 * 73 * np.sqrt(_taps(c)) / 8000
    if c["w"] == "pc":
        wscale = rng.uniform(0.3, 3.0, oc) * w_typ
    elif c["w"] == "pt":
        wscale = np.array([w_typ])
    elif c["w"] == "big":       # sums beyond int32: TFLM's int32 accumulator wraps
        wscale, out_scale = np.array([w_typ] * oc), IN_SCALE * w_typ * 2.0 ** 20
    else:
        wscale = np.float32([EDGE[i % len(EDGE)] for i in range(oc)]) * out_scale / IN_SCALE
    if c["w"] == "big":
        weights = np.where(rng.random(wshape) < 0.5, -128, 127).astype(np.int8)
    else:
        weights = rng.integers(-127, 128, wshape, dtype=np.int8)
    ins = [x, b.const(weights, scale=wscale, zero_point=[0] * len(wscale), axis=axis)]
    if c["bias"]:
        lim = int(18900 * 73 * np.sqrt(_taps(c)))
        bias = rng.integers(-lim, lim, (oc,))
        if c["w"] == "big":
            bias = rng.integers(-(1 << 31), 1 << 31, (oc,))
        ins.append(b.const(bias.astype(np.int64 if c["bias"] == "i64" else np.int32),
                           scale=IN_SCALE * np.broadcast_to(wscale, (oc,)), zero_point=[0] * oc))
    y = b.tensor(oshape, scale=out_scale, zero_point=c["zp"][1], dtype="int16")
    act = dict(fused_activation_function=c["act"])
    geo = dict(padding=c["pad"], stride_h=c["s"][0], stride_w=c["s"][1],
               dilation_h_factor=c["d"][0], dilation_w_factor=c["d"][1])
    if c["op"] == "conv":
        b.op("CONV_2D", ins, [y], quantized_bias_type=c["qbt"], **act, **geo)
    elif c["op"] == "dw":
        b.op("DEPTHWISE_CONV_2D", ins, [y], depth_multiplier=c["dm"], **act, **geo)
    else:
        b.op("FULLY_CONNECTED", ins, [y], quantized_bias_type=c["qbt"], **act)
    b.output(y)
    return y


@pytest.fixture(scope="module")
def table_model():
    """All cases in one model: its bytes, the input rows and TFLM's outputs."""
    rng = np.random.default_rng(16)
    b, rows = ModelBuilder("conv16_cases"), []
    for c in CASES:
        _add_case(b, c, rng, rows)
    buf = b.build()
    return buf, rows, tflm_run(buf, rows, len(CASES))


def test_edge_multipliers_are_covered(table_model):
    """The edge cases reach both ends of the shift range TFLM's int64 requantization takes."""
    g = parse_tflite(table_model[0])
    shifts = [quantize_multiplier(IN_SCALE * s / g.tensors[op.outputs[0]].quant.scale[0])[1]
              for op in g.ops for s in g.tensors[op.inputs[1]].quant.scale]
    assert min(shifts) <= -30 and max(shifts) == 7


# the fast kernels' Cortex-M DSP-extension path, built on the host with C models of the
# instructions (runtime_c/tk_simd.h)
SIMD_EMULATION = ["-DTK_DSP_EMULATE_SIMD"]


@pytest.mark.parametrize("fast,cflags", [(True, []), (True, SIMD_EMULATION), (False, [])],
                         ids=["fast", "fast-simd", "reference"])
def test_conv16_cases_bit_exact(table_model, fast, cflags, monkeypatch):
    buf, rows, ref = table_model
    monkeypatch.setattr(conv16, "USE_FAST_KERNELS", fast)
    compiled = compile_graph(parse_tflite(buf))
    suffix = "_fast" if fast else ""
    kernels = [layer["kernel"] for layer in compiled.report["layers"]]
    # the fast conv takes ungrouped convolutions without dilation along the width
    assert kernels == [{"conv": "tk_conv2d_s16" + (
        suffix if c["groups"] == 1 and c["d"][1] == 1 else ""),
        "dw": "tk_depthwise_conv2d_s16" + (suffix if c["dm"] == 1 else ""),
        "fc": "tk_fully_connected_s16" + suffix}[c["op"]] for c in CASES]
    with HostBuild(compiled, sanitize=True, extra_cflags=cflags) as hb:
        out = hb.run(rows)
    bad = {c["name"]: int((o != r).sum()) for c, o, r in zip(CASES, out, ref)
           if o.shape != r.shape or (o != r).any()}
    assert not bad, f"differing values per case: {bad}"


_DOT_CHECK = r"""
#include <stdio.h>
#include "tk_conv16.h"
static unsigned long long s = 88172645463325252ull;
static uint32_t rnd(void) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return (uint32_t)s; }
int main(void) {
    static int16_t x[2000];
    static int8_t w[2000], ws[2000];
    long bad = 0;
    for (int t = 0; t < 3000; ++t) {
        int32_t n = t < 4 ? 2000 : (int32_t)(rnd() % 700);
        for (int32_t i = 0; i < n; ++i) {   /* the extremes: products of +-2^22 */
            x[i] = t < 2 ? (int16_t)-32768 : (int16_t)rnd();
            w[i] = t < 1 ? (int8_t)-128 : t < 2 ? (int8_t)127 : (int8_t)rnd();
        }
        int64_t want = 0;
        for (int32_t i = 0; i < n; ++i) want += (int32_t)x[i] * w[i];
        for (int32_t i = 0; i < n; ++i) {   /* quad-swapped, as the compiler stores them */
            static const int perm[4] = {0, 2, 1, 3};
            ws[i] = i < n - n % 4 ? w[i - i % 4 + perm[i % 4]] : w[i];
        }
        bad += tk_dot_s16_s8(x, ws, n) != want;
    }
    printf("%ld\n", bad);
    return 0;
}
"""


@pytest.mark.parametrize("cflags", [[], SIMD_EMULATION], ids=["portable", "simd"])
def test_dot_product_is_exact(tmp_path, cflags):
    """tk_dot_s16_s8 (the fast kernels' inner loop) equals the plain int64 sum, runs of up to
    2000 taps at the extremes included, in both of its builds."""
    import shutil
    import subprocess
    from tinykiln.resources import resource_dir
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not on PATH")
    (tmp_path / "t.c").write_text(_DOT_CHECK)
    subprocess.run(["gcc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror",
                    "-fsanitize=address,undefined", "-fno-sanitize-recover=all", *cflags,
                    "-I", str(resource_dir("runtime_c")), str(tmp_path / "t.c"), "-o",
                    str(tmp_path / "t")], check=True)
    out = subprocess.run([str(tmp_path / "t")], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0"


def _one(op="CONV_2D", bias_dtype=np.int64, zp=0, wscale=0.01, bias_value=1000, dm=1):
    b = ModelBuilder()
    conv = op != "FULLY_CONNECTED"
    x = b.input((1, 4, 4, 2) if conv else (1, 8), scale=IN_SCALE, zero_point=zp, dtype="int16")
    wshape = {"CONV_2D": (3, 3, 3, 2), "DEPTHWISE_CONV_2D": (1, 3, 3, 2 * dm)}.get(op, (3, 8))
    n = wshape[3] if op == "DEPTHWISE_CONV_2D" else wshape[0]
    w = b.const(np.ones(wshape, np.int8), scale=[wscale] * n, zero_point=[0] * n,
                axis=3 if op == "DEPTHWISE_CONV_2D" else 0)
    bias = b.const(np.full(n, bias_value, bias_dtype), scale=[IN_SCALE * wscale] * n,
                   zero_point=[0] * n)
    y = b.tensor((1, 4, 4, n) if conv else (1, n), scale=IN_SCALE, dtype="int16")
    opts = dict(padding="SAME", stride_h=1, stride_w=1) if conv else {}
    if op == "DEPTHWISE_CONV_2D":
        opts["depth_multiplier"] = dm
    b.op(op, [x, w, bias], [y], **opts)
    b.output(y)
    return parse_tflite(b.build())


@pytest.mark.parametrize("kw,words", [
    (dict(op="DEPTHWISE_CONV_2D", bias_dtype=np.int32), "bias must be int64"),
    (dict(zp=5), "zero point 5"),
    (dict(op="DEPTHWISE_CONV_2D", zp=-1), "zero point -1"),
    (dict(wscale=200.0), "shifts below 8"),
    (dict(op="FULLY_CONNECTED", bias_value=1 << 50), "2^47"),
])
def test_conv16_refusals(kw, words):
    g = _one(**kw)
    with pytest.raises(TinykilnError) as e:
        compile_graph(g)
    msg = str(e.value)
    assert words in msg and g.ops[0].opcode in msg and msg.count(". ") == 0, msg


def test_int64_bias_needs_int16_activations():
    """The validator takes an int64 bias; the int8 lowering still refuses it."""
    b = ModelBuilder()
    x = b.input((1, 8), scale=0.05)
    w = b.const(np.ones((3, 8), np.int8), scale=[0.01] * 3, zero_point=[0] * 3)
    bias = b.const(np.zeros(3, np.int64), scale=[0.0005] * 3, zero_point=[0] * 3)
    y = b.tensor((1, 3), scale=0.1)
    b.op("FULLY_CONNECTED", [x, w, bias], [y])
    b.output(y)
    with pytest.raises(TinykilnError, match="bias must be int32"):
        compile_graph(parse_tflite(b.build()))
