"""The versions of the tools a release used (compilers, C libraries, SCons, QEMU, Python, numpy),
for the manifest and the cache key; a tool that is not installed is left out."""
from __future__ import annotations

import hashlib
import platform
import re
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from ..targets.chips import ARCH_TOOLS

_VERSION = re.compile(r"(\d+\.\d+(?:\.\d+)?)")


def _first_version(cmd: list[str]) -> str | None:
    if shutil.which(cmd[0]) is None:
        return None
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    line = (r.stdout or r.stderr).splitlines()[:1]
    m = _VERSION.search(line[0]) if line else None
    return m.group(1) if m else (line[0].strip() if line else None)


def _libc_version(cc: str, flags: tuple[str, ...], macro: str) -> str | None:
    """A C library's version macro, as the cross compiler sees it."""
    if shutil.which(cc) is None:
        return None
    header = "picolibc.h" if "PICOLIBC" in macro else "newlib.h"
    try:
        r = subprocess.run([cc, *flags, "-E", "-dM", "-include", header, "-x", "c", "-"],
                           input="", capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(rf"#define {macro} \"?([^\"\s]+)\"?", r.stdout)
    return m.group(1) if m else None


@lru_cache(maxsize=None)
def toolchain_versions(archs: tuple[str, ...], emulated: tuple[str, ...]) -> dict[str, str]:
    """Versions of the host gcc (host runs of eval data), the cross tools of `archs` ("arm",
    "riscv"), the QEMU of `emulated` archs, SCons, Python and numpy."""
    import numpy
    out = {"python": platform.python_version(), "numpy": numpy.__version__}
    try:
        import SCons
        out["scons"] = SCons.__version__
    except ImportError:
        pass
    v = _first_version(["gcc", "-dumpfullversion"])
    if v:
        out["gcc"] = v
    for arch in sorted(set(archs)):
        t = ARCH_TOOLS[arch]
        cc = t["prefix"] + "gcc"
        v = _first_version([cc, "-dumpfullversion"])
        if v:
            out[cc] = v
        lib = ("picolibc", "__PICOLIBC_VERSION__") if arch == "riscv" else \
            ("newlib", "_NEWLIB_VERSION")
        v = _libc_version(cc, t["libc_flags"], lib[1])
        if v:
            out[lib[0]] = v
    for arch in sorted(set(emulated)):
        q = ARCH_TOOLS[arch]["qemu"]
        v = _first_version([q, "--version"])
        if v:
            out[q] = v
    return out


@lru_cache(maxsize=None)
def tinykiln_build_id() -> str:
    """A hash of tinykiln's own code and data (Python, templates, C runtime, boards): a cached
    job is reused only by the same tinykiln, also between releases of one version number."""
    from ..resources import resource_dir
    pkg = Path(__file__).resolve().parent.parent
    roots = [pkg] + [resource_dir(n) for n in ("templates", "runtime_c", "boards")]
    h = hashlib.sha256()
    for root in roots:
        for p in sorted(root.rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc":
                h.update(p.relative_to(root).as_posix().encode() + b"\0" + p.read_bytes())
    return h.hexdigest()
