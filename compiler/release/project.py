"""The project file of a release, tinykiln.toml: the project's name and version, an optional
signing key, and [[target]] entries (a model, the boards it is built for, optional eval data and
budgets). Validated field by field like board files: every mistake is one sentence naming the
file and the field. Paths are relative to the project file's folder."""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import TinykilnError
from ..targets.board import BOARD_NAME, Board, get_board
from ..targets.fields import Fields

PROJECT_FILE = "tinykiln.toml"
TARGET_NAME = BOARD_NAME            # names a folder of the release, as a board name does
VERSION = re.compile(r"\d+(\.\d+){0,2}([-+][0-9A-Za-z.+-]+)?")
OPTIMIZE = ("balanced", "ram", "speed")
KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")
_TOP = {"project", "signing", "target"}
_PROJECT = {"name", "version"}
_SIGNING = {"key"}
_TARGET = {"name", "model", "calibration", "boards", "eval", "optimize", "budgets",
           "float_accuracy"}
# budget -> (type, what it bounds)
BUDGETS = {"max_flash": int, "max_ram": int, "max_instructions": int, "min_accuracy": float,
           "max_accuracy_drop": float, "max_growth": float}


class ProjectFields(Fields):
    noun = "project"


@dataclass(frozen=True)
class Target:
    name: str
    model: Path                     # resolved
    kind: str                       # "tflite" | "impulse" | "keras"
    boards: tuple[Board, ...]
    board_refs: tuple[str, ...]     # "builtin:NAME" or the board file relative to the project
    calibration: Path | None = None     # Keras models only
    eval: Path | None = None
    optimize: str = "balanced"
    float_accuracy: float | None = None     # percent, given (non-Keras targets)
    budgets: dict = field(default_factory=dict)     # name -> limit


@dataclass(frozen=True)
class Project:
    path: Path                      # the project file, resolved
    name: str
    version: str
    signing_key: Path | None
    targets: tuple[Target, ...]

    @property
    def root(self) -> Path:
        return self.path.parent

    def rel(self, p: Path) -> str:
        """A path as the manifest names it: POSIX, relative to the project file's folder."""
        import os
        return Path(os.path.relpath(Path(p).resolve(), self.root)).as_posix()


def find_project(arg: str | None) -> Path:
    """The project file a command names: a file, a folder holding tinykiln.toml, or (None) the
    current folder's tinykiln.toml."""
    p = Path(arg) if arg else Path(PROJECT_FILE)
    if p.is_dir():
        p = p / PROJECT_FILE
    if not p.is_file():
        raise TinykilnError(f"project file {p} does not exist; give a tinykiln.toml or the folder "
                            f"that holds one.")
    return p


def load_project(path: str | Path) -> Project:
    """Read and check a project file; every mistake is one TinykilnError."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise TinykilnError(f"cannot read project file {path}: "
                            f"{getattr(e, 'strerror', None) or e}.") from None
    except tomllib.TOMLDecodeError as e:
        raise TinykilnError(f"project file {path} is not valid TOML: {e}.") from None
    f = ProjectFields(path, data)
    f.no_unknown(_TOP)
    p = f.table("project")
    p.no_unknown(_PROJECT)
    name = _name(p, "name")
    version = p.get("version", str)
    if not VERSION.fullmatch(version):
        raise p.error("version", f"is '{version}'; give a version like 1.2.0 (MAJOR.MINOR.PATCH, "
                                 f"an optional -suffix)")
    key = None
    s = f.table("signing", optional=True)
    if s is not None:
        s.no_unknown(_SIGNING)
        key = _file(s, "key", path.parent)
        from ..targets.mcuboot import VERSION as IMAGE_VERSION, VERSION_LIMITS
        m = IMAGE_VERSION.fullmatch(version)
        if not m or any(int(x) > hi for x, hi in zip(m.groups(""), VERSION_LIMITS) if x):
            raise p.error("version", f"is '{version}'; signed MCUboot images need "
                                     f"MAJOR[.MINOR[.REVISION[+BUILD]]] (at most 255.255.65535)")
    raw = f.get("target", list)
    if not raw:
        raise f.error("target", "is empty; give at least one [[target]] table")
    targets = tuple(_target(path, t, i) for i, t in enumerate(raw))
    seen = set()
    for t in targets:
        if t.name in seen:
            raise f.error("target", f"names target '{t.name}' twice; target names name the "
                                    f"release's folders and must differ")
        seen.add(t.name)
    return Project(path.resolve(), name, version, key, targets)


def _name(f: Fields, key: str) -> str:
    v = f.get(key, str)
    if not TARGET_NAME.fullmatch(v):
        raise f.error(key, f"is '{v}'; use letters, digits, '.', '_' and '-' (starting with a "
                           f"letter or digit): it names a folder")
    return v


def _file(f: Fields, key: str, root: Path, folder_ok: bool = False) -> Path:
    v = f.get(key, str)
    p = root / v
    if not p.exists():
        raise f.error(key, f"names {v}, which does not exist (paths are relative to the project "
                           f"file's folder)")
    if p.is_dir() and not folder_ok:
        raise f.error(key, f"names {v}, which is a folder; give a file")
    return p.resolve()


def _target(path: Path, raw, i: int) -> Target:
    if not isinstance(raw, dict):
        raise ProjectFields(path, {}).error(f"target[{i + 1}]", "must be a table ([[target]])")
    name = _name(ProjectFields(path, raw, f"target[{i + 1}]."), "name")
    f = ProjectFields(path, raw, f"target.{name}.")
    f.no_unknown(_TARGET)
    model = _file(f, "model", path.parent, folder_ok=True)
    kind = _model_kind(f, model)
    calibration = None
    if "calibration" in raw:
        if kind != "keras":
            raise f.error("calibration", "applies to float Keras models (.keras, .h5 or a "
                                         "SavedModel folder) only")
        calibration = _file(f, "calibration", path.parent, folder_ok=True)
    elif kind == "keras":
        raise f.error("calibration", "is missing; a float Keras model needs representative "
                                     "inputs (.npy, .npz or a folder of .npy) to be quantized")
    boards, refs = _boards(f, path.parent)
    ev = _file(f, "eval", path.parent) if "eval" in raw else None
    if ev is not None and ev.suffix.lower() != ".npz":
        raise f.error("eval", f"names {ev.name}; give a .npz with arrays 'x' (inputs) and 'y' "
                              f"(integer labels)")
    optimize = f.get("optimize", str, "balanced", choices=OPTIMIZE)
    fa = None
    if "float_accuracy" in raw:
        if kind == "keras":
            raise f.error("float_accuracy", "is computed from the Keras model and its eval data; "
                                            "leave it out")
        fa = _percent(f, "float_accuracy")
    budgets = _budgets(f, ev, kind, fa, boards)
    return Target(name, model, kind, boards, refs, calibration, ev, optimize, fa, budgets)


def _model_kind(f: Fields, model: Path) -> str:
    suffix = model.suffix.lower()
    if suffix in KERAS_SUFFIXES or (model / "saved_model.pb").is_file():
        return "keras"
    if model.is_dir():
        raise f.error("model", f"names the folder {model.name}, which is not a SavedModel (no "
                               f"saved_model.pb)")
    if suffix == ".tflite":
        return "tflite"
    if suffix == ".toml":
        from ..impulse.spec import load_impulse
        load_impulse(model)         # its own mistakes, one sentence naming the impulse file
        return "impulse"
    raise f.error("model", f"names {model.name}; give an int8 .tflite, an impulse file (.toml) "
                           f"or a float Keras model (.keras, .h5, a SavedModel folder)")


def _boards(f: Fields, root: Path) -> tuple[tuple[Board, ...], tuple[str, ...]]:
    v = f.get("boards", list)
    if not v:
        raise f.error("boards", "is empty; name at least one board (see `tinykiln boards`)")
    boards, refs = [], []
    for b in v:
        if not isinstance(b, str):
            raise f.error("boards", f"must be a list of board names or .toml files, not "
                                    f"{type(b).__name__} {b!r}")
        is_file = b.endswith(".toml") or "/" in b
        try:
            board = get_board(str(root / b) if is_file else b)
        except TinykilnError as e:
            raise f.error("boards", f"names a board that cannot be used: "
                                    f"{str(e).rstrip('.')}") from None
        if board.arch == "host":
            raise f.error("boards", "names host, which has no firmware image (every target with "
                                    "eval data is run on this computer anyway)")
        ref = f"builtin:{board.name}" if not is_file else \
            Path(b).as_posix() if not Path(b).is_absolute() else b
        if ref in refs or board.name in (x.name for x in boards):
            raise f.error("boards", f"names board '{board.name}' twice")
        boards.append(board)
        refs.append(ref)
    return tuple(boards), tuple(refs)


def _percent(f: Fields, key: str) -> float:
    v = f.get(key, float)
    if v > 100:
        raise f.error(key, f"is {v}; accuracies are percentages, from 0 to 100")
    return v


def _budgets(f: Fields, ev: Path | None, kind: str, fa, boards) -> dict:
    b = f.table("budgets", optional=True)
    if b is None:
        return {}
    b.no_unknown(set(BUDGETS))
    out = {}
    for key, kind_ in BUDGETS.items():
        if key not in b.t:
            continue
        out[key] = _percent(b, key) if key in ("min_accuracy", "max_accuracy_drop") \
            else b.get(key, kind_)
    if ("min_accuracy" in out or "max_accuracy_drop" in out) and ev is None:
        what = "min_accuracy" if "min_accuracy" in out else "max_accuracy_drop"
        raise b.error(what, "needs eval data: give the target an eval file (.npz with 'x' and "
                            "'y')")
    if "max_accuracy_drop" in out and kind != "keras" and fa is None:
        raise b.error("max_accuracy_drop", "needs the float model's accuracy: give the target "
                                           "float_accuracy (percent), or a Keras model")
    if "max_instructions" in out and not any(x.emulated for x in boards):
        raise b.error("max_instructions", "counts instructions under QEMU, and none of the "
                                          "target's boards is emulated")
    return out
