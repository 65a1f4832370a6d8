"""`tinykiln diff OLD NEW`: what changed between two release folders (from their manifest.json):
per target x board the flash, RAM, instructions and accuracy, status, and the inputs whose hashes
differ. A table drawn by rich on a terminal (when rich is installed), aligned plain text otherwise,
the structured form with --json."""
from __future__ import annotations

import json
import sys

from .common import terminal_text

INPUTS_MIN = 24             # the narrowest inputs column worth a table: else plain text


def rich_table(d: dict, console) -> bool:
    """Print the diff on a rich Console: worse figures in red, better ones in green. False
    (nothing printed) when the table is too wide for the console."""
    from rich.table import Table
    from rich.text import Text

    from ..release.diff import (HEADERS, METRICS, footer_lines, header_lines, job_row,
                                metric_trend)
    table = Table(box=None, pad_edge=False, header_style="bold")
    for i, h in enumerate(HEADERS):
        table.add_column(h, no_wrap=i < len(HEADERS) - 1, overflow="fold")
    for job in d["jobs"]:
        cells = [Text("\n".join(terminal_text(x) for x in c.split("\n")))
                 for c in job_row(job, sep="\n")]
        for i, m in enumerate(METRICS, start=3):
            trend = metric_trend(job[m], m)
            if trend:
                cells[i].stylize("green" if trend > 0 else "red")
        if job["status"]["new"] == "failed" or job["change"] == "gone":
            cells[2].stylize("red")
        elif job["change"] == "new":
            cells[2].stylize("green")
        table.add_row(*cells)
    rows = [HEADERS] + [job_row(job, sep="\n") for job in d["jobs"]]
    need = sum(max(len(line) for r in rows for line in r[i].split("\n"))
               for i in range(len(HEADERS) - 1)) + 2 * (len(HEADERS) - 1) + INPUTS_MIN
    if need > console.width:
        return False
    for line in header_lines(d):
        console.print(Text(terminal_text(line)))
    console.print()
    console.print(table)
    console.print()
    for line in footer_lines(d):
        console.print(Text(terminal_text(line)))
    return True


def cmd_diff(a) -> int:
    from ..release.diff import diff_text, release_diff
    d = release_diff(a.old, a.new)
    if a.json:
        print(json.dumps(d, indent=2, sort_keys=True))
        return 0
    if sys.stdout.isatty():
        try:
            from rich.console import Console
        except ImportError:
            Console = None
        if Console is not None and rich_table(d, Console()):
            return 0
    print("\n".join(terminal_text(line) for line in diff_text(d).splitlines()))
    return 0


def register(sub) -> None:
    """Add this subcommand to the `tinykiln` parser's subparsers."""
    p = sub.add_parser("diff", help="what changed between two release folders",
                       description="Compare two release folders written by `tinykiln release` "
                                   "(their manifest.json): per target x board the change in "
                                   "flash, RAM, instructions and accuracy (absolute and percent), "
                                   "jobs new or gone, status changes, the inputs whose SHA-256 "
                                   "differ, changed flags, and the tinykiln and toolchain "
                                   "versions. Exit status 0 whatever changed.")
    p.add_argument("old", metavar="OLD", help="the earlier release folder")
    p.add_argument("new", metavar="NEW", help="the later release folder")
    p.add_argument("--json", action="store_true",
                   help="print the structured difference as JSON instead of a table")
    p.set_defaults(fn=cmd_diff)
