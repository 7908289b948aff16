"""What anyone may read about a public letter: the letter, its text, its
versions, timeline and responses, its public signatories.  Anonymous
signers appear in counts, never by name, email or any other field."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from django.conf import settings
from django.db.models import OuterRef, Q, QuerySet, Subquery, Sum
from django.http import Http404
from django.utils import timezone

from letters.models import (
    PRIVATE_KINDS,
    PUBLIC_STATUSES,
    CountDelta,
    Delivery,
    Display,
    Letter,
    LetterEvent,
    LetterStatus,
    LetterVersion,
    Response,
    Signature,
    SignatureStatus,
    VersionStats,
)
from letters.refs import signature_ref
from letters.selectors.comments import shown_comment
from letters.selectors.counts import Counts, letter_counts, letter_counts_many
from letters.selectors.employers import letter_employers
from letters.tokens import hash_token
from speed.memory import TtlMemo


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


def letters_listed() -> QuerySet[Letter]:
    """Every letter anyone may find: public (PUBLIC_STATUSES) and not
    internal.  The one place that keeps internal letters (readable only by
    their employers' staff, letters/services/internal.py) out of every
    list, lookup and crawl: the index, group pages, the API, the feed, the
    sitemap, the widget and the share card all start from here."""
    return Letter.objects.filter(status__in=PUBLIC_STATUSES, internal=False)


def letter_public_get(*, slug: str) -> Letter:
    """The listed letter at `slug` (never an internal one), or 404."""
    letter = letters_listed().select_related("current_version").filter(slug=slug).first()
    if letter is None:
        raise Http404
    return letter


def letter_published_get(*, slug: str) -> Letter:
    """The public letter at `slug`, internal ones included, or 404: for
    what works the same in both states (signing, the neutral check-inbox
    page), never for showing the letter."""
    letter = (
        Letter.objects.select_related("current_version")
        .filter(slug=slug, status__in=PUBLIC_STATUSES)
        .first()
    )
    if letter is None:
        raise Http404
    return letter


def letter_internal_get(*, slug: str) -> Letter | None:
    """The internal letter at `slug` that its employers' staff may ask to
    read (public status), or one taken down (whose notice must not name it
    either); None for any other."""
    return (
        Letter.objects.select_related("current_version")
        .filter(
            slug=slug,
            internal=True,
            status__in=[*PUBLIC_STATUSES, LetterStatus.TAKEN_DOWN],
        )
        .first()
    )


def letters_open() -> QuerySet[Letter]:
    return letters_listed().filter(status=LetterStatus.OPEN).order_by("-published_at", "-id")


# Letters that no longer take signatures and are still in view: what
# leadership did with them is public.  Drafts were never public; archived
# letters are withdrawn from view (docs/threat-model.md).
PAST_STATUSES = (
    LetterStatus.CLOSED,
    LetterStatus.DELIVERED,
    LetterStatus.ACKNOWLEDGED,
    LetterStatus.RESPONDED,
)
INDEX_LIMIT = 100  # letters per section of the index


class Outcome(StrEnum):
    """What became of a past letter, as the index says it."""

    RESPONDED = "responded"
    ACKNOWLEDGED = "acknowledged"
    DELIVERED = "delivered"  # no answer (yet)
    CLOSED = "closed"  # closed, not delivered


_OUTCOMES = {
    LetterStatus.RESPONDED: Outcome.RESPONDED,
    LetterStatus.ACKNOWLEDGED: Outcome.ACKNOWLEDGED,
    LetterStatus.DELIVERED: Outcome.DELIVERED,
    LetterStatus.CLOSED: Outcome.CLOSED,
}


@dataclass(frozen=True)
class PastLetter:
    letter: Letter
    counts: Counts
    outcome: Outcome
    delivered_at: datetime | None  # the first delivery
    responded_at: datetime | None  # the first response
    overdue_days: int | None  # delivered or acknowledged, unanswered past respond_by


@dataclass(frozen=True)
class LetterIndex:
    open: list[tuple[Letter, Counts]]
    past: list[PastLetter]


def _overdue_days(letter: Letter, now: datetime) -> int | None:
    """Whole days since the respond-by date (at least 1), for a delivered or
    acknowledged letter whose date has passed: the letters
    `services.letters_mark_overdue` marks on the timeline."""
    if letter.status not in (LetterStatus.DELIVERED, LetterStatus.ACKNOWLEDGED):
        return None
    if letter.respond_by is None or letter.respond_by > now:
        return None
    return max(1, (now - letter.respond_by).days)


def letters_index(
    *, limit: int = INDEX_LIMIT, now: datetime | None = None, group_id: int | None = None
) -> LetterIndex:
    """The public index: open letters, newest first, then past ones
    (PAST_STATUSES), newest first, each with its counts and what became of
    it.  Four queries whatever the number of letters: the open letters, the
    past ones with their first delivery and response dates, and the counts
    of both (`letter_counts_many`).  `group_id`: only that organising
    group's letters (its public page, letters/views/groups.py)."""
    now = now or timezone.now()
    in_group = Q(group_id=group_id) if group_id is not None else Q()
    open_letters = list(letters_open().filter(in_group)[:limit])
    first_delivery = Delivery.objects.filter(letter=OuterRef("pk")).order_by("delivered_at", "id")
    first_response = Response.objects.filter(letter=OuterRef("pk")).order_by("created_at", "id")
    past_letters = list(
        letters_listed()
        .filter(in_group, status__in=PAST_STATUSES)
        .annotate(
            first_delivered_at=Subquery(first_delivery.values("delivered_at")[:1]),
            first_responded_at=Subquery(first_response.values("created_at")[:1]),
        )
        .order_by("-published_at", "-id")[:limit]
    )
    counts = letter_counts_many([x.pk for x in open_letters] + [x.pk for x in past_letters])
    return LetterIndex(
        open=[(letter, counts[letter.pk]) for letter in open_letters],
        past=[
            PastLetter(
                letter=letter,
                counts=counts[letter.pk],
                outcome=_OUTCOMES[LetterStatus(letter.status)],
                delivered_at=letter.first_delivered_at,
                responded_at=letter.first_responded_at,
                overdue_days=_overdue_days(letter, now),
            )
            for letter in past_letters
        ],
    )


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
    (confirmed_at, id).  Anonymous and flagged signatures are never returned;
    a comment is empty once hidden or while the letter's comments are off
    (`selectors.comments.shown_comment`).
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
    rows = (
        qs.annotate(shown_comment=shown_comment(letter))
        .order_by("-confirmed_at", "-id")
        .values_list(
            "id", "name", "job_title", "team", "location", "shown_comment", "confirmed_at"
        )[:limit]
    )
    return [PublicSignatory(*row) for row in rows]


@dataclass(frozen=True)
class VersionRow:
    version: LetterVersion
    named: int  # confirmed signers of this text who show their name
    demands: list[str]

    @property
    def fingerprint(self) -> str:
        """SHA-256 over this version's text in every language."""
        return self.version.fingerprint(self.demands, self.version.translations.all())

    @property
    def languages(self) -> list[str]:
        """The languages of its translations (the original's is the letter's)."""
        return sorted(t.language for t in self.version.translations.all())

    def text_html(self, language: str) -> tuple[str, list[str]]:
        """The body (rendered, sanitised HTML) and the demands in `language`
        if this version was translated into it, else the original's."""
        for translation in self.version.translations.all():
            if translation.language == language:
                return translation.body_html, [str(d) for d in translation.demands]
        return self.version.body_html, self.demands


def letter_versions(*, letter: Letter) -> list[VersionRow]:
    """Every published version, newest first, with how many named signers
    signed each (folded VersionStats plus unfolded deltas).

    Anonymous signers are in the totals only, never in a version's count
    (DESIGN §2 rule 9): an anonymous signer of version 1 who withdraws would
    otherwise lower version 1's figure and tell that they signed before
    version 2 was published.  Named signers are listed with their dates
    anyway."""
    versions = list(
        LetterVersion.objects.filter(letter=letter)
        .prefetch_related("demands", "translations")
        .order_by("-number")
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
    """The public timeline (moderation between admins and organisers is not on it)."""
    return list(
        LetterEvent.objects.filter(letter=letter)
        .exclude(kind__in=PRIVATE_KINDS)
        .select_related("employer")  # whose leadership, on a coalition letter
        .order_by("-created_at", "-id")[:50]
    )


def letter_by_preview_token(*, token: str) -> Letter | None:
    if not token:
        return None
    return (
        Letter.objects.select_related("current_version")
        .filter(preview_token_hash=hash_token(token))
        .exclude(preview_token_hash="")
        .exclude(status=LetterStatus.ARCHIVED)  # withdrawn from view, like the public page
        .exclude(status=LetterStatus.TAKEN_DOWN)  # its text is shown nowhere
        .first()
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
    employer_name: str = ""  # whose leadership answered, on a coalition letter


def letter_responses(*, letter: Letter, employer_id: int | None = None) -> list[ResponseView]:
    """Every response (or one employer's: `employer_id`), newest first,
    with each demand of the delivered version and its answer."""
    rows = Response.objects.filter(letter=letter)
    if employer_id is not None:
        rows = rows.filter(employer_id=employer_id)
    responses = list(
        rows.select_related("employer", "link")
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
            r.employer.name if r.employer else "",
        )
        for r in responses
    ]


def version_fingerprint(version: LetterVersion) -> str:
    """The fingerprint of a version's text in every language (models.LetterVersion)."""
    return version.fingerprint(
        list(version.demands.values_list("text", flat=True)), version.translations.all()
    )


_signing_letters: TtlMemo[Letter] = TtlMemo(max_entries=1000)


def letter_for_signing(*, slug: str) -> Letter:
    """The letter a sign POST is for, from this process's memory for up to
    SIGNING_LETTER_TTL seconds (speed machinery, docs/speed.md: a viral
    letter's sign path then costs no letter query).  Safe because the insert
    re-checks, in the same statement, that the letter is open and takes its
    current version; a letter that stopped being public is refused at most
    that long after.  Internal letters too: signing works the same in both
    states (the address decides, letters/services/signing.py)."""
    return _signing_letters.get_or_compute(
        slug, lambda: _with_employers(letter_published_get(slug=slug)), settings.SIGNING_LETTER_TTL
    )


def _with_employers(letter: Letter) -> Letter:
    """The letter with its employers loaded on it (the sign path decides a
    signer's employer from them without a query)."""
    letter_employers(letter=letter)
    return letter
