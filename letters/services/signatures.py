"""Writes on signatures: sign, email, confirm, withdraw, sweep.

Locking rules: the sign and confirm paths never write the Letter row nor
LetterStats; they insert CountDelta rows.  Signature transitions are
conditional updates (pending→confirmed) or take a row lock on the one
signature (withdraw, resend), never on shared rows.  Emails are enqueued on
commit only.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import ipaddress
import logging
import secrets
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from letters.emailaddr import canonical_email, domain_allowed
from letters.models import (
    LIVE_STATUSES,
    CountDelta,
    Display,
    EmailKind,
    Letter,
    LetterStatus,
    Signature,
    SignatureStatus,
)
from letters.services.errors import ServiceError
from letters.services.prepared import prepared_cursor, typed_param
from letters.services.signature_emails import (
    KICK_KEY,
    clear_signature_emails_request,
    publish_sender,
    request_signature_emails,
    signature_emails_owed_now,
)

logger = logging.getLogger(__name__)


class SignOutcome(enum.Enum):
    CREATED = "created"
    RESENT = "resent"
    CAPPED = "capped"  # an existing signature already had its maximum of emails


def _client_key(client_ip: str) -> str:
    return hashlib.sha256(f"{settings.SECRET_KEY}:{client_ip}".encode()).hexdigest()[:24]


@functools.lru_cache(maxsize=16)
def _parse_rate(rate: str) -> tuple[int, int]:
    count, _sep, seconds = rate.partition("/")
    return int(count), int(seconds)


@functools.lru_cache(maxsize=16)
def _networks(allowlist: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(ipaddress.ip_network(net, strict=False) for net in allowlist)


def _ip_allowlisted(client_ip: str) -> bool:
    networks = _networks(tuple(settings.SIGN_RATE_ALLOWLIST))
    if not networks:
        return False
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return False
    return any(address in network for network in networks)


def _rate_windows(letter_id: int, client_ip: str) -> list[tuple[str, int, int]]:
    """(key, ttl, limit) of the fixed windows this attempt counts against."""
    if not client_ip or _ip_allowlisted(client_ip):
        return []
    client = _client_key(client_ip)
    now = int(time.time())
    windows = []
    for name, rate in (("b", settings.SIGN_RATE_BURST), ("s", settings.SIGN_RATE_SUSTAINED)):
        limit, window = _parse_rate(rate)
        windows.append((f"signrate:{name}:{letter_id}:{client}:{now // window}", window + 5, limit))
    return windows


def sign_rate_exceeded(*, letter_id: int, client_ip: str, kick: bool = False) -> bool:
    """Count this attempt against the burst and sustained limits (fixed windows
    in the cache, Redis in production).  Fails open if the cache is down:
    signing keeps working, flagged or not.

    With `kick`, also make sure a sender runs for the email just made owed
    (committed already): on Redis, in the same round trip as the counters."""
    windows = _rate_windows(letter_id, client_ip)
    try:
        counts, kicked = _count_in_windows([(key, ttl) for key, ttl, _limit in windows], kick)
    except Exception:
        logger.warning("sign rate limit: cache unavailable", exc_info=True)
        if kick:
            publish_sender()
        return False
    if kicked:
        publish_sender()
    return any(n > limit for n, (_key, _ttl, limit) in zip(counts, windows, strict=True))


# One Redis call for the sign path: INCR each window's counter (setting its
# expiry when it is created) and, if asked, SET NX the sender key.
# KEYS: the windows, then the sender key; ARGV: each window's ttl, then the
# sender key's ttl (0: do not touch it).  Returns the counts, then 1 if the
# sender key was set by this call.
_COUNT_AND_KICK = """
local n = #ARGV - 1
local out = {}
for i = 1, n do
  local count = redis.call('INCR', KEYS[i])
  if count == 1 then redis.call('EXPIRE', KEYS[i], ARGV[i]) end
  out[i] = count
end
out[n + 1] = 0
if tonumber(ARGV[n + 1]) > 0 and redis.call('SET', KEYS[n + 1], '1', 'NX', 'EX', ARGV[n + 1]) then
  out[n + 1] = 1
end
return out
"""
_scripts: dict[int, Any] = {}


def _count_in_windows(keys: list[tuple[str, int]], kick: bool) -> tuple[list[int], bool]:
    """Increment each window's counter and return the new values, and whether
    this call set the sender key (so must publish a sender): on Redis, one
    script call (the sign path's hottest cost: a pipeline of five commands
    cost redis-py three times the client time); elsewhere through Django's
    cache API."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        client = backend._cache.get_client(write=True)
        script = _scripts.get(id(client))
        if script is None:
            script = _scripts[id(client)] = client.register_script(_COUNT_AND_KICK)
        kick_ttl = settings.SIGNATURE_EMAIL_LEASE if kick else 0
        replies = script(
            # Our own short ASCII keys: make_key, without the per-character
            # validation for memcached that make_and_validate_key adds.
            keys=[*(backend.make_key(key) for key, _ttl in keys), backend.make_key(KICK_KEY)],
            args=[*(ttl for _key, ttl in keys), kick_ttl],
        )  # fmt: skip
        return [int(n) for n in replies[:-1]], bool(replies[-1])
    counts = []
    for key, ttl in keys:
        cache.add(key, 0, timeout=ttl)
        counts.append(cache.incr(key))
    return counts, bool(kick and cache.add(KICK_KEY, 1, timeout=settings.SIGNATURE_EMAIL_LEASE))


def _email_owed() -> None:
    """An email became owed: make sure a sender runs once the transaction
    commits.  If Redis or the broker is down, the row still owes its email
    and the beat sweep (`signatures_resend_unsent`) brings a sender later:
    nothing is lost."""
    transaction.on_commit(request_signature_emails)


# Fillers: how each parameter of the sign INSERT is filled.
_GIVEN, _NOW, _CONSTANT, _CALL = "given", "now", "constant", "call"


@functools.cache
def _insert_plan(vendor: str, given: frozenset[str]) -> tuple[str, tuple[tuple[str, Any], ...]]:
    """The sign path's INSERT statement, and how to fill each parameter: built
    once from the model (so a new field is never forgotten), not per sign.

    Only what varies is computed per sign: the caller's `given` values, the
    time, callable defaults.  Constant defaults are prepared here once.  On
    PostgreSQL each parameter carries an explicit type, so the statement can
    be prepared once per connection (`prepared_cursor`): the statement is not
    parsed nor planned again for each sign (`typed_param` says how text is
    typed so that too long a value is refused, not cut)."""
    quote = connection.ops.quote_name
    columns: list[str] = []
    values: list[str] = []
    fillers: list[tuple[str, Any]] = []
    for field in Signature._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(quote(str(field.column)))
        if field.attname == "letter_id":
            values.append("l.id")
            continue
        if field.attname == "version_id":
            values.append("l.current_version_id")
            continue
        values.append(typed_param(field, vendor))
        if field.attname in given:
            fillers.append((_GIVEN, field))
        elif getattr(field, "auto_now_add", False) or getattr(field, "auto_now", False):
            fillers.append((_NOW, field))
        elif field.has_default() and callable(field.default):
            fillers.append((_CALL, field))
        else:
            fillers.append((_CONSTANT, field.get_db_prep_save(field.get_default(), connection)))
    sql = (
        f"INSERT INTO {quote(Signature._meta.db_table)} ({', '.join(columns)}) "  # noqa: S608
        f"SELECT {', '.join(values)} FROM {quote(Letter._meta.db_table)} AS l "
        "WHERE l.id = %s AND l.status = %s AND l.current_version_id IS NOT NULL "
        "ON CONFLICT DO NOTHING RETURNING id"
    )
    return sql, tuple(fillers)


def _insert_pending(letter: Letter, fields: dict[str, Any]) -> int | None:
    """Insert a pending signature in one statement, or nothing.

    The row takes the letter's current version, and is inserted only while
    the letter is open, both read by the same statement (so a letter closed
    a moment ago, or a cached `letter`, cannot let a signature in).  An
    existing live signature for the address makes it a no-op (ON CONFLICT
    DO NOTHING on the partial unique index): no savepoint, no exception.
    Returns the new id, or None."""
    sql, fillers = _insert_plan(connection.vendor, frozenset(fields))
    now = timezone.now()
    values: list[Any] = []
    for how, what in fillers:
        if how == _CONSTANT:
            values.append(what)
        elif how == _GIVEN:
            values.append(what.get_db_prep_save(fields[what.attname], connection))
        elif how == _NOW:
            values.append(what.get_db_prep_save(now, connection))
        else:
            values.append(what.get_db_prep_save(what.get_default(), connection))
    with prepared_cursor() as cursor:
        cursor.execute(sql, [*values, letter.pk, LetterStatus.OPEN])
        found = cursor.fetchone()
    return int(found[0]) if found else None


def signature_create(
    *,
    letter: Letter,
    email: str,
    name: str,
    job_title: str = "",
    team: str = "",
    location: str = "",
    comment: str = "",
    display: str = Display.PUBLIC,
    wants_updates: bool = False,
    language: str = "en",
    client_ip: str = "",
) -> SignOutcome:
    """Insert a pending signature, or find the live one for that address.

    New address: a pending row and its confirmation email.  Live address
    (pending or confirmed): nothing about it changes (a stranger cannot edit
    someone's signature); its owner is emailed again (the confirmation, or
    "you have already signed"), at most SIGNATURE_MAX_EMAILS per signature.
    Over the rate limit: stored with `flagged`, never counted.  The caller
    answers the same in every case.

    `letter` may be a cached copy (see `selectors.letter_for_signing`): the
    insert itself checks that the letter is open and takes its current
    version.  The common case (a new address) is one statement, committed
    on its own when no transaction is open.

    Raises ServiceError when the letter is not open or the address is outside
    the letter's allowed domains.
    """
    if letter.status != LetterStatus.OPEN or letter.current_version_id is None:
        raise ServiceError(_("This letter is not open for signatures."))
    try:
        address = canonical_email(email)
    except Exception as exc:
        raise ServiceError(_("Enter a valid email address."), field="email") from exc
    if not domain_allowed(address, letter.allowed_domains):
        raise ServiceError(
            _("Please use your work address (%(domains)s).")
            % {"domains": ", ".join(letter.allowed_domains)},
            field="email",
        )
    created = _insert_pending(
        letter,
        {
            "email": address,
            "name": name.strip(),
            "job_title": job_title.strip(),
            "team": team.strip(),
            "location": location.strip(),
            "comment": comment.strip(),
            "display": display,
            "wants_updates": wants_updates,
            "language": language,
            "flagged": False,
            "secret": secrets.token_urlsafe(18),
            "emails_requested": 1,
        },
    )
    if created is not None:
        # Committed already unless the caller holds a transaction: then the
        # sender is asked for on commit.  Over the rate limit, the row is
        # flagged a moment after its insert; it is pending (uncounted) then.
        in_transaction = connection.in_atomic_block
        if sign_rate_exceeded(letter_id=letter.pk, client_ip=client_ip, kick=not in_transaction):
            Signature.objects.filter(pk=created).update(flagged=True)
        if in_transaction:
            _email_owed()
        return SignOutcome.CREATED
    sign_rate_exceeded(letter_id=letter.pk, client_ip=client_ip)  # counts the attempt
    with transaction.atomic():
        existing = (
            Signature.objects.select_for_update()
            .filter(letter=letter, email=address, status__in=LIVE_STATUSES)
            .first()
        )
        if existing is None:
            if not Letter.objects.filter(
                pk=letter.pk, status=LetterStatus.OPEN, current_version__isnull=False
            ).exists():
                raise ServiceError(_("This letter is not open for signatures."))
            raise ServiceError(_("Please try again."))  # withdrawn in between
        kind = (
            EmailKind.ALREADY if existing.status == SignatureStatus.CONFIRMED else EmailKind.CONFIRM
        )
        if not _request_email(existing.pk, kind):
            return SignOutcome.CAPPED
        return SignOutcome.RESENT


def _request_email(signature_id: int, kind: str) -> bool:
    """Ask for one more email of `kind` to a signature, within the cap of
    SIGNATURE_MAX_EMAILS (a conditional update); a sender sends it once the
    transaction commits."""
    updated = Signature.objects.filter(
        pk=signature_id, emails_requested__lt=settings.SIGNATURE_MAX_EMAILS
    ).update(emails_requested=F("emails_requested") + 1, email_kind=kind)
    if not updated:
        return False
    _email_owed()
    return True


@transaction.atomic
def signature_confirm(*, signature: Signature, display: str | None = None) -> bool:
    """pending → confirmed as one conditional update (idempotent: a second or
    concurrent click updates nothing).  The winner inserts the count delta
    and asks for the "confirmed" email with the withdraw link.
    Returns True if this call confirmed it."""
    changes: dict[str, Any] = {
        "status": SignatureStatus.CONFIRMED,
        "confirmed_at": timezone.now(),
    }
    if display in Display.values:
        changes["display"] = display
    updated = Signature.objects.filter(pk=signature.pk, status=SignatureStatus.PENDING).update(
        **changes
    )
    if not updated:
        return False
    signature.refresh_from_db()
    _request_email(signature.pk, EmailKind.CONFIRMED)  # carries the withdraw link
    if not signature.flagged:
        count_change(signature, +1)
    return True


def count_change(signature: Signature, sign: int) -> None:
    """Record that a counted signature entered (+1) or left (-1) the counts."""
    CountDelta.objects.create(
        letter_id=signature.letter_id,
        version_id=signature.version_id,
        confirmed=sign,
        public=sign if signature.display == Display.PUBLIC else 0,
    )


@transaction.atomic
def signature_withdraw(*, signature_id: int) -> bool:
    """Withdraw a live signature: erase its personal data at once (the row
    keeps only letter, version and timestamps) and take it out of the counts.
    Locks only this signature's row.  Returns False if it was not live."""
    signature = (
        Signature.objects.select_for_update()
        .filter(pk=signature_id, status__in=LIVE_STATUSES)
        .first()
    )
    if signature is None:
        return False
    was_counted = signature.counted
    Signature.objects.filter(pk=signature.pk).update(
        status=SignatureStatus.WITHDRAWN,
        withdrawn_at=timezone.now(),
        email="",
        name="",
        job_title="",
        team="",
        location="",
        comment="",
        secret="",
        wants_updates=False,
    )
    if was_counted:
        count_change(signature, -1)
    return True


def signatures_resend_unsent() -> int:
    """The outbox sweep: if any email is owed and free to send (its signal
    was lost because Redis or the broker was down, or its sender died and
    the lease ran out), make sure a sender runs.  Returns 1 if it asked for
    one.  One indexed query, whatever the number of signatures."""
    if not signature_emails_owed_now():
        return 0
    clear_signature_emails_request()
    request_signature_emails()
    return 1


def signatures_delete_stale() -> int:
    """Delete pending signatures older than SIGNATURE_PENDING_MAX_AGE (they
    were never confirmed; their data must not linger)."""
    cutoff = timezone.now() - timedelta(seconds=settings.SIGNATURE_PENDING_MAX_AGE)
    deleted, _detail = Signature.objects.filter(
        status=SignatureStatus.PENDING, created_at__lt=cutoff
    ).delete()
    return deleted


@transaction.atomic
def signature_accept_version(*, signature_id: int) -> bool:
    """A signer of an earlier version supports the current text: move the
    signature to the current version (row lock on this signature only); the
    total is unchanged, the per-version counts move."""
    signature = (
        Signature.objects.select_for_update()
        .select_related("letter")
        .filter(pk=signature_id, status=SignatureStatus.CONFIRMED)
        .first()
    )
    if signature is None or signature.letter.status != LetterStatus.OPEN:
        return False
    current_id = signature.letter.current_version_id
    if current_id is None or signature.version_id == current_id:
        return False
    counted = signature.counted
    if counted:
        count_change(signature, -1)
    Signature.objects.filter(pk=signature.pk).update(version_id=current_id)
    signature.version_id = current_id
    if counted:
        count_change(signature, +1)
    return True


def signatures_to_notify(*, letter_id: int, number: int, after_id: int, limit: int) -> list[int]:
    """Confirmed signers of versions before `number` who asked for updates and
    were not yet told about it, by id, for batching."""
    return list(
        Signature.objects.filter(
            letter_id=letter_id,
            status=SignatureStatus.CONFIRMED,
            wants_updates=True,
            version__number__lt=number,
            notified_version__lt=number,
            pk__gt=after_id,
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def signature_record_notified(*, signature_id: int, number: int) -> bool:
    """Record that a signer was told about version `number` (conditional: a
    retried or duplicate task records, and sends, once)."""
    return bool(
        Signature.objects.filter(pk=signature_id, notified_version__lt=number).update(
            notified_version=number
        )
    )
