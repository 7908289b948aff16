"""A letter's confirmed and public counts: folded stats plus unfolded deltas."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import connections, router
from django.db.models import Count
from django.utils import timezone

from letters.models import (
    CountDelta,
    LetterStats,
    Signature,
)


@dataclass(frozen=True)
class Counts:
    confirmed: int
    public: int
    # When the count last changed, as far as the rows tell (for a page's
    # Last-Modified): the last fold, or the read itself while deltas wait to
    # be folded; None if nothing was ever counted.  Not compared.
    changed_at: datetime | None = field(default=None, compare=False)

    @property
    def anonymous(self) -> int:
        return max(0, self.confirmed - self.public)


def letter_counts_many(letter_ids: list[int]) -> dict[int, Counts]:
    """Exact counts: folded stats plus deltas not yet folded (two queries for
    any number of letters; the delta table stays small because it is folded
    every COUNT_INTERVAL seconds)."""
    if not letter_ids:
        return {}
    stats = {
        row["letter_id"]: row
        for row in LetterStats.objects.filter(letter_id__in=letter_ids).values(
            "letter_id", "confirmed", "public", "updated_at"
        )
    }
    # The deltas from the database the stats came from (a public build may
    # read from the replica: config/db_router.py), never the other one.
    db = connections[router.db_for_read(CountDelta)]
    table = db.ops.quote_name(CountDelta._meta.db_table)
    placeholders = ", ".join(["%s"] * len(letter_ids))
    with db.cursor() as cursor:
        cursor.execute(
            f"SELECT letter_id, SUM(confirmed), SUM(public) FROM {table} "  # noqa: S608
            f"WHERE letter_id IN ({placeholders}) GROUP BY letter_id",
            letter_ids,
        )
        deltas = {row[0]: (int(row[1]), int(row[2])) for row in cursor.fetchall()}
    result = {}
    now = timezone.now()
    for letter_id in letter_ids:
        base = stats.get(letter_id)
        extra = deltas.get(letter_id, (0, 0))
        result[letter_id] = Counts(
            confirmed=(base["confirmed"] if base else 0) + extra[0],
            public=(base["public"] if base else 0) + extra[1],
            changed_at=now if letter_id in deltas else (base["updated_at"] if base else None),
        )
    return result


def letter_counts(*, letter_id: int) -> Counts:
    return letter_counts_many([letter_id])[letter_id]


def signature_rows_many(letter_ids: list[int]) -> dict[int, int]:
    """Every signature row of each letter, whatever its status (erased ones
    included): the work a recount or an export of the letter reads through.
    One grouped count; for progress displays, not for anything shown as a
    count of signers."""
    if not letter_ids:
        return {}
    rows = (
        Signature.objects.filter(letter_id__in=letter_ids)
        .values("letter_id")
        .annotate(n=Count("id"))
        .values_list("letter_id", "n")
    )
    return {letter_id: int(n) for letter_id, n in rows}
