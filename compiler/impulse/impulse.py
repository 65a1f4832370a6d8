"""Impulses: raw sensor samples -> fixed-point DSP front end -> int8 model -> scores, described by
one TOML file and compiled into one C library with the same API as a plain model (its input is
the raw int16 window, its outputs are the model's).

    [input]
    sample_rate = 16000      # Hz
    axes = 1                 # 1 for audio; 3 for a 3-axis accelerometer (samples interleaved)
    window = 16000           # samples per axis in one inference

    [dsp]
    block = "mfcc"           # mfe, mfcc, spectrogram (audio, one axis) or spectral (motion)
    preset = "tf_mfcc"       # optional starting point (tinykiln.dsp.frontend.preset), then fields
    frame_length = 480
    frame_stride = 320
    ...

    [model]
    path = "model.tflite"    # relative to this file

Every parameter is checked before anything is built; a parameter that cannot work is refused
with the field and the reason. The features are quantised straight into the model's input
scale and zero point, so the model's input must be int8 with exactly (frames x features) values.
The raw window and the DSP scratch live in the model's arena, apart from its input.

The parts: spec (the file, checked into an Impulse), blocks (the [dsp] table), build
(compile_impulse: the C library) and features (the front end's features on the host)."""
from __future__ import annotations

from .blocks import AUDIO_BLOCKS, BLOCKS
from .build import BLOCK_SOURCES, ImpulseCompiled, compile_impulse, dsp_tables
from .features import features, float_features
from .spec import Impulse, load_impulse

__all__ = ["AUDIO_BLOCKS", "BLOCKS", "BLOCK_SOURCES", "Impulse", "ImpulseCompiled",
           "compile_impulse", "dsp_tables", "features", "float_features", "load_impulse"]
