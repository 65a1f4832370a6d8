"""Sub-commands for firmware images: build, export-platformio, boards. Registered into the main
parser by cli.main.build_parser()."""
from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path

from ..errors import TinykilnError
from .common import (EPILOG, add_force, add_impulse_model, add_name, add_optimize, add_stack,
                     board_inputs, compile_options, folder_text, model_inputs, output_folder,
                     stack_arg)


def register(sub) -> None:
    """Add this module's sub-commands to the `tinykiln` parser's subparsers."""
    b = sub.add_parser("build", help="build a firmware image of a model for a board",
                       description="Build a firmware image (firmware.elf/.bin/.hex, a .uf2 where "
                                   "the board boots one, the sources and a size report) of a "
                                   "model for a board.", epilog=EPILOG)
    _board_job_args(b, "output folder", cmd_build)
    add_stack(b)
    b.add_argument("--sign", metavar="KEY.pem",
                   help="also write firmware.signed.bin, an MCUboot image signed with this key "
                        "(the board needs an [mcuboot] slot layout; the image is linked for its "
                        "slot; ed25519 keys give reproducible images)")
    b.add_argument("--image-version", metavar="X.Y.Z", default=None,
                   help="the version in the MCUboot header (with --sign; default 0.0.0)")
    x = sub.add_parser("export-platformio",
                       help="write a PlatformIO project (platformio.ini, src/, lib/) for a board",
                       description="Write the firmware sources as a PlatformIO project that "
                                   "builds offline with `pio run`.", epilog=EPILOG)
    _board_job_args(x, "project folder", cmd_export_platformio)
    ls = sub.add_parser("boards", help="list the boards tinykiln builds for",
                        description="List the boards tinykiln builds for: CPU, FPU, memory, and "
                                    "whether QEMU runs them.")
    ls.set_defaults(fn=cmd_boards)


def _board_job_args(parser, folder: str, fn) -> None:
    """The arguments of a command that writes a folder for a model on a board."""
    parser.add_argument("model", help="int8 .tflite model or impulse file (.toml)")
    parser.add_argument("--board", required=True,
                        help="board name (see `tinykiln boards`) or a .toml file")
    parser.add_argument("-o", "--output", required=True, metavar="DIR",
                        help=f"{folder}: new, empty, or written by tinykiln before")
    add_force(parser)
    add_name(parser)
    add_optimize(parser)
    parser.set_defaults(fn=fn)


def _folder_inputs(a) -> list:
    return model_inputs(a.model) + board_inputs(a.board)


@contextmanager
def _board_job(a):
    """The output folder checked, the board loaded and the model compiled, for a command that
    writes a folder for a model on a board; yields (board, compiled)."""
    from ..inputs import compile_file
    from ..outdir import add_inputs
    from ..targets.board import get_board
    with output_folder(a, _folder_inputs(a)):
        board = get_board(a.board)
        add_inputs(board.path)
        c = compile_file(a.model, prefix=a.name, **compile_options(a, board))
        add_impulse_model(c)
        yield board, c


def cmd_build(a) -> int:
    from ..targets.firmware import build_firmware, format_report
    t0 = time.perf_counter()
    stack = stack_arg(a)
    signing = _signing(a)
    with _board_job(a) as (board, c):
        if signing:
            from ..outdir import add_inputs
            from ..targets.mcuboot import check_version, key_kind, slot_board
            add_inputs(a.sign)
            kind, image_board = key_kind(a.sign), slot_board(board)
            check_version(signing)
        try:
            r = build_firmware(c, image_board if signing else board, a.output, stack=stack)
        except TinykilnError as e:
            if signing and "does not fit" in str(e):    # the slot is smaller than the flash
                raise TinykilnError(f"{str(e).rstrip('.')}; a signed image has the "
                                    f"{image_board.flash.length:,} bytes of MCUboot's slot0, "
                                    f"not all the flash.") from None
            raise
        if signing:
            from ..targets.mcuboot import signed_image_for
            signed_image_for(Path(a.output), board, Path(a.sign), signing)
    print(format_report(r))
    if signing:
        print(_signed_text(board, kind, signing))
    uf2 = "/.uf2" if (Path(a.output) / "firmware.uf2").exists() else ""
    uf2 += "/.signed.bin" if signing else ""
    print(f"  wrote firmware.elf/.bin/.hex{uf2}/.map, src/ and report.json to "
          f"{folder_text(a.output)} in {time.perf_counter() - t0:.1f} s")
    return 0


def _signing(a) -> str | None:
    """The MCUboot image version to sign with (None: no signed image)."""
    if a.image_version is not None and not a.sign:
        raise TinykilnError("--image-version is the version of a signed image: give --sign "
                            "KEY.pem too.")
    return (a.image_version or "0.0.0") if a.sign else None


def _signed_text(board, kind: str, version: str) -> str:
    from ..targets.mcuboot import deterministic
    lay = board.mcuboot
    note = "" if deterministic(kind) else (f"; {kind} signatures differ at every signing "
                                           f"(ed25519 keys give reproducible images)")
    return (f"  firmware.signed.bin: MCUboot image {version} for slot0 at {lay.slot0.origin:#x} "
            f"(linked at {lay.image_origin:#x}), signed {kind}{note}")


def cmd_export_platformio(a) -> int:
    from ..targets.platformio_export import export
    with _board_job(a) as (board, c):
        out = export(c, board, a.output)
    print(f"wrote a PlatformIO project for {board.name} to {folder_text(out)}; build it offline "
          f"with `pio run` in that folder")
    return 0


def cmd_boards(a) -> int:
    from ..targets.board import all_boards
    rows = [("board", "cpu", "fpu", "flash", "RAM", "runs under")]
    for b in all_boards():
        if b.arch == "host":
            rows.append((b.name, "host", "-", "-", "-", "this computer"))
            continue
        ram = _kib(b.ram.length) + "".join(f" + {_kib(r.length)}" for r in b.ram_regions)
        rows.append((b.name, b.cpu, b.fpu, _kib(b.flash.length), ram,
                     f"qemu -M {b.qemu_machine}" if b.emulated else "hardware (build only)"))
    w = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(x.ljust(w[i]) if i < 3 or i == 5 else x.rjust(w[i])
                        for i, x in enumerate(r)).rstrip())
    return 0


def _kib(n: int) -> str:
    return f"{n // 1024} KiB" if n % 1024 == 0 else f"{n} B"


