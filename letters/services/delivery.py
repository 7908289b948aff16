"""Delivery to leadership, leadership's acknowledgement and response, the
response deadline, organiser updates, and the notifications they cause.

Status: open/closed → delivered → acknowledged → responded.  Each transition
is a conditional update from the allowed states and records its event
(`event_record`, which decides who is emailed about it).
Leadership links are random tokens shown once and stored as SHA-256 hashes.

A letter with employers (a coalition letter) is delivered to one employer's
leadership at a time (`Delivery.employer`); a link belongs to its delivery,
so to that employer, and its holder acknowledges and responds for that
employer only (`LetterEvent.employer`, `Response.employer`).  The letter's
status still moves on the first acknowledgement or response of any
employer; each employer's own state is derived from its rows
(selectors.employer_status).  Each employer acknowledges once, under the
letter's row lock.  A letter without employers works as it always did.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from letters.models import (
    Answer,
    Delivery,
    DemandAnswer,
    Employer,
    EventKind,
    LeadershipLink,
    Letter,
    LetterEvent,
    LetterStatus,
    Response,
    Signature,
)
from letters.queue import enqueue
from letters.selectors import employer_status, letter_counts
from letters.selectors.employers import letter_employers
from letters.services.audit import audit
from letters.services.errors import ServiceError
from letters.services.events import event_record
from letters.tokens import hash_token


@dataclass(frozen=True)
class Recipient:
    name: str
    role: str = ""


@dataclass(frozen=True)
class IssuedLink:
    link: LeadershipLink
    token: str  # shown once, never stored


def _issue_links(
    delivery: Delivery, recipients: list[Recipient], expires_at: datetime | None
) -> list[IssuedLink]:
    """One leadership link per recipient; the tokens are returned, only
    their hashes stored."""
    issued = []
    for recipient in recipients:
        token = secrets.token_urlsafe(32)
        link = LeadershipLink.objects.create(
            delivery=delivery,
            name=recipient.name,
            role=recipient.role,
            token_hash=hash_token(token),
            expires_at=expires_at,
        )
        issued.append(IssuedLink(link, token))
    return issued


def _employer_of(letter: Letter, employer: Employer | None) -> Employer | None:
    """The employer a delivery (or a response recorded by organisers) is
    for: none on a letter without employers; on a letter with employers,
    the one given (its own: refused otherwise), or its only one."""
    employers = letter_employers(letter=letter)
    if not employers:
        if employer is not None:
            raise ServiceError(_("This letter names no employer."), field="employer")
        return None
    if employer is None and len(employers) == 1:
        return employers[0]
    if employer is None or employer.pk not in {e.pk for e in employers}:
        raise ServiceError(_("Choose one of the letter's employers."), field="employer")
    return employer


@transaction.atomic
def letter_deliver(
    *,
    letter: Letter,
    by: User,
    method: str,
    delivered_at: datetime,
    recipients: list[Recipient],
    note: str = "",
    links_expire_at: datetime | None = None,
    respond_by: datetime | None = None,
    employer: Employer | None = None,
) -> tuple[Delivery, list[IssuedLink]]:
    """Record a delivery of the current version and issue one leadership
    link per recipient.  open/closed → delivered (a further delivery of an
    already delivered letter adds links without changing the status).
    A letter with employers is delivered to one employer's leadership
    (`employer`; may be left out when the letter has only one)."""
    if not recipients:
        raise ServiceError(_("Choose at least one recipient."), field="recipients")
    employer = _employer_of(letter, employer)
    delivered_states = [LetterStatus.DELIVERED, LetterStatus.ACKNOWLEDGED, LetterStatus.RESPONDED]
    locked = Letter.objects.select_for_update().get(pk=letter.pk)
    if locked.status in (LetterStatus.OPEN, LetterStatus.CLOSED):
        Letter.objects.filter(pk=letter.pk).update(status=LetterStatus.DELIVERED)
    elif locked.status not in delivered_states:
        raise ServiceError(_("Only an open or closed letter can be delivered."))
    if respond_by is not None:
        Letter.objects.filter(pk=letter.pk).update(respond_by=respond_by, respond_by_noted=False)
    assert locked.current_version_id is not None
    delivery = Delivery.objects.create(
        letter=letter,
        version_id=locked.current_version_id,
        employer=employer,
        method=method,
        delivered_at=delivered_at,
        note=note,
        confirmed_count=letter_counts(letter_id=letter.pk).confirmed,
        created_by=by,
    )
    issued = _issue_links(delivery, recipients, links_expire_at)
    names = ", ".join(r.name for r in recipients)
    text = f"{names}: {note}" if note else names
    event_record(letter=letter, kind=EventKind.DELIVERED, text=text, by=by, employer=employer)
    target = f"{employer.name}: {names}" if employer else names
    audit(actor=by, action="letter.deliver", letter=letter, target=target, method=method)
    letter.refresh_from_db()
    return delivery, issued


def leadership_link_revoke(*, letter: Letter, by: User, link_id: int) -> None:
    updated = LeadershipLink.objects.filter(
        pk=link_id, delivery__letter=letter, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    if not updated:
        raise ServiceError(_("This link is already revoked."))
    audit(actor=by, action="link.revoke", letter=letter, target=f"link {link_id}")


def leadership_link_email(
    *, letter: Letter, by: User, link_id: int, email: str, token: str
) -> None:
    """Email a just-issued link to its recipient (the token is still in the
    organiser's hands; it is not stored)."""
    link = LeadershipLink.objects.filter(pk=link_id, delivery__letter=letter).first()
    if link is None or link.token_hash != hash_token(token):
        raise ServiceError(_("This link cannot be sent."))
    enqueue("send_leadership_link", link_id, email, token)
    audit(actor=by, action="link.email", letter=letter, target=f"link {link_id}")


@transaction.atomic
def letter_acknowledge(*, link: LeadershipLink) -> Letter:
    """Leadership acknowledges receipt: delivered → acknowledged.

    A link to one employer's leadership acknowledges for that employer,
    once (not after it acknowledged or responded): checked under the
    letter's row lock, so two clicks at once record one acknowledgement.
    The letter's status moves on the first employer's (a conditional
    update that changes nothing later)."""
    letter = link.delivery.letter
    employer = link.delivery.employer
    if employer is None:
        updated = Letter.objects.filter(pk=letter.pk, status=LetterStatus.DELIVERED).update(
            status=LetterStatus.ACKNOWLEDGED
        )
        if not updated:
            raise ServiceError(_("Receipt was already acknowledged."))
    else:
        Letter.objects.select_for_update().filter(pk=letter.pk).get()
        status = employer_status(letter=letter, employer_id=employer.pk)
        if status is None or not status.may_acknowledge:
            raise ServiceError(_("Receipt was already acknowledged."))
        Letter.objects.filter(pk=letter.pk, status=LetterStatus.DELIVERED).update(
            status=LetterStatus.ACKNOWLEDGED
        )
    LeadershipLink.objects.filter(pk=link.pk).update(last_used_at=timezone.now())
    event_record(letter=letter, kind=EventKind.ACKNOWLEDGED, text=link.name, employer=employer)
    letter.refresh_from_db()
    return letter


@transaction.atomic
def letter_respond(
    *,
    letter: Letter,
    statement: str,
    answers: dict[int, str],
    link: LeadershipLink | None = None,
    recorded_by: User | None = None,
    source: str = "",
    employer: Employer | None = None,
) -> Response:
    """Publish a response: delivered/acknowledged → responded (a later
    response to a responded letter is added to the timeline too).  `answers`
    maps demand ids of the delivered version to an Answer.

    On a letter with employers the response is one employer's: the link's
    (its delivery's employer), or, recorded by organisers, `employer` (may
    be left out when the letter has only one), which must have been
    delivered to; its answers are to the version delivered to it."""
    if not statement.strip():
        raise ServiceError(_("Write a statement."), field="statement")
    if link is None and not source.strip():
        raise ServiceError(_("Say where this response was given."), field="source")
    allowed = [LetterStatus.DELIVERED, LetterStatus.ACKNOWLEDGED, LetterStatus.RESPONDED]
    locked = Letter.objects.select_for_update().get(pk=letter.pk)
    if locked.status not in allowed:
        raise ServiceError(_("Only a delivered letter can be answered."))
    employer = link.delivery.employer if link is not None else _employer_of(letter, employer)
    deliveries = Delivery.objects.filter(letter=letter).order_by("-delivered_at", "-id")
    if employer is not None:
        deliveries = deliveries.filter(employer=employer)
    delivery = link.delivery if link is not None and employer is not None else deliveries.first()
    if delivery is None:
        raise ServiceError(_("The letter was not delivered to this employer."), field="employer")
    demand_ids = set(delivery.version.demands.values_list("id", flat=True))
    if not set(answers) <= demand_ids or not set(answers.values()) <= set(Answer.values):
        raise ServiceError(_("Answer each demand."))
    Letter.objects.filter(pk=letter.pk).update(status=LetterStatus.RESPONDED)
    response = Response.objects.create(
        letter=letter,
        version=delivery.version,
        statement=statement.strip(),
        source=source.strip(),
        link=link,
        recorded_by=recorded_by,
        employer=employer,
    )
    DemandAnswer.objects.bulk_create(
        DemandAnswer(
            response=response, demand_id=demand_id, answer=answers.get(demand_id, "no_answer")
        )
        for demand_id in sorted(demand_ids)
    )
    if link is not None:
        LeadershipLink.objects.filter(pk=link.pk).update(last_used_at=timezone.now())
    who = link.name if link else source
    event_record(
        letter=letter,
        kind=EventKind.RESPONSE,
        text=who,
        by=recorded_by,
        response=response,
        employer=employer,
    )
    return response


@transaction.atomic
def letter_post_update(*, letter: Letter, by: User, text: str) -> LetterEvent:
    """An organiser's update on the timeline (emailed to opted-in signers)."""
    if not text.strip():
        raise ServiceError(_("Write the update."), field="text")
    return event_record(letter=letter, kind=EventKind.UPDATE, text=text.strip(), by=by)


def letters_mark_overdue() -> int:
    """Mark on the timeline, once, each delivered letter whose respond-by
    date passed without a response (beat).  Once even twice at once: the
    mark is a conditional update of `respond_by_noted`, in the event's
    transaction (the second waits for the first's row lock, then finds it
    set)."""
    marked = 0
    due = Letter.objects.filter(
        status__in=[LetterStatus.DELIVERED, LetterStatus.ACKNOWLEDGED],
        respond_by__lte=timezone.now(),
        respond_by_noted=False,
    )
    for letter in due:
        with transaction.atomic():
            if Letter.objects.filter(pk=letter.pk, respond_by_noted=False).update(
                respond_by_noted=True
            ):
                event_record(letter=letter, kind=EventKind.DEADLINE_PASSED)
                marked += 1
    return marked


def signature_unsubscribe(*, signature_id: int) -> None:
    Signature.objects.filter(pk=signature_id).update(wants_updates=False)
