"""A letter's confirmed and public counts: folded stats plus unfolded deltas."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from letters.models import (
    CountDelta,
    LetterStats,
)


@dataclass(frozen=True)
class Counts:
    confirmed: int
    public: int

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
            "letter_id", "confirmed", "public"
        )
    }
    table = connection.ops.quote_name(CountDelta._meta.db_table)
    placeholders = ", ".join(["%s"] * len(letter_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT letter_id, SUM(confirmed), SUM(public) FROM {table} "  # noqa: S608
            f"WHERE letter_id IN ({placeholders}) GROUP BY letter_id",
            letter_ids,
        )
        deltas = {row[0]: (int(row[1]), int(row[2])) for row in cursor.fetchall()}
    result = {}
    for letter_id in letter_ids:
        base = stats.get(letter_id, {"confirmed": 0, "public": 0})
        extra = deltas.get(letter_id, (0, 0))
        result[letter_id] = Counts(
            confirmed=base["confirmed"] + extra[0], public=base["public"] + extra[1]
        )
    return result


def letter_counts(*, letter_id: int) -> Counts:
    return letter_counts_many([letter_id])[letter_id]
