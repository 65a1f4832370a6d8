"""What every subcommand shares: how folders and names are printed, the inputs a command reads
(the output folder must not hold them), and the common arguments."""
from __future__ import annotations

from pathlib import Path


def terminal_text(text: str) -> str:
    """A message for the terminal: names from a model or file keep their printable characters;
    control characters (newlines, escape sequences) are shown as escapes, so a message stays one
    line and a name cannot drive the terminal."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
                   for ch in text)


EPILOG = ("Output folders: -o DIR writes a new folder, or replaces a folder tinykiln wrote "
          "before (it leaves a .tinykiln-output file in it) or an empty one. Any other folder, "
          "the current folder, a folder holding an input and an existing file are refused; "
          "--force replaces a non-empty folder tinykiln did not write.")


def folder_text(path) -> str:
    """A folder's name as printed: one trailing slash, whatever the user typed."""
    return str(Path(path)) + "/"


def model_inputs(model: str | Path) -> list[Path]:
    """The files a model argument reads: the model, or an impulse file and the model it names."""
    p = Path(model)
    out = [p]
    if p.suffix.lower() == ".toml" and p.is_file():
        import tomllib
        try:
            named = tomllib.loads(p.read_text()).get("model", {}).get("path")
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, AttributeError):
            named = None        # the impulse loader says what is wrong, later
        if isinstance(named, str):
            out.append(p.parent / named)
    return out


def board_inputs(board: str | None) -> list[Path]:
    return [Path(board)] if board and board.endswith(".toml") else []


def output_folder(a, inputs):
    from ..outdir import user_output
    return user_output(a.output, inputs, getattr(a, "force", False), getattr(a, "command", None))


def add_impulse_model(c) -> None:
    """An impulse's model, as the loader resolved it, is an input of the command too."""
    imp = getattr(c, "impulse", None)
    if imp is not None:
        from ..outdir import add_inputs
        add_inputs(imp.path, imp.model_path)


def add_force(parser) -> None:
    parser.add_argument("--force", action="store_true",
                        help="replace the output folder even if tinykiln did not write it (never "
                             "one that holds an input or the current folder)")


def add_name(parser) -> None:
    parser.add_argument("--name", default="model", metavar="PREFIX",
                        help="prefix of the C symbols and file names (default: model)")


def add_optimize(parser) -> None:
    parser.add_argument("--optimize", choices=("balanced", "ram", "speed"), default="balanced",
                        help="how far to trade instructions for RAM (ops in place or with a "
                             "lag over their input, depth-first chains, kernels without stack "
                             "buffers): ram (all that can), speed (none), balanced (the default: "
                             "the lowest RAM within 5%% of the fastest instruction count on the "
                             "target)")


def compile_options(a, board=None) -> dict:
    """compile_file's options from --optimize and the board (a Helium core weighs in place
    differently)."""
    from ..targets.fit import arena_regions
    return {"optimize": getattr(a, "optimize", "balanced"),
            "helium": board is not None and board.cpu == "cortex-m55",
            **({"arena_regions": arena_regions(board, getattr(a, "stack", None))}
               if board is not None and board.ram_regions else {})}


def add_stack(parser) -> None:
    parser.add_argument("--stack", type=int, metavar="BYTES",
                        help="(firmware) reserve this many bytes of stack instead of the worst "
                             "case the build computes from the image (gcc's stack usage and "
                             "the call graph) and a small margin")


def stack_arg(a) -> int | None:
    """--stack, checked: a multiple of 8, at least 64 bytes, or None."""
    n = getattr(a, "stack", None)
    if n is not None and (n < 64 or n % 8):
        from ..errors import TinykilnError
        raise TinykilnError(f"--stack is {n}; it must be a multiple of 8 and at least 64 "
                            f"(bytes).")
    return n
