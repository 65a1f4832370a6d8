"""DEPTHWISE_CONV_2D int8, 3x3, stride 1, depth multiplier 1: the line kernel
tk_depthwise3x3_s8 (depthwise3x3_s8.c). Not a family of its own: conv.py's lowering hands it
the ops it covers."""
from __future__ import annotations


def dw3x3_applies(fields: dict) -> bool:
    """Whether the line kernel covers the op whose (flat) conv fields these are."""
    return False


def lower_dw3x3(op, ctx, fields: dict, w2d, fb, fb_what: str, macs: int) -> None:
    raise AssertionError("not reached: dw3x3_applies is False")
