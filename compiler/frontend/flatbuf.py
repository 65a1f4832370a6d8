"""A minimal, bounds-checked reader of FlatBuffers tables: enough to walk a .tflite file without
TensorFlow or generated classes. Any inconsistency raises FlatbufferError."""
from __future__ import annotations

import struct

import numpy as np


class FlatbufferError(Exception):
    pass


class Table:
    __slots__ = ("buf", "pos", "vtable", "vtlen")

    def __init__(self, buf: bytes, pos: int):
        self.buf = buf
        self.pos = pos
        self.vtable = pos - _i32(buf, pos)
        self.vtlen = _u16(buf, self.vtable)
        if self.vtlen < 4 or self.vtable + self.vtlen > len(buf):
            raise FlatbufferError(f"the table at byte {pos} has a field list (vtable) at byte "
                                  f"{self.vtable} of {self.vtlen} bytes, outside the "
                                  f"{len(buf)}-byte file")

    def _offset(self, slot: int) -> int:
        vo = 4 + 2 * slot
        if vo + 2 > self.vtlen:
            return 0
        return _u16(self.buf, self.vtable + vo)

    def has(self, slot: int) -> bool:
        return self._offset(slot) != 0

    def scalar(self, slot: int, fmt: str, default=0):
        off = self._offset(slot)
        if not off:
            return default
        return _unpack(fmt, self.buf, self.pos + off)

    def _indirect(self, slot: int) -> int | None:
        off = self._offset(slot)
        if not off:
            return None
        p = self.pos + off
        return p + _u32(self.buf, p)

    def table(self, slot: int) -> "Table | None":
        p = self._indirect(slot)
        return None if p is None else Table(self.buf, p)

    def _vector(self, slot: int, elem_size: int) -> tuple[int, int] | None:
        p = self._indirect(slot)
        if p is None:
            return None
        n = _u32(self.buf, p)
        if p + 4 + n * elem_size > len(self.buf):
            raise FlatbufferError(f"a list of {n} items at byte {p} runs past the end of the "
                                  f"{len(self.buf)}-byte file")
        return p + 4, n

    def vector_np(self, slot: int, dtype: str) -> np.ndarray | None:
        dt = np.dtype(dtype).newbyteorder("<")
        v = self._vector(slot, dt.itemsize)
        if v is None:
            return None
        start, n = v
        return np.frombuffer(self.buf, dtype=dt, count=n, offset=start)

    def vector_len(self, slot: int) -> int:
        v = self._vector(slot, 1)
        return 0 if v is None else v[1]

    def tables(self, slot: int) -> list["Table"]:
        v = self._vector(slot, 4)
        if v is None:
            return []
        start, n = v
        return [Table(self.buf, start + 4 * i + _u32(self.buf, start + 4 * i)) for i in range(n)]

    def string(self, slot: int) -> str | None:
        v = self._vector(slot, 1)
        if v is None:
            return None
        start, n = v
        return bytes(self.buf[start:start + n]).decode("utf-8", errors="replace")


def _unpack(fmt: str, buf: bytes, pos: int):
    size = struct.calcsize("<" + fmt)
    if pos < 0 or pos + size > len(buf):
        raise FlatbufferError(f"an offset points to byte {pos}, outside the {len(buf)}-byte file")
    return struct.unpack_from("<" + fmt, buf, pos)[0]


def _i32(buf, pos):
    return _unpack("i", buf, pos)


def _u32(buf, pos):
    return _unpack("I", buf, pos)


def _u16(buf, pos):
    return _unpack("H", buf, pos)


def root(buf: bytes) -> Table:
    return Table(buf, _u32(buf, 0))
