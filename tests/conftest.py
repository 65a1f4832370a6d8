import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_MODELS = ROOT.parent / "shared" / "models"
sys.path.insert(0, str(Path(__file__).resolve().parent))
# every host build in the tests runs under ASan and UBSan (hostrun.HostBuild, sanitize=None)
os.environ.setdefault("TINYKILN_SANITIZE", "1")


def shared_model(name: str) -> Path:
    """A model from ../shared/models, or skip: the folder is not part of a user's clone."""
    p = SHARED_MODELS / name
    if not p.is_file():
        pytest.skip(f"{p} is absent (shared reference models live beside the repo in CI)")
    return p
