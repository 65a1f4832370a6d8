"""A byte-reproducible .tar.gz of a release folder: the same files give the same bytes in any
folder, as any user, at any time. Entries are sorted, with their folders; owner 0:0 without names;
modes 0644 (0755 for executables and folders); every mtime SOURCE_DATE_EPOCH (or 0); the gzip
header carries no file name and mtime 0, at a fixed compression level."""
from __future__ import annotations

import gzip
import io
import os
import tarfile
from pathlib import Path, PurePosixPath

from ..errors import TinykilnError
from .verify import ARCHIVE, GZIP_HEADER, MANIFEST, folder_files, folder_name, is_release_path

COMPRESSLEVEL = 9


def source_date_epoch() -> int:
    """SOURCE_DATE_EPOCH as a whole number of seconds (0 when unset), or a TinykilnError."""
    text = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not text:
        return 0
    if not text.isdigit() or int(text) >= 8 ** 11:
        raise TinykilnError(f"SOURCE_DATE_EPOCH is {text!r}; it must be a whole number of "
                            f"seconds since 1970-01-01 (as `date +%s` prints).")
    return int(text)


def _members(folder: Path, out: Path, members: list[str] | None) -> list[str]:
    """The files to archive, checked: relative paths of plain files inside the folder."""
    if members is None:
        files, links = folder_files(folder)
        if links:
            raise TinykilnError(f"{folder_name(folder)}{links[0]} is a symbolic link; a "
                                f"release archive holds plain files only.")
        if (folder / MANIFEST).is_file():
            files.append(MANIFEST)
        skip = {out.resolve(), out.with_name(out.name + ".partial").resolve()}
        return sorted(p for p in files if p != ARCHIVE and (folder / p).resolve() not in skip)
    for p in members:
        f = folder / p
        if not is_release_path(p):
            raise TinykilnError(f"{p!r} is not a path inside the release folder "
                                f"{folder_name(folder)}.")
        if f.is_symlink() or not f.is_file():
            raise TinykilnError(f"{folder_name(folder)}{p} is not a file, so it cannot go "
                                f"into the archive.")
    return list(dict.fromkeys(members))


def _entries(files: list[str]) -> list[str]:
    """The files and every folder above them, folders first, in path order."""
    names = set(files)
    for p in files:
        names.update(str(q) for q in PurePosixPath(p).parents if str(q) != ".")
    return sorted(names, key=lambda p: PurePosixPath(p).parts)


def _info(name: str, mtime: int, *, folder: bool, size: int = 0, exe: bool = False):
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE if folder else tarfile.REGTYPE
    info.mode = 0o755 if folder or exe else 0o644
    info.size = size
    info.mtime = mtime
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def archive_bytes(folder: Path, files: list[str], root: str = "") -> bytes:
    """The .tar.gz of these files of the folder, under the folder `root` (none: at the top)."""
    mtime = source_date_epoch()
    raw = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=COMPRESSLEVEL,
                       mtime=0) as gz:
        with tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
            if root:
                tar.addfile(_info(root, mtime, folder=True))
            wanted = set(files)
            for p in _entries(files):
                name = f"{root}/{p}" if root else p
                if p not in wanted:
                    tar.addfile(_info(name, mtime, folder=True))
                    continue
                data = (folder / p).read_bytes()
                exe = bool(os.stat(folder / p).st_mode & 0o111)
                tar.addfile(_info(name, mtime, folder=False, size=len(data), exe=exe),
                            io.BytesIO(data))
    assert raw.getvalue()[:10] == GZIP_HEADER    # what release --verify expects
    return raw.getvalue()


def write_archive(folder: Path, out: Path, members: list[str] | None = None,
                  root: str = "") -> Path:
    """Write a byte-reproducible .tar.gz of the release folder to `out`: the listed members
    (paths relative to the folder), or every file in it but the archive itself, a
    release.tar.gz at its top and the output-folder marker (.tinykiln-output, which names the
    command); entries under
    the folder `root` when one is given (a fixed name, never the folder's own)."""
    folder, out = Path(folder), Path(out)
    if not folder.is_dir():
        raise TinykilnError(f"{folder_name(folder)} is not a folder, so it cannot be archived.")
    if root and not is_release_path(root):
        raise TinykilnError(f"the archive's top folder {root!r} must be a relative path.")
    data = archive_bytes(folder, _members(folder, out, members), root)
    tmp = out.with_name(out.name + ".partial")
    tmp.write_bytes(data)
    os.replace(tmp, out)
    return out
