"""`tinykiln ops`: every op tinykiln compiles, with the tensor types it accepts; `--markdown`
prints the table the README holds (a test keeps the two equal)."""
from __future__ import annotations

README_BEGIN = "<!-- ops table: `tinykiln ops --markdown` -->"
README_END = "<!-- end of ops table -->"


def markdown() -> str:
    """The README's table of supported ops, one row per op."""
    from ..lower import ops_table
    rows = ["| op | tensor types | limits |", "|---|---|---|"]
    rows += [f"| {name} | {', '.join(types)} | {note} |" for name, types, note in ops_table()]
    return "\n".join(rows) + "\n"


def cmd_ops(a) -> int:
    from ..lower import ops_table
    if a.markdown:
        print(markdown(), end="")
        return 0
    table = ops_table()
    width = max(len(name) for name, _, _ in table)
    for name, types, note in table:
        print(f"{name:<{width}}  {', '.join(types)}" + (f"  ({note})" if note else ""))
    print(f"{len(table)} ops; any other is refused with its name, index and tensors.")
    return 0


def register(sub) -> None:
    """Add this subcommand to the `tinykiln` parser's subparsers."""
    o = sub.add_parser("ops", help="list the ops tinykiln compiles and their tensor types",
                       description="List every op tinykiln compiles, with the tensor types it "
                                   "accepts ('int8': int8 in and out; 'a->b' where they differ).")
    o.add_argument("--markdown", action="store_true",
                   help="print the table as Markdown (the README's table)")
    o.set_defaults(fn=cmd_ops)
