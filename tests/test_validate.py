"""Hostile and mutated models: every one is refused with one sentence naming the op and tensor
(a TinykilnError, never another exception, never a hang), and legitimate edge cases stay accepted.
The mutations are the classes a mutation campaign on the shared models found (issue 9): shapes,
buffers, operand indices, aliasing loops, constants written or read as outputs, quantization
parameters, option values."""
import copy
import math

import numpy as np
import pytest

from conftest import shared_model
from tinykiln.compile import compile_graph
from tinykiln.errors import ModelError, TinykilnError, UnsupportedError
from tinykiln.ir import QuantParams
from tinykiln.frontend.modelbuilder import ModelBuilder
from tinykiln.frontend.tflite_import import parse_tflite
from tinykiln.frontend.tflite_writer import write_tflite

# tensor indices of the base model (see _base)
X, CW, CB, C, SHP, R, FW, FB, F, S = range(10)


def _base():
    """input [1,4,4,2] -> CONV_2D (per-channel) -> RESHAPE [1,48] -> FULLY_CONNECTED -> SOFTMAX."""
    rng = np.random.default_rng(5)
    b = ModelBuilder("base")
    b.input((1, 4, 4, 2), scale=0.05, zero_point=-3)
    b.const(rng.integers(-127, 128, (3, 3, 3, 2), dtype=np.int8), scale=[0.01, 0.02, 0.015],
            zero_point=[0, 0, 0], axis=0)
    b.const(rng.integers(-900, 900, 3).astype(np.int32))
    b.tensor((1, 4, 4, 3), scale=0.1, zero_point=2)
    b.const(np.array([1, 48], np.int32))
    b.tensor((1, 48), scale=0.1, zero_point=2)
    b.const(rng.integers(-127, 128, (5, 48), dtype=np.int8), scale=0.01, zero_point=0)
    b.const(rng.integers(-900, 900, 5).astype(np.int32))
    b.tensor((1, 5), scale=0.2, zero_point=-1)
    b.tensor((1, 5), scale=1 / 256, zero_point=-128)
    b.op("CONV_2D", [X, CW, CB], [C], padding="SAME", stride_w=1, stride_h=1,
         dilation_w_factor=1, dilation_h_factor=1, fused_activation_function="RELU")
    b.op("RESHAPE", [C, SHP], [R], new_shape=[1, 48])
    b.op("FULLY_CONNECTED", [R, FW, FB], [F], fused_activation_function="NONE")
    b.op("SOFTMAX", [F], [S], beta=1.0)
    b.output(S)
    return b.g


def _compile(g):
    """The user's path: the graph written to .tflite bytes, read back and compiled."""
    return compile_graph(parse_tflite(write_tflite(g), name="m.tflite"))


def _set(attr, t, value):
    def f(g):
        setattr(g.tensors[t], attr, value)
    return f


def _q(t, scale=None, zp=None):
    def f(g):
        q = g.tensors[t].quant
        if scale is not None:
            q.scale = [scale] * len(q.scale)
        if zp is not None:
            q.zero_point = [zp] * len(q.zero_point)
    return f


def _opt(op, **kw):
    def f(g):
        g.ops[op].options.update(kw)
    return f


def _io(op, kind, k, t):
    def f(g):
        getattr(g.ops[op], kind)[k] = t
    return f


def _batch15(g):                    # the ASan finding: a batch dim changed from 1 to 15
    g.tensors[R].shape = (15, 48)


def _reshape_self_loop(g):          # the hang: a RESHAPE whose output is its own input
    g.ops[1].outputs = [C]


def _const_output(g):               # the non-compiling C: a constant as model output
    g.outputs = [FB]


def _write_const(g):                # ... and an op writing into a constant
    g.ops[2].outputs = [FW]


def _rewire_to_output(g):           # an op input rewired to the model output (read before written)
    g.ops[2].inputs[0] = S


def _written_twice(g):
    g.ops[3].outputs = [R]


def _writes_input(g):
    g.ops[0].outputs = [X]


def _empty_weights(g):              # weights whose buffer is empty: not a constant
    g.tensors[FW].data = None


def _no_outputs(g):
    g.outputs = []


def _dup_output(g):
    g.outputs = [S, S]


def _too_few_inputs(g):
    g.ops[2].inputs = [R]


def _missing_required(g):
    g.ops[2].inputs[1] = -1


def _missing_quant(g):
    g.tensors[F].quant = None


def _per_channel_activation(g):
    g.tensors[F].quant = QuantParams([0.2] * 5, [-1] * 5, 1)


def _scales_count(g):
    g.tensors[CW].quant = QuantParams([0.01, 0.02], [0, 0], 0)


def _fc_bias_count(g):
    g.tensors[FB].shape = (1,)
    g.tensors[FB].data = np.array([7], np.int32)


def _fc_weights_rank(g):
    g.tensors[FW].shape = (5, 48, 1)
    g.tensors[FW].data = g.tensors[FW].data.reshape(5, 48, 1)


def _fc_wide_depth(g):
    g.tensors[R].shape = (1, 70000)


def _reshape_sizes(g):
    g.tensors[R].shape = (1, 47)


def _reshape_dtype(g):
    g.tensors[R].dtype = "int16"


def _bias_type(g):
    g.tensors[CB].dtype = "int16"
    g.tensors[CB].data = g.tensors[CB].data.astype(np.int16)


def _conv_out_shape(g):
    g.tensors[C].shape = (1, 4, 5, 3)


def _unknown_dtype_output(g):
    g.tensors[S].dtype = "complex64"


CASES = [
    # (id, mutation, error class, words the one sentence must hold)
    ("batch 1 -> 15", _batch15, UnsupportedError, ["op 1 (RESHAPE", "720 bytes"]),
    ("reshape self loop", _reshape_self_loop, ModelError, ["op 1 (RESHAPE", "also one of its inputs"]),
    ("constant model output", _const_output, ModelError, ["model output 0", "tensor 7", "constant"]),
    ("op writes a constant", _write_const, ModelError, ["op 2 (FULLY_CONNECTED", "tensor 6", "constant"]),
    ("input read before written", _rewire_to_output, ModelError,
     ["op 2 (FULLY_CONNECTED", "input 0 (tensor 9", "earlier op"]),
    ("tensor written twice", _written_twice, ModelError, ["op 3 (SOFTMAX", "tensor 5", "already written"]),
    ("op writes a model input", _writes_input, ModelError, ["op 0 (CONV_2D", "model input"]),
    ("empty weights buffer", _empty_weights, UnsupportedError, ["op 2", "weights must be a constant"]),
    ("no outputs", _no_outputs, ModelError, ["no outputs"]),
    ("output listed twice", _dup_output, ModelError, ["model output 1", "listed twice"]),
    ("too few operands", _too_few_inputs, ModelError, ["op 2 (FULLY_CONNECTED", "1 inputs", "2 to 3"]),
    ("required operand -1", _missing_required, ModelError, ["op 2", "weights (input 1) is missing"]),
    ("missing quantization", _missing_quant, UnsupportedError, ["op 2", "without quantization"]),
    ("scale 0", _q(F, scale=0.0), ModelError, ["op 2", "scale 0.0", "finite and positive"]),
    ("scale nan", _q(C, scale=float("nan")), ModelError, ["op 0 (CONV_2D", "scale nan"]),
    ("scale inf", _q(X, scale=float("inf")), ModelError, ["op 0", "scale inf"]),
    ("scale negative", _q(CW, scale=-0.01), ModelError, ["op 0", "filter tensor", "-0.0099"]),
    ("input scale 3.4e38", _q(R, scale=3.4e38), UnsupportedError, ["op 2", "2^30 or more"]),
    ("output scale 1e-38", _q(F, scale=1e-38), UnsupportedError, ["op 2"]),
    ("zero point out of int8", _q(F, zp=200), ModelError, ["op 2", "zero point 200", "[-128, 127]"]),
    ("weights zero point", _q(FW, zp=3), UnsupportedError, ["op 2", "zero point 0", "weights tensor"]),
    ("per-channel activation", _per_channel_activation, UnsupportedError, ["op 2", "per channel"]),
    ("per-channel count", _scales_count, ModelError, ["op 0", "2 scales along dimension 0"]),
    ("fc bias count", _fc_bias_count, UnsupportedError, ["op 2", "bias has 1 values for 5"]),
    ("fc weights 3-D", _fc_weights_rank, UnsupportedError, ["op 2", "2-D"]),
    ("fc depth 70000", _fc_wide_depth, UnsupportedError, ["op 1"]),
    ("reshape sizes", _reshape_sizes, UnsupportedError, ["op 1 (RESHAPE", "47 bytes"]),
    ("reshape dtype", _reshape_dtype, UnsupportedError, ["op 1 (RESHAPE", "int16"]),
    ("bias int16", _bias_type, UnsupportedError, ["op 0", "bias", "int32"]),
    ("conv output shape", _conv_out_shape, UnsupportedError, ["op 0 (CONV_2D", "[1, 4, 4, 3]"]),
    ("stride 0", _opt(0, stride_h=0), UnsupportedError, ["op 0", "stride (0)"]),
    ("stride huge", _opt(0, stride_w=(1 << 31) - 1), UnsupportedError, ["op 0", "int32"]),
    ("dilation huge", _opt(0, dilation_h_factor=1 << 29), UnsupportedError, ["op 0", "int32"]),
    ("zero dim input", _set("shape", X, (1, 0, 4, 2)), ModelError,
     ["model input 0 (tensor 0", "[1, 0, 4, 2]", "positive"]),
    ("zero dim activation", _set("shape", R, (0, 48)), ModelError,
     ["op 1 (RESHAPE", "output 0 (tensor 5", "positive"]),
    ("unknown dtype", _unknown_dtype_output, UnsupportedError, ["model output 0", "complex64"]),
]


def _one_sentence(msg: str):
    assert "\n" not in msg and msg.endswith("."), msg
    assert "unpack_from" not in msg and "Traceback" not in msg, msg


@pytest.mark.filterwarnings("error")      # no numpy RuntimeWarning beside the one sentence
@pytest.mark.parametrize("name,mutate,cls,words", CASES, ids=[c[0] for c in CASES])
def test_hostile_model_is_refused(name, mutate, cls, words):
    g = _base()
    mutate(g)
    with pytest.raises(TinykilnError) as e:
        _compile(g)
    assert isinstance(e.value, cls), (type(e.value).__name__, str(e.value))
    _one_sentence(str(e.value))
    for w in words:
        assert w in str(e.value), (w, str(e.value))


def test_base_model_is_accepted():
    c = _compile(_base())
    assert c.report["ops"] == 4


def _bytes_case(edit):
    """Edit the base model's flatbuffer through the schema's object API (structure-aware edits
    the IR writer cannot express: buffer and operand indices)."""
    S = pytest.importorskip("tflite_micro.tensorflow.lite.micro.python.schema_py_generated")
    import flatbuffers
    m = S.ModelT.InitFromObj(S.Model.GetRootAsModel(write_tflite(_base()), 0))
    edit(m)
    b = flatbuffers.Builder(1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def _operand(op, k, t):
    def f(m):
        ins = list(m.subgraphs[0].operators[op].inputs)
        ins[k] = t
        m.subgraphs[0].operators[op].inputs = ins
    return f


def _option(op, **kw):
    def f(m):
        for k, v in kw.items():
            setattr(m.subgraphs[0].operators[op].builtinOptions, k, v)
    return f


BYTE_CASES = [
    ("buffer index", lambda m: setattr(m.subgraphs[0].tensors[FW], "buffer", len(m.buffers) + 4),
     ["tensor 6", "input 1 of op 2 (FULLY_CONNECTED)", "names buffer", "buffers"]),
    ("operand index", _operand(2, 0, 99),
     ["op 2 (FULLY_CONNECTED) names tensor 99 as its input 0", "10 tensors"]),
    ("negative operand", _operand(1, 0, -5), ["op 1 (RESHAPE) names tensor -5"]),
    ("opcode index", lambda m: setattr(m.subgraphs[0].operators[3], "opcodeIndex", 40),
     ["op 3 names opcode 40"]),
    ("model output index", lambda m: setattr(m.subgraphs[0], "outputs", [77]),
     ["tensor 77 as a model output"]),
    ("negative dimension", lambda m: setattr(m.subgraphs[0].tensors[C], "shape", [1, -4, 4, 3]),
     ["tensor 3", "output 0 of op 0 (CONV_2D)", "[1, -4, 4, 3]", "negative"]),
    ("tensor of 2^31 bytes", lambda m: setattr(m.subgraphs[0].tensors[C], "shape", [1, 1 << 15, 1 << 14, 4]),
     ["tensor 3", "2^31 bytes"]),
    ("weights bytes", lambda m: setattr(m.buffers[m.subgraphs[0].tensors[FW].buffer], "data",
                                        np.zeros(17, np.uint8)),
     ["tensor 6", "17 bytes", "needs 240"]),
    ("padding enum", _option(0, padding=7), ["op 0 (CONV_2D", "PADDING_7"]),
    ("activation enum", _option(2, fusedActivationFunction=9), ["op 2 (FULLY", "ACTIVATION_9"]),
]


@pytest.mark.parametrize("name,edit,words", BYTE_CASES, ids=[c[0] for c in BYTE_CASES])
def test_malformed_structure_is_named(name, edit, words):
    data = _bytes_case(edit)
    with pytest.raises(TinykilnError) as e:
        compile_graph(parse_tflite(data, name="m.tflite"))
    _one_sentence(str(e.value))
    if isinstance(e.value, ModelError):
        assert str(e.value).startswith("m.tflite")
    for w in words:
        assert w in str(e.value), (w, str(e.value))


@pytest.mark.parametrize("cut", [9, 40, 200, 700])
def test_truncation_message_is_human(cut):
    data = write_tflite(_base())
    with pytest.raises(ModelError) as e:
        compile_graph(parse_tflite(data[:cut], name="m.tflite"))
    _one_sentence(str(e.value))
    assert "m.tflite is malformed or truncated" in str(e.value)


# ---- legitimate edge cases stay accepted
def _edge_no_bias(g):
    g.ops[0].inputs[2] = -1


def _edge_batches(g):
    g.tensors[R].shape = (2, 24)
    g.tensors[FW].shape, g.tensors[FW].data = (5, 24), g.tensors[FW].data[:, :24].copy()
    g.tensors[F].shape = (2, 5)
    g.tensors[S].shape = (2, 5)


def _edge_zero_points(g):
    g.tensors[X].quant.zero_point = [-128]
    g.tensors[C].quant.zero_point = [127]
    g.tensors[R].quant.zero_point = [127]


def _edge_tiny_ratio(g):            # multiplier below 2^-31: TFLM flushes it to 0, so do we
    g.tensors[FW].quant.scale = [1e-12]


def _edge_output_also_read(g):      # a model output that a later op also reads
    g.outputs = [F, S]


EDGES = [_edge_no_bias, _edge_batches, _edge_zero_points, _edge_tiny_ratio, _edge_output_also_read]


@pytest.mark.parametrize("edit", EDGES, ids=[f.__name__[6:] for f in EDGES])
def test_edge_cases_stay_accepted(edit):
    g = _base()
    edit(g)
    _compile(g)


def test_accepted_edge_cases_are_safe_under_sanitizers():
    """The accepted edge cases built with ASan and UBSan run all -128, all 127 and random inputs
    without a report (the multiplier flushed to 0 and the extreme zero points included)."""
    import shutil
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed")
    from tinykiln.targets.hostrun import HostBuild
    for edit in EDGES:
        g = _base()
        edit(g)
        c = _compile(g)
        shape = c.graph.tensors[c.graph.inputs[0]].shape
        x = np.stack([np.full(shape, -128, np.int8), np.full(shape, 127, np.int8),
                      np.random.default_rng(1).integers(-128, 128, shape, dtype=np.int8)])
        with HostBuild(c, sanitize=True) as hb:
            outs = hb.run([x])
        assert all(o.shape[0] == 3 for o in outs)


def test_shared_model_mutations_are_refused():
    """The issue's own findings on the reference model: batch dim 1 -> 15 before the FULLY_CONNECTED,
    the FC input rewired to the model output, and a huge input scale."""
    path = shared_model("kws_ref_model.tflite")
    base = parse_tflite(path.read_bytes(), name="kws.tflite")
    fc = next(op for op in base.ops if op.opcode == "FULLY_CONNECTED")
    for edit, word in [
        (lambda g: setattr(g.tensors[g.ops[fc.index].inputs[0]], "shape", (15, 64)), "RESHAPE"),
        (lambda g: g.ops[fc.index].inputs.__setitem__(0, g.outputs[0]), "earlier op"),
        (lambda g: setattr(g.tensors[g.inputs[0]].quant, "scale", [3.4e38]), "2^30 or more"),
    ]:
        g = copy.deepcopy(base)
        edit(g)
        with pytest.raises(TinykilnError) as e:
            compile_graph(parse_tflite(write_tflite(g), name="kws.tflite"))
        _one_sentence(str(e.value))
        assert word in str(e.value), str(e.value)
        assert math.isfinite(len(str(e.value)))
