"""An impulse file read and checked into an `Impulse`: the [input] and [model] tables here, the
[dsp] table in blocks.py. Every impossible parameter is refused before any model is loaded or
anything is built."""
from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..errors import TinykilnError
from ..targets.fields import Fields
from .blocks import dsp_table

# ranges of the [input] fields: the raw window must fit the arena
MAX_SAMPLE_RATE = 10_000_000        # Hz
MAX_WINDOW = 1 << 24                # samples per axis


class ImpulseFields(Fields):
    noun = "impulse"


@dataclass
class Impulse:
    """A validated impulse file (model not yet loaded)."""
    path: Path
    sample_rate: int
    axes: int
    window: int
    block: str
    frame_length: int
    frame_stride: int
    n_frames: int
    dsp: object                 # dsp.frontend.FrontEnd (audio) or dsp.spectral.Spectral
    model_path: Path
    sha256: str

    @property
    def n_features(self) -> int:
        """int8 features per frame (all axes)."""
        if self.block == "spectral":
            return self.axes * (1 + len(self.dsp.bands_hz) + 2 * self.dsp.n_peaks)
        if self.block == "mfcc":
            return self.dsp.n_mfcc
        if self.block == "spectrogram":
            lo, hi = self.dsp.spec_bins
            return hi - lo
        return self.dsp.n_mels



def load_impulse(path: str | Path, check_model: bool = True) -> Impulse:
    """Read and check an impulse file: every impossible parameter is refused here, before any
    model is loaded or anything is built. check_model=False accepts a model path that does not
    exist yet (computing training features before the model is trained)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        data = tomllib.loads(raw.decode("utf-8"))
    except OSError as e:
        raise TinykilnError(f"cannot read impulse file {path}: {e.strerror}.") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise TinykilnError(f"impulse file {path} is not valid TOML: {e}.") from None
    f = ImpulseFields(path, data)
    f.no_unknown({"input", "dsp", "model"})
    inp = f.table("input")
    inp.no_unknown({"sample_rate", "axes", "window"})
    sr = inp.get_int("sample_rate", 1, MAX_SAMPLE_RATE, what=" Hz")
    axes = inp.get("axes", int, 1)
    if not 1 <= axes <= 16:
        raise inp.error("axes", f"is {axes}; an impulse takes 1 to 16 axes")
    window = inp.get_int("window", 1, MAX_WINDOW, what=" samples per axis")
    mdl = f.table("model")
    mdl.no_unknown({"path"})
    model_path = (path.parent / mdl.get("path", str)).resolve()
    if check_model and not model_path.is_file():
        raise mdl.error("path", f"names {model_path}, which does not exist")
    block, dsp, fl, fs = dsp_table(f.table("dsp"), inp, axes, sr, window)
    h = hashlib.sha256(raw)
    if model_path.is_file():
        h.update(model_path.read_bytes())
    return Impulse(path, sr, axes, window, block, fl, fs, 1 + (window - fl) // fs, dsp,
                   model_path, h.hexdigest())
