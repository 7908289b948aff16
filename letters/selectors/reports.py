"""Reads for reports and takedown: the admins' moderation queue, a letter's
standing takedown, what the organisers are shown.  Nothing here touches
signatures."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from letters.models import (
    AppealDecision,
    EventKind,
    Letter,
    LetterEvent,
    LetterStatus,
    Report,
    ReportOutcome,
    Takedown,
)


def letter_takedown(*, letter: Letter) -> Takedown | None:
    """The letter's standing takedown, if any."""
    return Takedown.objects.filter(letter=letter, reinstated_at__isnull=True).first()


def taken_down_letter(*, slug: str) -> tuple[Letter, Takedown] | None:
    """The letter at `slug` and its takedown, if it is taken down."""
    takedown = (
        Takedown.objects.select_related("letter")
        .filter(
            letter__slug=slug,
            letter__status=LetterStatus.TAKEN_DOWN,
            reinstated_at__isnull=True,
        )
        .first()
    )
    return (takedown.letter, takedown) if takedown is not None else None


@dataclass
class QueueEntry:
    """One letter in the moderation queue: its open reports (oldest first)
    and its standing takedown if an appeal waits."""

    letter: Letter
    reports: list[Report] = field(default_factory=list)
    takedown: Takedown | None = None

    @property
    def since(self) -> datetime:
        times = [r.created_at for r in self.reports[:1]]
        if self.takedown is not None and self.takedown.appealed_at is not None:
            times.append(self.takedown.appealed_at)
        return min(times)


def moderation_queue(*, limit: int = 200) -> list[QueueEntry]:
    """Letters with open reports or a waiting appeal, the longest waiting
    first; each letter's open reports oldest first.  Two queries."""
    entries: dict[int, QueueEntry] = {}
    reports = (
        Report.objects.filter(outcome=ReportOutcome.OPEN)
        .select_related("letter")
        .order_by("created_at", "id")[:limit]
    )
    for report in reports:
        entries.setdefault(report.letter_id, QueueEntry(report.letter)).reports.append(report)
    appeals = Takedown.objects.filter(
        reinstated_at__isnull=True, appealed_at__isnull=False, decision=AppealDecision.NONE
    ).select_related("letter")
    for takedown in appeals:
        entries.setdefault(takedown.letter_id, QueueEntry(takedown.letter)).takedown = takedown
    return sorted(entries.values(), key=lambda e: (e.since, e.letter.pk))


@dataclass(frozen=True)
class OrganiserModeration:
    """What the organisers of a letter are shown about moderation."""

    takedown: Takedown | None
    requests: list[LetterEvent]
    decisions: list[LetterEvent]


def letter_moderation(*, letter: Letter) -> OrganiserModeration:
    """The standing takedown, the moderators' change requests and their
    decisions on the letter (newest first)."""
    events = list(
        LetterEvent.objects.filter(
            letter=letter,
            kind__in=[
                EventKind.CHANGE_REQUESTED,
                EventKind.APPEAL_REJECTED,
                EventKind.REINSTATED,
            ],
        ).order_by("-created_at", "-id")[:10]
    )
    return OrganiserModeration(
        takedown=letter_takedown(letter=letter),
        requests=[e for e in events if e.kind == EventKind.CHANGE_REQUESTED],
        decisions=[e for e in events if e.kind != EventKind.CHANGE_REQUESTED],
    )
