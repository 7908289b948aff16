"""Small-group suppression for counts by group (team, location, day).

A cell below the threshold is hidden.  If exactly one cell of a dimension
would be hidden, the smallest shown cell is hidden too (complementary
suppression): with the total known, one hidden cell could otherwise be
worked out as the total minus the others.

Anonymous signers add to a group's count only where at least `threshold`
of them share it (`counts_with_anonymous_pooled`): the public signers of a
group are listed by name with their team and location, so a group's count
minus its listed names is its number of anonymous signers, and a count of
one would place that signer in their team.
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


def counts_with_anonymous_pooled(
    public: dict[str, int], anonymous: dict[str, int], threshold: int
) -> dict[str, int]:
    """Each group's count: its public signers, plus its anonymous signers if
    there are at least `threshold` of them.  Anonymous signers of smaller
    groups are in no group's count (only in the letter's total), so no
    count, minus the public names listed in its group, can show fewer than
    `threshold` anonymous signers."""
    counts = dict(public)
    for label, n in anonymous.items():
        if n >= threshold:
            counts[label] = counts.get(label, 0) + n
    return counts


def merge_small_days(day_counts: dict[str, int], threshold: int) -> dict[str, int]:
    """For charts anyone may see: consecutive days are merged until each
    group holds at least `threshold` signatures; the group's count is shown on
    its last day (the days before it show 0).  A trailing small group is
    merged into the group before it.  Fewer than `threshold` in all: {}."""
    groups: list[list[str]] = []
    sums: list[int] = []
    current: list[str] = []
    total = 0
    for day in sorted(day_counts):
        current.append(day)
        total += day_counts[day]
        if total >= threshold:
            groups.append(current)
            sums.append(total)
            current, total = [], 0
    if current:
        if not groups:
            return {}
        groups[-1].extend(current)
        sums[-1] += total
    merged: dict[str, int] = {}
    for days, n in zip(groups, sums, strict=True):
        merged.update(dict.fromkeys(days, 0))
        merged[days[-1]] = n
    return merged
