"""What organisers (and leadership, through its link) read: their letters,
roles, co-organisers and invitations, group counts, deliveries, status and
version counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from django.conf import settings
from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from letters.models import (
    Delivery,
    Display,
    GroupMember,
    GroupRole,
    HeldReason,
    Invitation,
    Letter,
    OfficeRange,
    Organiser,
    Signature,
    SignatureStatus,
)
from letters.selectors.counts import Counts, letter_counts_many
from letters.selectors.public import letter_versions
from letters.suppression import Cell, suppress


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


def letters_for_organiser(*, user: User) -> list[DashboardRow]:
    """The organiser's letters with role and counts, then the letters of
    their organising groups (five queries for any number of letters).  No
    pending count: see letter_status_counts."""
    memberships = list(
        Organiser.objects.filter(user=user).select_related("letter").order_by("-letter__created_at")
    )
    rows = [(m.letter, str(m.role)) for m in memberships]
    seen = {m.letter_id for m in memberships}
    # The letters of the user's organising groups they do not organise
    # themselves (letters.access gives them their group role's capabilities).
    roles = dict(GroupMember.objects.filter(user=user).values_list("group_id", "role"))
    for letter in (
        Letter.objects.filter(group_id__in=list(roles))
        .exclude(pk__in=seen)
        .select_related("group")
        .order_by("-created_at")
    ):
        assert letter.group is not None
        role = _("%(role)s in %(group)s") % {
            "role": GroupRole(roles[letter.group.pk]).label,
            "group": letter.group.name,
        }
        rows.append((letter, role))
    counts = letter_counts_many([letter.pk for letter, _role in rows])
    return [DashboardRow(letter, role, counts[letter.pk]) for letter, role in rows]


def organisers_to_tell(*, letter_id: int) -> list[tuple[str, str]]:
    """(address, language) of the letter's active organisers."""
    return list(
        Organiser.objects.filter(letter_id=letter_id, user__is_active=True).values_list(
            "user__email", "letter__language"
        )
    )


def organisers_of(*, letter: Letter) -> list[Organiser]:
    return list(Organiser.objects.filter(letter=letter).select_related("user").order_by("id"))


def invitations_open(*, letter: Letter) -> list[Invitation]:
    return list(Invitation.objects.filter(letter=letter, accepted_at__isnull=True))


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


def letter_named_subscribers(*, letter_id: int) -> int:
    """How many of the letter's listed signers (confirmed, public, counted)
    asked for updates: the figure organisers and leadership are shown of
    who a signer email reaches.  Confirmed only (DESIGN §2 rule 8: anyone
    can start a pending signature with anyone's address).  Named only (rule
    9): anonymous signers who asked are emailed too, but their number is a
    group inside the total that one anonymous signer's choice would move,
    so pages say "and the anonymous signers who asked" instead."""
    return Signature.objects.filter(
        letter_id=letter_id,
        status=SignatureStatus.CONFIRMED,
        display=Display.PUBLIC,
        flagged=False,
        wants_updates=True,
    ).count()


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


def held_review_start() -> datetime:
    """Midnight today, in the site's time zone: signatures held from then on
    wait for tomorrow's review (and figures), so that no held figure moves
    with one confirmation (docs/threat-model.md, "Held signatures")."""
    today = timezone.localdate()
    return timezone.make_aware(datetime.combine(today, time.min))


def held_signatures(letter: Letter) -> QuerySet[Signature]:
    """The letter's held signatures an organiser may see counted and act on:
    confirmed (never pending: a stranger creates those), held, and held on
    an earlier day than today."""
    return Signature.objects.filter(
        letter=letter,
        status=SignatureStatus.CONFIRMED,
        flagged=True,
        confirmed_at__lt=held_review_start(),
    )


@dataclass(frozen=True)
class HeldCounts:
    """What organisers see of a letter's held signatures: how many (None:
    fewer than MODERATION_MIN_REPORTED, none included) and why, by reason
    category (small cells suppressed, with complementary suppression), of
    signatures held before today (`services.moderation.held_review_start`)."""

    total: int | None
    reasons: list[Cell]
    threshold: int


def letter_held_counts(*, letter: Letter) -> HeldCounts:
    """Held signatures by reason: confirmed rows only (a pending row is what
    a stranger can create, DESIGN §2 rule 8), held on an earlier day (one
    confirmation moves no figure: docs/threat-model.md, "Held
    signatures").  One query."""
    threshold = settings.MODERATION_MIN_REPORTED
    rows = (
        held_signatures(letter)
        .values("held_reason")
        .annotate(n=Count("id"))
        .values_list("held_reason", "n")
    )
    labels = dict(HeldReason.choices)
    by_reason: dict[str, int] = {}
    for reason, n in rows:
        label = str(labels.get(reason, _("Over the rate limits (held before reasons were kept)")))
        by_reason[label] = by_reason.get(label, 0) + n
    total = sum(by_reason.values())
    if total < threshold:
        return HeldCounts(total=None, reasons=[], threshold=threshold)
    return HeldCounts(total=total, reasons=suppress(by_reason, threshold), threshold=threshold)


def letter_office_ranges(*, letter: Letter) -> list[OfficeRange]:
    return list(OfficeRange.objects.filter(letter=letter).select_related("added_by").order_by("id"))
