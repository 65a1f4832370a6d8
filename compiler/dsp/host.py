"""Build runtime_c/dsp into a host shared library with gcc and call it through ctypes (tests, and
users who want the exact C features on the host). The library is cached in the temp folder under
a hash of the sources and flags."""
from __future__ import annotations

import ctypes as C
import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from ..errors import TinykilnError
from ..resources import resource_dir
from . import tables as T

WARN_FLAGS = ["-Wall", "-Wextra", "-Werror"]
VARIANTS = {
    "portable": [],
    "simd": ["-DTK_DSP_EMULATE_SIMD"],     # the Cortex-M DSP-extension path, intrinsics in C
}


def dsp_sources() -> list[Path]:
    d = resource_dir("runtime_c") / "dsp"
    return sorted(d.glob("*.c"))


def build_library(variant: str = "portable", cc: str = "gcc", extra: tuple[str, ...] = ()) -> Path:
    if shutil.which(cc) is None:
        raise TinykilnError(f"building the DSP front end for the host needs a C compiler, and '{cc}' is not on PATH.")
    srcs = dsp_sources()
    flags = ["-std=c99", "-O2", *WARN_FLAGS, "-fPIC", "-shared", *VARIANTS[variant], *extra]
    h = hashlib.sha256(" ".join([cc, *flags]).encode())
    for p in sorted(srcs + list(srcs[0].parent.glob("*.h"))):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    out_dir = Path(tempfile.gettempdir()) / f"tinykiln-dsp-{h.hexdigest()[:16]}"
    lib = out_dir / "libtkdsp.so"
    if lib.exists():
        return lib
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / f"libtkdsp.{id(out_dir)}.tmp"
    cmd = [cc, *flags, "-I", str(srcs[0].parent), "-o", str(tmp), *map(str, srcs)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"DSP host build failed:\n{' '.join(cmd)}\n{r.stderr}")
    tmp.replace(lib)
    return lib


def _ptr(a: np.ndarray, ctype):
    return a.ctypes.data_as(C.POINTER(ctype))


class RfftQ15Cfg(C.Structure):
    _fields_ = [("n", C.c_uint16), ("post_stride", C.c_uint16), ("twiddle", C.POINTER(C.c_int16)),
                ("perm", C.POINTER(C.c_uint16)), ("post", C.POINTER(C.c_int16))]


class RfftQ31Cfg(C.Structure):
    _fields_ = [("n", C.c_uint16), ("tw_stride", C.c_uint16), ("post_stride", C.c_uint16),
                ("reserved", C.c_uint16), ("twiddle", C.POINTER(C.c_int32)),
                ("perm", C.POINTER(C.c_uint16)), ("post", C.POINTER(C.c_int32))]


class DspLib:
    """ctypes handle on the host build; methods take batches of frames like tinykiln.dsp.model."""

    def __init__(self, variant: str = "portable", cc: str = "gcc", extra: tuple[str, ...] = ()):
        self.path = build_library(variant, cc, extra)
        self.lib = C.CDLL(str(self.path))
        self._keep: list = []
        self._rfft_cfgs: dict = {}

    def rfft_q15_cfg(self, n: int, table_n: int | None = None) -> RfftQ15Cfg:
        """Config for length n; table_n > n shares the twiddle/post tables of that length."""
        key = (n, table_n)
        if key not in self._rfft_cfgs:
            tn = table_n or n
            tb, big = T.rfft_q15_tables(n), T.rfft_q15_tables(tn)
            # the twiddles of n are the last rows of a longer table of the same parity of log4
            tw = np.ascontiguousarray(big.twiddle)
            rows = len(tb.twiddle)
            assert np.array_equal(tw[len(tw) - rows:], tb.twiddle) or rows == 0 or tn == n, "no suffix"
            tw_ptr = C.cast(C.c_void_p(tw.ctypes.data + (len(tw) - rows) * 4), C.POINTER(C.c_int16))
            perm = np.ascontiguousarray(tb.perm)
            post = np.ascontiguousarray(big.post)
            cfg = RfftQ15Cfg(n, tn // n, tw_ptr, _ptr(perm, C.c_uint16), _ptr(post, C.c_int16))
            self._keep += [tw, perm, post]
            self._rfft_cfgs[key] = cfg
        return self._rfft_cfgs[key]

    def rfft_q15(self, x: np.ndarray, bfp: bool = False, table_n: int | None = None):
        x = np.atleast_2d(np.asarray(x, np.int16))
        f, n = x.shape
        cfg = self.rfft_q15_cfg(n, table_n)
        out = np.zeros((f, n // 2 + 1, 2), np.int16)
        s = np.zeros(f, np.int64)
        buf = np.zeros(n, np.int16)
        fn = self.lib.tk_rfft_q15_bfp if bfp else self.lib.tk_rfft_q15
        for i in range(f):
            buf[:] = x[i]
            r = fn(C.byref(cfg), _ptr(buf, C.c_int16), _ptr(out[i], C.c_int16))
            if bfp:
                s[i] = r
        return (out, s) if bfp else out

    def rfft_q31_cfg(self, n: int) -> RfftQ31Cfg:
        key = ("q31", n)
        if key not in self._rfft_cfgs:
            m = n // 2
            tw = np.ascontiguousarray(T.twiddles_q30(m))
            perm = np.ascontiguousarray(T.rfft_q15_tables(n).perm)
            post = np.ascontiguousarray(T.post_q31(n))
            self._keep += [tw, perm, post]
            self._rfft_cfgs[key] = RfftQ31Cfg(n, 1, 1, 0, _ptr(tw, C.c_int32), _ptr(perm, C.c_uint16),
                                              _ptr(post, C.c_int32))
        return self._rfft_cfgs[key]

    def rfft_q31(self, x: np.ndarray):
        x = np.atleast_2d(np.asarray(x, np.int32))
        f, n = x.shape
        cfg = self.rfft_q31_cfg(n)
        out = np.zeros((f, n // 2 + 1, 2), np.int32)
        buf = np.zeros(n, np.int32)
        for i in range(f):
            buf[:] = x[i]
            self.lib.tk_rfft_q31(C.byref(cfg), _ptr(buf, C.c_int32), _ptr(out[i], C.c_int32))
        return out

    def log2_q16(self, v: np.ndarray) -> np.ndarray:
        tab = T.log2_table()
        self.lib.tk_log2_q16.restype = C.c_int32
        self.lib.tk_log2_q16.argtypes = [C.c_uint64, C.POINTER(C.c_uint32)]
        return np.array([self.lib.tk_log2_q16(int(x), _ptr(tab, C.c_uint32)) for x in np.asarray(v, np.uint64)],
                        np.int64)

    def isqrt64(self, v: np.ndarray) -> np.ndarray:
        self.lib.tk_isqrt64.restype = C.c_uint32
        self.lib.tk_isqrt64.argtypes = [C.c_uint64]
        return np.array([self.lib.tk_isqrt64(int(x)) for x in np.asarray(v, np.uint64)], np.int64)


class Quant(C.Structure):
    _fields_ = [("offset", C.c_int32), ("mult", C.c_int32), ("shift", C.c_int32),
                ("zero_point", C.c_int32), ("lo", C.c_int32), ("hi", C.c_int32)]


class LogmelCfg(C.Structure):
    _fields_ = [("fft", C.POINTER(RfftQ31Cfg)), ("frame_length", C.c_uint16), ("frame_stride", C.c_uint16),
                ("preemph", C.c_int16), ("magnitude", C.c_uint16), ("window", C.POINTER(C.c_int32)),
                ("n_filters", C.c_uint16), ("floor_is_add", C.c_uint16), ("log_shift_mult", C.c_int32),
                ("floor_q16", C.c_int32), ("max_shift", C.c_int32),
                ("fb_start", C.POINTER(C.c_uint16)), ("fb_count", C.POINTER(C.c_uint16)),
                ("fb_offset", C.POINTER(C.c_uint16)), ("fb_weights", C.POINTER(C.c_uint16)),
                ("floor_add", C.POINTER(C.c_uint64)), ("log2_table", C.POINTER(C.c_uint32))]


class MfeCfg(C.Structure):
    _fields_ = [("front", C.POINTER(LogmelCfg)), ("quant", Quant)]


class MfccCfg(C.Structure):
    _fields_ = [("front", C.POINTER(LogmelCfg)), ("base_q16", C.c_int32), ("n_coefs", C.c_uint16),
                ("reserved", C.c_uint16), ("dct", C.POINTER(C.c_int16)), ("quant", C.POINTER(Quant))]


def _quant(q: dict) -> Quant:
    return Quant(q["offset"], q["mult"], q["shift"], q["zero_point"], q["lo"], q["hi"])


class FrontEndHost:
    """A tinykiln.dsp.frontend.FrontEndTables bound to the C blocks of a DspLib."""

    def __init__(self, lib: DspLib, t):
        self.lib, self.t = lib, t
        keep = []

        def arr(a, dt, ct):
            a = np.ascontiguousarray(np.asarray(a, dt))
            keep.append(a)
            return _ptr(a, ct)

        self.fft = lib.rfft_q31_cfg(t.n)
        m = t.mel
        self.front = LogmelCfg(
            C.pointer(self.fft), t.frame_length, t.frame_stride, t.preemph_q15, int(t.magnitude),
            arr(t.window_q31, np.int32, C.c_int32) if t.window_q31 is not None else C.POINTER(C.c_int32)(),
            len(m.start), int(t.floor_is_add), t.log_shift_mult, t.floor_q16, t.max_shift,
            arr(m.start, np.uint16, C.c_uint16), arr(m.count, np.uint16, C.c_uint16),
            arr(m.offset, np.uint16, C.c_uint16), arr(m.weights, np.uint16, C.c_uint16),
            arr(t.floor_add, np.uint64, C.c_uint64), arr(T.log2_table(), np.uint32, C.c_uint32))
        if t.dct is None:
            self.cfg = MfeCfg(C.pointer(self.front), _quant(t.quant))
            self.fn, self.fn_frames, self.n_out = lib.lib.tk_mfe_s8, lib.lib.tk_mfe_s8_frames, len(m.start)
        else:
            qs = (Quant * len(t.mfcc_quant))(*[_quant(q) for q in t.mfcc_quant])
            keep.append(qs)
            self.cfg = MfccCfg(C.pointer(self.front), t.base_q16, t.dct.shape[0], 0,
                               arr(t.dct, np.int16, C.c_int16), qs)
            self.fn, self.fn_frames, self.n_out = lib.lib.tk_mfcc_s8, lib.lib.tk_mfcc_s8_frames, t.dct.shape[0]
        self._keep = keep
        self.scratch = np.zeros(t.n + 1 + (len(m.start) + 1) // 2, np.int64).view(np.int32)  # 8-byte aligned

    def frames(self, fr: np.ndarray, prev: np.ndarray) -> np.ndarray:
        fr = np.ascontiguousarray(np.atleast_2d(fr), np.int16)
        out = np.zeros((fr.shape[0], self.n_out), np.int8)
        for i in range(fr.shape[0]):
            self.fn(C.byref(self.cfg), _ptr(fr[i], C.c_int16), C.c_int16(int(prev[i])),
                    _ptr(self.scratch, C.c_int32), _ptr(out[i], C.c_int8))
        return out

    def run_signal(self, signal: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(signal, np.int16)
        t = self.t
        nf = 1 + (len(x) - t.frame_length) // t.frame_stride if len(x) >= t.frame_length else 0
        out = np.zeros((nf, self.n_out), np.int8)
        if nf:
            self.fn_frames(C.byref(self.cfg), _ptr(x, C.c_int16), nf, _ptr(self.scratch, C.c_int32),
                           _ptr(out, C.c_int8))
        return out


class SpectralCfg(C.Structure):
    _fields_ = [("fft", C.POINTER(RfftQ31Cfg)), ("frame_length", C.c_uint16), ("remove_mean", C.c_uint16),
                ("window", C.POINTER(C.c_int32)), ("n_bands", C.c_uint16), ("n_peaks", C.c_uint16),
                ("band_lo", C.POINTER(C.c_uint16)), ("band_hi", C.POINTER(C.c_uint16)),
                ("log2_table", C.POINTER(C.c_uint32)), ("floor_q16", C.c_int32),
                ("q_rms", Quant), ("q_band", Quant), ("q_freq", Quant), ("q_peak", Quant)]


class SpectralHost:
    """A tinykiln.dsp.spectral.SpectralTables bound to tk_spectral_s8 of a DspLib."""

    def __init__(self, lib: DspLib, t):
        self.lib, self.t = lib, t
        self._keep = [np.ascontiguousarray(a) for a in
                      (t.band_lo, t.band_hi, T.log2_table(),
                       t.window_q31 if t.window_q31 is not None else np.zeros(1, np.int32))]
        lo, hi, tab, win = self._keep
        self.fft = lib.rfft_q31_cfg(t.n)
        self.cfg = SpectralCfg(C.pointer(self.fft), t.sp.frame_length, int(t.sp.remove_mean),
                               _ptr(win, C.c_int32) if t.window_q31 is not None else C.POINTER(C.c_int32)(),
                               len(lo), t.sp.n_peaks, _ptr(lo, C.c_uint16), _ptr(hi, C.c_uint16),
                               _ptr(tab, C.c_uint32), t.floor_q16, _quant(t.q_rms), _quant(t.q_band),
                               _quant(t.q_freq), _quant(t.q_peak))
        self.scratch = np.zeros(t.n + 1, np.int64).view(np.int32)

    def frames(self, fr: np.ndarray) -> np.ndarray:
        fr = np.ascontiguousarray(np.atleast_2d(fr), np.int16)
        out = np.zeros((fr.shape[0], self.t.n_out), np.int8)
        for i in range(fr.shape[0]):
            self.lib.lib.tk_spectral_s8(C.byref(self.cfg), _ptr(fr[i], C.c_int16), _ptr(self.scratch, C.c_int32),
                                        _ptr(out[i], C.c_int8))
        return out
