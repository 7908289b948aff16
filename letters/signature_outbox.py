"""The signature email outbox: which signatures owe an email, and the record
of every email sent to a signer.  The only writer of the outbox columns of
`Signature` and of `EventEmail` (beside the services, which ask for emails).

A signature owes an email while `emails_sent < emails_requested` (the sign,
confirm and resend paths bump `emails_requested`).  The database is the
outbox: there is no per-signature task.  A sender *claims* a batch of owed
emails with one statement that leases them (`email_lease_until`), sends them
over one SMTP connection, and records each send with a conditional update
(`emails_sent = number`), committed one by one.  So:

- a sender killed mid-batch sends at most one email twice (the one it was
  handing over); the rest of its batch is taken over when the lease expires;
- two senders never send the same email at once (SKIP LOCKED and the lease);
- a transient failure pushes the lease forward with backoff; a permanent one
  (5xx) marks the email failed, never retried;
- nothing depends on Redis: if the broker loses the signal, the beat sweep
  finds the owed rows by their partial index.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import smtplib
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from letters.models import LIVE_STATUSES, EventEmail, Signature, SignatureStatus
from letters.notifications import (
    NOT_THE_EMAIL,
    Mailer,
    error_kind,
    signature_email,
    smtp_error_is_permanent,
    smtp_error_summary,
)
from letters.queue import send
from letters.signer_address import NoKeyHere
from speed.prepared import prepared_cursor, typed_param

logger = logging.getLogger(__name__)

KICK_KEY = "signature-emails:kick"


@dataclass(frozen=True)
class OwedEmail:
    signature_id: int
    number: int  # the emails_requested value this send satisfies


def _lease_seconds() -> int:
    return settings.SIGNATURE_EMAIL_LEASE


def signature_emails_claim(*, limit: int, signature_id: int | None = None) -> list[OwedEmail]:
    """Lease up to `limit` owed emails (oldest first), or that one signature's.

    One statement: the inner SELECT skips rows another sender has locked,
    the UPDATE sets the lease, and the rows come back with the number each
    send is for.  Runs in autocommit (its own transaction).  Without SKIP
    LOCKED (SQLite in `make run`, one process sends everything), the same
    claim through the ORM."""
    if not connection.features.has_select_for_update_skip_locked:
        return _claim_without_skip_locked(limit=limit, signature_id=signature_id)
    now = timezone.now()
    lease_until = now + timedelta(seconds=_lease_seconds())
    only_one = "AND s.id = %s" if signature_id is not None else ""
    params: list[Any] = [lease_until, *LIVE_STATUSES, now]
    if signature_id is not None:
        params.append(signature_id)
    params.append(limit)
    table = Signature._meta.db_table
    sql = f"""
        UPDATE {table} AS t SET email_lease_until = %s
        FROM (
            SELECT s.id FROM {table} AS s
            WHERE s.status IN (%s, %s) AND NOT s.email_failed
              AND s.emails_sent < s.emails_requested
              AND (s.email_lease_until IS NULL OR s.email_lease_until <= %s)
              {only_one}
            ORDER BY s.id
            LIMIT %s
            FOR UPDATE SKIP LOCKED
        ) AS owed
        WHERE t.id = owed.id
        RETURNING t.id, t.emails_requested
    """  # noqa: S608 -- table name from the model, values as parameters
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [OwedEmail(signature_id=pk, number=number) for pk, number in sorted(rows)]


def _claim_without_skip_locked(*, limit: int, signature_id: int | None) -> list[OwedEmail]:
    now = timezone.now()
    owed = Signature.objects.filter(
        status__in=LIVE_STATUSES,
        email_failed=False,
        emails_sent__lt=F("emails_requested"),
    ).exclude(email_lease_until__gt=now)
    if signature_id is not None:
        owed = owed.filter(pk=signature_id)
    rows = list(owed.order_by("pk").values_list("pk", "emails_requested")[:limit])
    if rows:
        Signature.objects.filter(pk__in=[pk for pk, _n in rows]).update(
            email_lease_until=now + timedelta(seconds=_lease_seconds())
        )
    return [OwedEmail(signature_id=pk, number=number) for pk, number in rows]


def signature_email_sent(*, signature_id: int, number: int) -> bool:
    """Record that email `number` went out: one conditional update, so a
    duplicate sender records (and was allowed to send) once.  Frees the
    lease: if a later email was requested meanwhile, it is owed at once.
    Run once per email sent, so it is prepared once per connection."""
    with prepared_cursor() as cursor:
        cursor.execute(_sent_sql(connection.vendor), [number, timezone.now(), signature_id, number])
        return bool(cursor.rowcount)


@functools.cache
def _sent_sql(vendor: str) -> str:
    """`signature_email_sent`'s UPDATE, with typed parameters on PostgreSQL
    (from the model: a changed column type is followed)."""
    quote = connection.ops.quote_name
    fields = {f.name: f for f in Signature._meta.concrete_fields}

    def param(name: str) -> str:
        return typed_param(fields[name], vendor)

    def column(name: str) -> str:
        return quote(str(fields[name].column))

    return (
        f"UPDATE {quote(Signature._meta.db_table)} SET "  # noqa: S608 -- names from the model
        f"{column('emails_sent')} = {param('emails_sent')}, "
        f"{column('confirmation_sent_at')} = {param('confirmation_sent_at')}, "
        f"{column('email_lease_until')} = NULL, {column('email_attempts')} = 0 "
        f"WHERE {column('id')} = {param('id')} AND {column('emails_sent')} < {param('emails_sent')}"
    )


def signature_emails_release(*, signature_ids: list[int]) -> None:
    """Hand claimed emails back unsent: free to claim at once."""
    Signature.objects.filter(pk__in=signature_ids).update(email_lease_until=None)


def signature_email_failed(*, signature_id: int) -> None:
    """A permanent failure: the server refused the address for good, or the
    email cannot be built or sent at all (never retried; other rows go on)."""
    Signature.objects.filter(pk=signature_id).update(email_failed=True, email_lease_until=None)


def retry_delay(attempts: int) -> int:
    """Seconds before attempt `attempts + 1`: 2, 4, 8, ... up to the cap."""
    return int(min(settings.EMAIL_RETRY_BACKOFF_MAX, 2 ** min(attempts + 1, 20)))


def signature_email_postpone(*, signature_ids: list[int]) -> int:
    """Transient failure (server down, 4xx): push each lease forward by its
    backoff, or give up (mark failed) after EMAIL_RETRY_MAX attempts.
    Returns the shortest delay set, for the caller to come back then."""
    if not signature_ids:
        return 0
    now = timezone.now()
    shortest = settings.EMAIL_RETRY_BACKOFF_MAX
    with transaction.atomic():
        rows = list(
            Signature.objects.select_for_update()
            .filter(pk__in=signature_ids)
            .order_by("pk")
            .values_list("pk", "email_attempts")
        )
        for pk, attempts in rows:
            if attempts + 1 > settings.EMAIL_RETRY_MAX:
                logger.error("signature %s: giving up after %s attempts", pk, attempts + 1)
                Signature.objects.filter(pk=pk).update(
                    email_failed=True, email_lease_until=None, email_attempts=attempts + 1
                )
                continue
            delay = retry_delay(attempts)
            shortest = min(shortest, delay)
            Signature.objects.filter(pk=pk).update(
                email_lease_until=now + timedelta(seconds=delay), email_attempts=attempts + 1
            )
    return shortest


def signature_emails_owed_now() -> bool:
    """Is any email owed and free to send (the beat sweep's question)?"""
    now = timezone.now()
    return (
        Signature.objects.filter(
            status__in=LIVE_STATUSES,
            email_failed=False,
            emails_sent__lt=F("emails_requested"),
        )
        .exclude(email_lease_until__gt=now)
        .exists()
    )


def signers_to_email(
    *, letter_id: int, after_id: int, limit: int, told_of_version: int | None = None
) -> list[int]:
    """Confirmed signers of a letter who asked for updates, by id after
    `after_id`, for fanning out news in batches.  With `told_of_version`:
    only signers of an earlier version not yet told about that one."""
    signers = Signature.objects.filter(
        letter_id=letter_id,
        status=SignatureStatus.CONFIRMED,
        wants_updates=True,
        pk__gt=after_id,
    )
    if told_of_version is not None:
        signers = signers.filter(
            version__number__lt=told_of_version, notified_version__lt=told_of_version
        )
    return list(signers.order_by("pk").values_list("pk", flat=True)[:limit])


def signature_record_notified(*, signature_id: int, number: int) -> bool:
    """Record that a signer was told about version `number` (conditional: a
    retried or duplicate task records, and sends, once)."""
    return bool(
        Signature.objects.filter(pk=signature_id, notified_version__lt=number).update(
            notified_version=number
        )
    )


def event_email_record(*, event_id: int, signature_id: int) -> bool:
    """Record that a signer was emailed about an event; False if it already was."""
    try:
        with transaction.atomic():
            EventEmail.objects.create(event_id=event_id, signature_id=signature_id)
    except IntegrityError:
        return False
    return True


@dataclass
class SendOutcome:
    """What a sender did with a claimed batch: counts per outcome, and when
    to come back for postponed emails (0: none were)."""

    counts: dict[str, int]
    retry_in: int = 0
    server_down: bool = False


def send_owed(batch: list[OwedEmail], mailer: Mailer) -> SendOutcome:
    """Send a claimed batch over `mailer`, recording each email as it goes.

    One email that cannot be made or sent fails alone; a 4xx postpones that
    one; an unreachable server postpones the rest of the batch.  Past half
    the lease (a slow mail server), the rest is handed back rather than
    sent under a lease another sender may take over."""
    done = SendOutcome(dict.fromkeys(("sent", "skipped", "superseded", "failed", "postponed"), 0))
    hand_back_at = time.monotonic() + settings.SIGNATURE_EMAIL_LEASE / 2
    signatures = Signature.objects.select_related("letter").in_bulk(
        [owed.signature_id for owed in batch]
    )
    for index, owed in enumerate(batch):
        if index and time.monotonic() >= hand_back_at:
            signature_emails_release(signature_ids=[o.signature_id for o in batch[index:]])
            break
        signature = signatures.get(owed.signature_id)
        if signature is None or signature.emails_sent >= owed.number or signature.email_failed:
            done.counts["skipped"] += 1
            continue
        try:
            message = signature_email(signature, owed.number)
            if message is not None:
                mailer.send(message)
        except (smtplib.SMTPException, OSError) as exc:
            if _smtp_failure(exc, signature.pk, done):
                continue
            rest = [o.signature_id for o in batch[index:]]
            logger.warning(
                "SMTP unavailable (%s); %s emails postponed", smtp_error_summary(exc), len(rest)
            )
            done.counts["postponed"] += len(rest)
            delay = signature_email_postpone(signature_ids=rest)
            done.retry_in = max(1, min(done.retry_in or delay, delay))
            done.server_down = True
            return done
        except NoKeyHere:
            # This process cannot open sealed addresses (a worker without
            # SIGNER_SEAL_PRIVATE_KEYS, or without the key of a rotation):
            # not the emails' fault; hand them back for a sender that can.
            rest = [o.signature_id for o in batch[index:]]
            logger.error("this process has no key for sealed addresses; %s handed back", len(rest))
            signature_emails_release(signature_ids=rest)
            done.counts["postponed"] += len(rest)
            done.server_down = True
            return done
        except NOT_THE_EMAIL:
            raise
        except Exception as exc:  # noqa: BLE001 -- `Unsendable`, or making the email failed
            # This email alone fails (never claimed again); the batch goes on.
            # The type only: the exception's text may hold the address.
            logger.error("signature %s: email cannot be sent (%s)", signature.pk, error_kind(exc))
            signature_email_failed(signature_id=signature.pk)
            done.counts["failed"] += 1
            continue
        signature_email_sent(signature_id=signature.pk, number=owed.number)
        done.counts["sent" if message is not None else "superseded"] += 1
    return done


def _smtp_failure(exc: Exception, signature_id: int, done: SendOutcome) -> bool:
    """Deal with an SMTP error about one email: True if it was about that
    email (5xx: failed for good; 4xx: postponed), False if the server is
    unreachable (the caller postpones the rest of the batch)."""
    if smtp_error_is_permanent(exc):
        logger.warning(
            "signature %s: permanent SMTP failure %s", signature_id, smtp_error_summary(exc)
        )
        signature_email_failed(signature_id=signature_id)
        done.counts["failed"] += 1
        return True
    if isinstance(exc, smtplib.SMTPResponseException | smtplib.SMTPRecipientsRefused):
        # The server is there but refused this one for now (4xx).
        logger.warning("signature %s: SMTP deferred %s", signature_id, smtp_error_summary(exc))
        delay = signature_email_postpone(signature_ids=[signature_id])
        done.retry_in = min(done.retry_in or delay, delay)
        done.counts["postponed"] += 1
        return True
    return False


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
        send("send_signature_emails")
    except Exception:  # noqa: BLE001 -- broker down: the sweep publishes later
        logger.warning("email kick: broker unavailable; the sweep will send")
        with contextlib.suppress(Exception):
            cache.delete(KICK_KEY)


def clear_signature_emails_request() -> None:
    try:
        cache.delete(KICK_KEY)
    except Exception:  # noqa: BLE001
        logger.warning("email kick: cache unavailable")
