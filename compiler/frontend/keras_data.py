"""Representative (calibration) and evaluation data: arrays from a .npy, a .npz or a folder of
.npy files, checked (numbers, finite) and shaped into float32 rows for a model input. The
checks that need no model run before TensorFlow loads; quant/ reads its --eval data here too."""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from ..errors import TinykilnError
from .keras_model import FloatModel, ModelInput, fmt_shape
from .keras_tf import first_line


def read_arrays(path: str | Path, what: str) -> list[tuple[str, np.ndarray]]:
    """(name, array) pairs from a .npy, a .npz or a folder of .npy files."""
    p = Path(path)
    if not p.exists():
        raise TinykilnError(f"cannot read {what} {path}: no such file or folder.")
    try:
        if p.is_dir():
            files = sorted(p.glob("*.npy"))
            if not files:
                raise TinykilnError(f"{what} folder {path} holds no .npy files.")
            return [(f.name, np.load(f, allow_pickle=False)) for f in files]
        obj = np.load(p, allow_pickle=False)
        if isinstance(obj, np.lib.npyio.NpzFile):
            with obj:
                if not obj.files:
                    raise TinykilnError(f"{what} file {path} holds no arrays.")
                return [(k, obj[k]) for k in obj.files]
        return [(p.name, obj)]
    except TinykilnError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise TinykilnError(f"cannot read {what} {path}: {_npy_problem(e)} (expected a .npy, a "
                            f".npz or a folder of .npy files).") from None


def _npy_problem(e: BaseException) -> str:
    """What numpy's error on loading a file means, in the user's terms (numpy speaks of
    allow_pickle when a file is neither .npy nor .npz, or holds Python objects)."""
    text = str(e)
    if "Object arrays" in text:
        return "it holds Python objects, not numbers"
    if "pickle" in text:
        return "it is neither a .npy nor a .npz file"
    if isinstance(e, EOFError) or "No data left" in text or "Failed to read all data" in text:
        return "the file is empty or truncated"
    return first_line(e)


def check_values(arr: np.ndarray, name: str, what: str) -> None:
    """Numbers only (float or integer), all finite."""
    if arr.dtype.kind not in "fiu":
        raise TinykilnError(f"{what} {name} holds {arr.dtype} values; the model takes numbers "
                            f"(float or integer arrays).")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise TinykilnError(f"{what} {name} contains NaN or infinite values.")


def check_calibration_file(path: str | Path) -> None:
    """The checks that need no model (readable, numbers, finite): done before TensorFlow loads."""
    for name, arr in read_arrays(path, "calibration data"):
        check_values(arr, _label(path, name), "calibration data")


def _label(path: str | Path, key: str) -> str:
    p = Path(path)
    if p.suffix == ".npz":
        return f"{p.name}['{key}']"
    return f"{p.name}/{key}" if p.is_dir() else key


def check_rows(arr: np.ndarray, name: str, inp: ModelInput, what: str,
               allow_single: bool = True) -> np.ndarray:
    """arr as float32 rows (N, *inp.shape), or one sentence on why it does not fit the input."""
    check_values(arr, name, what)
    shape = tuple(arr.shape)
    if allow_single and shape == inp.shape:
        arr = arr[None]
    elif shape[1:] == inp.shape:
        pass
    elif len(shape) == len(inp.shape) + 2 and shape[1] == 1 and shape[2:] == inp.shape:
        arr = arr[:, 0]
    else:
        raise TinykilnError(f"{what} {name} has shape {fmt_shape(shape)}, but the model input "
                            f"'{inp.name}' needs (N, {', '.join(map(str, inp.shape))}).")
    arr = arr.astype(np.float32)
    if not np.isfinite(arr).all():      # float64 beyond the float32 range
        raise TinykilnError(f"{what} {name} holds values beyond the float32 range.")
    return arr


def load_calibration(path: str | Path, fm: FloatModel) -> list[np.ndarray]:
    """Representative inputs: one float32 array (N, *shape) per model input.

    One input: every array of the file or folder is one sample or a batch of samples; they are
    concatenated (a .npz with an 'x' array, such as an --eval file, gives that array only).
    Several inputs: a .npz with one array per input, named after the inputs."""
    what = "calibration data"
    arrays = read_arrays(path, what)
    if len(fm.inputs) > 1:
        byname = dict(arrays)
        names = [i.name for i in fm.inputs]
        if not set(names) <= set(byname):
            raise TinykilnError(f"{fm.name} has {len(names)} inputs: give a .npz with one array "
                                f"per input named {', '.join(repr(n) for n in names)}; "
                                f"{Path(path).name} has {', '.join(repr(k) for k in byname)}.")
        out = [check_rows(byname[i.name], _label(path, i.name), i, what, allow_single=False)
               for i in fm.inputs]
        if len({a.shape[0] for a in out}) > 1:
            raise TinykilnError(f"{what} {path}: the arrays of the {len(out)} inputs have "
                                f"different numbers of samples ({[a.shape[0] for a in out]}).")
    else:
        if any(k == "x" for k, _ in arrays) and Path(path).suffix == ".npz":
            arrays = [(k, a) for k, a in arrays if k == "x"]
        out = [np.concatenate([check_rows(a, _label(path, k), fm.inputs[0], what)
                               for k, a in arrays])]
    if out[0].shape[0] == 0:
        raise TinykilnError(f"{what} {path} holds no samples.")
    return out
