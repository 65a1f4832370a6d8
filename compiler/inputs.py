"""What a user hands tinykiln to compile: an int8 .tflite model, or an impulse file (.toml: a DSP
front end in front of a model). The level above the compile driver and the impulse feature, so
neither imports the other."""
from __future__ import annotations

import functools
from pathlib import Path

from .compile import Compiled, compile_graph
from .errors import TinykilnError
from .frontend.tflite_import import load_tflite
from .impulse.impulse import compile_impulse


def compile_file(model: str | Path, prefix: str = "model", **options) -> Compiled:
    """A .tflite model, or an impulse file (.toml: DSP front end + model); options: compile_graph's
    optimize and helium."""
    model = Path(model)
    if model.is_dir():
        raise TinykilnError(f"{model} is a folder; give an int8 .tflite model or an impulse file "
                            f"(.toml).")
    if model.suffix.lower() in (".keras", ".h5", ".hdf5"):
        raise TinykilnError(f"{model} is a float Keras model; convert it to int8 first "
                            f"(tinykiln compile {model} --calibration DATA -o DIR writes the "
                            f".tflite) and give that .tflite.")
    if model.suffix.lower() == ".toml":
        c = compile_impulse(model, prefix=prefix, **options)
    else:
        c = compile_graph(load_tflite(model), prefix=prefix, model_name=model.name, **options)
    # the firmware build compiles again with other options where the first plan does not fit
    # (an arena across RAM regions, when the stack turns out larger than set aside)
    c.recompile = functools.partial(compile_file, model, prefix, **options)
    return c
