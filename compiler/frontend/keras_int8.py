"""The int8 conversion itself: TensorFlow's TFLiteConverter, fed the calibration rows one at a
time, on a batch-1 export of the float model; and the check that no op stayed float32."""
from __future__ import annotations

import functools
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np

from ..errors import TinykilnError
from .keras_model import FloatModel
from .keras_tf import Progress, first_line, import_tf, quiet


def convert(fm: FloatModel, calibration: list[np.ndarray],
            progress: Progress | None = None) -> bytes:
    """Full-integer .tflite bytes: int8 weights (per channel) and activations, int8 input and
    output, batch 1. The calibration rows are fed to the converter one at a time."""
    tf, keras = import_tf()
    n = calibration[0].shape[0]

    names = [i.name for i in fm.inputs]

    def representative():
        for i in range(n):
            rows = [c[i:i + 1] for c in calibration]
            # several inputs: by name (the .tflite may order its inputs differently)
            yield dict(zip(names, rows)) if len(rows) > 1 else rows
            if progress is not None:
                progress.update(i + 1)

    tmp = Path(tempfile.mkdtemp(prefix="tinykiln-savedmodel-"))
    stage = "export"
    try:
        with quiet() as log:
            try:
                _export_batch1(fm, tf, keras, tmp)
                stage = "convert"
                conv = tf.lite.TFLiteConverter.from_saved_model(str(tmp))
                conv.optimizations = [tf.lite.Optimize.DEFAULT]
                conv.representative_dataset = representative
                conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
                conv.inference_input_type = tf.int8
                conv.inference_output_type = tf.int8
                return bytes(conv.convert())
            except Exception as e:      # noqa: BLE001 - reported as one sentence below
                err, logtext = e, log.text()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    reason = first_line(err)
    if "error:" in logtext and "error:" not in str(err):
        reason = first_line(logtext)
    doing = "export" if stage == "export" else "quantize"
    raise TinykilnError(f"TensorFlow's converter could not {doing} {fm.name} to int8: {reason}.")


def _export_batch1(fm: FloatModel, tf, keras, out: Path) -> None:
    """Write a SavedModel whose serving function takes batch-1 inputs: with a static batch the
    converter folds Flatten/Reshape shapes into constants (no SHAPE/STRIDED_SLICE/PACK ops)."""
    specs = [tf.TensorSpec((1, *i.shape), tf.as_dtype(i.dtype), name=i.name) for i in fm.inputs]
    if fm.keras_model is not None:
        m = fm.keras_model
        archive = keras.export.ExportArchive()
        archive.track(m)
        # what TFLiteConverter.from_keras_model does for Keras 3, with the batch fixed to 1
        archive.add_endpoint("serve", functools.partial(m.__call__, training=False),
                             [specs] if len(specs) > 1 else specs)
        archive.write_out(str(out))
        return
    sig = fm.signature
    names = [i.name for i in fm.inputs]

    @tf.function(input_signature=specs)
    def serve(*xs):
        return sig(**dict(zip(names, xs)))

    module = tf.Module()
    module.model = fm.saved_model
    tf.saved_model.save(module, str(out), signatures={"serving_default":
                                                          serve.get_concrete_function()})


def check_int8(graph, source: str) -> None:
    """Some layers (LayerNormalization's NEG, for one) stay float32 between DEQUANTIZE and
    QUANTIZE even with int8-only settings: name the first such op and its layer's tensor."""
    for op in graph.ops:
        if op.opcode in ("QUANTIZE", "DEQUANTIZE"):
            continue
        if any(t >= 0 and graph.tensors[t].dtype == "float32" for t in op.inputs + op.outputs):
            out = graph.tensors[op.outputs[0]].name if op.outputs else "?"
            raise TinykilnError(f"TensorFlow's converter left op {op.index} ({op.opcode}, output "
                                f"'{out}') in float32 when quantizing {source}; tinykiln compiles "
                                f"int8 ops only, so the layer it comes from cannot be compiled.")


def output_name(model_path: str | Path) -> str:
    """The file name of the int8 model written next to the C sources."""
    p = Path(model_path)
    stem = p.name if p.is_dir() else p.stem
    return re.sub(r"[^A-Za-z0-9_.-]", "_", stem or "model") + ".tflite"
