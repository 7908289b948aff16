"""Counts without a hot row.

`counts_fold` and `counts_recount` lock the letter's LetterStats row
(select_for_update) before reading deltas, so they serialise per letter;
nothing else writes LetterStats.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from letters.models import (
    CountDelta,
    Display,
    Letter,
    LetterStats,
    LetterStatus,
    Signature,
    SignatureStatus,
)


def counts_fold(*, letter_id: int) -> tuple[int, int]:
    """Fold a letter's pending CountDelta rows into its LetterStats row.

    Locks the LetterStats row, deletes the deltas it folds (DELETE … RETURNING,
    so concurrent folds never fold the same row twice) and adds their sum.
    """
    with transaction.atomic():
        LetterStats.objects.select_for_update().get_or_create(letter_id=letter_id)
        table = connection.ops.quote_name(CountDelta._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {table} WHERE letter_id = %s RETURNING confirmed, public",  # noqa: S608
                [letter_id],
            )
            rows = cursor.fetchall()
        confirmed = sum(r[0] for r in rows)
        public = sum(r[1] for r in rows)
        if rows:
            LetterStats.objects.filter(pk=letter_id).update(
                confirmed=F("confirmed") + confirmed,
                public=F("public") + public,
                updated_at=timezone.now(),
            )
    return confirmed, public


def counts_fold_all() -> int:
    letter_ids = set(CountDelta.objects.values_list("letter_id", flat=True).distinct())
    for letter_id in letter_ids:
        counts_fold(letter_id=letter_id)
    return len(letter_ids)


def counts_recount(*, letter_id: int) -> tuple[int, int]:
    """Repair drift: set LetterStats to the true count minus the deltas not yet
    folded, read in one statement (one snapshot) under the stats row lock."""
    sig = connection.ops.quote_name(Signature._meta.db_table)
    delta = connection.ops.quote_name(CountDelta._meta.db_table)
    with transaction.atomic():
        LetterStats.objects.select_for_update().get_or_create(letter_id=letter_id)
        with connection.cursor() as cursor:
            cursor.execute(
                f"""SELECT
                    (SELECT COUNT(*) FROM {sig} WHERE letter_id = %s AND status = %s
                        AND flagged = %s),
                    (SELECT COUNT(*) FROM {sig} WHERE letter_id = %s AND status = %s
                        AND flagged = %s AND display = %s),
                    (SELECT COALESCE(SUM(confirmed), 0) FROM {delta} WHERE letter_id = %s),
                    (SELECT COALESCE(SUM(public), 0) FROM {delta} WHERE letter_id = %s)
                """,  # noqa: S608
                [
                    letter_id, SignatureStatus.CONFIRMED, False,
                    letter_id, SignatureStatus.CONFIRMED, False, Display.PUBLIC,
                    letter_id, letter_id,
                ],
            )  # fmt: skip
            row = cursor.fetchone()
        assert row is not None
        confirmed = int(row[0]) - int(row[2])
        public = int(row[1]) - int(row[3])
        LetterStats.objects.filter(pk=letter_id).update(
            confirmed=confirmed, public=public, updated_at=timezone.now()
        )
    return confirmed, public


def counts_recount_all() -> int:
    letter_ids = list(
        Letter.objects.exclude(status=LetterStatus.DRAFT).values_list("pk", flat=True)
    )
    for letter_id in letter_ids:
        counts_recount(letter_id=letter_id)
    return len(letter_ids)
