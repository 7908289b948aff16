"""Sending the emails the tasks ask for.

Each function takes ids, re-checks state, builds the email
(`letters.notifications`), sends it and records it
(`letters.signature_outbox`): safe to run twice.  Transient SMTP trouble is
raised as `TryLater`, for the task to retry with backoff; an email that can
never go (a 5xx, an address the backend cannot encode) as `Undeliverable`,
for the task to log and drop.  Neither carries an address.

Fan-outs (news to every signer who asked for updates) enqueue one email
task per signer, in batches of UPDATE_EMAIL_BATCH, then the next batch.
Timeline news arrives here already coalesced (`services.events`): a list
of events, told in one email.
"""

from __future__ import annotations

import logging
import smtplib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings

from letters import notifications, selectors, signature_outbox
from letters.models import (
    EventEmail,
    Invitation,
    LeadershipLink,
    Letter,
    LetterEvent,
    LetterVersion,
    Signature,
    SignatureStatus,
)
from letters.notifications import (
    NOT_THE_EMAIL,
    error_kind,
    smtp_error_is_permanent,
    smtp_error_summary,
)
from letters.queue import send
from letters.signer_address import CannotUnseal, NoKeyHere
from speed.email_headers import Email


class TryLater(Exception):
    """The mail server could not take the email now (unreachable, 4xx)."""


class Undeliverable(Exception):
    """The email can never be sent; the message says why, without the address.
    `level`: a refusal by the server is a warning, a message we could not
    make or hand over is an error (ours to fix)."""

    def __init__(self, why: str, level: int = logging.WARNING) -> None:
        super().__init__(why)
        self.level = level


def deliver(message: Email) -> None:
    """Send one email on its own connection, sorting its failures into
    `TryLater` and `Undeliverable`."""
    try:
        message.send()
    except NOT_THE_EMAIL:
        raise
    except (smtplib.SMTPException, OSError) as exc:
        if smtp_error_is_permanent(exc):
            raise Undeliverable(f"permanent SMTP failure {smtp_error_summary(exc)}") from exc
        raise TryLater(smtp_error_summary(exc)) from None
    except Exception as exc:  # noqa: BLE001 -- this message's fault, not the server's
        why = f"email cannot be sent ({error_kind(exc)}); dropped"
        raise Undeliverable(why, level=logging.ERROR) from None


def _opened(make: Callable[[], Email]) -> Email:
    """A signer's email, made with their sealed address opened: in a
    process without the key, try later (a worker with it may take the
    task); an erased address can never be sent to."""
    try:
        return make()
    except NoKeyHere:
        raise TryLater("no key for sealed addresses in this process") from None
    except CannotUnseal as exc:
        raise Undeliverable(f"address cannot be opened ({exc})") from None


# --- The signature email outbox ----------------------------------------------


@dataclass
class SenderRun:
    """What one sender run did: counts per outcome, and when to come back
    for postponed emails (0: none were)."""

    totals: dict[str, int] = field(default_factory=dict)
    retry_at: int = 0


def signature_emails_send() -> SenderRun:
    """Claim owed signature emails in batches and send them over one SMTP
    connection until none are left, or for at most
    SIGNATURE_EMAIL_SENDER_BUDGET seconds (then another sender is asked
    for).  Any number may run at once; the claim keeps them apart."""
    deadline = time.monotonic() + settings.SIGNATURE_EMAIL_SENDER_BUDGET
    run = SenderRun()
    mailer = notifications.Mailer()
    try:
        while True:
            if time.monotonic() >= deadline:
                signature_outbox.request_signature_emails()
                break
            signature_outbox.clear_signature_emails_request()
            batch = signature_outbox.signature_emails_claim(limit=settings.SIGNATURE_EMAIL_BATCH)
            if not batch:
                break
            done = signature_outbox.send_owed(batch, mailer)
            for key, value in done.counts.items():
                run.totals[key] = run.totals.get(key, 0) + value
            if done.retry_in:
                run.retry_at = min(run.retry_at or done.retry_in, done.retry_in)
            if done.server_down:
                break
    finally:
        mailer.close()
    return run


# --- News to signers ------------------------------------------------------------


def new_version_fan_out(*, letter_id: int, number: int, after_id: int) -> int:
    """ "The text changed" to every signer of an earlier version who asked
    for updates and was not told yet."""
    ids = signature_outbox.signers_to_email(
        letter_id=letter_id,
        after_id=after_id,
        limit=settings.UPDATE_EMAIL_BATCH,
        told_of_version=number,
    )
    for signature_id in ids:
        send("send_version_email", signature_id, number)
    if len(ids) == settings.UPDATE_EMAIL_BATCH:
        send("notify_new_version", letter_id, number, ids[-1])
    return len(ids)


def version_email_send(*, signature_id: int, number: int) -> str:
    """Tell one signer of an earlier version what changed, at most once."""
    signature = Signature.objects.select_related("letter").filter(pk=signature_id).first()
    if (
        signature is None
        or signature.status != SignatureStatus.CONFIRMED
        or not signature.wants_updates
        or signature.notified_version >= number
    ):
        return "skipped"
    version = LetterVersion.objects.filter(letter=signature.letter, number=number).first()
    if version is None:
        return "skipped"
    deliver(_opened(lambda: notifications.version_changed_email(signature, version)))
    signature_outbox.signature_record_notified(signature_id=signature_id, number=number)
    return "sent"


def _news_events(event_ids: list[int]) -> list[LetterEvent]:
    """The events, oldest first, each with its letter, the employer whose
    leadership acted (a coalition letter) and the response it announces
    (statement, answers and the demands they answer)."""
    return list(
        LetterEvent.objects.select_related("letter", "employer", "response__version")
        .prefetch_related("response__answers__demand", "response__version__translations")
        .filter(pk__in=event_ids)
        .order_by("created_at", "id")
    )


def event_fan_out(*, event_ids: list[int], after_id: int) -> int:
    """Timeline events (of one letter, claimed together by
    `services.events.letter_news_fan_out`) to every confirmed signer who
    asked for updates: one email task per signer, in batches."""
    event = LetterEvent.objects.filter(pk__in=event_ids).first()
    if event is None:
        return 0
    ids = signature_outbox.signers_to_email(
        letter_id=event.letter_id, after_id=after_id, limit=settings.UPDATE_EMAIL_BATCH
    )
    for signature_id in ids:
        send("send_event_email", event_ids, signature_id)
    if len(ids) == settings.UPDATE_EMAIL_BATCH:
        send("notify_event", event_ids, ids[-1])
    return len(ids)


def event_email_send(*, event_ids: list[int], signature_id: int) -> str:
    """Tell one signer about timeline events in one email, each at most
    once: the events this signer was already emailed about (EventEmail,
    checked before and recorded after sending) are left out."""
    signature = Signature.objects.filter(
        pk=signature_id, status=SignatureStatus.CONFIRMED, wants_updates=True
    ).first()
    if signature is None:
        return "skipped"
    told = set(
        EventEmail.objects.filter(signature_id=signature_id, event_id__in=event_ids).values_list(
            "event_id", flat=True
        )
    )
    events = _news_events([pk for pk in event_ids if pk not in told])
    if not events:
        return "duplicate" if told else "skipped"
    deliver(_opened(lambda: notifications.letter_event_email(events, signature)))
    for event in events:
        signature_outbox.event_email_record(event_id=event.pk, signature_id=signature_id)
    return "sent"


# --- To organisers and leadership -----------------------------------------------


def organisers_tell_event(*, event_ids: list[int]) -> int:
    """Tell the letter's organisers, in one email each, that leadership
    acknowledged or responded (with the response's statement and answers)."""
    events = _news_events(event_ids)
    if not events:
        return 0
    recipients = selectors.organisers_to_tell(letter_id=events[0].letter_id)
    for email, language in recipients:
        deliver(notifications.event_news_email(events, email, language))
    return len(recipients)


def organisers_tell_milestone(*, letter_id: int, threshold: int) -> int:
    letter = Letter.objects.filter(pk=letter_id).first()
    if letter is None:
        return 0
    recipients = selectors.organisers_to_tell(letter_id=letter_id)
    for email, language in recipients:
        deliver(notifications.milestone_email(letter, threshold, email, language))
    return len(recipients)


def invitation_email_send(*, invitation_id: int, token: str) -> str:
    invitation = (
        Invitation.objects.select_related("letter", "invited_by")
        .filter(pk=invitation_id, accepted_at__isnull=True)
        .first()
    )
    if invitation is None:
        return "skipped"
    deliver(notifications.invitation_email(invitation, token))
    return "sent"


def leadership_link_send(*, link_id: int, email: str, token: str) -> str:
    link = (
        LeadershipLink.objects.select_related("delivery__letter")
        .filter(pk=link_id, revoked_at__isnull=True)
        .first()
    )
    if link is None:
        return "skipped"
    deliver(notifications.leadership_link_email(link, email, token))
    return "sent"
