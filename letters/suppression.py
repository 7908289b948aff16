"""Small-group suppression for counts by group (team, location, day).

A cell below the threshold is hidden.  If exactly one cell of a dimension
would be hidden, the smallest shown cell is hidden too (complementary
suppression): with the total known, one hidden cell could otherwise be
worked out as the total minus the others.

Suppression is not what keeps anonymous signers unplaced (DESIGN §2, rule 9:
one anonymous signature confirming or withdrawing changes no breakdown row).
A threshold on a group falls to fakes: an attacker who confirms four
anonymous signatures with a team fills that team up to five, and the one
real anonymous signer who joins it appears as "5".  So what is fed in here
is already safe: counts by team and location hold public signers only
(`selectors.letter_group_counts`; anonymous signers are in the totals only),
and counts by day are the net change of the total on that day
(`selectors.letter_day_counts`: what reading the public total once a day
tells anyway).  Suppression stays on top of that.

Counts may be zero or negative (a day on which more signers left than
joined): a zero cell is left out, and a cell is small when its size
(absolute value) is below the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Cell:
    label: str
    count: int | None  # None: suppressed


def suppress(counts: dict[str, int], threshold: int) -> list[Cell]:
    """Cells largest first (zero cells left out); suppressed ones carry
    count None."""
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    hidden = {label for label, n in ordered if 0 < abs(n) < threshold}
    if len(hidden) == 1:
        shown = [(label, n) for label, n in ordered if label not in hidden and n != 0]
        if shown:
            hidden.add(min(shown, key=lambda kv: (abs(kv[1]), kv[0]))[0])
    return [Cell(label, None if label in hidden else n) for label, n in ordered if n != 0]


def merge_small_days(day_counts: dict[str, int], threshold: int) -> dict[str, int]:
    """For charts anyone may see: consecutive days are merged until each
    group adds at least `threshold` to the total; the group's count is shown
    on its last day (the days before it show 0).  A trailing group that adds
    less (or takes away: day counts are net changes, see
    `selectors.letter_day_counts`) is merged into the groups before it until
    the last one adds at least `threshold` too.  So no shown figure is below
    `threshold`, none is negative, and they add up to the total.  A total
    below `threshold`: {}."""
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
        groups.append(current)
        sums.append(total)
    while len(groups) > 1 and sums[-1] < threshold:
        last, last_sum = groups.pop(), sums.pop()
        groups[-1].extend(last)
        sums[-1] += last_sum
    if not groups or sums[-1] < threshold:
        return {}
    merged: dict[str, int] = {}
    for days, n in zip(groups, sums, strict=True):
        merged.update(dict.fromkeys(days, 0))
        merged[days[-1]] = n
    return merged
