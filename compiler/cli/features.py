"""`tinykiln features`: the front end of an impulse on the host, for training data."""
from __future__ import annotations

from pathlib import Path


def register(sub) -> None:
    f = sub.add_parser("features", help="compute an impulse's features from raw samples "
                                        "(float for training, or the device's exact int8)",
                       description="Compute an impulse's features from raw samples: float "
                                   "features for training, or with --int8 the exact bytes the "
                                   "device feeds its model.")
    f.add_argument("impulse", help="impulse file (.toml)")
    f.add_argument("--raw", required=True, help=".npy of shape (N, window[, axes]), int16 or "
                                                "floats in [-1, 1]")
    f.add_argument("-o", "--output", required=True, metavar="F.npy",
                   help=".npy to write, shape (N, frames, features); written exactly as named")
    f.add_argument("--int8", action="store_true",
                   help="the int8 bytes the device writes into the model's input (needs the "
                        "model: its input scale and zero point); default: float features")
    f.set_defaults(fn=cmd_features)


def cmd_features(a) -> int:
    import numpy as np
    from .arrays import check_output_file, load_raw, write_file
    from .common import model_inputs
    from ..errors import TinykilnError
    from ..impulse.impulse import compile_impulse, features, float_features, load_impulse
    if Path(a.impulse).suffix.lower() != ".toml":
        raise TinykilnError(f"{a.impulse} is not an impulse file (.toml).")
    out = check_output_file(a.output, (".npy",), "-o", [*model_inputs(a.impulse), a.raw])
    if a.int8:
        c = compile_impulse(a.impulse)
        imp = c.impulse
    else:
        c = None
        imp = load_impulse(a.impulse, check_model=False)
    x = load_raw(a.raw, imp)
    f = features(c, x) if a.int8 else float_features(imp, x)
    write_file(out, lambda fh: np.save(fh, f))
    kind = "int8 (device bytes)" if a.int8 else "float"
    print(f"{len(x)} window{'s' if len(x) != 1 else ''} -> {kind} features {f.shape[1:]} "
          f"({imp.n_frames} frames x {imp.n_features} features); wrote {out}")
    return 0
