"""State that persists across invokes, invoke by invoke against TFLM: variable tensors (TFLite
is_variable) and resource variables (VAR_HANDLE, READ_VARIABLE, ASSIGN_VARIABLE, CALL_ONCE with
its init subgraph). The host harness runs all rows in one process and tflm_run keeps one
interpreter, so both carry state from row to row; <prefix>_reset() is checked against a fresh
TFLM interpreter."""
from __future__ import annotations

import subprocess

import numpy as np
import pytest

from tflm_oracle import tflm_run

from tinykiln.compile import compile_graph, plan_picture
from tinykiln.errors import ModelError, UnsupportedError
from tinykiln.frontend.modelbuilder import ModelBuilder
from tinykiln.frontend.tflite_import import parse_tflite
from tinykiln.targets.hostrun import HostBuild, split_outputs

ROWS = 50


def _rows(shape, seed=0, n=ROWS):
    x = np.random.RandomState(seed).randint(-128, 128, (n, *shape)).astype(np.int8)
    x[0] = 127
    x[1] = -128
    return x


def _host(c, rows: list[np.ndarray], reset_every: int = 0) -> list[np.ndarray]:
    """The host build's outputs for every row, run in one process (state carried)."""
    with HostBuild(c, sanitize=True) as hb:
        if not reset_every:
            return hb.run(rows)
        fin, fout = hb.dir / "in.bin", hb.dir / "out.bin"
        n = rows[0].shape[0]
        fin.write_bytes(b"".join(b"".join(x[r].tobytes() for x in rows) for r in range(n)))
        subprocess.run([str(hb.exe), str(fin), str(fout), str(n), str(reset_every)], check=True,
                       timeout=120)
        return split_outputs(c.graph, fout.read_bytes(), n)


def _same(out, ref, what):
    for k, (o, r) in enumerate(zip(out, ref)):
        assert o.shape == r.shape and o.dtype == r.dtype, what
        bad = np.nonzero((o.reshape(len(o), -1) != r.reshape(len(r), -1)).any(axis=1))[0]
        assert not len(bad), f"{what}: output {k} differs from TFLM first at invoke {bad[0]}"


def _check(model: bytes, rows: list[np.ndarray], n_out: int, reset_every: int = 7):
    """Every invoke equals TFLM's (one interpreter for all rows); with a reset every
    `reset_every` rows, equals a fresh TFLM interpreter per chunk."""
    ref = tflm_run(model, rows, n_out)
    c = compile_graph(parse_tflite(model))
    _same(_host(c, rows), ref, "carried state")
    chunks = [tflm_run(model, [x[s:s + reset_every] for x in rows], n_out)
              for s in range(0, ROWS, reset_every)]
    fresh = [np.concatenate([ch[k] for ch in chunks]) for k in range(n_out)]
    _same(_host(c, rows, reset_every), fresh, "after model_reset()")
    return c, ref


def _accumulator_model(init=True, zp_state=-5) -> bytes:
    """acc += x (int8 ADD, saturating) as a resource variable, with a CALL_ONCE init subgraph
    assigning constants; a second variable with no init starts at its zero point."""
    b = ModelBuilder("stateful")
    x = b.input((1, 8), scale=0.05, zero_point=3)
    if init:
        k, sub = b.subgraph("init")
        h0 = sub.tensor((), dtype="resource", name="acc_h")
        c0 = sub.const(np.arange(-40, 40, 10, dtype=np.int8).reshape(1, 8), scale=0.1,
                       zero_point=-2)
        sub.op("VAR_HANDLE", [], [h0], container="", shared_name="acc")
        sub.op("ASSIGN_VARIABLE", [h0, c0], [])
        b.op("CALL_ONCE", [], [], init_subgraph_index=k)
    h = b.tensor((), dtype="resource", name="acc_handle")
    h2 = b.tensor((), dtype="resource", name="other_handle")
    b.op("VAR_HANDLE", [], [h], container="", shared_name="acc")
    b.op("VAR_HANDLE", [], [h2], container="", shared_name="other")
    r = b.tensor((1, 8), scale=0.1, zero_point=-2)
    b.op("READ_VARIABLE", [h], [r])
    y = b.tensor((1, 8), scale=0.1, zero_point=-2)
    b.op("ADD", [r, x], [y], fused_activation_function="NONE")
    b.op("ASSIGN_VARIABLE", [h, y], [])
    r2 = b.tensor((1, 8), scale=0.07, zero_point=zp_state)
    b.op("READ_VARIABLE", [h2], [r2])
    y2 = b.tensor((1, 8), scale=0.07, zero_point=zp_state)
    b.op("ADD", [r2, y], [y2], fused_activation_function="RELU")
    b.op("ASSIGN_VARIABLE", [h2, y2], [])
    after = b.tensor((1, 8), scale=0.1, zero_point=-2)
    b.op("READ_VARIABLE", [h], [after])         # reads what was just assigned
    b.output(y)
    b.output(y2)
    b.output(after)
    return b.build()


def test_resource_variables_carry_state_like_tflm():
    rows = [_rows((1, 8))]
    rows[0][3] = rows[0][2]
    c, ref = _check(_accumulator_model(), rows, 3)
    # the same input twice in a row gives other outputs: TFLM's interpreter kept the state (and
    # so did the host process, which matched it row by row)
    assert not np.array_equal(ref[0][2], ref[0][3])
    assert c.report["variable_bytes"] == 16
    assert sorted(v["name"] for v in c.report["variables"]) == ["acc", "other"]
    assert "variables 16 bytes" in plan_picture(c)
    src = c.files["model.c"]
    assert "void model_reset(void)" in src and "void model_reset(void);" in c.files["model.h"]
    assert "#define MODEL_VARIABLES_SIZE 16" in c.files["model.h"]
    assert "tk_vars_ready" in src            # non-zero reset values: reset before the 1st invoke


def test_resource_variables_without_init():
    _check(_accumulator_model(init=False, zp_state=0), [_rows((1, 8), seed=3)], 3, reset_every=9)


def _variable_tensor_model(dtype="int8", zp=4) -> bytes:
    """A TFLite variable tensor (is_variable) as state: y = x + s; s = y (a RESHAPE copies)."""
    b = ModelBuilder("vartensor")
    x = b.input((2, 5), scale=0.05, zero_point=1)
    s = b.tensor((2, 5), scale=0.08, zero_point=zp, variable=True, name="state")
    y = b.tensor((2, 5), scale=0.08, zero_point=zp)
    b.op("ADD", [x, s], [y], fused_activation_function="NONE")
    b.op("RESHAPE", [y], [s])
    b.output(y)
    return b.build()


def test_variable_tensor_state_and_reset_to_zero_point():
    c, _ = _check(_variable_tensor_model(), [_rows((2, 5), seed=5)], 1, reset_every=11)
    t = next(t for t in c.graph.tensors if t.is_variable)
    assert t.init is not None and (t.init == 4).all()     # TFLM resets int8 state to its zero point
    assert c.report["variable_bytes"] == 12 and c.report["arena_bytes"] >= 10


def test_keras_stateful_module_50_invokes():
    tf = pytest.importorskip("tensorflow")

    class Stream(tf.Module):
        def __init__(self):
            rs = np.random.RandomState(0)
            self.s = tf.Variable(tf.zeros([1, 6]), trainable=False)
            self.w = tf.constant(rs.randn(6, 6).astype(np.float32) * 0.3)

        @tf.function(input_signature=[tf.TensorSpec([1, 6], tf.float32)])
        def __call__(self, x):
            new = 0.6 * self.s + tf.matmul(x, self.w)
            self.s.assign(new)
            return new

    m = Stream()
    conv = tf.lite.TFLiteConverter.from_concrete_functions([m.__call__.get_concrete_function()], m)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    rs = np.random.RandomState(1)
    conv.representative_dataset = lambda: ([rs.uniform(-1, 1, (1, 6)).astype(np.float32)]
                                           for _ in range(40))
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    model = conv.convert()
    g = parse_tflite(model)
    assert any(t.is_variable for t in g.tensors)
    assert {"READ_VARIABLE", "ASSIGN_VARIABLE"} <= {op.opcode for op in g.ops}
    rows = [_rows((1, 6), seed=7)]
    ref = tflm_run(model, rows, 1)
    assert len({r.tobytes() for r in ref[0][2:]}) > 10
    c = compile_graph(g)
    _same(_host(c, rows), ref, "Keras stateful module")


# ---- refusals: one sentence each

def _refusal(model: bytes) -> str:
    with pytest.raises((ModelError, UnsupportedError)) as e:
        compile_graph(parse_tflite(model))
    msg = str(e.value)
    assert "\n" not in msg and msg.endswith(".")
    return msg


def test_call_once_out_of_range():
    b = ModelBuilder()
    x = b.input((1, 4), scale=0.1)
    y = b.tensor((1, 4), scale=0.1)
    b.op("CALL_ONCE", [], [], init_subgraph_index=3)
    b.op("ADD", [x, x], [y], fused_activation_function="NONE")
    b.output(y)
    assert "init subgraph 3" in _refusal(b.build())


def test_read_of_a_never_assigned_variable():
    b = ModelBuilder()
    x = b.input((1, 4), scale=0.1)
    h = b.tensor((), dtype="resource")
    r = b.tensor((1, 4), scale=0.1)
    y = b.tensor((1, 4), scale=0.1)
    b.op("VAR_HANDLE", [], [h], shared_name="v")
    b.op("READ_VARIABLE", [h], [r])
    b.op("ADD", [x, r], [y], fused_activation_function="NONE")
    b.output(y)
    assert "no ASSIGN_VARIABLE" in _refusal(b.build())


def test_init_subgraph_with_computation():
    b = ModelBuilder()
    x = b.input((1, 4), scale=0.1)
    k, sub = b.subgraph()
    h0 = sub.tensor((), dtype="resource")
    c0 = sub.const(np.ones((1, 4), np.int8), scale=0.1)
    v0 = sub.tensor((1, 4), scale=0.1)
    sub.op("VAR_HANDLE", [], [h0], shared_name="v")
    sub.op("ADD", [c0, c0], [v0], fused_activation_function="NONE")
    sub.op("ASSIGN_VARIABLE", [h0, v0], [])
    b.op("CALL_ONCE", [], [], init_subgraph_index=k)
    h = b.tensor((), dtype="resource")
    r = b.tensor((1, 4), scale=0.1)
    b.op("VAR_HANDLE", [], [h], shared_name="v")
    b.op("READ_VARIABLE", [h], [r])
    y = b.tensor((1, 4), scale=0.1)
    b.op("ADD", [x, r], [y], fused_activation_function="NONE")
    b.output(y)
    assert "init subgraph" in _refusal(b.build())


def test_assign_of_a_mismatched_size():
    b = ModelBuilder()
    x = b.input((1, 4), scale=0.1)
    h = b.tensor((), dtype="resource")
    b.op("VAR_HANDLE", [], [h], shared_name="v")
    b.op("ASSIGN_VARIABLE", [h, x], [])
    r = b.tensor((1, 8), scale=0.1)
    b.op("READ_VARIABLE", [h], [r])
    b.output(r)
    assert "holds 4 bytes" in _refusal(b.build())


def test_variable_tensor_as_model_input():
    b = ModelBuilder()
    x = b.tensor((1, 4), scale=0.1, variable=True)
    b.g.inputs.append(x)
    y = b.tensor((1, 4), scale=0.1)
    b.op("ADD", [x, x], [y], fused_activation_function="NONE")
    b.output(y)
    assert "variable tensor" in _refusal(b.build())


def on_board(board: str, model: bytes, rows: list[np.ndarray], n_out: int, tmp_path) -> None:
    """One boot runs every row: the firmware keeps the variables from invoke to invoke too."""
    import shutil
    from tinykiln.targets.board import get_board
    from tinykiln.targets.firmware import build_firmware
    from tinykiln.targets.qemu import run_firmware
    b = get_board(board)
    tools = {"arm": ("arm-none-eabi-gcc", "qemu-system-arm"),
             "riscv": ("riscv64-unknown-elf-gcc", "qemu-system-riscv32")}[b.arch]
    if not all(shutil.which(t) for t in tools):
        pytest.skip(f"{' or '.join(tools)} is not installed")
    ref = tflm_run(model, rows, n_out)
    c = compile_graph(parse_tflite(model))
    build_firmware(c, b, tmp_path / "fw")
    res = run_firmware(tmp_path / "fw", b, c.graph, rows)
    _same([o.reshape(r.shape) for o, r in zip(res.outputs, ref)], ref, board)


@pytest.mark.parametrize("board", ["mps2-an386", "sifive_e"])
def test_state_on_emulated_boards(board, tmp_path):
    on_board(board, _accumulator_model(), [_rows((1, 8), seed=21)], 3, tmp_path)


def test_variables_planned_apart_from_the_arena():
    from tinykiln.plan.planner import ALIGN, plan_variables
    sizes = {("t", 3): 5, ("t", 9): 16, ("t", 1): 1}
    offsets, total = plan_variables(sizes)
    spans = sorted((offsets[k], offsets[k] + n) for k, n in sizes.items())
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))        # never shared
    assert all(o % ALIGN == 0 for o in offsets.values()) and total >= spans[-1][1]
    c = compile_graph(parse_tflite(_variable_tensor_model()))
    var = next(t.index for t in c.graph.tensors if t.is_variable)
    assert ("t", var) in c.plan.variables and ("t", var) not in c.plan.offsets


def test_writer_round_trip_of_state():
    """is_variable, resource tensors and an init subgraph survive writing and reading."""
    model = _accumulator_model()
    from tinykiln.frontend.flatbuf import root
    m = root(model)
    assert len(m.tables(2)) == 2                            # main and init subgraphs
    g = parse_tflite(model)
    acc = next(t for t in g.tensors if t.name == "acc")
    assert acc.is_variable and acc.init is not None
    assert list(acc.init.reshape(-1)) == list(range(-40, 40, 10))
    other = next(t for t in g.tensors if t.name == "other")
    assert other.is_variable and (other.init == -5).all()  # TFLM's default: the zero point
    assert {op.opcode for op in g.ops} == {"READ_VARIABLE", "ADD", "ASSIGN_VARIABLE"}
    assert parse_tflite(_variable_tensor_model()).tensors[1].is_variable
