"""CONV_2D and DEPTHWISE_CONV_2D against TFLM, bit-exact: one table of cases (shapes, strides,
padding, dilation, depth multipliers, activations, zero points, per-channel multipliers at the
edges of their range). All cases go into one model (each op with its own input and output), built
once with the fast kernels and once with the reference kernels, under ASan+UBSan."""
import re

import numpy as np
import pytest

import tinykiln.lower.conv as conv_lowering
from conftest import shared_model
from modelgen import ModelBuilder
from tflm_oracle import tflm_run
from tinykiln.compile import compile_graph
from tinykiln.inputs import compile_file
from tinykiln.targets.hostrun import HostBuild
from tinykiln.lower import LOWERINGS
from tinykiln.lower.multipliers import quantize_multiplier
from tinykiln.frontend.tflite_import import parse_tflite

ROWS = 50       # random inputs per case

# op: "conv" (oc = output channels, groups) or "dw" (dm = depth multiplier)
# x: input NHWC; k: filter (h, w); s: strides; d: dilations; zp: (input, output) zero points
# w: "pc" random per-channel scales, "pt" one scale, "edge" multipliers at the edges of their range
_D = dict(s=(1, 1), d=(1, 1), pad="SAME", act="NONE", zp=(-3, 5), w="pc", bias=True, groups=1)
CASES = [dict(_D, **c) for c in [
    # CONV_2D
    dict(name="pw_kws", op="conv", x=(1, 5, 5, 16), k=(1, 1), oc=16, zp=(-128, 7), act="RELU"),
    dict(name="pw_stride2_valid", op="conv", x=(1, 7, 7, 8), k=(1, 1), oc=12, s=(2, 2), pad="VALID"),
    dict(name="pw_odd_oc_pt", op="conv", x=(1, 3, 5, 7), k=(1, 1), oc=9, w="pt", act="RELU6"),
    dict(name="pw_stride3_same", op="conv", x=(1, 8, 7, 5), k=(1, 1), oc=4, s=(3, 3)),
    dict(name="c3x3_same", op="conv", x=(1, 8, 8, 3), k=(3, 3), oc=8, act="RELU6"),
    dict(name="c3x3_s2_same", op="conv", x=(1, 9, 9, 4), k=(3, 3), oc=6, s=(2, 2)),
    dict(name="c3x3_s3_valid", op="conv", x=(1, 11, 10, 2), k=(3, 3), oc=5, s=(3, 3), pad="VALID"),
    dict(name="c10x4_kws_first", op="conv", x=(1, 49, 10, 1), k=(10, 4), oc=8, s=(2, 2),
         act="RELU", zp=(83, -128)),
    dict(name="c3x3_dil2_same", op="conv", x=(1, 9, 9, 3), k=(3, 3), oc=4, d=(2, 2)),
    dict(name="c3x3_dil3_valid", op="conv", x=(1, 12, 11, 2), k=(3, 3), oc=3, d=(3, 3), pad="VALID"),
    dict(name="c2x3_mixed", op="conv", x=(1, 7, 9, 3), k=(2, 3), oc=5, s=(2, 1), d=(1, 2),
         act="RELU_N1_TO_1"),
    dict(name="c5x5_big_pad", op="conv", x=(1, 6, 6, 2), k=(5, 5), oc=4),
    dict(name="c5x5_larger_than_input", op="conv", x=(1, 3, 3, 2), k=(5, 5), oc=3, s=(2, 1)),
    dict(name="c1x3_nonsquare", op="conv", x=(1, 4, 6, 5), k=(1, 3), oc=7, s=(1, 2)),
    dict(name="c3x1_dil3_s3", op="conv", x=(1, 10, 5, 3), k=(3, 1), oc=3, s=(3, 1), d=(3, 1)),
    dict(name="c3x3_zp127_relu", op="conv", x=(1, 6, 5, 4), k=(3, 3), oc=5, zp=(127, -128),
         act="RELU"),
    dict(name="c3x3_zp_m128_127", op="conv", x=(1, 5, 6, 4), k=(3, 3), oc=5, zp=(-128, 127)),
    dict(name="c3x3_edge_mult", op="conv", x=(1, 5, 5, 8), k=(3, 3), oc=24, w="edge"),
    dict(name="pw_edge_mult", op="conv", x=(1, 4, 4, 16), k=(1, 1), oc=24, w="edge", zp=(0, 0)),
    dict(name="c3x3_no_bias", op="conv", x=(1, 6, 6, 3), k=(3, 3), oc=4, bias=False),
    dict(name="c3x3_batch2_s2", op="conv", x=(2, 7, 6, 3), k=(3, 3), oc=5, s=(2, 2)),
    dict(name="pw_batch3", op="conv", x=(3, 3, 3, 6), k=(1, 1), oc=5, act="RELU"),
    dict(name="c3x3_pt_deep", op="conv", x=(1, 4, 4, 32), k=(3, 3), oc=3, w="pt"),
    dict(name="c3x3_groups2", op="conv", x=(1, 5, 5, 4), k=(3, 3), oc=6, groups=2),
    # DEPTHWISE_CONV_2D
    dict(name="dw_kws", op="dw", x=(1, 25, 5, 8), k=(3, 3), dm=1, zp=(-128, -128), act="RELU"),
    dict(name="dw3x3_valid", op="dw", x=(1, 7, 7, 5), k=(3, 3), dm=1, pad="VALID"),
    dict(name="dw3x3_s2_same", op="dw", x=(1, 9, 8, 6), k=(3, 3), dm=1, s=(2, 2), act="RELU6"),
    dict(name="dw3x3_s3_valid", op="dw", x=(1, 10, 11, 4), k=(3, 3), dm=1, s=(3, 3), pad="VALID"),
    dict(name="dw_dm2", op="dw", x=(1, 6, 6, 3), k=(3, 3), dm=2),
    dict(name="dw_dm3_s2_relu6", op="dw", x=(1, 7, 7, 2), k=(3, 3), dm=3, s=(2, 2), act="RELU6"),
    dict(name="dw_dil2_same", op="dw", x=(1, 8, 9, 4), k=(3, 3), dm=1, d=(2, 2)),
    dict(name="dw_dil3_valid", op="dw", x=(1, 11, 10, 3), k=(3, 3), dm=1, d=(3, 3), pad="VALID"),
    dict(name="dw_dil_1x3_dm2", op="dw", x=(1, 6, 9, 2), k=(3, 3), dm=2, d=(1, 3), s=(1, 2)),
    dict(name="dw5x5_larger_than_input", op="dw", x=(1, 4, 3, 4), k=(5, 5), dm=1),
    dict(name="dw1x1", op="dw", x=(1, 4, 4, 6), k=(1, 1), dm=1),
    dict(name="dw3x1_s2", op="dw", x=(1, 9, 5, 5), k=(3, 1), dm=1, s=(2, 1)),
    dict(name="dw1x5_n1to1", op="dw", x=(1, 3, 8, 4), k=(1, 5), dm=1, act="RELU_N1_TO_1"),
    dict(name="dw_edge_mult", op="dw", x=(1, 5, 5, 24), k=(3, 3), dm=1, w="edge"),
    dict(name="dw_edge_mult_dm2", op="dw", x=(1, 4, 4, 12), k=(3, 3), dm=2, w="edge"),
    dict(name="dw_zp127", op="dw", x=(1, 5, 5, 4), k=(3, 3), dm=1, zp=(127, 127)),
    dict(name="dw_zp_m128_relu", op="dw", x=(1, 5, 5, 4), k=(3, 3), dm=1, zp=(-128, -20),
         act="RELU"),
    dict(name="dw_no_bias_odd_c", op="dw", x=(1, 6, 5, 7), k=(3, 3), dm=1, bias=False),
    dict(name="dw_batch2", op="dw", x=(2, 5, 4, 6), k=(3, 3), dm=1, s=(2, 1)),
    dict(name="dw_pt", op="dw", x=(1, 6, 6, 5), k=(3, 3), dm=1, w="pt"),
]]

IN_SCALE = 0.05
# per-channel multipliers at the edges: shift -31 (and below: flushed to 0), tiny, near 0.5 and 1.0,
# mantissas rounding to just below 2^31, positive shifts up to 8
EDGE_MULTIPLIERS = [2.0 ** -31.5, 2.0 ** -30.2, 2.0 ** -32.5, 1e-6, 1e-3, 0.5, 1.0,
                    0.99999997, 0.5 * (1 - 2 ** -26), 0.7, 1.9999999, 3.0, 37.0, 255.9]


def _round_up_scales() -> tuple[float, float]:
    """float32 (input scale, filter scale) whose multiplier for output scale 1/8 lies within 2^-32
    below 0.5, so that TFLM's QuantizeMultiplier rounds its mantissa up to 2^31 and halves it."""
    ins = np.float32(IN_SCALE)
    while True:
        ins = np.nextafter(ins, np.float32(1))
        ws = np.float32(0.0625 / float(ins))
        for _ in range(4):
            m = float(ins) * float(ws) / 0.125
            if m < 0.5 and quantize_multiplier(m) == (1 << 30, 0):
                return float(ins), float(ws)
            ws = np.nextafter(ws, np.float32(0))


EDGE_IN_SCALE, ROUND_UP_WS = _round_up_scales()


def _out_hw(c):
    (h, w), (kh, kw), (sh, sw), (dh, dw) = c["x"][1:3], c["k"], c["s"], c["d"]
    if c["pad"] == "SAME":
        return -(-h // sh), -(-w // sw)
    return (h - (kh - 1) * dh - 1) // sh + 1, (w - (kw - 1) * dw - 1) // sw + 1


def _add_case(b: ModelBuilder, c: dict, rng) -> None:
    n, h, w, ch = c["x"]
    kh, kw = c["k"]
    if c["op"] == "conv":
        oc, k_c = c["oc"], ch // c["groups"]
        wshape, axis, taps = (oc, kh, kw, k_c), 0, kh * kw * k_c
    else:
        oc = ch * c["dm"]
        wshape, axis, taps = (1, kh, kw, oc), 3, kh * kw
    in_scale = EDGE_IN_SCALE if c["w"] == "edge" else IN_SCALE
    x = b.input((n, h, w, ch), scale=in_scale, zero_point=c["zp"][0])
    # output scale chosen so that typical accumulators span ~+-50 output steps
    w_typ = 0.004
    out_scale = IN_SCALE * w_typ * np.sqrt(taps) * 74 * 74 / 50
    if c["w"] == "pc":
        wscale = rng.uniform(0.3, 3.0, oc) * w_typ
    elif c["w"] == "pt":
        wscale = np.array([w_typ])
    else:   # output scale a power of two, so that ROUND_UP_WS keeps its property when rescaled
        out_scale = 2.0 ** round(np.log2(out_scale))
        m = [EDGE_MULTIPLIERS[i % len(EDGE_MULTIPLIERS)] for i in range(oc)]
        m = [v * (1 - rng.uniform(0, 2 ** -22)) if i >= len(EDGE_MULTIPLIERS) else v
             for i, v in enumerate(m)]
        wscale = np.float32(np.array(m) * out_scale / in_scale)
        wscale[-1] = np.float32(ROUND_UP_WS * out_scale / 0.125)
    weights = rng.integers(-127, 128, wshape, dtype=np.int8)
    wt = b.const(weights, scale=wscale, zero_point=[0] * len(wscale), axis=axis)
    ins = [x, wt]
    if c["bias"]:
        ws_full = np.broadcast_to(wscale, (oc,))
        bias = rng.integers(-40 * taps * 20, 40 * taps * 20, (oc,)).astype(np.int32)
        ins.append(b.const(bias, scale=in_scale * ws_full, zero_point=[0] * oc))
    oh, ow = _out_hw(c)
    y = b.tensor((n, oh, ow, oc), scale=out_scale, zero_point=c["zp"][1])
    opts = dict(padding=c["pad"], stride_h=c["s"][0], stride_w=c["s"][1],
                dilation_h_factor=c["d"][0], dilation_w_factor=c["d"][1],
                fused_activation_function=c["act"])
    if c["op"] == "conv":
        b.op("CONV_2D", ins, [y], **opts)
    else:
        b.op("DEPTHWISE_CONV_2D", ins, [y], depth_multiplier=c["dm"], **opts)
    b.output(y)


@pytest.fixture(scope="module")
def table_model():
    """All cases in one model; its bytes, TFLM's outputs and the random inputs."""
    rng = np.random.default_rng(7)
    b = ModelBuilder("conv_cases")
    for c in CASES:
        _add_case(b, c, rng)
    buf = b.build()
    g = parse_tflite(buf)
    xs = [rng.integers(-128, 128, (ROWS, *g.tensors[t].shape), dtype=np.int8) for t in g.inputs]
    ref = tflm_run(buf, xs, n_outputs=len(CASES))
    return buf, xs, ref


def test_edge_multipliers_are_covered(table_model):
    """The 'edge' cases really reach the ends of the multiplier/shift range."""
    g = parse_tflite(table_model[0])
    ms = []
    for op in g.ops:
        w = g.tensors[op.inputs[1]]
        if len(w.quant.scale) > 1:
            ins = g.tensors[op.inputs[0]].quant.scale[0]
            outs = g.tensors[op.outputs[0]].quant.scale[0]
            ms += [ins * s / outs for s in w.quant.scale]
    qs = [quantize_multiplier(m) for m in ms]
    shifts = [s for q, s in qs if q]
    assert min(shifts) == -31 and max(shifts) >= 8
    assert (0, 0) in qs                                    # flushed to zero below 2^-32
    assert max(q for q, s in qs) >= (1 << 31) - (1 << 10)
    rounded_up = [m for m in ms if m < 0.5 and quantize_multiplier(m) == (1 << 30, 0)]
    assert len(rounded_up) >= 3                            # at least one per 'edge' case


# the fast kernels' Cortex-M DSP-extension path, built on the host with C models of the
# instructions (runtime_c/tk_simd.h)
SIMD_EMULATION = ["-DTK_DSP_EMULATE_SIMD"]


def _dw3x3(c) -> bool:
    """Whether a depthwise case goes to the 3x3 line kernel (stride 1 or 2, lines long enough)"""
    from tinykiln.lower.depthwise3x3 import MIN_POSITIONS
    return (c["k"] == (3, 3) and c["s"] in ((1, 1), (2, 2)) and c["d"] == (1, 1)
            and c["dm"] == 1 and max(_out_hw(c)) >= MIN_POSITIONS[c["s"][0]])


@pytest.mark.parametrize("fast,cflags", [(True, []), (True, SIMD_EMULATION), (False, [])],
                         ids=["fast", "fast-simd", "reference"])
def test_conv_cases_bit_exact(table_model, fast, cflags, monkeypatch):
    buf, xs, ref = table_model
    monkeypatch.setattr(conv_lowering, "USE_FAST_KERNELS", fast)
    compiled = compile_graph(parse_tflite(buf), scratch_may_grow_arena=True)
    # the fast kernel's three entries (one per path) count as one here
    kernels = [re.sub(r"^tk_conv2d_s8_(cols|lines|im2col)$", "tk_conv2d_s8", layer["kernel"])
               for layer in compiled.report["layers"]]
    if fast:    # the fast kernels cover every case but depth multipliers > 1 and groups > 1
        want = ["tk_depthwise_conv2d_s8_ref" if c["op"] == "dw" and c["dm"] > 1 else
                "tk_conv2d_s8_ref" if c["op"] == "conv" and c["groups"] > 1 else
                "tk_conv2d_s8" if c["op"] == "conv" else
                "tk_depthwise3x3_s8" if _dw3x3(c) else "tk_depthwise_conv2d_s8" for c in CASES]
    else:
        want = ["tk_conv2d_s8_ref" if c["op"] == "conv" else "tk_depthwise_conv2d_s8_ref"
                for c in CASES]
    assert kernels == want
    if fast:    # both requantizations of the fast kernels are exercised
        flags = [line.split("=")[1].strip() for line in compiled.files["model.c"].split("\n")
                 if ".rq_fast = " in line]
        assert "1," in flags and "0," in flags
    with HostBuild(compiled, sanitize=True, extra_cflags=cflags) as hb:
        out = hb.run(xs)
    bad = {}
    for c, o, r in zip(CASES, out, ref):
        assert o.shape == r.shape, c["name"]
        n = int((o != r).sum())
        if n:
            bad[c["name"]] = f"{n} of {r.size} bytes differ"
        # a case whose outputs all sit on one value would prove little
        assert len(np.unique(r)) > 2 or c["act"] == "RELU_N1_TO_1", c["name"]
    assert not bad, bad


def test_kws_compiles_and_matches_tflm(monkeypatch):
    """The MLPerf Tiny DS-CNN: every conv on its fast kernel, bit-exact with TFLM both ways."""
    path = shared_model("kws_ref_model.tflite")
    missing = {"AVERAGE_POOL_2D", "RESHAPE", "SOFTMAX", "FULLY_CONNECTED"} - set(LOWERINGS)
    if missing:
        pytest.skip(f"no lowering yet for {sorted(missing)}")
    compiled = compile_file(path)
    for layer in compiled.report["layers"]:
        if layer["opcode"] == "CONV_2D":
            assert layer["kernel"] in ("tk_conv2d_s8_cols", "tk_conv2d_s8_im2col")
        if layer["opcode"] == "DEPTHWISE_CONV_2D":
            assert layer["kernel"] == "tk_depthwise3x3_s8"      # 3x3, stride 1
    g = compiled.graph
    x = np.random.default_rng(3).integers(-128, 128, (20, *g.tensors[g.inputs[0]].shape),
                                           dtype=np.int8)
    ref = tflm_run(path.read_bytes(), [x])[0]
    monkeypatch.setattr(conv_lowering, "USE_FAST_KERNELS", False)
    for c, cflags in ((compiled, []), (compiled, SIMD_EMULATION), (compile_file(path), [])):
        with HostBuild(c, sanitize=True, extra_cflags=cflags) as hb:
            out = hb.run([x])[0]
        assert int((out != ref).sum()) == 0


_REQUANT_CHECK = r"""
#include <stdio.h>
#include "conv2d_s8.h"
static unsigned long long s = 88172645463325252ull;
static uint32_t rnd(void) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return (uint32_t)s; }
int main(void) {
    static const int32_t xs[] = {0, 1, -1, 2, -2, INT32_MAX, INT32_MIN, INT32_MIN + 1, 1 << 30,
                                 -(1 << 30), 12345, -12345};
    long bad = 0;
    for (long i = 0; i < 3000000; ++i) {
        int32_t x = i % 4 == 0 ? xs[rnd() % 12] : i % 4 == 1 ? (int32_t)rnd()
                                                 : (int32_t)(rnd() % 4000001) - 2000000;
        int32_t m = i % 7 == 0 ? (1 << 30) : i % 11 == 0 ? INT32_MAX : i % 13 == 0 ? 0
                    : (int32_t)((1u << 30) + rnd() % (1u << 30));
        int32_t sh = m == 0 ? 0 : (int32_t)(rnd() % 40) - 31;
        bad += tk_requant(x, m, sh) != tk_conv_requant(x, m, sh);
        /* tk_requant_fast where the compiler allows it: right shifts, |x| < 2^30 */
        int32_t xf = i % 5 == 0 ? (i % 2 ? (1 << 30) - 1 : 1 - (1 << 30)) : x / 2;
        int32_t shf = m == 0 ? -1 : -1 - (int32_t)(rnd() % 31);
        int32_t off = (int32_t)(rnd() % 256) - 128;
        bad += tk_requant(xf, m, shf) + off != tk_requant_fast(xf, m, -shf - 1, 1 + 2 * off);
    }
    printf("%ld\n", bad);
    return 0;
}
"""


@pytest.mark.parametrize("cflags", [[], SIMD_EMULATION], ids=["portable", "simd"])
def test_fast_requant_equals_tflm_helper(tmp_path, cflags):
    """tk_conv_requant (fast kernels) == tk_requant (TFLM's MultiplyByQuantizedMultiplier) for
    every multiplier TFLM's QuantizeMultiplier can produce; 3M values incl. INT32 extremes. And
    tk_requant_fast (SMMULR) == tk_requant + output offset on its domain (right shifts,
    |x| < 2^30, as tinykiln.lower.conv.requant_table checks), in both of its builds."""
    import shutil
    import subprocess
    from tinykiln.resources import resource_dir
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not on PATH")
    (tmp_path / "t.c").write_text(_REQUANT_CHECK)
    exe = tmp_path / "t"
    subprocess.run(["gcc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror",
                    "-fsanitize=address,undefined", "-fno-sanitize-recover=all", *cflags,
                    "-I", str(resource_dir("runtime_c")), str(tmp_path / "t.c"), "-o", str(exe)],
                   check=True)
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "0"
