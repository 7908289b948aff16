"""The signature email outbox: which signatures owe an email, and who sends it.

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
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from letters.models import LIVE_STATUSES, Signature
from letters.services.prepared import prepared_cursor, typed_param

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


def smtp_error_is_permanent(exc: Exception) -> bool:
    """5xx answers about the message or recipient are permanent; the rest
    (connection refused, timeouts, 4xx) are worth retrying."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _msg in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    return False


def smtp_error_summary(exc: Exception) -> str:
    """Describe an SMTP error for logs: its type and code, never the
    recipient (SMTPRecipientsRefused carries the address; logs must not)."""
    code = getattr(exc, "smtp_code", None)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code = ",".join(str(c) for c, _msg in exc.recipients.values())
    return f"{type(exc).__name__}" + (f" {code}" if code else "")


def request_signature_emails() -> None:
    """Make sure a sender runs soon: publish one `send_signature_emails` task
    unless one is already pending (a Redis key the sender clears before each
    batch it claims, so an email owed after its last claim always brings a
    new sender).  Called on commit by every path that makes an email owed,
    the sign path included.  If Redis or the broker is down, the beat sweep
    does it later."""
    from django.core.cache import cache

    try:
        if not cache.add(KICK_KEY, 1, timeout=settings.SIGNATURE_EMAIL_LEASE):
            return
    except Exception:  # noqa: BLE001 -- no cache: publish every time
        logger.warning("email kick: cache unavailable")
    publish_sender()


def publish_sender() -> None:
    from django.core.cache import cache

    from letters.tasks import send_signature_emails

    try:
        send_signature_emails.delay()
    except Exception:  # noqa: BLE001 -- broker down: the sweep publishes later
        logger.warning("email kick: broker unavailable; the sweep will send")
        with contextlib.suppress(Exception):
            cache.delete(KICK_KEY)


def clear_signature_emails_request() -> None:
    from django.core.cache import cache

    try:
        cache.delete(KICK_KEY)
    except Exception:  # noqa: BLE001
        logger.warning("email kick: cache unavailable")
