"""Reading a release folder's manifest.json (checked field by field, one sentence when it is wrong)
and re-hashing the folder against it: every listed output present and unchanged, no file the
manifest does not list, every job's outputs among the listed ones. Two top-level files are not
listed: the output-folder marker (bookkeeping, not release content) and release.tar.gz (it holds
the manifest), whose members are checked against the manifest instead."""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import tarfile
import zlib
from pathlib import Path

from ..errors import TinykilnError
from ..outdir import MARKER

MANIFEST = "manifest.json"
ARCHIVE = "release.tar.gz"
# the reproducible archive's gzip header: deflate, no flags (no file name), mtime 0, level 9,
# OS unknown
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
FORMAT = 1
_SHA256 = re.compile(r"[0-9a-f]{64}")


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file's bytes, in lower-case hex."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def folder_name(folder) -> str:
    """A folder as printed: one trailing slash, whatever the user typed."""
    return str(Path(folder)) + "/"


def is_release_path(p: str) -> bool:
    """A path a manifest may list inside its folder: relative, POSIX, no '..', nothing empty."""
    if not p or "\\" in p or "\0" in p or p.startswith("/"):
        return False
    parts = p.split("/")
    return all(part not in ("", ".", "..") for part in parts)


def read_manifest(folder: Path) -> dict:
    """The manifest of a release folder, checked: a TinykilnError (one sentence) when the folder
    or its manifest.json is missing, unreadable, not JSON, or not in the expected shape."""
    folder = Path(folder)
    where = folder_name(folder) + MANIFEST
    if not folder.exists():
        raise TinykilnError(f"{folder_name(folder)} does not exist.")
    if not folder.is_dir():
        raise TinykilnError(f"{folder} is a file, not a release folder.")
    path = folder / MANIFEST
    if not path.is_file():
        raise TinykilnError(f"{folder_name(folder)} has no {MANIFEST}: it is not a release "
                            f"folder written by `tinykiln release`.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise TinykilnError(f"{where} cannot be read ({e.strerror or e}).") from None
    except UnicodeDecodeError:
        raise TinykilnError(f"{where} is not UTF-8 text, so it is not a release "
                            f"manifest.") from None
    except json.JSONDecodeError as e:
        raise TinykilnError(f"{where} is not valid JSON ({e.msg} at line {e.lineno}, column "
                            f"{e.colno}).") from None
    _check_manifest(data, where)
    return data


def _check_manifest(data, where: str) -> None:
    if not isinstance(data, dict):
        raise TinykilnError(f"{where} holds a JSON {type(data).__name__}, not the object of a "
                            f"release manifest.")
    if data.get("format") != FORMAT:
        raise TinykilnError(f"{where} has format {data.get('format')!r}; this tinykiln reads "
                            f"release manifests of format {FORMAT}.")
    for key in ("inputs", "outputs"):
        table = data.get(key)
        if not isinstance(table, dict):
            raise TinykilnError(f"{where}: '{key}' must be an object of paths and SHA-256 "
                                f"hashes, not {type(table).__name__}.")
        for p, h in table.items():
            if not isinstance(h, str) or not _SHA256.fullmatch(h):
                raise TinykilnError(f"{where}: the hash of {key[:-1]} {p!r} is {h!r}, not 64 "
                                    f"lower-case hex digits (SHA-256).")
    for p in data["outputs"]:
        if not is_release_path(p) or p == MANIFEST:
            raise TinykilnError(f"{where} lists the output {p!r}, which is not a path inside "
                                f"the release folder.")
    jobs = data.get("jobs")
    if not isinstance(jobs, list):
        raise TinykilnError(f"{where}: 'jobs' must be a list, not {type(jobs).__name__}.")
    for i, job in enumerate(jobs):
        _check_job(job, f"{where}: job {i + 1}")


def _check_job(job, where: str) -> None:
    if not isinstance(job, dict):
        raise TinykilnError(f"{where} is a {type(job).__name__}, not an object.")
    for key in ("target", "board", "status"):
        if not isinstance(job.get(key), str):
            raise TinykilnError(f"{where} has no '{key}' string.")
    outs = job.get("outputs", [])
    if not isinstance(outs, list) or not all(isinstance(o, str) for o in outs):
        raise TinykilnError(f"{where} ({job['target']} on {job['board']}): 'outputs' must be a "
                            f"list of paths.")
    hashes = job.get("input_hashes", {})
    if not isinstance(hashes, dict) or not all(isinstance(h, str) for h in hashes.values()):
        raise TinykilnError(f"{where} ({job['target']} on {job['board']}): 'input_hashes' must "
                            f"be an object of paths and SHA-256 hashes.")
    for key in ("flash", "ram", "instructions", "flash_size", "ram_size", "accuracy"):
        v = job.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
            raise TinykilnError(f"{where} ({job['target']} on {job['board']}): '{key}' is "
                                f"{v!r}, not a number or null.")


def folder_files(folder: Path) -> tuple[list[str], list[str]]:
    """(every file under the folder, every symbolic link under it), as sorted POSIX paths
    relative to it; manifest.json and the output-folder marker at the top are left out."""
    files, links = [], []
    for root, dirs, names in os.walk(folder):
        rel = Path(root).relative_to(folder)
        for name in dirs + names:
            p = (rel / name).as_posix()
            if (Path(root) / name).is_symlink():
                links.append(p)
            elif name in names and p not in (MANIFEST, MARKER):
                files.append(p)
    return sorted(files), sorted(links)


def verify_release(folder: Path) -> list[str]:
    """Every way the folder differs from its manifest, one sentence each (none: it matches).
    A missing or invalid manifest is a TinykilnError."""
    return _verify(Path(folder))[1]


def _verify(folder: Path) -> tuple[dict, list[str]]:
    manifest = read_manifest(folder)
    outputs: dict[str, str] = manifest["outputs"]
    files, links = folder_files(folder)
    problems = []
    for p in links:
        problems.append(f"{p} is a symbolic link; a release folder holds plain files only.")
    for p, want in sorted(outputs.items()):
        f = folder / p
        if f.is_symlink() or p in links:
            continue
        problems += _file_problems(f, p, want)
    for p in files:
        if p == ARCHIVE and p not in outputs:
            problems += archive_problems(folder / p, outputs, (folder / MANIFEST).read_bytes())
        elif p not in outputs:
            problems.append(f"{p} is in the folder but not in the manifest.")
    for job in manifest["jobs"]:
        for p in job.get("outputs", []):
            if p not in outputs:
                problems.append(f"the job {job['target']} on {job['board']} lists the output "
                                f"{p}, which the manifest's outputs do not.")
    return manifest, problems


def _file_problems(f: Path, p: str, want: str) -> list[str]:
    if not f.exists():
        return [f"{p} is listed in the manifest but missing."]
    if not f.is_file():
        return [f"{p} is listed in the manifest as a file but is "
                f"{'a folder' if f.is_dir() else 'not a plain file'}."]
    try:
        got = sha256_file(f)
    except OSError as e:
        return [f"{p} cannot be read ({e.strerror or e})."]
    if got != want:
        return [f"{p} has changed: its SHA-256 is {got[:16]}..., the manifest says "
                f"{want[:16]}...."]
    return []


def archive_problems(path: Path, outputs: dict[str, str], manifest: bytes) -> list[str]:
    """How the release archive differs from the manifest: each listed output and manifest.json
    as a member with the same bytes, nothing else but folders."""
    name = path.name
    seen, problems = set(), []
    try:
        data = path.read_bytes()
        if data[:10] != GZIP_HEADER:
            problems.append(f"{name} does not start with the gzip header tinykiln writes (no "
                            f"file name, time 0, compression level 9).")
        raw = io.BytesIO(gzip.decompress(data))    # checks the CRC too
        with tarfile.open(fileobj=raw, mode="r:") as tar:
            for m in tar:
                if m.isdir():
                    continue
                p = m.name.removeprefix("./")
                data = tar.extractfile(m).read() if m.isfile() else None
                if data is None:
                    problems.append(f"{name} holds {p}, which is not a plain file.")
                elif p == MANIFEST:
                    seen.add(p)
                    if data != manifest:
                        problems.append(f"{name} holds a {MANIFEST} other than the folder's.")
                elif p not in outputs:
                    problems.append(f"{name} holds {p}, which the manifest does not list.")
                else:
                    seen.add(p)
                    if hashlib.sha256(data).hexdigest() != outputs[p]:
                        problems.append(f"{name} holds a {p} that differs from the manifest's.")
    except (OSError, EOFError, zlib.error, tarfile.TarError) as e:
        return [f"{name} is not a readable .tar.gz archive ({e})."]
    missing = sorted((outputs.keys() | {MANIFEST}) - seen)
    if missing:
        problems.append(f"{name} lacks {len(missing)} file{'s' * (len(missing) != 1)} of the "
                        f"release: {', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''}.")
    return problems


def verify_summary(folder: Path) -> tuple[bool, str]:
    """What `tinykiln release --verify DIR` prints, and whether the folder matches: one line
    when it does, else one line per problem and a last line that counts them."""
    manifest, problems = _verify(Path(folder))
    name = folder_name(folder)
    if not problems:
        n = len(manifest["outputs"])
        files = "1 file matches" if n == 1 else f"{n} files match"
        also = f", and {ARCHIVE} holds them" if (Path(folder) / ARCHIVE).is_file() else ""
        return True, f"release {name} verified: {files} its manifest{also}."
    n = len(problems)
    return False, "\n".join(problems + [f"release {name} does not match its manifest: {n} "
                                        f"problem{'s' * (n != 1)}."])
