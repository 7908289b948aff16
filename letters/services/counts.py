"""Counts without a hot row.

`counts_fold` and `counts_recount` lock the letter's LetterStats row
(select_for_update) before reading deltas, so they serialise per letter;
nothing else writes LetterStats.
"""

from __future__ import annotations

from collections import defaultdict

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from letters.models import (
    CountDelta,
    Display,
    Employer,
    EmployerStats,
    Letter,
    LetterStats,
    LetterStatus,
    LetterVersion,
    Milestone,
    Signature,
    SignatureStatus,
    VersionStats,
)
from letters.progress import Tracker
from letters.queue import enqueue
from letters.selectors.counts import signature_rows_many

MILESTONES = (10, 100)


def count_change(signature: Signature, sign: int) -> None:
    """Record that a counted signature entered (+1) or left (-1) the counts:
    a CountDelta row, folded later (`counts_fold`), so that no sign or
    confirm writes a shared row."""
    CountDelta.objects.create(
        letter_id=signature.letter_id,
        version_id=signature.version_id,
        employer_id=signature.employer_id,
        confirmed=sign,
        public=sign if signature.display == Display.PUBLIC else 0,
    )


def counts_fold(*, letter_id: int) -> tuple[int, int]:
    """Fold a letter's pending CountDelta rows into LetterStats and VersionStats.

    Locks the LetterStats row, deletes the deltas it folds (DELETE … RETURNING,
    so concurrent folds never fold the same row twice) and adds their sums.
    """
    with transaction.atomic():
        LetterStats.objects.select_for_update().get_or_create(letter_id=letter_id)
        table = connection.ops.quote_name(CountDelta._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {table} WHERE letter_id = %s "  # noqa: S608
                "RETURNING version_id, confirmed, public, employer_id",
                [letter_id],
            )
            rows = cursor.fetchall()
        confirmed = sum(r[1] for r in rows)
        public = sum(r[2] for r in rows)
        if rows:
            LetterStats.objects.filter(pk=letter_id).update(
                confirmed=F("confirmed") + confirmed,
                public=F("public") + public,
                updated_at=timezone.now(),
            )
            by_version: dict[int, tuple[int, int]] = defaultdict(lambda: (0, 0))
            by_employer: dict[int, tuple[int, int]] = defaultdict(lambda: (0, 0))
            for version_id, change, public_change, employer_id in rows:
                total, named = by_version[version_id]
                by_version[version_id] = (total + change, named + public_change)
                if employer_id is not None:
                    total, named = by_employer[employer_id]
                    by_employer[employer_id] = (total + change, named + public_change)
            for version_id, (change, public_change) in by_version.items():
                VersionStats.objects.get_or_create(version_id=version_id, letter_id=letter_id)
                VersionStats.objects.filter(pk=version_id).update(
                    confirmed=F("confirmed") + change, public=F("public") + public_change
                )
            _fold_employers(letter_id, by_employer)
            if confirmed > 0:
                _note_milestones(letter_id)
                _note_public_at_count(letter_id)
    return confirmed, public


def _fold_employers(letter_id: int, by_employer: dict[int, tuple[int, int]]) -> None:
    """Add folded changes to each employer's stats (under the letter's
    stats lock, like the rest of the fold)."""
    for employer_id, (change, public_change) in sorted(by_employer.items()):
        EmployerStats.objects.get_or_create(employer_id=employer_id, letter_id=letter_id)
        EmployerStats.objects.filter(pk=employer_id).update(
            confirmed=F("confirmed") + change, public=F("public") + public_change
        )


def _note_milestones(letter_id: int) -> None:
    """Tell organisers, once, when the count passes 10, 100 and the goal
    (checked when deltas are folded, so at most once per COUNT_INTERVAL)."""
    total, goal = (
        LetterStats.objects.filter(pk=letter_id).values_list("confirmed", "letter__goal").get()
    )
    for threshold in milestones_reached(letter_id=letter_id, confirmed=total, goal=goal):
        enqueue("notify_milestone", letter_id, threshold)


def _note_public_at_count(letter_id: int) -> None:
    """An internal letter whose count reached its `public_at_count` goes
    public (services.internal, asked for on commit: not under this lock)."""
    if LetterStats.objects.filter(
        pk=letter_id,
        letter__internal=True,
        letter__public_at_count__isnull=False,
        confirmed__gte=F("letter__public_at_count"),
    ).exists():
        enqueue("make_public_at_count", letter_id)


def milestones_reached(*, letter_id: int, confirmed: int, goal: int | None) -> list[int]:
    """Note each milestone (10, 100, the goal) the count has passed, once;
    returns the newly reached ones (organisers are told about those)."""
    reached = []
    for threshold in sorted({*MILESTONES, *([goal] if goal else [])}):
        if confirmed < threshold:
            break
        try:
            with transaction.atomic():
                Milestone.objects.create(letter_id=letter_id, threshold=threshold)
        except IntegrityError:
            continue
        reached.append(threshold)
    return reached


def counts_fold_all() -> int:
    """Fold every letter with pending deltas (beat, every COUNT_INTERVAL).
    Safe twice at once: each letter's fold holds its stats row lock and
    deletes the deltas it adds (`counts_fold`), so no delta counts twice."""
    letter_ids = set(CountDelta.objects.values_list("letter_id", flat=True).distinct())
    for letter_id in letter_ids:
        counts_fold(letter_id=letter_id)
    return len(letter_ids)


def counts_recount(*, letter_id: int) -> tuple[int, int]:
    """Repair drift: set the stats to the true counts minus the deltas not yet
    folded, all read in one statement (one snapshot) under the stats row lock."""
    sig = connection.ops.quote_name(Signature._meta.db_table)
    delta = connection.ops.quote_name(CountDelta._meta.db_table)
    version = connection.ops.quote_name(LetterVersion._meta.db_table)
    with transaction.atomic():
        LetterStats.objects.select_for_update().get_or_create(letter_id=letter_id)
        with connection.cursor() as cursor:
            cursor.execute(
                f"""SELECT v.id,
                    (SELECT COUNT(*) FROM {sig} s WHERE s.version_id = v.id
                        AND s.status = %s AND s.flagged = %s),
                    (SELECT COUNT(*) FROM {sig} s WHERE s.version_id = v.id
                        AND s.status = %s AND s.flagged = %s AND s.display = %s),
                    (SELECT COALESCE(SUM(d.confirmed), 0) FROM {delta} d
                        WHERE d.version_id = v.id),
                    (SELECT COALESCE(SUM(d.public), 0) FROM {delta} d
                        WHERE d.version_id = v.id)
                    FROM {version} v WHERE v.letter_id = %s
                """,  # noqa: S608
                [
                    SignatureStatus.CONFIRMED, False,
                    SignatureStatus.CONFIRMED, False, Display.PUBLIC,
                    letter_id,
                ],
            )  # fmt: skip
            rows = cursor.fetchall()
        confirmed = sum(int(r[1]) - int(r[3]) for r in rows)
        public = sum(int(r[2]) - int(r[4]) for r in rows)
        LetterStats.objects.filter(pk=letter_id).update(
            confirmed=confirmed, public=public, updated_at=timezone.now()
        )
        _recount_employers(letter_id)
        for version_id, true_count, true_public, pending, pending_public in rows:
            VersionStats.objects.update_or_create(
                version_id=version_id,
                defaults={
                    "letter_id": letter_id,
                    "confirmed": int(true_count) - int(pending),
                    "public": int(true_public) - int(pending_public),
                },
            )
    return confirmed, public


def _recount_employers(letter_id: int) -> None:
    """Each employer's stats: its true counts minus its deltas not yet
    folded, in one statement (one snapshot), under the caller's lock."""
    sig = connection.ops.quote_name(Signature._meta.db_table)
    delta = connection.ops.quote_name(CountDelta._meta.db_table)
    employer = connection.ops.quote_name(Employer._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH s AS (
                    SELECT employer_id, COUNT(*) AS c,
                        COUNT(*) FILTER (WHERE display = %s) AS p
                    FROM {sig} WHERE letter_id = %s AND status = %s AND flagged = %s
                    GROUP BY employer_id),
                d AS (
                    SELECT employer_id, SUM(confirmed) AS c, SUM(public) AS p
                    FROM {delta} WHERE letter_id = %s GROUP BY employer_id)
                SELECT e.id, COALESCE(s.c, 0), COALESCE(s.p, 0),
                    COALESCE(d.c, 0), COALESCE(d.p, 0)
                FROM {employer} e
                LEFT JOIN s ON s.employer_id = e.id
                LEFT JOIN d ON d.employer_id = e.id
                WHERE e.letter_id = %s
            """,  # noqa: S608
            [Display.PUBLIC, letter_id, SignatureStatus.CONFIRMED, False, letter_id, letter_id],
        )
        rows = cursor.fetchall()
    for employer_id, true_count, true_public, pending, pending_public in rows:
        EmployerStats.objects.update_or_create(
            employer_id=employer_id,
            defaults={
                "letter_id": letter_id,
                "confirmed": int(true_count) - int(pending),
                "public": int(true_public) - int(pending_public),
            },
        )


def counts_recount_all(*, progress: Tracker | None = None) -> int:
    """Recount every letter but drafts; `progress` (the `recount_counts`
    command's) is advanced by each letter's signature rows.  Safe twice at
    once: each recount sets (not adds) the figures, under the letter's
    stats row lock."""
    letter_ids = list(
        Letter.objects.exclude(status=LetterStatus.DRAFT).values_list("pk", flat=True)
    )
    sizes = signature_rows_many(letter_ids) if progress and progress.enabled else {}
    if progress:
        progress.start(sum(sizes.values()))
    for letter_id in letter_ids:
        counts_recount(letter_id=letter_id)
        if progress:
            progress.advance(sizes.get(letter_id, 0))
    return len(letter_ids)
