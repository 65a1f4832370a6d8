"""Content-addressed cache of release jobs: a job's record and files are stored under the
SHA-256 of everything that decides them (tinykiln's code, the job's input files, its board,
flags, the project version and the toolchain's versions), beside the firmware cache; a job whose
key is stored is not run again."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from .. import __version__
from ..targets.firmware import cache_root
from .toolchain import tinykiln_build_id

RECORD = "record.json"


def release_cache_root() -> Path:
    return cache_root().parent / "release"


def hash_path(p: Path) -> str:
    """SHA-256 of a file's bytes, or of a folder's files (relative names and bytes, sorted)."""
    h = hashlib.sha256()
    p = Path(p)
    if p.is_dir():
        for q in sorted(x for x in p.rglob("*") if x.is_file()):
            h.update(q.relative_to(p).as_posix().encode() + b"\0")
            h.update(hashlib.sha256(q.read_bytes()).digest())
        return h.hexdigest()
    with open(p, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def job_key(input_hashes: dict[str, str], flags: dict, toolchain: dict[str, str],
            extra: dict) -> str:
    """The cache key of a job: its inputs by hash (names included), flags, tools, tinykiln."""
    blob = json.dumps({"tinykiln": __version__, "build": tinykiln_build_id(),
                       "inputs": input_hashes, "flags": flags, "toolchain": toolchain,
                       "extra": extra}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def load(key: str) -> tuple[dict, Path] | None:
    """(record, folder of its files) of a stored job, or None."""
    d = release_cache_root() / key[:2] / key
    try:
        rec = json.loads((d / RECORD).read_text())
    except (OSError, ValueError):
        return None
    if not all((d / f).is_file() for f in rec.get("files", [])):
        return None
    return rec, d


def store(key: str, record: dict, work: Path) -> None:
    """Keep a finished job (its record and the files it lists); a failure to write the cache
    only costs the next run its reuse."""
    final = release_cache_root() / key[:2] / key
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key[:12]}.", dir=final.parent))
        for f in record["files"]:
            shutil.copyfile(work / f, tmp / f)
        (tmp / RECORD).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
        os.chmod(tmp, 0o755)
        if final.exists():
            shutil.rmtree(final, ignore_errors=True)
        tmp.rename(final)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True) if "tmp" in locals() else None
