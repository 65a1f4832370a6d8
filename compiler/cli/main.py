"""The `tinykiln` command line: the parser of every subcommand (one module each) and the error
policy. A user's mistake (TinykilnError) prints one sentence and exits 1; so does a failure of the
generated C on the host (hostrun.HostFailure), which is a tinykiln bug. Every command that writes
a folder checks it first (outdir.user_output): nothing of the user's is replaced, and the check
comes before the long work."""
from __future__ import annotations

import argparse
import shlex
import sys

from .. import __version__
from ..errors import TinykilnError
from . import compile, demo, diff, features, firmware, flash, ops, release, run
from .common import EPILOG, terminal_text

DESCRIPTION = ("tinykiln compiles int8 TensorFlow Lite models (and float Keras models, quantized "
               "to int8) into plain C for microcontrollers, builds firmware images, and runs "
               "them on this computer or under QEMU.")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tinykiln", description=DESCRIPTION, epilog=EPILOG)
    p.add_argument("--version", action="version", version=f"tinykiln {__version__}")
    sub = p.add_subparsers(dest="cmd", required=True, metavar="COMMAND",
                           help="what to do (`tinykiln COMMAND --help` for its arguments)")
    for mod in (compile, run, demo, firmware, features, ops, release, diff, flash):
        mod.register(sub)
    return p


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else [str(x) for x in argv]
    args = build_parser().parse_args(argv)
    args.command = shlex.join(["tinykiln", *argv])
    try:
        return args.fn(args)
    except TinykilnError as e:
        print(f"tinykiln: error: {terminal_text(str(e))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as e:
        from ..targets.hostrun import HostFailure     # loaded already if it raised this
        if not isinstance(e, HostFailure):
            raise
        print(f"tinykiln: error: {terminal_text(str(e))}", file=sys.stderr)
        return 1
