"""Where the shipped data folders are: inside the installed package (wheel) or beside compiler/
in a source checkout."""
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    for cand in (_HERE / name, _HERE.parent / name):
        if cand.is_dir():
            return cand
    raise FileNotFoundError(f"tinykiln installation is missing its {name}/ folder")
