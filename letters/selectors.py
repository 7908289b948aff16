"""Reads. Public selectors return only what anyone may see: anonymous signers
appear in counts, never by name, email or any other field."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.http import Http404
from django.utils import timezone

from letters.models import (
    PUBLIC_STATUSES,
    CountDelta,
    Delivery,
    Display,
    Invitation,
    Letter,
    LetterEvent,
    LetterStats,
    LetterStatus,
    LetterVersion,
    Organiser,
    OrganiserRole,
    Response,
    Signature,
    SignatureStatus,
    VersionStats,
)
from letters.refs import signature_ref
from letters.suppression import Cell, suppress


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

    @property
    def ref(self) -> str:
        """What pages show instead of the id (`letters.refs`)."""
        return signature_ref(self.id)


def names_visible(letter: Letter, counts: Counts | None = None) -> bool:
    if not letter.list_public_signatories:
        return False
    if letter.show_names_after:
        counts = counts or letter_counts(letter_id=letter.pk)
        return counts.confirmed >= letter.show_names_after
    return True


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
    *,
    letter: Letter,
    limit: int = 50,
    before: tuple[datetime, int] | None = None,
    ignore_listing: bool = False,
) -> list[PublicSignatory]:
    """Confirmed public signers, newest first, keyset-paginated by
    (confirmed_at, id).  Anonymous and flagged signatures are never returned.
    The public sees none while the letter hides its list (or has fewer
    signatures than its "show names after" threshold); organisers pass
    `ignore_listing`."""
    if not ignore_listing and not names_visible(letter):
        return []
    qs = Signature.objects.filter(
        letter=letter,
        status=SignatureStatus.CONFIRMED,
        display=Display.PUBLIC,
        flagged=False,
    )
    if before is not None:
        at, pk = before
        # (confirmed_at, id) < (at, pk), with `confirmed_at <= at` spelled out
        # so that it bounds the index scan: without it PostgreSQL filters
        # every newer row (0.3 s deep into a 1M-signature letter, 0.2 ms with).
        qs = qs.filter(
            Q(confirmed_at__lte=at) & (Q(confirmed_at__lt=at) | Q(confirmed_at=at, pk__lt=pk))
        )
    rows = qs.order_by("-confirmed_at", "-id").values_list(
        "id", "name", "job_title", "team", "location", "comment", "confirmed_at"
    )[:limit]
    return [PublicSignatory(*row) for row in rows]


ROLE_RANK = {OrganiserRole.VIEWER: 0, OrganiserRole.EDITOR: 1, OrganiserRole.OWNER: 2}


def organiser_role(*, user: Any, letter: Letter) -> str | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Organiser.objects.filter(letter=letter, user=user).values_list("role", flat=True).first()


def role_allows(role: str | None, needed: str) -> bool:
    return role is not None and ROLE_RANK[OrganiserRole(role)] >= ROLE_RANK[OrganiserRole(needed)]


@dataclass(frozen=True)
class DashboardRow:
    letter: Letter
    role: str
    counts: Counts

    @property
    def goal_percent(self) -> int | None:
        if not self.letter.goal:
            return None
        return min(100, round(100 * self.total / self.letter.goal))

    @property
    def total(self) -> int:
        return self.counts.confirmed + self.letter.paper_count


def letters_for_organiser(*, user: Any) -> list[DashboardRow]:
    """The organiser's letters with role and counts (three queries for any
    number of letters).  No pending count: see letter_status_counts."""
    memberships = list(
        Organiser.objects.filter(user=user).select_related("letter").order_by("-letter__created_at")
    )
    counts = letter_counts_many([m.letter_id for m in memberships])
    return [DashboardRow(m.letter, m.role, counts[m.letter_id]) for m in memberships]


@dataclass(frozen=True)
class VersionRow:
    version: LetterVersion
    named: int  # confirmed signers of this text who show their name
    demands: list[str]


def letter_versions(*, letter: Letter) -> list[VersionRow]:
    """Every published version, newest first, with how many named signers
    signed each (folded VersionStats plus unfolded deltas).

    Anonymous signers are in the totals only, never in a version's count
    (DESIGN §2 rule 9): an anonymous signer of version 1 who withdraws would
    otherwise lower version 1's figure and tell that they signed before
    version 2 was published.  Named signers are listed with their dates
    anyway."""
    versions = list(
        LetterVersion.objects.filter(letter=letter).prefetch_related("demands").order_by("-number")
    )
    folded = dict(VersionStats.objects.filter(letter=letter).values_list("version_id", "public"))
    unfolded = dict(
        CountDelta.objects.filter(letter=letter)
        .values("version_id")
        .annotate(n=Sum("public"))
        .values_list("version_id", "n")
    )
    return [
        VersionRow(
            v,
            folded.get(v.pk, 0) + int(unfolded.get(v.pk) or 0),
            [d.text for d in v.demands.all()],
        )
        for v in versions
    ]


def letter_events(*, letter: Letter) -> list[LetterEvent]:
    return list(LetterEvent.objects.filter(letter=letter).order_by("-created_at", "-id")[:50])


def organisers_of(*, letter: Letter) -> list[Organiser]:
    return list(Organiser.objects.filter(letter=letter).select_related("user").order_by("id"))


def invitations_open(*, letter: Letter) -> list[Invitation]:
    return list(Invitation.objects.filter(letter=letter, accepted_at__isnull=True))


def letter_by_preview_token(*, token: str) -> Letter | None:
    from letters.services.drafting import hash_token

    if not token:
        return None
    return (
        Letter.objects.select_related("current_version")
        .filter(preview_token_hash=hash_token(token))
        .exclude(preview_token_hash="")
        .exclude(status=LetterStatus.ARCHIVED)  # withdrawn from view, like the public page
        .first()
    )


def letter_group_counts(*, letter: Letter, field: str, threshold: int) -> list[Cell]:
    """Confirmed, counted public signers by team or location, small groups
    suppressed.  Anonymous signers are in no group, only in the totals
    (DESIGN §2, rule 9): one anonymous signer confirming or withdrawing must
    change no row.  A group threshold for them would not do: an attacker
    can fill a group with anonymous fakes, and the one real signer who
    joins it then shows as "5" (`letters.suppression` says more)."""
    assert field in {"team", "location"}
    rows = (
        Signature.objects.filter(
            letter=letter,
            status=SignatureStatus.CONFIRMED,
            display=Display.PUBLIC,
            flagged=False,
        )
        .values(field)
        .annotate(n=Count("id"))
        .values_list(field, "n")
    )
    public: dict[str, int] = {}
    for label, n in rows:
        key = (label or "").strip() or "—"
        public[key] = public.get(key, 0) + n
    return suppress(public, threshold)


def letter_latest_delivery(*, letter: Letter) -> Delivery | None:
    return (
        Delivery.objects.filter(letter=letter)
        .select_related("version")
        .order_by("-delivered_at", "-id")
        .first()
    )


def letter_deliveries(*, letter: Letter) -> list[Delivery]:
    return list(
        Delivery.objects.filter(letter=letter).prefetch_related("links").order_by("-delivered_at")
    )


@dataclass(frozen=True)
class AnsweredDemand:
    text: str
    answer: str
    answer_label: str


@dataclass(frozen=True)
class ResponseView:
    response: Response
    demands: list[AnsweredDemand]


def letter_responses(*, letter: Letter) -> list[ResponseView]:
    """Every response, newest first, with each demand of the delivered
    version and its answer."""
    responses = list(
        Response.objects.filter(letter=letter)
        .prefetch_related("answers__demand")
        .order_by("-created_at", "-id")
    )
    return [
        ResponseView(
            r,
            [
                AnsweredDemand(a.demand.text, a.answer, a.get_answer_display())
                for a in sorted(r.answers.all(), key=lambda a: a.demand.position)
            ],
        )
        for r in responses
    ]


def version_fingerprint(version: LetterVersion) -> str:
    return version.fingerprint(list(version.demands.values_list("text", flat=True)))


def letter_day_counts(*, letter: Letter) -> dict[str, int]:
    """The net change of the letter's confirmed count on each day (ISO dates
    in the site's time zone, oldest first; days without change left out).

    A counted signature adds one on the day it was confirmed and, if it was
    withdrawn or invalidated since, takes one away on the day that happened
    (a withdrawal keeps `confirmed_at`); held (`flagged`) signatures were
    never counted and are in no day.  So the days add up to the confirmed
    count, a past day's figure never changes afterwards, and the days tell
    nothing that reading the public total once a day would not: an anonymous
    signer who withdraws lowers today's figure, not the figure of the day
    they signed (DESIGN §2, rule 9).  A day whose changes cancel out is left
    out, as if nothing had happened: the total did not move.  Figures may be
    negative.  Raw: callers suppress or merge small days before showing them
    to anyone but an admin."""
    counted = Signature.objects.filter(letter=letter, flagged=False, confirmed_at__isnull=False)
    withdrawn = Q(status=SignatureStatus.WITHDRAWN, withdrawn_at__isnull=False)
    invalidated = Q(status=SignatureStatus.INVALIDATED, invalidated_at__isnull=False)
    net: dict[str, int] = {}

    def add(rows: QuerySet[Signature], moment: str, sign: int) -> None:
        per_day = (
            rows.annotate(day=TruncDate(moment))
            .values("day")
            .annotate(n=Count("id"))
            .values_list("day", "n")
        )
        for day, n in per_day:
            key = day.isoformat()
            net[key] = net.get(key, 0) + sign * n

    add(
        counted.filter(Q(status=SignatureStatus.CONFIRMED) | withdrawn | invalidated),
        "confirmed_at",
        +1,
    )
    add(counted.filter(withdrawn), "withdrawn_at", -1)
    add(counted.filter(invalidated), "invalidated_at", -1)
    return {day: n for day, n in sorted(net.items()) if n}


# Day counts computed while the cache was down, per process (full cache key
# -> (monotonic expiry, counts)), so that a rebuild does not run the GROUP BY
# again each time.
_day_counts_without_cache: dict[str, tuple[float, dict[str, int]]] = {}


def _day_counts_cached(letter: Letter) -> dict[str, int]:
    key = f"chart-net-days:{letter.pk}"  # net changes (not the per-confirmation days of old)
    try:
        cached = cache.get(key)
    except Exception:  # noqa: BLE001 -- no cache: this process's copy, or compute
        full_key = cache.make_key(key)
        kept = _day_counts_without_cache.get(full_key)
        if kept is not None and kept[0] > time.monotonic():
            return kept[1]
        cached = letter_day_counts(letter=letter)
        if len(_day_counts_without_cache) > 100:
            _day_counts_without_cache.clear()
        expires = time.monotonic() + settings.CHART_CACHE_SECONDS
        _day_counts_without_cache[full_key] = (expires, cached)
        return cached
    if cached is None:
        cached = letter_day_counts(letter=letter)
        with contextlib.suppress(Exception):
            cache.set(key, cached, timeout=settings.CHART_CACHE_SECONDS)
    return dict(cached)


def letter_day_counts_cached(*, letter: Letter, confirmed: int) -> dict[str, int]:
    """`letter_day_counts` for public charts, without its cost on every
    rebuild: the GROUP BY over every signature (~0.5-0.9 s on a
    1M-signature letter) runs once per CHART_CACHE_SECONDS, and the cached
    days are made to add up to `confirmed`, the exact count (folded stats
    plus deltas): the difference, the net change since (signatures
    confirmed, withdrawn or invalidated), goes to today, where it belongs,
    day counts being net changes (only a cache made before midnight puts
    the last changes of yesterday on today, until it is rebuilt).  So the
    total is always exact (and agrees with the page's), each day is exact
    within CHART_CACHE_SECONDS, and complementary suppression still sees
    days that sum to the published total.  Raw, like `letter_day_counts`
    (figures may be negative): callers suppress or merge small days."""
    days = _day_counts_cached(letter)
    drift = confirmed - sum(days.values())
    if not drift:
        return dict(days)
    today = timezone.localdate().isoformat()
    days = {**days, today: days.get(today, 0) + drift}
    return {day: n for day, n in sorted(days.items()) if n}


def letter_status_counts(*, letter: Letter, with_pending: bool = True) -> dict[str, int]:
    """Signatures per status (flagged ones reported apart as "flagged").
    Organisers get it without the pending count: anyone can add a pending
    signature for an address, and the count would rise only if that address
    had none, telling whether it signed (DESIGN §2, rule 2)."""
    rows = (
        Signature.objects.filter(letter=letter)
        .values("status", "flagged")
        .annotate(n=Count("id"))
        .values_list("status", "flagged", "n")
    )
    counts = dict.fromkeys(SignatureStatus.values, 0) | {"flagged": 0}
    for status, flagged, n in rows:
        counts["flagged" if flagged and status == SignatureStatus.CONFIRMED else status] += n
    if not with_pending:
        del counts[SignatureStatus.PENDING]
    return counts


def letter_version_counts(*, letter: Letter) -> dict[int, int]:
    """Named (public) confirmed signers per version number (anonymous
    signers are in the totals only: `letter_versions`)."""
    return {row.version.number: row.named for row in letter_versions(letter=letter)}


SIGNING_LETTER_TTL = 2.0  # seconds a process reuses a letter row for the sign path
_signing_letters: dict[str, tuple[float, Letter]] = {}


def letter_for_signing(*, slug: str) -> Letter:
    """The letter a sign POST is for, from this process's memory for up to
    SIGNING_LETTER_TTL seconds (a viral letter's sign path then costs no
    letter query).  Safe because the insert re-checks, in the same
    statement, that the letter is open and takes its current version; a
    letter that stopped being public is refused at most that long after."""
    now = time.monotonic()
    cached = _signing_letters.get(slug)
    if cached is not None and cached[0] > now:
        return cached[1]
    letter = letter_public_get(slug=slug)
    if len(_signing_letters) > 1000:
        _signing_letters.clear()
    _signing_letters[slug] = (now + SIGNING_LETTER_TTL, letter)
    return letter
