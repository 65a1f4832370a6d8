"""The live view of a release: one line a job (target/board, stage, status) drawn by rich on a
terminal, plain lines (one a change) otherwise, so that CI logs stay readable."""
from __future__ import annotations

import sys
import time


class Display:
    """Jobs by index; stage() on every change, done() with the finished record."""

    def __init__(self, names: list[str], live: bool | None = None):
        self.names = names
        self.state = ["queued"] * len(names)
        self.detail = [""] * len(names)
        self.t0 = [0.0] * len(names)
        self.live = sys.stdout.isatty() if live is None else live
        self._live = None

    def __enter__(self):
        if self.live and self.names:
            try:
                from rich.live import Live
            except ImportError:     # rich is in tinykiln[release]; without it, plain lines
                return self
            self._live = Live(self._table(), refresh_per_second=4, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc):
        if self._live is not None:
            self._live.update(self._table())
            self._live.__exit__(*exc)

    def _table(self):
        from rich.table import Table
        t = Table(box=None, show_header=True, pad_edge=False)
        t.add_column("job")
        t.add_column("stage")
        t.add_column("status", no_wrap=True, overflow="ellipsis")
        styles = {"ok": "green", "cached": "green", "failed": "red"}
        for i, n in enumerate(self.names):
            st = self.state[i]
            t.add_row(n, st, self.detail[i], style=styles.get(st, ""))
        return t

    def _show(self, i: int) -> None:
        if self._live is not None:
            self._live.update(self._table())
        else:
            extra = f": {self.detail[i]}" if self.detail[i] else ""
            print(f"{self.names[i]}: {self.state[i]}{extra}", flush=True)

    def stage(self, i: int, stage: str) -> None:
        if self.state[i] == "queued":
            self.t0[i] = time.perf_counter()
        self.state[i] = stage
        self._show(i)

    def done(self, i: int, rec: dict, cached: bool) -> None:
        if rec["status"] == "ok":
            self.state[i] = "cached" if cached else "ok"
            parts = [f"flash {rec['flash']:,} B", f"RAM {rec['ram']:,} B"]
            if rec["instructions"] is not None:
                parts.append(f"{rec['instructions']:,} instructions")
            if rec["accuracy"] is not None:
                parts.append(f"accuracy {rec['accuracy']:.2f}%")
            if not cached:
                parts.append(f"{time.perf_counter() - self.t0[i]:.1f} s")
            self.detail[i] = ", ".join(parts)
        else:
            self.state[i] = "failed"
            self.detail[i] = rec["message"]
        self._show(i)
