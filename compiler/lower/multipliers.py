"""Compile-time quantization arithmetic, done exactly as TFLM's Prepare does it, so the C kernels
receive ready multipliers, shifts and clamps (TFLM's Prepare is our compiler; its Eval our runtime_c)."""
from __future__ import annotations

import math

import numpy as np

from ..errors import UnsupportedError

INT8_MIN, INT8_MAX = -128, 127


def round_half_away(x: float) -> int:
    """std::round: halves away from zero."""
    return int(math.floor(abs(x) + 0.5)) * (1 if x >= 0 else -1)


def quantize_multiplier(m: float, max_shift: int | None = 30) -> tuple[int, int]:
    """TFLM QuantizeMultiplier (double rounding build): m ~= q * 2^(shift - 31), q in [2^30, 2^31).
    The kernels shift left by `shift` in int32 (TFLM's `x * (1 << shift)`), so a shift above
    max_shift (30: 31 would overflow in TFLM too) is refused; pass None where no C shifts by it.
    Multipliers below 2^-31 flush to (0, 0) as in TFLM, so a right shift never exceeds 31."""
    if not math.isfinite(m) or m < 0:
        raise UnsupportedError(f"the requantization multiplier (a ratio of the quantization "
                               f"scales) is {m}, not a finite non-negative number")
    if m == 0.0:
        return 0, 0
    frac, shift = math.frexp(m)
    q = round_half_away(frac * (1 << 31))
    if q == (1 << 31):
        q //= 2
        shift += 1
    if shift < -31:
        shift, q = 0, 0
    if max_shift is not None and shift > max_shift:
        raise UnsupportedError(f"the requantization multiplier {m:g} (a ratio of the quantization "
                               f"scales) is 2^{max_shift} or more; TFLM's kernels would shift "
                               f"an int32 left by {shift} bits")
    return int(q), int(shift)


def quantize_multiplier_smaller_than_one(m: float) -> tuple[int, int]:
    return quantize_multiplier(m)


def activation_range(act: str, scale: float, zero_point: int,
                     qmin: int = INT8_MIN, qmax: int = INT8_MAX, where: str = "") -> tuple[int, int]:
    """CalculateActivationRangeQuantized: the fused activation as an integer clamp."""
    def q(x: float) -> int:
        # TFLM: zero_point + static_cast<int32_t>(TfLiteRound(x / scale)), float arithmetic
        r = float(np.float32(np.float32(x) / np.float32(scale)))
        if not abs(r) < 2.0 ** 31:      # TFLM's int32 cast would be undefined
            raise UnsupportedError(f"the output scale {scale:g} is too small for fused activation "
                                   f"{act}: {x:g} / scale does not fit int32{where}")
        return zero_point + round_half_away(r)

    if act == "NONE":
        return qmin, qmax
    if act == "RELU":
        return max(qmin, q(0.0)), qmax
    if act == "RELU6":
        return max(qmin, q(0.0)), min(qmax, q(6.0))
    if act == "RELU_N1_TO_1":
        return max(qmin, q(-1.0)), min(qmax, q(1.0))
    raise UnsupportedError(f"fused activation {act} is not supported{where}.")
