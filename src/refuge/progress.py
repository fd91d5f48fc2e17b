"""Progress of long commands: a bar on a terminal, plain lines in a log or a pipe.

A bar redrawn in place is noise in a file, and rich draws nothing when
stderr is not a terminal; so there a line is printed at every tenth of the work.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console


@contextmanager
def progress(console: Console, label: str, total: int, unit: str = "member-weeks",
             of: str | None = None) -> Iterator[Callable[[int], None]]:  # fmt: skip
    """A function to call with the work done since the last call, shown as ``label`` moves to ``total``.

    A log line says what share of ``total`` ``unit`` is done, or of ``of`` where the total is itself a share.
    """
    if console.is_terminal:
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

        # a percentage, not "done/total": large counts do not fit beside the bar at 80 columns
        columns = (TextColumn(label), BarColumn(bar_width=None), TaskProgressColumn(), TimeRemainingColumn())
        with Progress(*columns, console=console, transient=True, expand=True) as bar:
            task = bar.add_task("work", total=total)
            yield lambda done: bar.advance(task, done)
        return
    state = {"done": 0, "shown": 0}
    began = time.monotonic()

    def advance(done: int) -> None:
        state["done"] += done
        tenth = min(10, state["done"] * 10 // max(total, 1))
        if tenth > state["shown"]:
            state["shown"] = tenth
            elapsed = time.monotonic() - began
            whole = of or f"{total:,} {unit}"
            console.print(f"{label}: {tenth * 10}% of {whole} done, {elapsed:.0f} s", markup=False,
                          highlight=False, soft_wrap=True)  # fmt: skip

    yield advance
