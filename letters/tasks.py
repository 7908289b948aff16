"""Celery tasks: thin.  Ids in, re-check state, call a service, retry transient
errors with backoff.  Every task is safe to run twice."""

from __future__ import annotations

import contextlib
import logging
import smtplib
import time
from typing import Any

from celery import Task, shared_task
from celery.exceptions import Ignore, SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.db import Error as DatabaseError
from django.utils import translation
from django.utils.translation import gettext

from letters import services
from letters.emails import build_email
from letters.links import absolute_url, letter_url, organiser_url, signer_url
from letters.models import (
    EmailKind,
    EventEmail,
    Invitation,
    LeadershipLink,
    Letter,
    LetterEvent,
    LetterVersion,
    Organiser,
    Signature,
    SignatureStatus,
)
from letters.selectors import letter_text
from letters.tokens import Purpose

logger = logging.getLogger(__name__)


class SmtpTrouble(Exception):
    """An SMTP error described without the addresses it may carry."""


_smtp = services.smtp_error_summary
_is_permanent = services.smtp_error_is_permanent


_STATE_FOR_KIND = {
    EmailKind.CONFIRM: SignatureStatus.PENDING,
    EmailKind.CONFIRMED: SignatureStatus.CONFIRMED,
    EmailKind.ALREADY: SignatureStatus.CONFIRMED,
    EmailKind.ALREADY_NO_LINK: SignatureStatus.CONFIRMED,
}

# The template each kind of signature email is written with.
_TEMPLATE_FOR_KIND = {
    EmailKind.CONFIRM: "signature-confirm",
    EmailKind.CONFIRMED: "signature-confirmed",
    EmailKind.ALREADY: "signature-already",
    EmailKind.ALREADY_NO_LINK: "signature-already",
}


def _email_context(signature: Signature) -> dict[str, object]:
    letter = signature.letter
    if signature.email_kind == EmailKind.CONFIRM:
        return {
            "confirm_url": signer_url(signature, Purpose.CONFIRM),
            "max_age_days": settings.SIGNATURE_CONFIRM_MAX_AGE // 86400,
            "pending_days": settings.SIGNATURE_PENDING_MAX_AGE // 86400,
        }
    # "Already signed" mints a withdraw link only when none was emailed
    # lately (services.signatures._withdraw_link_due); otherwise it points
    # at the earlier email.
    with_link = signature.email_kind != EmailKind.ALREADY_NO_LINK
    return {
        "letter_title": letter_text(letter, signature.language).title,
        "letter_url": letter_url(letter),
        "withdraw_url": signer_url(signature, Purpose.WITHDRAW) if with_link else "",
        "withdraw_link_days": max(1, settings.SIGNATURE_WITHDRAW_LINK_INTERVAL // 86400),
    }


# Exceptions that say nothing about one email (the database, the worker's
# time limit, memory): they stop the batch as before, and mark no email
# failed.  Connection trouble (OSError, SMTPException) is handled apart.
_NOT_THE_EMAIL: tuple[type[BaseException], ...] = (
    DatabaseError,
    SoftTimeLimitExceeded,
    MemoryError,
)


class Unsendable(Exception):
    """This one email cannot be made or sent, and the connection is not to
    blame (an address the backend cannot encode without SMTPUTF8, say).
    Carries only the original exception's type: its message may hold the
    address."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(type(cause).__name__)
        self.kind = type(cause).__name__


def _kind(exc: BaseException) -> str:
    """What to log about an exception: its type, never its text."""
    return exc.kind if isinstance(exc, Unsendable) else type(exc).__name__


class _Mailer:
    """One SMTP connection for a batch of emails, reopened after a failure.

    `send` raises the connection's errors as they are (OSError and
    SMTPException: the caller postpones, or fails one email on a 5xx) and
    anything else about the message as `Unsendable` (the caller fails that
    email alone).  Opening the connection is not the message's fault: its
    errors are raised as they are."""

    def __init__(self) -> None:
        self._connection: Any = None

    def _open(self) -> None:
        connection = mailers.default
        self._connection = connection
        connection.open()
        # A sender address the backend refuses would make every email
        # "unsendable": stop here instead (the task fails, the leases expire).
        prep_address = getattr(connection, "prep_address", None)
        if prep_address is not None:
            prep_address(settings.DEFAULT_FROM_EMAIL)

    def send(self, message: EmailMultiAlternatives) -> None:
        if self._connection is None:
            self._open()
        try:
            self._connection.send_messages([message])
        except smtplib.SMTPResponseException:
            raise  # the server answered: the connection is still usable
        except OSError:  # SMTPException too: the caller decides
            self.close()
            raise
        except _NOT_THE_EMAIL:
            self.close()
            raise
        except Exception as exc:  # noqa: BLE001 -- the message's fault, re-raised as such
            # Making the MIME message or encoding the envelope failed: this
            # message's fault.  An SMTP transaction may be half open (MAIL
            # FROM sent, RCPT failed to encode): start afresh for the next.
            self.close()
            raise Unsendable(exc) from None

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.close()
            self._connection = None


def _send_owed(
    batch: list[services.OwedEmail], mailer: _Mailer
) -> tuple[dict[str, int], int, bool]:
    """Send a claimed batch.  Returns the outcome counts and, if any email
    was postponed (server unreachable, or a 4xx), the delay after which to
    try again (0 if none was), and whether the server was unreachable."""
    outcome = {"sent": 0, "skipped": 0, "superseded": 0, "failed": 0, "postponed": 0}
    retry_in = 0
    # Past half the lease (a slow mail server), hand the rest back rather
    # than send an email whose lease another sender may take over.
    hand_back_at = time.monotonic() + settings.SIGNATURE_EMAIL_LEASE / 2
    signatures = Signature.objects.select_related("letter").in_bulk(
        [owed.signature_id for owed in batch]
    )
    for index, owed in enumerate(batch):
        if index and time.monotonic() >= hand_back_at:
            services.signature_emails_release(signature_ids=[o.signature_id for o in batch[index:]])
            break
        signature = signatures.get(owed.signature_id)
        if signature is None or signature.emails_sent >= owed.number or signature.email_failed:
            outcome["skipped"] += 1
            continue
        try:
            message = _owed_message(signature, owed.number)
            if message is not None:
                mailer.send(message)
        except (smtplib.SMTPException, OSError) as exc:
            if _is_permanent(exc):
                logger.warning("signature %s: permanent SMTP failure %s", signature.pk, _smtp(exc))
                services.signature_email_failed(signature_id=signature.pk)
                outcome["failed"] += 1
                continue
            if isinstance(exc, smtplib.SMTPResponseException | smtplib.SMTPRecipientsRefused):
                # The server is there but refused this one for now (4xx).
                logger.warning("signature %s: SMTP deferred %s", signature.pk, _smtp(exc))
                delay = services.signature_email_postpone(signature_ids=[signature.pk])
                retry_in = min(retry_in or delay, delay)
                outcome["postponed"] += 1
                continue
            rest = [o.signature_id for o in batch[index:]]
            logger.warning("SMTP unavailable (%s); %s emails postponed", _smtp(exc), len(rest))
            outcome["postponed"] += len(rest)
            delay = services.signature_email_postpone(signature_ids=rest)
            return outcome, max(1, min(retry_in or delay, delay)), True
        except _NOT_THE_EMAIL:
            raise
        except Exception as exc:  # noqa: BLE001 -- `Unsendable`, or making the email failed
            # This email alone fails (never claimed again); the batch goes on.
            # The type only: the exception's text may hold the address.
            logger.error("signature %s: email cannot be sent (%s)", signature.pk, _kind(exc))
            services.signature_email_failed(signature_id=signature.pk)
            outcome["failed"] += 1
            continue
        services.signature_email_sent(signature_id=signature.pk, number=owed.number)
        outcome["sent" if message is not None else "superseded"] += 1
    return outcome, retry_in, False


def _owed_message(signature: Signature, number: int) -> EmailMultiAlternatives | None:
    """The email `number` a claimed signature owes, or None if it is moot (a
    later email was asked for, or the state moved on).  May raise anything
    for one bad row (an unknown kind, a template error): the caller fails
    that email alone."""
    if (
        number < signature.emails_requested
        or _STATE_FOR_KIND[EmailKind(signature.email_kind)] != signature.status
    ):
        return None
    return build_email(
        name=_TEMPLATE_FOR_KIND[EmailKind(signature.email_kind)],
        to=signature.email,
        context=_email_context(signature),
        language=signature.language,
    )


@shared_task(bind=True, acks_late=True)
def send_signature_emails(self: Task) -> dict[str, int]:
    """The signature email sender: claim owed emails in batches and send them
    over one SMTP connection until none are left, or for at most
    SIGNATURE_EMAIL_SENDER_BUDGET seconds (then a fresh task goes on).  Any
    number of these may run at once; the claim keeps them apart."""
    deadline = time.monotonic() + settings.SIGNATURE_EMAIL_SENDER_BUDGET
    totals: dict[str, int] = {}
    retry_at = 0
    mailer = _Mailer()
    try:
        while True:
            if time.monotonic() >= deadline:
                services.request_signature_emails()
                break
            services.clear_signature_emails_request()
            batch = services.signature_emails_claim(limit=settings.SIGNATURE_EMAIL_BATCH)
            if not batch:
                break
            outcome, retry_in, server_down = _send_owed(batch, mailer)
            for key, value in outcome.items():
                totals[key] = totals.get(key, 0) + value
            if retry_in:
                retry_at = min(retry_at or retry_in, retry_in)
            if server_down:
                break
        if retry_at:  # postponed emails: come back when the first is due
            send_signature_emails.apply_async(countdown=retry_at)
    finally:
        mailer.close()
    return totals


@shared_task(bind=True, acks_late=True)
def send_signature_email(self: Task, signature_id: int, number: int) -> str:
    """Send one signature's owed email now (what this task did before the
    outbox; kept so that messages queued by an earlier release still work).
    `number` is the email it was queued for: if that one was sent, nothing
    is sent."""
    signature = Signature.objects.filter(pk=signature_id).values("emails_sent").first()
    if signature is None or signature["emails_sent"] >= number:
        return "skipped"
    batch = services.signature_emails_claim(limit=1, signature_id=signature_id)
    if not batch:
        return "in-flight"  # leased by another sender, or failed
    mailer = _Mailer()
    try:
        outcome, retry_in, _down = _send_owed(batch, mailer)
    finally:
        mailer.close()
    if retry_in:
        send_signature_emails.apply_async(countdown=retry_in)
    return next((key for key, value in outcome.items() if value), "skipped")


@shared_task
def counts_fold() -> int:
    return services.counts_fold_all()


@shared_task
def counts_recount() -> int:
    return services.counts_recount_all()


@shared_task
def signatures_resend_unsent() -> int:
    """The outbox sweep: if any email is owed and free, make sure a sender
    runs (the signal was lost: Redis or the broker was down, a task died)."""
    return services.signatures_resend_unsent()


@shared_task
def signatures_delete_stale() -> int:
    return services.signatures_delete_stale()


@shared_task
def letters_close_due() -> int:
    return services.letters_close_due()


@shared_task
def notify_new_version(letter_id: int, number: int, after_id: int = 0) -> int:
    """Fan out "the text changed" emails in batches of UPDATE_EMAIL_BATCH:
    each batch enqueues one email task per signer, then the next batch."""
    ids = services.signatures_to_notify(
        letter_id=letter_id, number=number, after_id=after_id, limit=settings.UPDATE_EMAIL_BATCH
    )
    for signature_id in ids:
        send_version_email.delay(signature_id, number)
    if len(ids) == settings.UPDATE_EMAIL_BATCH:
        notify_new_version.delay(letter_id, number, ids[-1])
    return len(ids)


@shared_task(bind=True, max_retries=None, acks_late=True)
def send_version_email(self: Task, signature_id: int, number: int) -> str:
    """Tell one signer of an earlier version what changed, with two buttons'
    links: support the new text, or withdraw.  At most once per version."""
    signature = Signature.objects.select_related("letter").filter(pk=signature_id).first()
    if (
        signature is None
        or signature.status != SignatureStatus.CONFIRMED
        or not signature.wants_updates
        or signature.notified_version >= number
    ):
        return "skipped"
    letter = signature.letter
    version = LetterVersion.objects.filter(letter=letter, number=number).first()
    if version is None:
        return "skipped"
    context = {
        "letter_title": letter_text(letter, signature.language).title,
        "change_note": version.change_note,
        "review_url": signer_url(signature, Purpose.NEW_VERSION),
        "withdraw_url": signer_url(signature, Purpose.WITHDRAW),
    }
    message = build_email(
        name="version-changed", to=signature.email, context=context, language=signature.language
    )
    _send_or_retry(self, message, signature_id)
    services.signature_record_notified(signature_id=signature_id, number=number)
    return "sent"


@shared_task(bind=True, max_retries=None, acks_late=True)
def send_invitation_email(self: Task, invitation_id: int, token: str) -> str:
    invitation = (
        Invitation.objects.select_related("letter", "invited_by")
        .filter(pk=invitation_id, accepted_at__isnull=True)
        .first()
    )
    if invitation is None:
        return "skipped"
    context = {
        "letter_title": invitation.letter.title,
        "role": invitation.get_role_display(),
        "inviter": invitation.invited_by.get_full_name() if invitation.invited_by else "",
        "accept_url": absolute_url("organise:invitation", token=token),
    }
    message = build_email(
        name="organiser-invitation",
        to=invitation.email,
        context=context,
        language=invitation.letter.language,
    )
    _send_or_retry(self, message, invitation_id)
    return "sent"


def _send_or_retry(task: Task, message: EmailMultiAlternatives, ref: int) -> None:
    """Send; retry transient SMTP errors with backoff; log permanent ones.

    Anything else raised while sending (an address that cannot be encoded
    without SMTPUTF8, a MIME error) is permanent for this message: logged
    by type, never with the address, and the task ends (`Ignore`)."""
    try:
        message.send()
    except _NOT_THE_EMAIL:
        raise
    except (smtplib.SMTPException, OSError) as exc:
        if _is_permanent(exc):
            logger.warning("%s %s: permanent SMTP failure %s", task.name, ref, _smtp(exc))
            raise Ignore() from exc
        retries = task.request.retries or 0
        if retries >= settings.EMAIL_RETRY_MAX:
            logger.error(
                "%s %s: giving up after %s retries: %s", task.name, ref, retries, _smtp(exc)
            )
            raise Ignore() from exc
        countdown = min(settings.EMAIL_RETRY_BACKOFF_MAX, 2 ** (retries + 1))
        raise task.retry(exc=SmtpTrouble(_smtp(exc)), countdown=countdown) from None
    except Exception as exc:  # noqa: BLE001 -- this message's fault, not the server's
        logger.error("%s %s: email cannot be sent (%s); dropped", task.name, ref, _kind(exc))
        raise Ignore() from None


@shared_task
def letters_mark_overdue() -> int:
    return services.letters_mark_overdue()


@shared_task
def notify_event(event_id: int, after_id: int = 0) -> int:
    """Fan out one timeline event to opted-in confirmed signers, in batches."""
    event = LetterEvent.objects.filter(pk=event_id).first()
    if event is None:
        return 0
    ids = services.signatures_to_tell(
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
    letter = event.letter
    unsubscribe_url = signer_url(signature, Purpose.UNSUBSCRIBE)
    with translation.override(signature.language):
        kind = event.get_kind_display()
    message = build_email(
        name="letter-event",
        to=signature.email,
        context={
            "letter_title": letter_text(letter, signature.language).title,
            "letter_url": letter_url(letter),
            "kind": kind,
            "text": event.text,
            "unsubscribe_url": unsubscribe_url,
        },
        language=signature.language,
    )
    message.extra_headers["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    message.extra_headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    _send_or_retry(self, message, signature_id)
    services.event_email_record(event_id=event_id, signature_id=signature_id)
    return "sent"


def _organiser_emails(letter_id: int) -> list[tuple[str, str]]:
    return list(
        Organiser.objects.filter(letter_id=letter_id, user__is_active=True).values_list(
            "user__email", "letter__language"
        )
    )


@shared_task(bind=True, max_retries=None, acks_late=True)
def notify_organisers(self: Task, event_id: int) -> int:
    """Tell the letter's organisers that leadership acknowledged or responded."""
    event = LetterEvent.objects.select_related("letter").filter(pk=event_id).first()
    if event is None:
        return 0
    recipients = _organiser_emails(event.letter_id)
    for email, language in recipients:
        with translation.override(language):
            kind = event.get_kind_display()
        message = build_email(
            name="organiser-news",
            to=email,
            context={
                "letter_title": event.letter.title,
                "news": kind,
                "text": event.text,
                "url": organiser_url(event.letter),
            },
            language=language,
        )
        _send_or_retry(self, message, event_id)
    return len(recipients)


@shared_task(bind=True, max_retries=None, acks_late=True)
def notify_milestone(self: Task, letter_id: int, threshold: int) -> int:
    letter = Letter.objects.filter(pk=letter_id).first()
    if letter is None:
        return 0
    recipients = _organiser_emails(letter_id)
    for email, language in recipients:
        with translation.override(language):
            news = gettext("%(n)s people have signed") % {"n": threshold}
        message = build_email(
            name="organiser-news",
            to=email,
            context={
                "letter_title": letter.title,
                "news": news,
                "text": "",
                "url": organiser_url(letter),
            },
            language=language,
        )
        _send_or_retry(self, message, letter_id)
    return len(recipients)


@shared_task(bind=True, max_retries=None, acks_late=True)
def send_leadership_link(self: Task, link_id: int, email: str, token: str) -> str:
    link = (
        LeadershipLink.objects.select_related("delivery__letter")
        .filter(pk=link_id, revoked_at__isnull=True)
        .first()
    )
    if link is None:
        return "skipped"
    letter = link.delivery.letter
    message = build_email(
        name="leadership-link",
        to=email,
        context={
            "name": link.name,
            "letter_title": letter.title,
            "url": absolute_url("leadership", token=token),
            "expires_at": link.expires_at,
        },
        language=letter.language,
    )
    _send_or_retry(self, message, link_id)
    return "sent"


@shared_task
def signatures_erase_retained() -> int:
    return services.signatures_erase_retained()
