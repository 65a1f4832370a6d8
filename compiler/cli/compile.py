"""`tinykiln compile`: a .tflite model, an impulse file, or a float Keras model (quantized to
int8 first) into a C library in a folder."""
from __future__ import annotations

import time
from pathlib import Path

from ..errors import TinykilnError
from .common import (EPILOG, add_force, add_impulse_model, add_name, add_optimize,
                     compile_options, folder_text, model_inputs, output_folder, terminal_text)


def _summary(c) -> str:
    r = c.report
    ops = ", ".join(f"{k} x{v}" for k, v in r["op_counts"].items())
    return (f"{r['model']}: {r['ops']} ops ({ops}), {r['tensors']} tensors\n"
            f"  weights {r['weight_bytes']} B (flash), arena {r['arena_bytes']} B (RAM; lower bound "
            f"{r['arena_lower_bound']}, gap {r['arena_gap_to_lower_bound']}), "
            + (f"variables {r['variable_bytes']} B (RAM, kept across invokes), "
               if r.get("variable_bytes") else "")
            + f"{r['macs']} MACs per inference"
            + "".join(f"\n  warning: {terminal_text(w)}" for w in r.get("warnings", [])))


def cmd_compile(a) -> int:
    from ..frontend.keras_convert import check_model_path, is_float_model_source     # no TensorFlow import
    if Path(a.model).is_dir() and not is_float_model_source(a.model):
        check_model_path(a.model)           # says it is a folder but not a SavedModel
    inputs = model_inputs(a.model) + [Path(x) for x in (a.calibration, a.eval) if x]
    with output_folder(a, inputs):
        if is_float_model_source(a.model):
            return _compile_float(a)
        return _compile_tflite(a)


def _compile_tflite(a) -> int:
    from ..compile import plan_picture, write_output
    from ..inputs import compile_file
    if a.calibration or a.eval or a.per_layer:
        raise TinykilnError(f"--calibration, --eval and --per-layer apply to a float Keras model "
                            f"(.keras, .h5 or a SavedModel folder); {a.model} is compiled as "
                            f"an int8 .tflite.")
    t0 = time.perf_counter()
    c = compile_file(a.model, prefix=a.name, **compile_options(a))
    add_impulse_model(c)
    out = write_output(c, a.output)
    print(_summary(c))
    print(f"  wrote {len(c.files) + 1} files to {folder_text(out)} in "
          f"{time.perf_counter() - t0:.2f} s")
    if a.show_plan:
        print(plan_picture(c))
    return 0


def _compile_float(a) -> int:
    """A float Keras model: quantized to int8 and compiled (quant.keras), then written with the
    int8 .tflite beside the C."""
    from ..compile import plan_picture, write_output
    from ..quant.keras import quantize_keras
    t0 = time.perf_counter()
    q = quantize_keras(a.model, a.calibration, a.eval, a.per_layer, prefix=a.name)
    c = q.compiled
    write_output(c, a.output, extra={q.name: q.tflite})
    print(_summary(c))
    print(f"  int8 model {q.name} (calibrated on {q.samples} samples); wrote {len(c.files) + 2} "
          f"files to {folder_text(a.output)} in {time.perf_counter() - t0:.2f} s")
    for t in q.texts:
        print(t)
    if a.show_plan:
        print(plan_picture(c))
    return 0


def register(sub) -> None:
    """Add this subcommand to the `tinykiln` parser's subparsers."""
    c = sub.add_parser("compile", help="compile an int8 .tflite model (or quantize a float Keras "
                                       "model to int8) into a C library",
                       description="Compile a model into a C library (model.c/.h, kernels, "
                                   "report.json) in a folder.", epilog=EPILOG)
    c.add_argument("model", help=".tflite (int8), an impulse file (.toml), or a float .keras/.h5 "
                                 "file or SavedModel folder (needs TensorFlow and --calibration)")
    c.add_argument("-o", "--output", required=True, metavar="DIR",
                   help="output folder: new, empty, or written by tinykiln before")
    add_force(c)
    add_name(c)
    add_optimize(c)
    c.add_argument("--show-plan", action="store_true", help="print the arena plan as a picture")
    c.add_argument("--calibration", metavar="DATA",
                   help="(Keras models) representative float inputs: .npy (N, *input_shape), "
                        ".npz, or a folder of .npy files")
    c.add_argument("--eval", metavar="DATA.npz",
                   help="(Keras models) arrays x (float inputs) and y (labels): print float and "
                        "int8 accuracy (int8 run through the generated C) and their agreement")
    c.add_argument("--per-layer", action="store_true",
                   help="with --eval: each layer's quantization error (SQNR), worst first")
    c.set_defaults(fn=cmd_compile)
