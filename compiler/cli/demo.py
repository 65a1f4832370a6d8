"""`tinykiln demo`: the main job on a built-in example, stage by stage."""
from __future__ import annotations

from pathlib import Path

from .common import output_folder


def cmd_demo(a) -> int:
    from ..demo import run_demo      # it claims the folder (outdir.claim_folder)
    with output_folder(a, []):
        return run_demo(Path(a.output))


def register(sub) -> None:
    """Add this subcommand to the `tinykiln` parser's subparsers."""
    from ..demo import HELP as DEMO_HELP         # the stages, from the demo itself
    d = sub.add_parser("demo", help="run the main job on a built-in example model (compile, "
                                    "host run, TFLM comparison, impulse, QEMU run)",
                       description=DEMO_HELP)
    d.add_argument("-o", "--output", default="tinykiln-demo", metavar="DIR",
                   help="output folder: new, empty, or an earlier demo's (default: "
                        "tinykiln-demo)")
    d.set_defaults(fn=cmd_demo)
