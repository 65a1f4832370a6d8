"""An impulse's features on the host: the float definition a model is trained on
(float_features) and the bit-exact Python model of the fixed-point front end (features)."""
from __future__ import annotations

import numpy as np

from .build import ImpulseCompiled
from .spec import Impulse


def _per_window(imp: Impulse, raw: np.ndarray, spectral_frame, audio_window) -> list:
    """Apply a front end to every window of raw (N, window[, axes]): spectral_frame(frame
    (axes, frame_length)) -> (axes, k) per frame, concatenated; audio_window(samples) whole."""
    x = np.asarray(raw)
    if x.ndim == 2:
        x = x[:, :, None]
    out = []
    for row in x:
        if imp.block == "spectral":
            out.append(np.stack([
                spectral_frame(row[f * imp.frame_stride:f * imp.frame_stride
                                   + imp.frame_length].T).reshape(-1)
                for f in range(imp.n_frames)]))
        else:
            out.append(audio_window(row[:, 0]))
    return out


def float_features(imp: Impulse, raw: np.ndarray) -> np.ndarray:
    """Float features of an impulse: the float definition the fixed-point front end matches to
    about 1 LSB of the model's input (tinykiln.dsp.ref, dsp.spectral.reference_float), after
    offset, gain and clip: what a model is trained on (its converter then picks the input scale
    the device quantises into). (N, window[, axes]) int16 -> (N, frames, features) float64."""
    from ..dsp import ref
    from ..dsp.spectral import reference_float
    fe = imp.dsp

    def audio(samples):
        g = (ref.log_features(fe, samples) - fe.f_offset) * fe.f_gain
        return np.clip(g, *fe.f_clip) if fe.f_clip is not None else g
    return np.stack(_per_window(imp, raw, lambda fr: reference_float(fe, fr), audio))


def features(c: ImpulseCompiled, raw: np.ndarray) -> np.ndarray:
    """The bit-exact Python model of the impulse's front end: (N, window[, axes]) int16 ->
    (N, *model input shape) int8 features, the bytes the C writes into the model's input."""
    from ..dsp import model as DM
    from ..dsp import spectral as SP
    t = c.tables
    out = _per_window(c.impulse, raw, lambda fr: SP.model(t, fr), lambda s: DM.run_signal(t, s))
    feat = c.model.graph.tensors[c.model.graph.inputs[0]]
    n = len(out)
    return np.stack(out).astype(np.int8).reshape((n, *feat.shape[1:]) if feat.shape[:1] == (1,)
                                                 else (n, *feat.shape))
