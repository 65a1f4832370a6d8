"""SVDF, int8 input and output with int16 (or int8) time weights and state, as TFLM's
PrepareSvdf / EvalIntegerSvdfReference: the state (a variable tensor, kept across invokes) shifts
left by one, the feature matmul writes its newest column, the time weights' dot product, bias,
rank reduction and rescale give the output. TFLM's integer path applies no fused activation (only
the int8 clamp); neither do we."""
from __future__ import annotations

import numpy as np

from .context import Operands
from .multipliers import quantize_multiplier

# |w * (x - zp)| <= 128 * 255 < 2^15: 2^16 of them stay inside the int32 accumulator
MAX_INPUT = 1 << 16


def _dims(op, graph):
    """(batches, input size, filters, units, memory) from the operands, or None when malformed."""
    t = graph.tensors
    x, wf, wt = (t[i] for i in op.inputs[:3])
    rank = op.options.get("rank", 0)
    if len(x.shape) != 2 or len(wf.shape) != 2 or len(wt.shape) != 2 or rank < 1:
        return None
    filters = int(wf.shape[0])
    if filters % rank:
        return None
    return int(x.shape[0]), int(x.shape[1]), filters, filters // rank, int(wt.shape[1])


def svdf_scratch(op, graph, allowed: bool = True) -> int:
    """int32 scratch: the time dot per batch and filter, then the sums per batch and unit."""
    if len(op.inputs) < 5:
        return 0
    d = _dims(op, graph)
    if d is None:
        return 0
    batches, _, filters, units, _ = d
    return 4 * batches * (filters + units)


def _check_shapes(op, ctx, d) -> None:
    x, wf, wt, bias_i, state_i = op.inputs
    if d is None:
        raise ctx.fail(op, f"input, feature weights and time weights must be 2-D and rank "
                           f"({op.options.get('rank', 0)}) a positive divisor of the feature "
                           f"weights' rows")
    batches, n_in, filters, units, memory = d
    out = ctx.tensor(op.outputs[0])
    state = ctx.tensor(state_i)
    if list(out.shape) != [batches, units]:
        raise ctx.fail(op, f"the output must be [{batches}, {units}] (batches, units), not "
                           f"{list(out.shape)}")
    if int(ctx.tensor(wf).shape[1]) != n_in:
        raise ctx.fail(op, f"the feature weights must have {n_in} columns (the input size)")
    if int(ctx.tensor(wt).shape[0]) != filters:
        raise ctx.fail(op, f"the time weights must have {filters} rows (the filters)")
    if list(state.shape) != [batches, memory * filters]:
        raise ctx.fail(op, f"the activation state must be [{batches}, {memory * filters}] "
                           f"(batches, memory x filters), not {list(state.shape)}")
    if not state.is_variable:
        raise ctx.fail(op, f"the activation state '{state.name}' must be a variable tensor "
                           f"(kept across invokes), as TFLM requires")
    if bias_i < 0:
        raise ctx.fail(op, "the int8 SVDF needs its bias (TFLM reads the bias' scale)")
    if ctx.tensor(bias_i).num_elements != units or int(ctx.tensor(bias_i).shape[0]) != units:
        raise ctx.fail(op, f"the bias must hold {units} values, one per unit")
    if n_in > MAX_INPUT:
        raise ctx.fail(op, f"each feature sums {n_in} products; the int32 accumulator holds at "
                           f"most {MAX_INPUT}")


def _scales(op, ctx):
    """TFLM's two effective scales and its bias check (in float32). The products are taken in
    double: the TFLM interpreter we test against does so (the case r2_b1_m3 of
    tests/test_ops_svdf.py has 0.02 * 0.01 / 0.0004, exactly 0.5 in float32, not in double)."""
    x, wf, wt, bias, state = (ctx.tensor(i) for i in op.inputs)
    out = ctx.tensor(op.outputs[0])
    f32 = np.float32
    s_in, s_wf, s_wt = f32(x.quant.scale[0]), f32(wf.quant.scale[0]), f32(wt.quant.scale[0])
    s_state, s_out = f32(state.quant.scale[0]), f32(out.quant.scale[0])
    s_bias = f32(bias.quant.scale[0]) if bias.quant and bias.quant.scale else f32(0)
    if not abs(float(s_bias) - float(s_state * s_wt)) < 1e-5:
        raise ctx.fail(op, f"the bias scale {float(s_bias):g} must equal the state scale times "
                           f"the time weights' scale ({float(s_state * s_wt):g}), within 1e-5")
    e1 = float(s_in) * float(s_wf) / float(s_state)
    e2 = float(s_state) * float(s_wt) / float(s_out)
    return quantize_multiplier(e1), quantize_multiplier(e2)


def lower_svdf(op, ctx):
    if len(op.inputs) != 5:
        raise ctx.fail(op, "it needs its 5 inputs (input, feature weights, time weights, bias, "
                           "activation state)")
    x, wf, wt, bias_i, state_i = op.inputs
    types = [ctx.tensor(i).dtype for i in (x, wf, wt, state_i)] + [ctx.tensor(op.outputs[0]).dtype]
    if types[:2] != ["int8", "int8"] or types[4] != "int8" or types[2] not in ("int8", "int16") \
            or types[3] != types[2]:
        raise ctx.fail(op, "tinykiln runs int8 SVDF: int8 input, feature weights and output, "
                           "with time weights and activation state both int16 or both int8")
    d = _dims(op, ctx.graph)
    _check_shapes(op, ctx, d)
    for i, what in ((x, "input"), (state_i, "activation state")):
        if ctx.tensor(i).quant is None:
            raise ctx.fail(op, f"the {what} must be quantized")
    batches, n_in, filters, units, memory = d
    rank = filters // units
    (m1, s1), (m2, s2) = _scales(op, ctx)
    state = ctx.tensor(state_i)
    p = ctx.params(op, "tk_svdf_params", {
        "batches": batches, "input_size": n_in, "filters": filters, "units": units,
        "rank": rank, "memory": memory,
        "input_offset": -int(ctx.tensor(x).quant.zero_point[0]),
        "state_zp": int(state.quant.zero_point[0]),
        "output_zp": int(ctx.tensor(op.outputs[0]).quant.zero_point[0]),
        "m1": m1, "s1": s1, "m2": m2, "s2": s2,
    })
    scratch = ctx.scratch(op, 4 * batches * (filters + units))
    func = "tk_svdf_s8_s16" if state.dtype == "int16" else "tk_svdf_s8_s8"
    ctx.call(op, func, [p, ctx.ptr(x), ctx.ptr(wf), ctx.ptr(wt), ctx.ptr(bias_i), ctx.ptr(state_i),
                        scratch, ctx.ptr(op.outputs[0])], ["svdf_s8.c"],
             macs=batches * filters * (n_in + memory))


LOWERINGS = {"SVDF": lower_svdf}
SCRATCH = {"SVDF": svdf_scratch}
TYPES = {"SVDF": ("int8 (int16 state)", "int8 (int8 state)")}
OPERANDS = {"SVDF": Operands(("a", "w", "w", "b?", "a"),
                             ("input", "feature weights", "time weights", "bias",
                              "activation state"))}
