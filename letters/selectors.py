"""Reads. Public selectors return only what anyone may see: anonymous signers
appear in counts, never by name, email or any other field."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import Q, QuerySet
from django.http import Http404

from letters.models import (
    PUBLIC_STATUSES,
    CountDelta,
    Display,
    Letter,
    LetterStats,
    LetterStatus,
    Signature,
    SignatureStatus,
)


@dataclass(frozen=True)
class Counts:
    confirmed: int
    public: int

    @property
    def anonymous(self) -> int:
        return max(0, self.confirmed - self.public)


@dataclass(frozen=True)
class LetterText:
    language: str
    title: str
    body_html: str
    demands: list[str]


@dataclass(frozen=True)
class PublicSignatory:
    """The fields of a public signer anyone may see (never the email)."""

    id: int
    name: str
    job_title: str
    team: str
    location: str
    comment: str
    confirmed_at: datetime | None


def letter_public_get(*, slug: str) -> Letter:
    letter = (
        Letter.objects.select_related("current_version")
        .filter(slug=slug, status__in=PUBLIC_STATUSES)
        .first()
    )
    if letter is None:
        raise Http404
    return letter


def letters_open() -> QuerySet[Letter]:
    return Letter.objects.filter(status=LetterStatus.OPEN).order_by("-published_at", "-id")


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


def letter_text(letter: Letter, language: str) -> LetterText:
    """The current version's text in `language` if translated, else the original."""
    version = letter.current_version
    if version is None:
        return LetterText(letter.language, letter.title, "", [])
    if language != letter.language:
        translation = version.translations.filter(language=language).first()
        if translation is not None:
            return LetterText(
                language, translation.title, translation.body_html, list(translation.demands)
            )
    demands = list(version.demands.order_by("position").values_list("text", flat=True))
    return LetterText(letter.language, letter.title, version.body_html, demands)


def letter_public_signatories(
    *, letter: Letter, limit: int = 50, before: tuple[datetime, int] | None = None
) -> list[PublicSignatory]:
    """Confirmed public signers, newest first, keyset-paginated by
    (confirmed_at, id).  Anonymous and flagged signatures are never returned."""
    if not letter.list_public_signatories:
        return []
    qs = Signature.objects.filter(
        letter=letter,
        status=SignatureStatus.CONFIRMED,
        display=Display.PUBLIC,
        flagged=False,
    )
    if before is not None:
        at, pk = before
        qs = qs.filter(Q(confirmed_at__lt=at) | Q(confirmed_at=at, pk__lt=pk))
    rows = qs.order_by("-confirmed_at", "-id").values_list(
        "id", "name", "job_title", "team", "location", "comment", "confirmed_at"
    )[:limit]
    return [PublicSignatory(*row) for row in rows]
