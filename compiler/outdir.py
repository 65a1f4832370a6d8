"""Output folders appear whole or not at all: files go into a temporary sibling folder that is
renamed into place only when everything was written."""
from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from .errors import TinykilnError


@contextmanager
def staged_output(out_dir: str | Path):
    """Yield a temp folder beside out_dir; on success it replaces out_dir, on error it vanishes."""
    final = Path(out_dir).resolve()
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise TinykilnError(f"cannot create output folder {out_dir}: {e.strerror}.") from None
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp", dir=final.parent))
    try:
        yield tmp
        if final.exists():
            shutil.rmtree(final)
        tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
