"""gemmlowp/TFLM fixed-point arithmetic in Python, bit for bit, for compile-time tables.

An int8 unary op is fully determined by its 256 outputs, so the compiler evaluates TFLM's exact
integer algorithm (the same int32/int16 steps, wrap-around and saturation included) over every
input value and the C runtime only looks the result up. Values are Python ints holding int32 (or
int16 where a function says so); `wrap` reproduces the two's-complement wrap of C integer casts.
"""
from __future__ import annotations

INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1
INT16_MIN, INT16_MAX = -(1 << 15), (1 << 15) - 1


def wrap(x: int, bits: int = 32) -> int:
    """Two's-complement wrap of x into a signed `bits`-bit integer (C cast / wrapping add)."""
    half = 1 << (bits - 1)
    return ((x + half) & ((1 << bits) - 1)) - half


def _div_trunc(n: int, d: int) -> int:
    """C integer division: rounds toward zero (d > 0)."""
    q = abs(n) // d
    return q if n >= 0 else -q


def srdhm(a: int, b: int, bits: int = 32) -> int:
    """SaturatingRoundingDoublingHighMul: (a * b * 2) >> bits rounded to nearest, int32 or int16."""
    lo = -(1 << (bits - 1))
    if a == lo and b == lo:
        return (1 << (bits - 1)) - 1
    ab = a * b
    nudge = (1 << (bits - 2)) if ab >= 0 else 1 - (1 << (bits - 2))
    return wrap(_div_trunc(ab + nudge, 1 << (bits - 1)), bits)


def sdhm16(a: int, b: int) -> int:
    """TFLM hard_swish's SaturatingDoublingHighMul (int16): like srdhm but truncating."""
    if a == INT16_MIN and b == INT16_MIN:
        return INT16_MAX
    return wrap(_div_trunc(a * b, 1 << 15), 16)


def rdbpot(x: int, exponent: int, bits: int = 32) -> int:
    """RoundingDivideByPOT: x / 2^exponent, halves away from zero. For int16 the mask is cast to
    int16 as gemmlowp's Dup<int16_t> does (exponent >= 16 then gives gemmlowp's odd results)."""
    assert 0 <= exponent <= 31
    mask = wrap((1 << exponent) - 1, bits)
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return wrap((x >> exponent) + (1 if remainder > threshold else 0), bits)


def sat_mul_pot(x: int, exponent: int) -> int:
    """SaturatingRoundingMultiplyByPOT<exponent> on int32."""
    if exponent == 0:
        return x
    if exponent < 0:
        return rdbpot(x, -exponent)
    threshold = (1 << (31 - exponent)) - 1
    if x > threshold:
        return INT32_MAX
    if x < -threshold:
        return INT32_MIN
    return x << exponent


def mul_by_quantized_multiplier(x: int, multiplier: int, shift: int) -> int:
    """TFLM's double-rounding MultiplyByQuantizedMultiplier (int32 x, shift may be either sign).
    The left shift is an int32 multiply, wrapped as the C++ does in practice."""
    left = shift if shift > 0 else 0
    right = 0 if shift > 0 else -shift
    return rdbpot(srdhm(wrap(x * wrap(1 << left)), multiplier), right)


def _add(a: int, b: int) -> int:
    return wrap(a + b)


def _sub(a: int, b: int) -> int:
    return wrap(a - b)


# ---- gemmlowp transcendental functions on FixedPoint<int32_t, integer_bits> raw values

def _exp_on_interval_between_negative_one_quarter_and_0_excl(a: int) -> int:
    """Q0.31 in, Q0.31 out: a 4th-order Taylor expansion of exp around -1/8."""
    constant_term = 1895147668         # exp(-1/8)
    constant_1_over_3 = 715827883
    x = _add(a, 1 << 28)               # a + 1/8
    x2 = srdhm(x, x)
    x3 = srdhm(x2, x)
    x4 = srdhm(x2, x2)
    x4_over_4 = sat_mul_pot(x4, -2)
    poly = sat_mul_pot(_add(srdhm(_add(x4_over_4, x3), constant_1_over_3), x2), -1)
    return _add(constant_term, srdhm(constant_term, _add(x, poly)))


_EXP_BARREL = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308),
               (2, 39332535), (3, 720401), (4, 242))


def exp_on_negative_values(a: int, integer_bits: int) -> int:
    """exp(a) for a <= 0 given in Q(integer_bits).(31-integer_bits); result Q0.31."""
    frac_bits = 31 - integer_bits
    one_quarter = 1 << (frac_bits - 2)
    a_mod_quarter_minus_one_quarter = _sub(a & (one_quarter - 1), one_quarter)
    result = _exp_on_interval_between_negative_one_quarter_and_0_excl(
        sat_mul_pot(a_mod_quarter_minus_one_quarter, integer_bits))
    remainder = _sub(a_mod_quarter_minus_one_quarter, a)
    for exponent, multiplier in _EXP_BARREL:
        if integer_bits > exponent and remainder & (1 << (frac_bits + exponent)):
            result = srdhm(result, multiplier)
    if integer_bits > 5 and a < -(1 << (36 - integer_bits)):
        result = 0
    if a == 0:
        result = INT32_MAX
    return result


def _newton_reciprocal_f2(a: int) -> int:
    """Shared core of gemmlowp's one_over_one_plus_x / one_minus_x_over_one_plus_x (Q0.31 a in
    [0, 1)): returns x ~= 1 / ((1 + a) / 2) in Q2.29 after three Newton-Raphson steps."""
    s = a + INT32_MAX                   # RoundingHalfSum(a, One) in int64
    half_denominator = wrap(_div_trunc(s + (1 if s >= 0 else -1), 2))
    x = _add(1515870810, srdhm(half_denominator, -1010580540))     # 48/17 - 32/17 * d
    one_f2 = 1 << 29
    for _ in range(3):
        half_denominator_times_x = srdhm(half_denominator, x)
        one_minus = _sub(one_f2, half_denominator_times_x)
        x = _add(x, sat_mul_pot(srdhm(x, one_minus), 2))
    return x


def one_over_one_plus_x_for_x_in_0_1(a: int) -> int:
    """1 / (1 + a), a in Q0.31 in [0, 1); result Q0.31."""
    return sat_mul_pot(_newton_reciprocal_f2(a), 1)


def one_minus_x_over_one_plus_x_for_x_in_0_1(a: int) -> int:
    """(1 - a) / (1 + a), a in Q0.31 in [0, 1); result Q0.31."""
    return sat_mul_pot(_sub(_newton_reciprocal_f2(a), 1 << 29), 2)


def logistic(a: int, integer_bits: int) -> int:
    """gemmlowp::logistic on Q(integer_bits) input; result Q0.31."""
    positive = a > 0
    abs_input = a if positive else wrap(-a)
    result_if_positive = one_over_one_plus_x_for_x_in_0_1(
        exp_on_negative_values(wrap(-abs_input), integer_bits))
    if a == 0:
        return 1 << 30
    return result_if_positive if positive else _sub(INT32_MAX, result_if_positive)


def tanh(a: int, integer_bits: int) -> int:
    """gemmlowp::tanh on Q(integer_bits) input; result Q0.31."""
    negative = a < 0
    n = a if negative else wrap(-a)
    # neg_tanh_on_negative_values: exp of 2n, read as Q(integer_bits + 1) with the same raw bits
    t = one_minus_x_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(n, integer_bits + 1))
    if a == 0:
        return 0
    return wrap(-t) if negative else t

