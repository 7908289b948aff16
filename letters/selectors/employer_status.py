"""Where each employer of a coalition letter stands with its leadership.

A coalition letter is delivered to each employer's leadership apart
(`Delivery.employer`); each leadership acknowledges and responds for its
own company (`LetterEvent.employer`, `Response.employer`).  The letter's
own status moves on the first such event of any employer
(services.delivery); what each employer did is derived here, from that
employer's rows only:

- not delivered: no delivery to it yet;
- delivered on D: its first delivery;
- acknowledged on D: its leadership's first acknowledgement;
- responded on D: its first response (the newest is the one linked to);
- overdue: delivered or acknowledged, no response, and the letter's
  `respond_by` has passed (whole days since, at least 1).

On a letter with a single employer, rows written before deliveries named
employers (employer null) are that employer's too.

Everything here is public: an employer, its leadership's acts and their
dates are on the public timeline already.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from django.db.models import Min, OuterRef, Q, Subquery
from django.utils import timezone

from letters.models import Delivery, Employer, EventKind, Letter, LetterEvent, Response
from letters.selectors.employers import letter_employers


class EmployerState(StrEnum):
    NOT_DELIVERED = "not_delivered"
    DELIVERED = "delivered"
    ACKNOWLEDGED = "acknowledged"
    RESPONDED = "responded"


@dataclass(frozen=True)
class EmployerStatus:
    employer_id: int
    name: str
    delivered_at: datetime | None  # the first delivery to its leadership
    acknowledged_at: datetime | None  # its leadership's first acknowledgement
    responded_at: datetime | None  # its first response
    response_id: int | None  # its newest response
    overdue_days: int | None  # delivered, unanswered past the letter's respond_by

    @property
    def state(self) -> EmployerState:
        if self.responded_at is not None:
            return EmployerState.RESPONDED
        if self.acknowledged_at is not None:
            return EmployerState.ACKNOWLEDGED
        if self.delivered_at is not None:
            return EmployerState.DELIVERED
        return EmployerState.NOT_DELIVERED

    @property
    def may_acknowledge(self) -> bool:
        """Whether its leadership can still acknowledge receipt: delivered,
        neither acknowledged nor answered."""
        return self.state == EmployerState.DELIVERED


@dataclass(frozen=True)
class EmployerDeliveries:
    """One employer's status and its deliveries, newest first (the
    organiser's delivery page)."""

    status: EmployerStatus
    deliveries: list[Delivery] = field(default_factory=list)


def _rows_of(employer_ref: OuterRef, sole: bool) -> Q:
    """The rows (deliveries, events, responses) of the employer
    `employer_ref` names: on a letter with one employer, rows with no
    employer too (written before deliveries named employers)."""
    own = Q(employer_id=employer_ref)
    return own | Q(employer__isnull=True) if sole else own


def _overdue_days(letter: Letter, delivered: bool, responded: bool, now: datetime) -> int | None:
    if not delivered or responded or letter.respond_by is None or letter.respond_by > now:
        return None
    return max(1, (now - letter.respond_by).days)


def employer_statuses(
    *, letter: Letter, now: datetime | None = None, employer_id: int | None = None
) -> list[EmployerStatus]:
    """Each employer of the letter, in order, with where it stands (one
    employer: `employer_id`).  A letter without employers: none, and no
    query beyond `letter_employers` (cached on the instance); else one
    query, whatever the number of employers."""
    employers = letter_employers(letter=letter)
    if not employers:
        return []
    now = now or timezone.now()
    sole = len(employers) == 1
    pk = OuterRef("pk")
    deliveries = Delivery.objects.filter(_rows_of(pk, sole), letter_id=letter.pk)
    acknowledgements = LetterEvent.objects.filter(
        _rows_of(pk, sole), letter_id=letter.pk, kind=EventKind.ACKNOWLEDGED
    )
    responses = Response.objects.filter(_rows_of(pk, sole), letter_id=letter.pk)
    rows = Employer.objects.filter(letter_id=letter.pk)
    if employer_id is not None:
        rows = rows.filter(pk=employer_id)
    rows = rows.order_by("position", "id").annotate(
        first_delivered=Subquery(
            deliveries.order_by().values("letter_id").annotate(at=Min("delivered_at")).values("at")
        ),
        first_acknowledged=Subquery(
            acknowledgements.order_by()
            .values("letter_id")
            .annotate(at=Min("created_at"))
            .values("at")
        ),
        first_responded=Subquery(
            responses.order_by().values("letter_id").annotate(at=Min("created_at")).values("at")
        ),
        newest_response=Subquery(responses.order_by("-created_at", "-id").values("pk")[:1]),
    )
    return [
        EmployerStatus(
            employer_id=row.pk,
            name=row.name,
            delivered_at=row.first_delivered,
            acknowledged_at=row.first_acknowledged,
            responded_at=row.first_responded,
            response_id=row.newest_response,
            overdue_days=_overdue_days(
                letter, row.first_delivered is not None, row.first_responded is not None, now
            ),
        )
        for row in rows
    ]


def employer_status(*, letter: Letter, employer_id: int) -> EmployerStatus | None:
    """Where one employer of the letter stands (None: not the letter's)."""
    found = employer_statuses(letter=letter, employer_id=employer_id)
    return found[0] if found else None


def employer_deliveries(*, letter: Letter) -> list[EmployerDeliveries]:
    """Each employer with its status and its deliveries and their links,
    newest first (two queries more than `employer_statuses`)."""
    statuses = employer_statuses(letter=letter)
    if not statuses:
        return []
    sole = len(statuses) == 1
    deliveries = list(
        Delivery.objects.filter(letter_id=letter.pk)
        .prefetch_related("links")
        .order_by("-delivered_at", "-id")
    )
    return [
        EmployerDeliveries(
            status,
            [
                d
                for d in deliveries
                if d.employer_id == status.employer_id or (sole and d.employer_id is None)
            ],
        )
        for status in statuses
    ]
