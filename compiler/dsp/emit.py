"""Emit the tables of a DSP configuration as const C arrays and config structs (one .c file that
includes the block headers of runtime_c/dsp), sized for exactly the configuration used."""
from __future__ import annotations

import numpy as np

from .. import __version__
from . import tables as T

_CT = {np.dtype("int16"): "int16_t", np.dtype("uint16"): "uint16_t", np.dtype("int32"): "int32_t",
       np.dtype("uint32"): "uint32_t", np.dtype("uint64"): "uint64_t", np.dtype("int8"): "int8_t"}


def c_array(name: str, a: np.ndarray, per_line: int = 12) -> str:
    a = np.ascontiguousarray(a).ravel()
    ct = _CT[a.dtype]
    suffix = "u" if ct in ("uint32_t",) else ("ull" if ct == "uint64_t" else "")
    vals = []
    for v in a.tolist():
        if ct == "int32_t" and v == -2**31:
            vals.append("(-2147483647 - 1)")
        else:
            vals.append(f"{v}{suffix}")
    lines = [", ".join(vals[i:i + per_line]) for i in range(0, len(vals), per_line)] or ["0"]
    body = ",\n    ".join(lines)
    return f"static const {ct} {name}[{max(len(a), 1)}] = {{\n    {body}\n}};\n"


def _quant(q: dict) -> str:
    return "{%d, %d, %d, %d, %d, %d}" % (q["offset"], q["mult"], q["shift"], q["zero_point"], q["lo"], q["hi"])


class Emitter:
    """Collects tables and config definitions; .source() returns the .c text. Tables shared by
    several configs (the log2 table, an FFT of the same length) are emitted once."""

    def __init__(self, origin: str = "tinykiln.dsp"):
        self.origin = origin
        self.headers: list[str] = []
        self.parts: list[str] = []
        self.done: dict[str, str] = {}

    def _header(self, h: str):
        if h not in self.headers:
            self.headers.append(h)

    def rfft_q15(self, n: int, name: str | None = None, table_n: int | None = None) -> str:
        """Config for length n. table_n (4^k n) shares the tables of that length: the twiddles of
        n are the tail of its twiddle table, the real split takes every (table_n / n)-th row."""
        name = name or f"tk_rfft_q15_cfg_{n}"
        if name in self.done:
            return name
        self._header("rfft_q15.h")
        tb = T.rfft_q15_tables(n)
        self.parts.append(c_array(f"{name}_perm", tb.perm))
        if table_n and table_n != n:
            big = T.rfft_q15_tables(table_n)
            rows = len(tb.twiddle)
            if table_n % n or not np.array_equal(big.twiddle[len(big.twiddle) - rows:], tb.twiddle):
                raise ValueError(f"the tables of n={table_n} cannot serve n={n} (use 4^k times n)")
            base = self.rfft_q15(table_n)
            tw = f"&{base}_twiddle[{len(big.twiddle) - rows} * 2]"
            post, stride = f"{base}_post", table_n // n
        else:
            self.parts += [c_array(f"{name}_twiddle", tb.twiddle), c_array(f"{name}_post", tb.post)]
            tw, post, stride = f"{name}_twiddle", f"{name}_post", 1
        self.parts.append(f"const tk_rfft_q15_cfg {name} = {{{n}, {stride}, {tw}, {name}_perm, {post}}};\n")
        self.done[name] = name
        return name

    def rfft_q31(self, n: int, name: str | None = None) -> str:
        name = name or f"tk_rfft_q31_cfg_{n}"
        if name in self.done:
            return name
        self._header("rfft_q31.h")
        self.parts += [c_array(f"{name}_twiddle", T.twiddles_q30(n // 2)),
                       c_array(f"{name}_perm", T.rfft_q15_tables(n).perm),
                       c_array(f"{name}_post", T.post_q31(n)),
                       f"const tk_rfft_q31_cfg {name} = {{{n}, 1, 1, 0, {name}_twiddle, {name}_perm, {name}_post}};\n"]
        self.done[name] = name
        return name

    def log2_table(self) -> str:
        name = "tk_dsp_log2_table"
        if name not in self.done:
            self.parts.append(c_array(name, T.log2_table()))
            self.done[name] = name
        return name

    def _front(self, t, name: str) -> str:
        self._header("logmel.h")
        fft = self.rfft_q31(t.n)
        lt = self.log2_table()
        m = t.mel
        win = "NULL"
        if t.window_q31 is not None:
            self.parts.append(c_array(f"{name}_window", t.window_q31))
            win = f"{name}_window"
        self.parts += [c_array(f"{name}_fb_start", m.start), c_array(f"{name}_fb_count", m.count),
                       c_array(f"{name}_fb_offset", m.offset), c_array(f"{name}_fb_weights", m.weights),
                       c_array(f"{name}_floor_add", t.floor_add),
                       f"static const tk_logmel_cfg {name}_front = {{&{fft}, {t.frame_length}, {t.frame_stride}, "
                       f"{t.preemph_q15}, {int(t.magnitude)}, {win}, {len(m.start)}, {int(t.floor_is_add)}, "
                       f"{t.log_shift_mult}, {t.floor_q16}, {t.max_shift}, {name}_fb_start, {name}_fb_count, "
                       f"{name}_fb_offset, {name}_fb_weights, {name}_floor_add, {lt}}};\n"]
        return f"{name}_front"

    def frontend(self, t, name: str) -> str:
        """A tinykiln.dsp.frontend.FrontEndTables as `const tk_mfe_s8_cfg name` or
        `const tk_mfcc_s8_cfg name` (when it has a DCT)."""
        front = self._front(t, name)
        if t.dct is None:
            self._header("mfe_s8.h")
            self.parts.append(f"const tk_mfe_s8_cfg {name} = {{&{front}, {_quant(t.quant)}}};\n")
        else:
            self._header("mfcc_s8.h")
            self.parts += [c_array(f"{name}_dct", t.dct),
                           f"static const tk_dsp_quant {name}_quant[{len(t.mfcc_quant)}] = {{\n    "
                           + ",\n    ".join(_quant(q) for q in t.mfcc_quant) + "\n};\n",
                           f"const tk_mfcc_s8_cfg {name} = {{&{front}, {t.base_q16}, {t.dct.shape[0]}, 0, "
                           f"{name}_dct, {name}_quant}};\n"]
        return name

    def spectral(self, t, name: str) -> str:
        self._header("spectral_s8.h")
        fft = self.rfft_q31(t.n)
        lt = self.log2_table()
        win = "NULL"
        if t.window_q31 is not None:
            self.parts.append(c_array(f"{name}_window", t.window_q31))
            win = f"{name}_window"
        self.parts += [c_array(f"{name}_band_lo", t.band_lo), c_array(f"{name}_band_hi", t.band_hi),
                       f"const tk_spectral_s8_cfg {name} = {{&{fft}, {t.sp.frame_length}, {int(t.sp.remove_mean)}, "
                       f"{win}, {len(t.band_lo)}, {t.sp.n_peaks}, {name}_band_lo, {name}_band_hi, {lt}, "
                       f"{t.floor_q16}, {_quant(t.q_rms)}, {_quant(t.q_band)}, {_quant(t.q_freq)}, "
                       f"{_quant(t.q_peak)}}};\n"]
        return name

    def source(self) -> str:
        inc = "".join(f'#include "{h}"\n' for h in self.headers)
        from ..codegen.csource import comment_text       # the origin names the user's impulse file
        return (f"/* generated by tinykiln {__version__} ({comment_text(self.origin)}); do not "
                f"edit */\n"
                f"#include <stddef.h>\n{inc}\n" + "\n".join(self.parts))
