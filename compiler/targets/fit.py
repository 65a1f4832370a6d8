"""Whether an image can fit its board, decided before anything is compiled: a lower bound of its
flash and RAM use (the link, whose overflow is exact, is the backstop), and the choice of the
CONV_2D filters' int8 form where their int16 form would not fit."""
from __future__ import annotations

from ..compile import Compiled
from ..errors import TinykilnError
from ..ir import CTYPE_SIZE
from .board import Board
from .stack import MARGIN

# The least an image certainly needs beside the model's weights, arena and stack, per arch:
# startup, vector table, main, console, exit, helpers and the C library in flash, their .data and
# .bss in RAM. Measured on the smallest image (one MAX_POOL_2D op, no weights; model code and
# params subtracted) with tinykiln 0.1.0, arm-none-eabi-gcc 12.2.1 + newlib and
# riscv64-unknown-elf-gcc 12.2.0 + picolibc: arm flash 2,063 B (nrf52840-dk) to 2,755 B
# (mps2-an386) on the shipped boards, 1,871 B on a bare Cortex-M33 board (console and exit
# "none"), RAM 412 to 428 B; riscv flash 1,631 B (sifive_e), 953 B bare, RAM 272 B, 256 B
# bare. Rounded down, so that the check stays a lower bound; tests/test_firmware.py rebuilds
# those images and checks that it is.
RUNTIME_FLOOR = {"arm": {"flash": 1536, "ram": 384}, "riscv": {"flash": 768, "ram": 192}}
# a const array this small might be folded into code by gcc: left out of the lower bound
_FOLDABLE_CONST = 64


def usage_lower_bound(c: Compiled, board: Board, stack_bytes: int = 0) -> dict[str, int]:
    """Bytes of flash and RAM that any image of c for board certainly uses: the weights (const
    arrays the planned kernels read), the planned arena, the variables (state kept across
    invokes), the stack when its size is given (else, known only after the build's analysis,
    at least its margin) and the runtime floor."""
    stack_bytes = stack_bytes or MARGIN
    floor = RUNTIME_FLOOR[board.arch]
    weights = sum(n for n in (len(k.values) * CTYPE_SIZE[k.ctype] for k in c.lowered.consts)
                  if n >= _FOLDABLE_CONST)
    p = c.plan
    return {"flash": weights + floor["flash"],
            "ram": stack_bytes + max(p.arena_size, 1) + p.variable_bytes + floor["ram"],
            **{f"RAM_{n}": b for n, b in zip(p.region_names[1:], p.region_sizes[1:])}}


def arena_regions(board: Board, stack: int | None = None) -> tuple[tuple[str, int], ...]:
    """compile_graph's arena_regions for a board with [[ram_regions]] (else ()): [ram] less the
    stack (`stack`, else the board's stack_bytes: the computed stack is known only after the
    first link, and is never more) and the runtime's static data, then each region whole."""
    if not board.ram_regions or board.arch not in RUNTIME_FLOOR:
        return ()
    main = board.ram.length - RUNTIME_FLOOR[board.arch]["ram"] - (stack or board.stack_bytes)
    return (("", max(main, 0)), *((r.name, r.length) for r in board.ram_regions))


def _capacity(board: Board, key: str) -> int:
    if key.startswith("RAM_"):
        return next(r.length for r in board.ram_regions if r.name == key[4:])
    return getattr(board, key.lower()).length


def does_not_fit(board: Board, over: dict[str, int], at_least: bool) -> TinykilnError:
    """over: linker memory region (FLASH, RAM, RAM_<region>) -> bytes over."""
    by = "over by at least" if at_least else "over by"
    what = {"FLASH": "flash", "RAM": "RAM"}
    parts = [f"{what.get(k, 'RAM region ' + k[4:])} {by} {n} bytes"
             for k, n in sorted(over.items())]
    sizes = f"flash {board.flash.length} bytes, RAM {board.ram.length} bytes" + "".join(
        f", {r.name} {r.length} bytes" for r in board.ram_regions)
    e = TinykilnError(f"does not fit on {board.name}: {', '.join(parts)} ({sizes}).")
    e.over = dict(over)
    return e


def replanned(c: Compiled, board: Board, e: TinykilnError) -> Compiled | None:
    """c compiled again with less of [ram] for the arena, where the link overflowed [ram] but
    the arena spans RAM regions that may take more (the stack, known only after the first link,
    took more than set aside); None where that cannot help."""
    over = getattr(e, "over", {})
    p = c.plan
    if set(over) != {"RAM"} or c.recompile is None or not board.ram_regions:
        return None
    main = max(p.arena_size + p.variable_bytes - over["RAM"] - 16, 0)
    return c.recompile(arena_regions=(("", main), *((r.name, r.length) for r in board.ram_regions)))


def check_fit(c: Compiled, board: Board, stack_bytes: int = 0) -> None:
    """Refuse, before any compiler runs, an image that certainly cannot fit the board: its lower
    bound of use (usage_lower_bound) exceeds flash or RAM. The overflow it names is a lower bound
    too ("at least"); a model close to the limit is left to the link, whose overflow, parsed from
    ld's error, is exact."""
    if board.arch not in RUNTIME_FLOOR:
        return
    need = {k if k.startswith("RAM_") else k.upper(): n
            for k, n in usage_lower_bound(c, board, stack_bytes).items()}
    over = {k: n - _capacity(board, k) for k, n in need.items() if n > _capacity(board, k)}
    if over:
        raise does_not_fit(board, over, at_least=True)


def widened_extra(c: Compiled | None) -> int:
    """Bytes of flash the int16 form of CONV_2D filters (TK_CONV_W16) adds to the int8 one."""
    if c is None:
        return 0
    return sum(len(k.alt[2]) * CTYPE_SIZE[k.alt[1]] - len(k.values) * CTYPE_SIZE[k.ctype]
               for k in c.lowered.consts if k.alt is not None and k.alt[0] == "TK_CONV_W16")


def narrow_flags(c: Compiled, board: Board) -> tuple[str, ...]:
    """-DTK_CONV_NARROW (int8 CONV_2D filters) where the int16 form would certainly not fit the
    board's flash (the lower bound of use plus the widened form's extra bytes)."""
    extra = widened_extra(c)
    if extra and board.arch == "arm" and \
            usage_lower_bound(c, board)["flash"] + extra > board.flash.length:
        return ("-DTK_CONV_NARROW",)
    return ()
