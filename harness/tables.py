"""Tables that read well anywhere: in a terminal they fit its width, piped they are plain Markdown.

In a terminal a table never cuts a name or a number: cells wrap only between words, and when the columns cannot fit
even so, they are printed as several tables side by side in turn (the first ``keys`` columns, e.g. the task or run
name, repeated in each). When the output is not a terminal (a pipe, a file), the table is printed as Markdown, each
row on one line with nothing cut, so that ``grep`` and other tools see whole names.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

#: what rich's default box adds per column: one space of padding each side and a vertical line
_COLUMN_EXTRA = 3


@dataclass
class Layout:
    """A table split into blocks of columns that each fit ``width`` (indices into the header list)."""

    blocks: list[list[int]]
    min_widths: list[int]
    natural_widths: list[int]


def _longest_word(text: str) -> int:
    return max((cell_len(w) for w in text.split()), default=0)


def _natural(text: str) -> int:
    return max((cell_len(line) for line in text.splitlines()), default=0)


def natural_width(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> int:
    """Width of the table when no cell wraps."""
    widths = [max([_natural(h)] + [_natural(r[i]) for r in rows]) for i, h in enumerate(headers)]
    return sum(w + _COLUMN_EXTRA for w in widths) + 1


def layout(headers: Sequence[str], rows: Sequence[Sequence[str]], width: int, keys: int = 1) -> Layout:
    """Split the columns into blocks whose word-wrapped width fits ``width``; the first ``keys`` columns repeat."""
    mins = [max([_longest_word(h)] + [_longest_word(r[i]) for r in rows], default=1) for i, h in enumerate(headers)]
    nats = [max([_natural(h)] + [_natural(r[i]) for r in rows], default=1) for i, h in enumerate(headers)]
    key_cols = list(range(min(keys, len(headers))))
    base = sum(mins[i] + _COLUMN_EXTRA for i in key_cols) + 1
    blocks: list[list[int]] = []
    current: list[int] = []
    used = base
    for i in range(len(key_cols), len(headers)):
        need = mins[i] + _COLUMN_EXTRA
        if current and used + need > width:
            blocks.append(key_cols + current)
            current, used = [], base
        current.append(i)
        used += need
    if current or not blocks:
        blocks.append(key_cols + current)
    return Layout(blocks=blocks, min_widths=mins, natural_widths=nats)


def fit(natural: Sequence[int], minimum: Sequence[int], width: int) -> list[int]:
    """Column widths that fit ``width`` (borders and padding included): the widest columns give way first, never
    below their longest word."""
    widths = list(natural)
    excess = sum(w + _COLUMN_EXTRA for w in widths) + 1 - width
    while excess > 0:
        slack = [(w, i) for i, w in enumerate(widths) if w > minimum[i]]
        if not slack:
            break
        _, i = max(slack)
        widths[i] -= 1
        excess -= 1
    return widths


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(headers: Sequence[str], rows: Sequence[Sequence[str]], title: str | None = None,
             caption: str | None = None, justify: Sequence[str] | None = None) -> str:
    """A Markdown table (right-aligned columns marked ``---:``), with its title and caption as paragraphs."""
    justify = list(justify or ["left"] * len(headers))
    lines = []
    if title:
        lines += [title, ""]
    lines.append("| " + " | ".join(_md_cell(h) for h in headers) + " |")
    lines.append("|" + "|".join("---:" if j == "right" else "---" for j in justify) + "|")
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    if caption:
        lines += ["", caption]
    return "\n".join(lines) + "\n"


def show(console: Console, headers: Sequence[str], rows: Sequence[Sequence[str]], *, title: str | None = None,
         caption: str | None = None, justify: Sequence[str] | None = None, keys: int = 1,
         row_styles: Sequence[str | None] | None = None, sections: Sequence[int] = ()) -> None:
    """Print a table: Markdown when ``console`` is not a terminal, else rich tables that fit its width.

    ``sections``: row indices before which a separating line is drawn (terminal only).
    """
    rows = [[str(c) for c in r] for r in rows]
    justify = list(justify or ["left"] * len(headers))
    if not console.is_terminal:
        console.print(markdown(headers, rows, title, caption, justify), markup=False, highlight=False,
                      soft_wrap=True, end="")
        console.print()
        return
    lay = layout(headers, rows, console.width, keys)
    n = len(lay.blocks)
    titled = bool(title) or n > 1
    for b, cols in enumerate(lay.blocks):
        part = f" ({b + 1}/{n})" if n > 1 else ""
        table = Table(title=Text((title or "") + part) if titled else None,
                      caption=Text(caption) if caption and b == n - 1 else None, caption_justify="left")
        widths = fit([lay.natural_widths[i] for i in cols], [lay.min_widths[i] for i in cols], console.width)
        for i, w in zip(cols, widths):
            table.add_column(Text(headers[i]), justify=justify[i], width=w, overflow="fold")
        for k, row in enumerate(rows):
            style = row_styles[k] if row_styles else None
            table.add_row(*[Text(row[i]) for i in cols], style=style, end_section=(k + 1) in sections)
        console.print(table, highlight=False)
