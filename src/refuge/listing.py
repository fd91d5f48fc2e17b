"""Listings for a terminal, a pager or a spreadsheet: a table where it fits, records where not, or CSV.

A table squeezed into 80 columns breaks words mid-way; so when the table's
narrowest layout (each column as wide as its longest word) does not fit, each
row is printed as a record of ``field: value`` lines wrapped between words.
``--csv`` writes the same rows, unformatted, for a spreadsheet.
"""

from __future__ import annotations

import csv
import sys
import textwrap
from collections.abc import Mapping, Sequence

from rich.console import Console
from rich.table import Table


def show(
    console: Console,
    title: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    as_csv: bool = False,
    right: Sequence[str] = (),
    styles: Mapping[str, Mapping[str, str]] | None = None,
) -> None:
    """Print ``rows`` under ``columns``: as CSV, as a table if it fits the console, else as records.

    ``styles`` maps a column to the rich style of some of its values (``{"check": {"contradicted": "red"}}``).
    """
    if as_csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow([_csv_name(c) for c in columns])
        writer.writerows(rows)
        return
    styles = styles or {}
    table = Table(title=title)
    for column in columns:
        table.add_column(column, justify="right" if column in right else "left", overflow="fold")
    for row in rows:
        table.add_row(*(_styled(str(v), styles.get(c, {})) for c, v in zip(columns, row, strict=True)))
    if _narrowest(columns, rows) <= console.width:
        console.print(table)
        return
    width = max(console.width, 40)
    console.print(f"[bold]{title}[/]", highlight=False)
    for row in rows:
        console.print()
        console.print(f"[bold]{_escape(str(row[0]))}[/]", highlight=False, soft_wrap=True)
        for column, value in zip(columns[1:], row[1:], strict=True):
            text = " ".join(str(value).split())
            if not text:
                continue
            lines = textwrap.wrap(f"{column}: {text}", width=width, initial_indent="  ", subsequent_indent="    ",
                                  break_long_words=False, break_on_hyphens=False)  # fmt: skip
            console.print("\n".join(lines), markup=False, highlight=False, soft_wrap=True)


def _narrowest(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> int:
    """Width of the table with each column as wide as its longest word (box and padding: 3 a column, plus 1)."""
    from rich.cells import cell_len

    widest = [max((cell_len(word) for word in str(c).split()), default=0) for c in columns]
    for row in rows:
        for i, value in enumerate(row):
            widest[i] = max(widest[i], *(cell_len(word) for word in str(value).split()), 0)
    return sum(widest) + 3 * len(columns) + 1


def _styled(value: str, styles: Mapping[str, str]) -> str:
    escaped = _escape(value)
    style = styles.get(value)
    return f"[{style}]{escaped}[/]" if style else escaped


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _csv_name(column: str) -> str:
    return column.replace(" ", "_").replace("-", "_")
