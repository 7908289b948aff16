"""Celery tasks that send email: thin.  Ids in, re-check state, build the
email (`letters.notifications`), send it, record it
(`letters.signature_outbox`), retry transient errors with backoff.  Every
task is safe to run twice.

Imports run one way: services enqueue these tasks on commit; these tasks
never call a service.  The periodic tasks, which do, are in `letters.beat`.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import time

from celery import Task, shared_task
from celery.exceptions import Ignore
from django.conf import settings
from django.core.cache import cache

from letters import notifications, signature_outbox
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
    SmtpTrouble,
    error_kind,
    smtp_error_is_permanent,
    smtp_error_summary,
)
from speed.email_headers import Email

logger = logging.getLogger(__name__)

KICK_KEY = "signature-emails:kick"


# --- The signature email sender ---------------------------------------------


def request_signature_emails() -> None:
    """Make sure a sender runs soon: publish one `send_signature_emails` task
    unless one is already pending (a Redis key the sender clears before each
    batch it claims, so an email owed after its last claim always brings a
    new sender).  Called on commit by every path that makes an email owed,
    the sign path included.  If Redis or the broker is down, the beat sweep
    does it later."""
    try:
        if not cache.add(KICK_KEY, 1, timeout=settings.SIGNATURE_EMAIL_LEASE):
            return
    except Exception:  # noqa: BLE001 -- no cache: publish every time
        logger.warning("email kick: cache unavailable")
    try:
        send_signature_emails.delay()
    except Exception:  # noqa: BLE001 -- broker down: the sweep publishes later
        logger.warning("email kick: broker unavailable; the sweep will send")
        with contextlib.suppress(Exception):
            cache.delete(KICK_KEY)


def clear_signature_emails_request() -> None:
    try:
        cache.delete(KICK_KEY)
    except Exception:  # noqa: BLE001
        logger.warning("email kick: cache unavailable")


@shared_task(bind=True, acks_late=True)
def send_signature_emails(self: Task) -> dict[str, int]:
    """The signature email sender: claim owed emails in batches and send them
    over one SMTP connection until none are left, or for at most
    SIGNATURE_EMAIL_SENDER_BUDGET seconds (then a fresh task goes on).  Any
    number of these may run at once; the claim keeps them apart."""
    deadline = time.monotonic() + settings.SIGNATURE_EMAIL_SENDER_BUDGET
    totals: dict[str, int] = {}
    retry_at = 0
    mailer = notifications.Mailer()
    try:
        while True:
            if time.monotonic() >= deadline:
                request_signature_emails()
                break
            clear_signature_emails_request()
            batch = signature_outbox.signature_emails_claim(limit=settings.SIGNATURE_EMAIL_BATCH)
            if not batch:
                break
            done = signature_outbox.send_owed(batch, mailer)
            for key, value in done.counts.items():
                totals[key] = totals.get(key, 0) + value
            if done.retry_in:
                retry_at = min(retry_at or done.retry_in, done.retry_in)
            if done.server_down:
                break
        if retry_at:  # postponed emails: come back when the first is due
            send_signature_emails.apply_async(countdown=retry_at)
    finally:
        mailer.close()
    return totals


# --- News to signers, fanned out in batches ---------------------------------


@shared_task
def notify_new_version(letter_id: int, number: int, after_id: int = 0) -> int:
    """Fan out "the text changed" emails in batches of UPDATE_EMAIL_BATCH:
    each batch enqueues one email task per signer, then the next batch."""
    ids = signature_outbox.signers_to_email(
        letter_id=letter_id,
        after_id=after_id,
        limit=settings.UPDATE_EMAIL_BATCH,
        told_of_version=number,
    )
    for signature_id in ids:
        send_version_email.delay(signature_id, number)
    if len(ids) == settings.UPDATE_EMAIL_BATCH:
        notify_new_version.delay(letter_id, number, ids[-1])
    return len(ids)


@shared_task(bind=True, max_retries=None, acks_late=True)
def send_version_email(self: Task, signature_id: int, number: int) -> str:
    """Tell one signer of an earlier version what changed.  At most once per
    version."""
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
    _send_or_retry(self, notifications.version_changed_email(signature, version), signature_id)
    signature_outbox.signature_record_notified(signature_id=signature_id, number=number)
    return "sent"


@shared_task
def notify_event(event_id: int, after_id: int = 0) -> int:
    """Fan out one timeline event to opted-in confirmed signers, in batches."""
    event = LetterEvent.objects.filter(pk=event_id).first()
    if event is None:
        return 0
    ids = signature_outbox.signers_to_email(
        letter_id=event.letter_id, after_id=after_id, limit=settings.UPDATE_EMAIL_BATCH
    )
    for signature_id in ids:
        send_event_email.delay(event_id, signature_id)
    if len(ids) == settings.UPDATE_EMAIL_BATCH:
        notify_event.delay(event_id, ids[-1])
    return len(ids)


@shared_task(bind=True, max_retries=None, acks_late=True)
def send_event_email(self: Task, event_id: int, signature_id: int) -> str:
    """Tell one signer about one event, at most once (EventEmail's unique
    constraint is checked before and recorded after sending)."""
    event = LetterEvent.objects.select_related("letter").filter(pk=event_id).first()
    signature = Signature.objects.filter(
        pk=signature_id, status=SignatureStatus.CONFIRMED, wants_updates=True
    ).first()
    if event is None or signature is None:
        return "skipped"
    if EventEmail.objects.filter(event_id=event_id, signature_id=signature_id).exists():
        return "duplicate"
    _send_or_retry(self, notifications.letter_event_email(event, signature), signature_id)
    signature_outbox.event_email_record(event_id=event_id, signature_id=signature_id)
    return "sent"


# --- To organisers and leadership -------------------------------------------


@shared_task(bind=True, max_retries=None, acks_late=True)
def notify_organisers(self: Task, event_id: int) -> int:
    """Tell the letter's organisers that leadership acknowledged or responded."""
    event = LetterEvent.objects.select_related("letter").filter(pk=event_id).first()
    if event is None:
        return 0
    recipients = notifications.organisers_to_tell(event.letter_id)
    for email, language in recipients:
        _send_or_retry(self, notifications.event_news_email(event, email, language), event_id)
    return len(recipients)


@shared_task(bind=True, max_retries=None, acks_late=True)
def notify_milestone(self: Task, letter_id: int, threshold: int) -> int:
    letter = Letter.objects.filter(pk=letter_id).first()
    if letter is None:
        return 0
    recipients = notifications.organisers_to_tell(letter_id)
    for email, language in recipients:
        message = notifications.milestone_email(letter, threshold, email, language)
        _send_or_retry(self, message, letter_id)
    return len(recipients)


@shared_task(bind=True, max_retries=None, acks_late=True)
def send_invitation_email(self: Task, invitation_id: int, token: str) -> str:
    invitation = (
        Invitation.objects.select_related("letter", "invited_by")
        .filter(pk=invitation_id, accepted_at__isnull=True)
        .first()
    )
    if invitation is None:
        return "skipped"
    _send_or_retry(self, notifications.invitation_email(invitation, token), invitation_id)
    return "sent"


@shared_task(bind=True, max_retries=None, acks_late=True)
def send_leadership_link(self: Task, link_id: int, email: str, token: str) -> str:
    link = (
        LeadershipLink.objects.select_related("delivery__letter")
        .filter(pk=link_id, revoked_at__isnull=True)
        .first()
    )
    if link is None:
        return "skipped"
    _send_or_retry(self, notifications.leadership_link_email(link, email, token), link_id)
    return "sent"


def _send_or_retry(task: Task, message: Email, ref: int) -> None:
    """Send; retry transient SMTP errors with backoff; log permanent ones.

    Anything else raised while sending (an address that cannot be encoded
    without SMTPUTF8, a MIME error) is permanent for this message: logged
    by type, never with the address, and the task ends (`Ignore`)."""
    try:
        message.send()
    except NOT_THE_EMAIL:
        raise
    except (smtplib.SMTPException, OSError) as exc:
        summary = smtp_error_summary(exc)
        if smtp_error_is_permanent(exc):
            logger.warning("%s %s: permanent SMTP failure %s", task.name, ref, summary)
            raise Ignore() from exc
        retries = task.request.retries or 0
        if retries >= settings.EMAIL_RETRY_MAX:
            logger.error("%s %s: giving up after %s retries: %s", task.name, ref, retries, summary)
            raise Ignore() from exc
        countdown = min(settings.EMAIL_RETRY_BACKOFF_MAX, 2 ** (retries + 1))
        raise task.retry(exc=SmtpTrouble(summary), countdown=countdown) from None
    except Exception as exc:  # noqa: BLE001 -- this message's fault, not the server's
        logger.error("%s %s: email cannot be sent (%s); dropped", task.name, ref, error_kind(exc))
        raise Ignore() from None
