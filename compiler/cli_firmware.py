"""Sub-commands for firmware images (build, boards, export-platformio) and non-host `run`.
Registered into the main parser by cli.build_parser()."""


def register(sub) -> None:
    """Add this module's sub-commands to the `tinykiln` parser's subparsers."""


def run_on_board(args) -> int:
    """`tinykiln run MODEL --board BOARD` for a board other than host."""
    from .errors import TinykilnError
    raise TinykilnError(f"unknown board '{args.board}'; this version runs on: host.")
