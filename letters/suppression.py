"""Small-group suppression for counts by group (team, location, day).

A cell below the threshold is hidden.  If exactly one cell of a dimension
would be hidden, the smallest shown cell is hidden too (complementary
suppression): with the total known, one hidden cell could otherwise be
worked out as the total minus the others.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Cell:
    label: str
    count: int | None  # None: suppressed


def suppress(counts: dict[str, int], threshold: int) -> list[Cell]:
    """Cells largest first; suppressed ones carry count None."""
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    hidden = {label for label, n in ordered if 0 < n < threshold}
    if len(hidden) == 1:
        shown = [(label, n) for label, n in ordered if label not in hidden and n > 0]
        if shown:
            hidden.add(min(shown, key=lambda kv: (kv[1], kv[0]))[0])
    return [Cell(label, None if label in hidden else n) for label, n in ordered if n > 0]
