"""`tinykiln run`: build a model (or impulse) for this computer or an emulated board, run input
rows through it and write the outputs."""
from __future__ import annotations

import json
from pathlib import Path

from ..errors import TinykilnError
from .arrays import (RUN_OUTPUT_HELP, check_output_count, check_run_output, rows_text, run_inputs,
                     write_file, write_outputs)
from .common import add_name, add_optimize, add_stack, compile_options, stack_arg


def cmd_run(a) -> int:
    from ..inputs import compile_file
    out = check_run_output(a)
    if a.board != "host":
        if a.sanitize:
            raise TinykilnError(f"--sanitize builds for this computer: give --board host (the "
                                f"board is {a.board}).")
        return run_on_board(a, out)
    if getattr(a, "profile", False) or getattr(a, "profile_json", None):
        raise TinykilnError("--profile counts guest instructions under QEMU: give an emulated "
                            "board such as --board mps2-an386 (see `tinykiln boards`).")
    c = compile_file(a.model, prefix=a.name, **compile_options(a))
    check_output_count(out, c, a.model)
    xs = run_inputs(a, c)
    from ..targets.hostrun import HostBuild
    with HostBuild(c, sanitize=a.sanitize) as hb:
        ys = hb.run(xs)
    wrote = write_outputs(out, ys)
    print(f"ran {rows_text(xs[0].shape[0])} on host{' (sanitized)' if a.sanitize else ''}; "
          f"{wrote}")
    return 0


def run_on_board(args, out: Path) -> int:
    """`tinykiln run MODEL --board BOARD` for a board other than host; `out` is the checked
    --output file."""
    from ..targets.board import get_board
    from ..inputs import compile_file
    from ..targets.firmware import cached_firmware
    from ..targets.qemu import format_profile, qemu_binary, run_firmware
    board = get_board(args.board)
    qemu_binary(board)      # fail early: real board, or QEMU missing
    c = compile_file(args.model, prefix=args.name, **compile_options(args, board))
    check_output_count(out, c, args.model)
    xs = run_inputs(args, c)
    fw = cached_firmware(c, board, stack_arg(args))
    profile = bool(getattr(args, "profile", False) or getattr(args, "profile_json", None))
    res = run_firmware(fw, board, c.graph, xs, profile=profile)
    computed = json.loads((fw / "report.json").read_text())["stack"]["computed"]
    wrote = write_outputs(out, res.outputs)
    worst = f" of {computed} B computed" if computed is not None else ""
    print(f"ran {rows_text(res.rows)} on {board.name} (QEMU {board.qemu_machine}, "
          f"{res.seconds:.2f} s, peak stack {res.stack_peak} B{worst}); {wrote}")
    if res.profile:
        print(format_profile(res.profile))
        if getattr(args, "profile_json", None):
            text = json.dumps(res.profile, indent=2) + "\n"
            write_file(Path(args.profile_json), lambda f: f.write(text.encode()))
            print(f"wrote the profile to {Path(args.profile_json)}")
    return 0


def register(sub) -> None:
    """Add this subcommand to the `tinykiln` parser's subparsers."""
    r = sub.add_parser("run", help="build the model (or impulse) for a board and run inputs "
                                   "through it",
                       description="Build a model (or impulse) for this computer or an emulated "
                                   "board, run input rows through it and save the outputs.")
    r.add_argument("model", help="int8 .tflite model or impulse file (.toml)")
    r.add_argument("--board", default="host",
                   help="host (this computer, the default), an emulated board (see `tinykiln "
                        "boards`) or a board .toml file")
    r.add_argument("--input", action="append", metavar="X.npy",
                   help="input rows, shape (N, *input_shape) (a leading 1 in the model's shape "
                        "may be left out) and the input's dtype; repeat for several inputs")
    r.add_argument("--raw", action="append", metavar="X.npy",
                   help="(impulse files) .npy of raw samples, shape (N, window[, axes]), int16 "
                        "or floats in [-1, 1]")
    r.add_argument("-o", "--output", required=True, metavar="FILE", help=RUN_OUTPUT_HELP)
    r.add_argument("--sanitize", action="store_true",
                   help="(host) build with AddressSanitizer and UndefinedBehaviorSanitizer; "
                        "a report means a tinykiln bug")
    add_name(r)
    add_optimize(r)
    add_stack(r)
    r.add_argument("--profile", action="store_true",
                     help="(emulated boards) count the exact instructions of every layer, with an "
                          "estimated cycle count on Cortex-M4/M7/M33/M55")
    r.add_argument("--profile-json", metavar="FILE.json",
                     help="(emulated boards) also write the profile as JSON to this file")
    r.set_defaults(fn=cmd_run)
