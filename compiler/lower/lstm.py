"""UNIDIRECTIONAL_SEQUENCE_LSTM as TFLM runs it (unidirectional_sequence_lstm.cc's Prepare,
lstm_eval_common.cc): the standard LSTM that TensorFlow's converter emits for a Keras LSTM layer
(no peephole, projection or layer normalization; TFLM refuses those too), int8 activations and
weights with int32 biases, or 16x8 (int16 activations, int8 weights, int64 biases), an int16 cell
state with a power-of-two scale, and the output and cell states as variable tensors that persist
across invokes. Everything TFLM's Prepare computes is computed here; lstm_s8.c / lstm_s16.c run
the integer steps (lstm_s8.h, lstm_s16.h)."""
from __future__ import annotations

import numpy as np

from ..errors import UnsupportedError
from .context import Operands
from .fully_connected import MAX_DEPTH, row_blocked
from .multipliers import quantize_multiplier, round_half_away

GATES = ("input", "forget", "cell", "output")       # TFLite's operand order, and our row order
W_IN = (1, 2, 3, 4)
W_REC = (5, 6, 7, 8)
BIAS = (12, 13, 14, 15)
HIDDEN, CELL = 18, 19
UNSUPPORTED = (((9, 10, 11), "peephole weights"), ((16, 17), "a projection"),
               ((20, 21, 22, 23), "layer normalization coefficients"))
NAMES = ("input",) + tuple(f"input-to-{g} weights" for g in GATES) + \
    tuple(f"recurrent-to-{g} weights" for g in GATES) + \
    tuple(f"cell-to-{g} weights" for g in ("input", "forget", "output")) + \
    tuple(f"{g} gate bias" for g in GATES) + ("projection weights", "projection bias") + \
    ("output state", "cell state") + tuple(f"{g} layer norm coefficients" for g in GATES)
GATE_SCALE = 2.0 ** -12         # the FCs' output: the gates' Q3.12 input
ACT_SCALE = 2.0 ** -15          # the gates' sigmoid / tanh output, Q0.15


def _f32(x) -> float:
    return float(np.float32(x))


def _structure(op, ctx):
    """The operand set TFLM's LstmTensors::ValidateTensorStatus accepts, and the option it reads."""
    if len(op.inputs) != 24:
        raise ctx.fail(op, f"it has {len(op.inputs)} inputs; TFLM's LSTM takes exactly 24 "
                           f"(absent optional ones as -1)")
    for ks, what in UNSUPPORTED:
        if any(op.inputs[k] >= 0 for k in ks):
            raise ctx.fail(op, f"it has {what} (inputs {ks[0]}-{ks[-1]}), which TFLM's LSTM does "
                               f"not support (only the standard LSTM: no peephole, projection or "
                               f"layer normalization)")
    for k in W_IN + W_REC + BIAS + (HIDDEN, CELL):
        if op.inputs[k] < 0:
            raise ctx.fail(op, f"its {NAMES[k]} (input {k}) is missing; TFLM's LSTM needs all "
                               f"four gates")
    for k in (HIDDEN, CELL):
        if not ctx.tensor(op.inputs[k]).is_variable:
            raise ctx.fail(op, f"its {NAMES[k]} '{ctx.tensor(op.inputs[k]).name}' is not a "
                               f"variable tensor; the LSTM keeps its state in variable tensors")
    if len({op.inputs[0], op.inputs[HIDDEN], op.inputs[CELL], op.outputs[0]}) != 4:
        raise ctx.fail(op, "its input, output, output state and cell state must be four "
                           "different tensors")
    act = op.options.get("fused_activation_function", "NONE")
    if act != "TANH":
        raise ctx.fail(op, f"its cell gate activation is {act}; TFLM's integer LSTM runs TANH "
                           f"(the Keras default)")


def _types(op, ctx) -> str:
    """The activation type ("int8", or "int16" for 16x8), every operand's type checked."""
    inp = ctx.tensor(op.inputs[0])
    if inp.dtype == "float32":
        raise ctx.fail(op, "a float32 LSTM is not supported; quantize the model to int8")
    if inp.dtype not in ("int8", "int16"):
        raise ctx.fail(op, f"its input is {inp.dtype}; only int8 and int16 (16x8) activations "
                           f"are supported")
    act, bias = inp.dtype, "int32" if inp.dtype == "int8" else "int64"
    want = [(HIDDEN, act), (CELL, "int16")] + [(k, "int8") for k in W_IN + W_REC] \
        + [(k, bias) for k in BIAS]
    for k, dtype in want:
        t = ctx.tensor(op.inputs[k])
        if t.dtype != dtype:
            raise ctx.fail(op, f"its {NAMES[k]} '{t.name}' is {t.dtype}; with {act} activations "
                               f"it must be {dtype}")
    if ctx.tensor(op.outputs[0]).dtype != act:
        raise ctx.fail(op, f"its output must be {act} like its input")
    for k in W_IN + W_REC:
        q = ctx.tensor(op.inputs[k]).quant
        if q is None or len(q.scale) != 1:
            raise ctx.fail(op, f"its {NAMES[k]} must be quantized per tensor (TFLM's LSTM reads "
                               f"one scale per weight tensor)")
    return act


def _shapes(op, ctx, time_major: bool):
    """(B, T, I, S) as TFLM's CreateLstmSizeInfo reads them, every tensor checked against them."""
    inp, hid, out = (ctx.tensor(op.inputs[0]), ctx.tensor(op.inputs[HIDDEN]),
                     ctx.tensor(op.outputs[0]))
    if len(inp.shape) != 3:
        raise ctx.fail(op, f"its input must be 3-D ([batch, time, features], or [time, batch, "
                           f"features] when time-major), not {list(inp.shape)}")
    if len(hid.shape) != 2:
        raise ctx.fail(op, f"its output state must be 2-D [batch, units], not {list(hid.shape)}")
    b, t = (inp.shape[1], inp.shape[0]) if time_major else (inp.shape[0], inp.shape[1])
    i, s = int(inp.shape[2]), int(hid.shape[1])
    for k in W_IN + W_REC:
        want = (s, i if k in W_IN else s)
        if tuple(ctx.tensor(op.inputs[k]).shape) != want:
            raise ctx.fail(op, f"its {NAMES[k]} have shape {list(ctx.tensor(op.inputs[k]).shape)}"
                               f", not {list(want)} ([units, {'features' if k in W_IN else 'units'}"
                               f"])")
    for k in BIAS:
        if tuple(ctx.tensor(op.inputs[k]).shape) != (s,):
            raise ctx.fail(op, f"its {NAMES[k]} has shape {list(ctx.tensor(op.inputs[k]).shape)}, "
                               f"not [{s}]")
    for k in (HIDDEN, CELL):
        if ctx.tensor(op.inputs[k]).num_elements != b * s:
            raise ctx.fail(op, f"its {NAMES[k]} holds {ctx.tensor(op.inputs[k]).num_elements} "
                               f"values, not batch x units = {b * s}")
    if tuple(out.shape) != (inp.shape[0], inp.shape[1], s):
        raise ctx.fail(op, f"its output has shape {list(out.shape)}, not "
                           f"{[inp.shape[0], inp.shape[1], s]}")
    if max(i, s) > MAX_DEPTH:
        raise ctx.fail(op, f"a gate sums {max(i, s)} products; the int32 accumulator holds at "
                           f"most {MAX_DEPTH}")
    return int(b), int(t), i, s


def _multiplier(op, ctx, m: float, what: str) -> tuple[int, int]:
    try:
        return quantize_multiplier(m)
    except UnsupportedError as e:
        raise ctx.fail(op, f"{what}: {str(e).rstrip('.')}") from None


def _gate_fcs(op, ctx, s: int, wide: bool):
    """Per gate, the two FCs (input, recurrent) to Q3.12: multipliers as TFLM's
    CreateGateParams (float32 scale product, GetQuantizedConvolutionMultipler), folded biases,
    accumulator bounds. Returns (rq[16], fast, bias_in[4S], bias_rec[4S]); `wide` (16x8): int64
    biases and TFLM's int64 requantization, {Q15 multiplier, 15 - shift} pairs."""
    inp, hid = ctx.tensor(op.inputs[0]), ctx.tensor(op.inputs[HIDDEN])
    pairs, bounds, b_in, b_rec = [], [], [], []
    for g in range(4):
        for vec, k in ((inp, W_IN[g]), (hid, W_REC[g])):
            w = ctx.tensor(op.inputs[k])
            prod = float(np.float32(vec.quant.scale[0]) * np.float32(w.quant.scale[0]))
            pairs.append(_multiplier(op, ctx, prod / GATE_SCALE, f"its {NAMES[k]}"))
            w2d = w.data.reshape(s, -1).astype(np.int64)
            zp = int(vec.quant.zero_point[0])
            bias = ctx.tensor(op.inputs[BIAS[g]]).data.reshape(-1).astype(np.int64) \
                if k in W_IN else None
            folded = -zp * w2d.sum(axis=1) + (bias if bias is not None else 0)
            if not wide:
                folded = (folded + (1 << 31)) % (1 << 32) - (1 << 31)
            (b_in if k in W_IN else b_rec).append(folded)
            reach = 65535 if wide else max(abs(-128 - zp), abs(127 - zp))
            absb = np.abs(bias.astype(object)) if bias is not None else 0
            bounds.append(int((absb + reach * np.abs(w2d).sum(axis=1)).max()))
    rows = lambda parts, t: np.stack(parts, axis=1).reshape(-1).astype(t)  # noqa: E731
    if wide:
        return _wide_rq(op, ctx, pairs, bounds), False, rows(b_in, np.int64), \
            rows(b_rec, np.int64)
    fast = all(m == 0 or sh <= -1 for m, sh in pairs) and max(bounds) < (1 << 30)
    rq = []
    for m, sh in pairs:
        sh = -1 if m == 0 else sh
        rq += [m, -sh - 1 if fast else sh]
    return rq, fast, rows(b_in, np.int32), rows(b_rec, np.int32)


def _wide_rq(op, ctx, pairs, bounds) -> list[int]:
    """TFLM's int64 MultiplyByQuantizedMultiplier within its contract (shift < 8, |x| < 2^47):
    {reduced Q15 multiplier, total shift 15 - shift} per FC."""
    if max(bounds) >= (1 << 47):
        raise ctx.fail(op, f"a gate accumulator may reach {max(bounds)}, beyond the 2^47 that "
                           f"TFLM's int64 requantization takes")
    out = []
    for m, sh in pairs:
        if sh >= 8:
            raise ctx.fail(op, f"a gate's requantization multiplier is 2^{sh - 1} or more; "
                               f"TFLM's int64 requantization takes shifts below 8")
        out += [(m + (1 << 15)) >> 16 if m < 0x7FFF0000 else 0x7FFF, 15 - sh]
    return out


def _log2_rounded(x: float) -> int:
    """TFLM's CheckedLog2 in float32: round(log(x) / log(2)), halves away from zero."""
    with np.errstate(all="ignore"):
        v = np.float32(np.log(np.float32(x))) * (np.float32(1.0) / np.float32(np.log(np.float32(2))))
    return round_half_away(float(v))


def _cell(op, ctx) -> dict:
    """The elementwise parameters: TFLM's CreateInterGateMulParams and CreateLstmCellStateInfo."""
    cs = _f32(ctx.tensor(op.inputs[CELL]).quant.scale[0])
    hid = ctx.tensor(op.inputs[HIDDEN])
    hs, hzp = _f32(hid.quant.scale[0]), int(hid.quant.zero_point[0])
    muls = {"forget": ACT_SCALE * cs / cs, "input": ACT_SCALE * ACT_SCALE / cs,
            "hidden": ACT_SCALE * ACT_SCALE / hs}
    fields, shifts = {}, []
    for name, m in muls.items():
        q, sh = _multiplier(op, ctx, m, f"its {name} product")
        sh = -1 if q == 0 else sh
        fields[f"{name}_mult"], fields[f"{name}_shift"] = q, sh
        shifts.append(sh)
    fast = all(sh <= -1 for sh in shifts)
    if fast:
        for name in muls:
            fields[f"{name}_shift"] = -fields[f"{name}_shift"] - 1
    fields.update({"hidden_offset": hzp, "mul_fast": int(fast)})
    power = _log2_rounded(cs)
    if abs(2.0 ** power - cs) > 1e-3 * cs:
        ctx.warn(op, f"its cell state scale {cs:g} is not a power of two; TFLM (and tinykiln) "
                     f"take it as 2^{power}")
    left = 12 + power           # TFLM's tanh input shift: (15 + power) - 3
    if not -31 <= left <= 14:
        raise ctx.fail(op, f"its cell state scale {cs:g} (2^{power}) is outside what TFLM's "
                           f"integer tanh handles without overflow (2^-43 to 2^2)")
    fields.update({"tanh_mult": 3 << left, "tanh_round": 0, "tanh_shift": 0} if left >= 0 else
                  {"tanh_mult": 3, "tanh_round": 1 << (-left - 1), "tanh_shift": -left})
    clip = _f32(op.options.get("cell_clip", 0.0))
    # TFLM: static_cast<int16_t>(min(max(clip / scale, -32768), 32767)) when clip > 0
    q = int(min(max(clip / cs, -32768.0), 32767.0)) if clip > 0 else None
    fields.update({"cell_min": -32768, "cell_max": 32767} if q is None else
                  {"cell_min": -q, "cell_max": q})
    return fields


def lower_lstm(op, ctx):
    _structure(op, ctx)
    wide = _types(op, ctx) == "int16"
    time_major = bool(op.options.get("time_major", False))
    b, t, i, s = _shapes(op, ctx, time_major)
    rq, fast, bias_in, bias_rec = _gate_fcs(op, ctx, s, wide)

    def weights(ks, depth):
        w = np.stack([ctx.tensor(op.inputs[k]).data.reshape(s, depth) for k in ks], axis=1)
        w = w.reshape(4 * s, depth)
        return w.astype(np.int8) if wide else row_blocked(w)

    layout = "row-major" if wide else "row-blocked by 4 (lstm_s8.h)"
    src = f"t{op.inputs[W_IN[0]]}-t{op.inputs[W_IN[3]]}"
    rsrc = f"t{op.inputs[W_REC[0]]}-t{op.inputs[W_REC[3]]}"
    bias_t = "int64_t" if wide else "int32_t"
    fields = {
        "batches": b, "steps": t, "input_size": i, "state_size": s, "time_major": int(time_major),
        "w_in": ctx.const(op, "w_in", "int8_t", weights(W_IN, i),
                          f"input weights {src} as [{4 * s}][{i}], row 4j+g = gate g (input, "
                          f"forget, cell, output) of unit j, {layout}"),
        "w_rec": ctx.const(op, "w_rec", "int8_t", weights(W_REC, s),
                           f"recurrent weights {rsrc} as [{4 * s}][{s}], rows as w_in"),
        "bias_in": ctx.const(op, "bias_in", bias_t, bias_in,
                             "per row 4j+g: gate bias + input_offset * row sum"),
        "bias_rec": ctx.const(op, "bias_rec", bias_t, bias_rec,
                              "per row 4j+g: output state offset * row sum"),
        "rq": ctx.const(op, "rq", "int32_t", rq,
                        "per gate: {input FC multiplier, shift, recurrent FC multiplier, shift}"
                        + (" (Q15 multipliers, shifts as 15 - shift)" if wide else
                           " (shifts as -shift - 1)" if fast else "")),
    }
    if not wide:
        fields["rq_fast"] = int(fast)
    fields["cell"] = _cell(op, ctx)
    kind = "s16" if wide else "s8"
    p = ctx.params(op, f"tk_lstm_{kind}_params" if wide else "tk_lstm_params", fields)
    ctx.call(op, f"tk_lstm_{kind}", [p, ctx.ptr(op.inputs[0]), ctx.ptr(op.inputs[HIDDEN]),
                                     ctx.ptr(op.inputs[CELL]), ctx.ptr(op.outputs[0])],
             [f"lstm_{kind}.c"], macs=b * t * 4 * s * (i + s))


LOWERINGS = {"UNIDIRECTIONAL_SEQUENCE_LSTM": lower_lstm}
# the tensor types each op accepts (`tinykiln ops`, the README's table)
TYPES = {"UNIDIRECTIONAL_SEQUENCE_LSTM": ("int8 (int16 cell state)", "int16 (16x8)")}
# operands as the validator checks them (context.Operands): the unsupported optional ones as
# plain constants, so that the lowering's sentence names them
OPERANDS = {"UNIDIRECTIONAL_SEQUENCE_LSTM": Operands(
    ("a",) + ("w",) * 8 + ("c?",) * 3 + ("b",) * 4 + ("c?",) * 2 + ("a", "a") + ("c?",) * 4,
    NAMES)}
