"""From a trained float model (.keras, .h5 or a SavedModel folder) to a full-int8 .tflite with
TensorFlow's converter: int8 weights per channel, int8 activations per tensor, int8 input and
output, batch fixed to 1 (no shape ops). TensorFlow is optional and imported only on this path,
lazily.

The conversion is deterministic: the same model and calibration data give the same bytes, in
the same process and in a new one, whatever PYTHONHASHSEED is (tests/test_keras_path.py). The CLI
runs it in a child process (Conversion), which turns a crash of the converter into one sentence.

This module is the path's entrance; the parts live beside it: keras_tf (TensorFlow, quiet, the
progress bar), keras_model (the float model), keras_data (calibration and eval data),
keras_int8 (the conversion) and keras_child (the child process)."""
from __future__ import annotations

from pathlib import Path

from .keras_child import Conversion
from .keras_data import (check_calibration_file, check_rows, check_values, load_calibration,
                         read_arrays)
from .keras_int8 import check_int8, convert, output_name
from .keras_model import FloatModel, ModelInput, check_model_path, load_model
from .keras_tf import TF_HINT, Progress, import_tf, quiet

__all__ = ["KERAS_SUFFIXES", "TF_HINT", "Conversion", "FloatModel", "ModelInput", "Progress",
           "check_calibration_file", "check_int8", "check_model_path", "check_rows",
           "check_values", "convert", "import_tf", "is_float_model_source", "load_calibration",
           "load_model", "output_name", "quiet", "read_arrays"]

KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")


def is_float_model_source(path: str | Path) -> bool:
    """True for what this path converts: a Keras file or a SavedModel folder (one holding
    saved_model.pb; any other folder is not a model at all)."""
    p = Path(path)
    return p.suffix.lower() in KERAS_SUFFIXES or (p / "saved_model.pb").is_file()
