"""One-row markdown tables of metrics (the command line's output)."""

from __future__ import annotations

from collections.abc import Sequence


def one_row_table(heads: Sequence[str], cells: Sequence[str]) -> str:
    """``| head | ... |`` / rule / ``| cell | ... |``, each column as wide as its widest text."""
    widths = [max(len(h), len(c)) for h, c in zip(heads, cells, strict=True)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True)) + " |"
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    row = "| " + " | ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True)) + " |"
    return "\n".join([line, rule, row])
