"""Sub-commands for firmware images (build, boards) and `run` on a board other than host.
Registered into the main parser by cli.build_parser()."""
from __future__ import annotations

import json
import time
from pathlib import Path


def register(sub) -> None:
    """Add this module's sub-commands to the `tinykiln` parser's subparsers."""
    b = sub.add_parser("build", help="build a firmware image of a model for a board")
    b.add_argument("model")
    b.add_argument("--board", required=True, help="board name (see `tinykiln boards`) or a .toml file")
    b.add_argument("-o", "--output", required=True, help="output folder")
    b.add_argument("--name", default="model", help="C symbol prefix (default: model)")
    b.set_defaults(fn=cmd_build)
    x = sub.add_parser("export-platformio",
                       help="write a PlatformIO project (platformio.ini, src/, lib/) for a board")
    x.add_argument("model")
    x.add_argument("--board", required=True, help="board name (see `tinykiln boards`)")
    x.add_argument("-o", "--output", required=True, help="project folder")
    x.add_argument("--name", default="model", help="C symbol prefix (default: model)")
    x.set_defaults(fn=cmd_export_platformio)
    ls = sub.add_parser("boards", help="list the boards tinykiln builds for")
    ls.set_defaults(fn=cmd_boards)
    run = sub.choices.get("run")
    if run is not None:
        run.add_argument("--profile", action="store_true",
                         help="(emulated boards) count the exact instructions of every layer")
        run.add_argument("--profile-json", help="also write the profile as JSON to this file")


def cmd_build(a) -> int:
    from .board import get_board
    from .compile import compile_file
    from .firmware import build_firmware, format_report
    t0 = time.perf_counter()
    board = get_board(a.board)
    c = compile_file(a.model, prefix=a.name)
    r = build_firmware(c, board, a.output)
    print(format_report(r))
    uf2 = "/.uf2" if (Path(a.output) / "firmware.uf2").exists() else ""
    print(f"  wrote firmware.elf/.bin/.hex{uf2}/.map, src/ and report.json to {a.output}/ in "
          f"{time.perf_counter() - t0:.1f} s")
    return 0


def cmd_export_platformio(a) -> int:
    from .board import get_board
    from .compile import compile_file
    from .platformio_export import export
    board = get_board(a.board)
    out = export(compile_file(a.model, prefix=a.name), board, a.output)
    print(f"wrote a PlatformIO project for {board.name} to {out}/; build it offline with "
          f"`pio run` in that folder")
    return 0


def cmd_boards(a) -> int:
    from .board import all_boards
    rows = [("board", "cpu", "fpu", "flash", "RAM", "runs under")]
    for b in all_boards():
        if b.arch == "host":
            rows.append((b.name, "host", "-", "-", "-", "this computer"))
            continue
        rows.append((b.name, b.cpu, b.fpu, _kib(b.flash.length), _kib(b.ram.length),
                     f"qemu -M {b.qemu_machine}" if b.emulated else "hardware (build only)"))
    w = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(x.ljust(w[i]) if i < 3 or i == 5 else x.rjust(w[i])
                        for i, x in enumerate(r)).rstrip())
    return 0


def _kib(n: int) -> str:
    return f"{n // 1024} KiB" if n % 1024 == 0 else f"{n} B"


def run_on_board(args) -> int:
    """`tinykiln run MODEL --board BOARD` for a board other than host."""
    import numpy as np
    from .board import get_board
    from .cli import run_inputs
    from .compile import compile_file
    from .firmware import cached_firmware
    from .qemu import format_profile, qemu_binary, run_firmware
    board = get_board(args.board)
    qemu_binary(board)      # fail early: real board, or QEMU missing
    c = compile_file(args.model, prefix=args.name)
    xs = run_inputs(args, c)
    fw = cached_firmware(c, board)
    profile = bool(getattr(args, "profile", False) or getattr(args, "profile_json", None))
    res = run_firmware(fw, board, c.graph, xs, profile=profile)
    out = Path(args.output)
    if len(res.outputs) == 1:
        np.save(out, res.outputs[0])
    else:
        np.savez(out, *res.outputs)
    print(f"ran {res.rows} input rows on {board.name} (QEMU {board.qemu_machine}, "
          f"{res.seconds:.2f} s, peak stack {res.stack_peak} B); wrote {out}")
    if res.profile:
        print(format_profile(res.profile))
        if getattr(args, "profile_json", None):
            Path(args.profile_json).write_text(json.dumps(res.profile, indent=2) + "\n")
    return 0
