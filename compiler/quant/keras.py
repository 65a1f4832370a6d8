"""A float Keras model to an int8 C library: calibrate and convert with TensorFlow (in a child
process), compile the .tflite like any other, and with eval data measure what quantization cost
(accuracy, per-layer SQNR). The command line only parses and prints around this."""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

from ..compile import Compiled, compile_graph
from ..errors import TinykilnError
from ..frontend import keras_convert as kc
from ..frontend.tflite_import import parse_tflite
from ..passes import float_islands
from ..passes.in_place import kinds_for
from . import evaluate as qe


@dataclass
class Quantized:
    compiled: Compiled          # its report carries a "quantization" section
    tflite: bytes               # the int8 model, written beside the C
    name: str                   # its file name
    samples: int                # calibration samples used
    texts: list[str] = field(default_factory=list)     # the eval and per-layer tables


def quantize_keras(model: str, calibration: str | None, eval_data: str | None = None,
                   per_layer: bool = False, prefix: str = "model") -> Quantized:
    """Check the arguments (one sentence for each mistake), convert, compile, evaluate."""
    if per_layer and not eval_data:
        raise TinykilnError("--per-layer needs --eval DATA.npz (the samples to measure on).")
    if not calibration:
        raise TinykilnError(f"{model} is a float model: give --calibration with representative "
                            f"inputs (.npy, .npz or a folder of .npy) to quantize it to int8.")
    if kc.check_model_path(model).is_dir() and per_layer:
        raise TinykilnError(f"--per-layer compares with the Keras model's layers; {model} is a "
                            f"SavedModel without layers: give the .keras or .h5 file.")
    kc.check_calibration_file(calibration)
    data = fm = None
    # the child loads the model, checks the calibration data against it and converts; with
    # --eval this process loads the model too, meanwhile, and checks the eval data
    with kc.Conversion(model, calibration) as conversion:
        if eval_data:
            fm = kc.load_model(model)
            kc.load_calibration(calibration, fm)
            data = qe.load_eval_data(eval_data, fm)
        tfl, n = conversion.wait()
    name = kc.output_name(model)
    graph = parse_tflite(tfl, name=name)
    # float islands the compiler turns into int8 tables (a LayerNormalization's NEG) are fine
    kc.check_int8(float_islands.run(copy.deepcopy(graph)), Path(model).name)
    c = compile_graph(graph, prefix=prefix, model_name=name)
    quant = {"source": Path(model).name, "tflite": name, "weights": "int8 per channel",
             "activations": "int8 per tensor",
             "calibration": {"file": Path(calibration).name, "samples": int(n)}}
    texts = []
    if data is not None:
        res = qe.evaluate(fm, c, *data)
        quant["eval"] = {"file": Path(eval_data).name, **res}
        texts.append(qe.format_eval(res, eval_data))
        if per_layer:       # every layer's output whole: no depth-first chain
            whole = compile_graph(parse_tflite(tfl, name=name), prefix=prefix, model_name=name,
                                  kinds=kinds_for("balanced", False) - {"depth_first"})
            rows = qe.per_layer(fm, whole, data[0])
            quant["per_layer"] = qe.per_layer_json(rows)
            texts.append(qe.format_per_layer(rows))
    c.report["quantization"] = quant
    return Quantized(c, tfl, name, int(n), texts)
