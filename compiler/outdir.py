"""Output folders: they appear whole or not at all, and never at the cost of a user's files.
Files go into a temporary sibling folder renamed into place only when everything was written.
The folder named may be new, empty, or one tinykiln wrote before (it leaves a marker file,
MARKER, in every output folder); anything else is refused before any work is done."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .errors import TinykilnError

MARKER = ".tinykiln-output"


@dataclass(frozen=True)
class _Request:
    """The output folder the user named on the command line and what the command reads."""
    path: Path                     # resolved; --force applies to this folder only
    inputs: tuple[Path, ...]       # resolved input files and folders
    force: bool
    command: str | None


_REQUEST: ContextVar[_Request | None] = ContextVar("tinykiln_output_request", default=None)


def is_tinykiln_output(folder: Path) -> bool:
    """True if folder holds the marker tinykiln leaves in every output folder it writes."""
    try:
        with open(Path(folder) / MARKER, encoding="utf-8") as f:
            return json.loads(f.readline()).get("tool") == "tinykiln"
    except (OSError, ValueError, AttributeError):
        return False


def _within(inner: Path, outer: Path) -> bool:
    return inner == outer or outer in inner.parents


def check_output_dir(out_dir: str | Path, inputs=(), force: bool = False) -> Path:
    """The resolved folder if writing out_dir is allowed, else one sentence (TinykilnError):
    a file, the current folder or one of its ancestors, a folder holding an input, and a
    non-empty folder tinykiln did not write (unless force) are refused."""
    p = Path(out_dir)
    if p.exists() and not p.is_dir():
        raise TinykilnError(f"output folder {p} is an existing file; give a new folder name.")
    final = p.resolve()
    if _within(Path.cwd().resolve(), final):
        what = "the current folder" if final == Path.cwd().resolve() else \
            "a folder that holds the current folder"
        raise TinykilnError(f"refusing to write to {p}: it is {what}, and tinykiln replaces its "
                            f"output folder whole; give a new folder name.")
    for i in inputs:
        if _within(Path(i).resolve(), final):
            raise TinykilnError(f"refusing to write to {p}: it holds the input {i}, and tinykiln "
                                f"replaces its output folder whole; give another folder.")
    if final.is_dir():
        try:
            entries = sorted(e.name for e in final.iterdir())
        except OSError as e:
            raise TinykilnError(f"cannot use output folder {p}: {e.strerror}.") from None
        if entries and not force and not is_tinykiln_output(final):
            raise TinykilnError(
                f"refusing to replace {p}: it holds {len(entries)} entr"
                f"{'y' if len(entries) == 1 else 'ies'} ('{entries[0]}'"
                f"{', ...' if len(entries) > 1 else ''}) and tinykiln did not write it; give a new "
                f"folder name, or --force to replace the folder whole.")
        if not os.access(final.parent, os.W_OK | os.X_OK):
            raise TinykilnError(f"cannot replace output folder {p}: no permission to write in "
                                f"{final.parent}.")
        return final
    anc = final.parent
    while not anc.exists():
        anc = anc.parent
    if not anc.is_dir():
        raise TinykilnError(f"cannot create output folder {p}: {anc} is a file.")
    if not os.access(anc, os.W_OK | os.X_OK):
        raise TinykilnError(f"cannot create output folder {p}: no permission to write in {anc}.")
    return final


def _resolved(paths) -> tuple[Path, ...]:
    return tuple(Path(x).resolve() for x in paths if x is not None)


@contextmanager
def user_output(out_dir: str | Path, inputs=(), force: bool = False, command: str | None = None):
    """The output folder a command was given: checked now, before the long work, and the same
    rules (its inputs, --force for this folder) applied again when staged_output replaces it."""
    final = check_output_dir(out_dir, inputs, force)
    token = _REQUEST.set(_Request(final, _resolved(inputs), force, command))
    try:
        yield final
    finally:
        _REQUEST.reset(token)


def add_inputs(*paths) -> None:
    """More inputs of the current command, known only after loading (an impulse's model, a
    board file): a later staged_output refuses a folder that holds them too."""
    req = _REQUEST.get()
    if req is not None:
        _REQUEST.set(_Request(req.path, req.inputs + _resolved(paths), req.force, req.command))


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_marker(folder: Path, command: str | None = None) -> None:
    req = _REQUEST.get()
    cmd = command or (req.command if req else None) or "tinykiln (Python API)"
    (Path(folder) / MARKER).write_text(json.dumps(
        {"tool": "tinykiln", "version": __version__, "command": cmd}) + "\n")


def claim_folder(out_dir: str | Path) -> Path:
    """Make out_dir (checked as check_output_dir does) a folder tinykiln writes into in place,
    file by file (the demo's folder): created if missing, marked as tinykiln's."""
    req = _REQUEST.get()
    final = check_output_dir(out_dir, req.inputs if req else ())
    try:
        final.mkdir(parents=True, exist_ok=True)
        write_marker(final)
    except OSError as e:
        raise TinykilnError(f"cannot create output folder {out_dir}: {e.strerror}.") from None
    return final


@contextmanager
def staged_output(out_dir: str | Path, inputs=(), force: bool = False):
    """Yield a temp folder beside out_dir; on success it replaces out_dir, on error it vanishes.
    out_dir must pass check_output_dir (with the inputs and --force of the command the CLI is
    running, see user_output), both before and after the work."""
    req = _REQUEST.get()
    final = Path(out_dir).resolve()
    inputs = _resolved(inputs) + (req.inputs if req else ())
    force = force or bool(req and req.force and req.path == final)
    check_output_dir(out_dir, inputs, force)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp", dir=final.parent))
    except OSError as e:
        raise TinykilnError(f"cannot create output folder {out_dir}: {e.strerror}.") from None
    old = None
    try:
        yield tmp
        write_marker(tmp)
        os.chmod(tmp, 0o777 & ~_umask())      # mkdtemp made it 0700
        check_output_dir(out_dir, inputs, force)     # the folder may have changed meanwhile
        if final.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{final.name}.old", dir=final.parent))
            final.rename(old / "x")
        tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and (old / "x").exists() and not final.exists():
            (old / "x").rename(final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
