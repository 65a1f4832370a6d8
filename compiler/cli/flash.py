"""`tinykiln flash`: program a real board's image (a build or release folder, or an image file)
through pyOCD and a debug probe. Registered into the main parser by cli.main.build_parser()."""
from __future__ import annotations

from pathlib import Path


def register(sub) -> None:
    """Add `flash` to the `tinykiln` parser's subparsers."""
    f = sub.add_parser("flash", help="flash a board's image through pyOCD and a debug probe",
                       description="Program an image into a real board through pyOCD (pip "
                                   "install \"tinykiln[flash]\") and the board's debug probe, "
                                   "then reset it. PATH is a build folder (tinykiln build), a "
                                   "release folder (release/<target>/<board>/) or an image file "
                                   "(.hex, .elf, .signed.bin). A folder's firmware.signed.bin "
                                   "(an MCUboot image, written to slot0: MCUboot must already "
                                   "be on the board) is flashed where the board has a slot "
                                   "layout, else its firmware.hex.")
    f.add_argument("path", metavar="PATH", help="build or release folder, or image file")
    f.add_argument("--board", required=True,
                   help="board name (see `tinykiln boards`) or a .toml file")
    f.add_argument("--target", metavar="TYPE",
                   help="pyOCD target type, for a board tinykiln does not map (pyocd list "
                        "--targets)")
    f.add_argument("--probe", metavar="ID", help="the debug probe's unique id (a prefix is "
                                                 "enough) when several are attached")
    f.add_argument("--frequency", type=int, metavar="HZ", help="SWD clock (default: pyOCD's)")
    f.set_defaults(fn=cmd_flash)


def cmd_flash(a) -> int:
    from ..targets.board import get_board
    from ..targets.flash import find_image, flash_image, pyocd_target
    board = get_board(a.board)
    target = pyocd_target(board, a.target)
    image = find_image(a.path, board)
    where = f"slot0 at {image.address:#x}, MCUboot image" if image.signed else \
        f"{image.format} image"
    print(f"flashing {_shown(image.path)} ({where}) to {board.name} (pyOCD target "
          f"{target.name})")
    probe = flash_image(image, board, target, a.probe, a.frequency)
    print(f"  done through {probe}; the board was reset and runs the image")
    return 0


def _shown(p: Path) -> str:
    from .common import terminal_text
    return terminal_text(str(p))
