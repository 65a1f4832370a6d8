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
    return {"flash": weights + floor["flash"],
            "ram": stack_bytes + max(c.plan.arena_size, 1) + c.plan.variable_bytes
            + floor["ram"]}


def does_not_fit(board: Board, over: dict[str, int], at_least: bool) -> TinykilnError:
    by = "over by at least" if at_least else "over by"
    parts = [f"{'flash' if k == 'FLASH' else 'RAM'} {by} {n} bytes"
             for k, n in sorted(over.items())]
    return TinykilnError(f"does not fit on {board.name}: {', '.join(parts)} "
                         f"(flash {board.flash.length} bytes, RAM {board.ram.length} bytes).")


def check_fit(c: Compiled, board: Board, stack_bytes: int = 0) -> None:
    """Refuse, before any compiler runs, an image that certainly cannot fit the board: its lower
    bound of use (usage_lower_bound) exceeds flash or RAM. The overflow it names is a lower bound
    too ("at least"); a model close to the limit is left to the link, whose overflow, parsed from
    ld's error, is exact."""
    if board.arch not in RUNTIME_FLOOR:
        return
    need = usage_lower_bound(c, board, stack_bytes)
    over = {k.upper(): need[k] - getattr(board, k).length for k in ("flash", "ram")
            if need[k] > getattr(board, k).length}
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
