"""Signing: the sign form's submission and its owner's confirmation.

The sign path in order (docs/architecture.md lists every hop):
`signature_create` inserts a pending row (or refreshes the pending one, or
notes a confirmed one) and asks for an email; the owner's click on the
emailed link is `signature_confirm`, which counts the signature by
inserting a CountDelta (services/counts.py folds them).

Locking rules: the sign and confirm paths never write the Letter row nor
LetterStats; they insert CountDelta rows.  Signature transitions are
conditional updates (pending→confirmed) or take a row lock on the one
signature, never on shared rows.  Emails are asked for on commit only.
"""

from __future__ import annotations

import enum
import functools
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from psycopg.types.numeric import Int8

from letters.emailaddr import MailAddress, domain_allowed, mail_address
from letters.employers import employer_for
from letters.models import (
    LIVE_STATUSES,
    UNNAMED,
    Display,
    EmailKind,
    Letter,
    LetterStatus,
    Signature,
    SignatureStatus,
)
from letters.selectors.employers import letter_employers
from letters.services.counts import count_change
from letters.services.errors import ServiceError
from letters.services.rate_limits import confirm_rate_hold
from letters.signature_outbox import request_signature_emails
from letters.signer_address import address_hash, sealed_address, stored_address
from speed.prepared import prepared_cursor, typed_param


class SignOutcome(enum.Enum):
    CREATED = "created"
    RESENT = "resent"
    CAPPED = "capped"  # an existing signature already had its maximum of emails


def _email_owed() -> None:
    """An email became owed: make sure a sender runs once the transaction
    commits (at once outside a transaction: the sign path's common case,
    one SET NX in Redis, and a task published only by the call that set
    it).  If Redis or the broker is down, the row still owes its email
    and the beat sweep (`signatures_resend_unsent`) brings a sender later:
    nothing is lost."""
    transaction.on_commit(request_signature_emails)


# Fillers: how each parameter of the sign INSERT is filled.
_GIVEN, _NOW, _CONSTANT, _CALL, _ID = "given", "now", "constant", "call", "id"


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
        if field.attname == "employer_id" and vendor == "postgresql":
            # One parameter type whatever the value (psycopg types an int
            # by its size and None as unknown, and prepares a statement
            # per set of types): a bigint, 0 standing for none.
            values.append(f"NULLIF({typed_param(field, vendor)}, 0)")
            fillers.append((_ID, field))
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
        elif how == _ID:
            values.append(Int8(fields.get(what.attname) or 0))
        elif how == _NOW:
            values.append(what.get_db_prep_save(now, connection))
        else:
            values.append(what.get_db_prep_save(what.get_default(), connection))
    with prepared_cursor() as cursor:
        cursor.execute(sql, [*values, letter.pk, LetterStatus.OPEN])
        found = cursor.fetchone()
    return int(found[0]) if found else None


@dataclass(frozen=True)
class SignerDetails:
    """What a signer chooses to publish (or to withhold) and be sent."""

    name: str
    job_title: str = ""
    team: str = ""
    location: str = ""
    comment: str = ""
    display: str = Display.PUBLIC
    wants_updates: bool = False

    def cleaned(self) -> dict[str, Any]:
        """The values to store.  An anonymous signer's name and details
        are not stored at all (not even sealed): nothing shows them, so a
        copy of the database must not hold them either.  Signing publicly
        later means typing them again."""
        display = self.display if self.display in Display.values else Display.ANONYMOUS
        named = display == Display.PUBLIC
        return {
            "name": self.name.strip() if named else "",
            "job_title": self.job_title.strip() if named else "",
            "team": self.team.strip() if named else "",
            "location": self.location.strip() if named else "",
            "comment": self.comment.strip() if named else "",
            "display": display,
            "wants_updates": bool(self.wants_updates),
        }


# A signature's own columns (not its relations: refreshing those would drop
# the letter the caller loaded with it).
_OWN_FIELDS = [f.attname for f in Signature._meta.concrete_fields if not f.is_relation]


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
    language: str | None = None,
) -> SignOutcome:
    """Insert a pending signature, or find the live one for that address.

    New address: a pending row and its confirmation email.  Pending address:
    the row's details become this submission's (the latest submission for an
    address is the one its owner is most likely to have made: a stranger who
    submitted first cannot decide how the owner signs), and the
    confirmation is sent again.  Nothing is published from these details
    until the owner confirms on the confirm page, which shows every field
    and takes the owner's own choices (`signature_confirm`).  Confirmed
    address: nothing about it changes; its owner is emailed "you have
    already signed".  The emails the form can trigger are capped per rolling
    window (`_request_email`).  The caller answers the same in every case.

    No client address is taken: rate limits apply to the confirmation
    (`confirm_rate_exceeded`), the owner's own act.  `language` (the
    emails') defaults to the letter's.

    `letter` may be a cached copy (`selectors.letter_for_signing`): the
    insert checks that the letter is open and takes its current version, in
    one statement.  Raises ServiceError when the letter is not open or the
    address is outside the letter's allowed domains.
    """
    if letter.status != LetterStatus.OPEN or letter.current_version_id is None:
        raise ServiceError(_("This letter is not open for signatures."))
    address = _address_for(letter, email)
    employer = employer_for(address.deliver_to, letter_employers(letter=letter))
    # Other supporters sign an internal letter only once it is public: their
    # confirm page would show them the text (services.internal).
    supporters = letter.accept_supporters and not letter.internal
    if employer is None and letter_employers(letter=letter) and not supporters:
        raise _outside_domains(letter)
    language = language or letter.language
    cleaned = SignerDetails(
        name=name,
        job_title=job_title,
        team=team,
        location=location,
        comment=comment if letter.public_comments else "",  # comments off: none stored
        display=display,
        wants_updates=wants_updates,
    ).cleaned()
    row = _new_row(address, cleaned, language, at_work=employer is not None)
    row["employer_id"] = employer.pk if employer is not None else None
    created = _insert_pending(letter, row)
    if created is not None:
        _email_owed()
        return SignOutcome.CREATED
    return _submitted_again(letter, address, cleaned, language)


def _new_row(
    address: MailAddress, details: dict[str, Any], language: str, *, at_work: bool
) -> dict[str, Any]:
    """A new pending signature's values: the address hashed (its canonical
    form) and sealed (as typed, to be sent to), never in clear; whether it
    is a work address (the letter requires its domain: only neutral emails
    go to it); it owes its confirmation email, the first of its window."""
    return {
        **stored_address(address.canonical, deliver_to=address.deliver_to),
        **details,
        "work_address": at_work,
        "language": language,
        "flagged": False,
        "secret": secrets.token_urlsafe(18),
        "emails_requested": 1,
        "email_window_start": timezone.now(),
        "email_window_count": 1,
    }


def _address_for(letter: Letter, email: str) -> MailAddress:
    """`email` as sent to and as deduplicated, if the letter accepts it."""
    try:
        address = mail_address(email)
    except ValidationError as exc:
        raise ServiceError(exc.messages[0], field="email") from exc
    except Exception as exc:
        raise ServiceError(_("Enter a valid email address."), field="email") from exc
    if not letter_employers(letter=letter) and not domain_allowed(
        address.deliver_to, letter.allowed_domains
    ):
        raise _outside_domains(letter)
    return address


def _outside_domains(letter: Letter) -> ServiceError:
    return ServiceError(
        _("Please use your work address (%(domains)s).")
        % {"domains": ", ".join(letter.allowed_domains)},
        field="email",
    )


@transaction.atomic
def _submitted_again(
    letter: Letter, address: MailAddress, details: dict[str, Any], language: str
) -> SignOutcome:
    """The address already has a live signature: refresh a pending one's
    details (and the address as typed: the latest submission is the
    owner's most likely) and resend its confirmation, or tell a confirmed
    one's owner."""
    existing = (
        Signature.objects.select_for_update()
        .filter(letter=letter, email_hash=address_hash(address.canonical), status__in=LIVE_STATUSES)
        .first()
    )
    if existing is None:
        if not Letter.objects.filter(
            pk=letter.pk, status=LetterStatus.OPEN, current_version__isnull=False
        ).exists():
            raise ServiceError(_("This letter is not open for signatures."))
        raise ServiceError(_("Please try again."))  # withdrawn in between
    if existing.erased_at is not None:
        return SignOutcome.RESENT  # erased: counted, but no address to write to
    if existing.status == SignatureStatus.PENDING:
        Signature.objects.filter(pk=existing.pk).update(
            **details, language=language, email_sealed=sealed_address(address.deliver_to)
        )
        kind = EmailKind.CONFIRM
    elif existing.work_address:
        kind = EmailKind.ALREADY_NEUTRAL  # the employer reads it: nothing named
    elif _withdraw_link_due(existing):
        kind = EmailKind.ALREADY
    else:
        kind = EmailKind.ALREADY_NO_LINK
    if not _request_email(existing.pk, kind):
        return SignOutcome.CAPPED
    return SignOutcome.RESENT


def _personal_address(letter: Letter, email: str) -> str:
    """The canonical form of a personal address, refusing one at the
    letter's required domains: the employer runs that mail server too."""
    try:
        address = mail_address(email).deliver_to
    except ValidationError as exc:
        raise ServiceError(exc.messages[0], field="personal_email") from exc
    except Exception as exc:
        raise ServiceError(_("Enter a valid email address."), field="personal_email") from exc
    if domain_allowed(address, letter.allowed_domains):
        raise ServiceError(
            _("Give an address your employer does not run (not at %(domains)s).")
            % {"domains": ", ".join(letter.allowed_domains)},
            field="personal_email",
        )
    return address


def signature_personal_confirm(*, signature: Signature) -> bool:
    """The owner of the personal address confirmed it: from now on it gets
    everything that names the letter, starting with the "confirmed" email
    and its withdraw link.  Conditional (a second click does nothing).
    Returns True if this call confirmed it."""
    confirmed = Signature.objects.filter(
        pk=signature.pk,
        status=SignatureStatus.CONFIRMED,
        personal_sealed__isnull=False,
        personal_confirmed_at__isnull=True,
    ).update(personal_confirmed_at=timezone.now())
    if confirmed:
        _request_email(signature.pk, EmailKind.CONFIRMED)
    return bool(confirmed)


def _withdraw_link_due(signature: Signature) -> bool:
    """May the sign form mint a fresh withdraw link for this confirmed
    signature?  Only if none was emailed in the last
    SIGNATURE_WITHDRAW_LINK_INTERVAL seconds: whoever controls the mailbox
    (an employer, for a work address) cannot make the form hand out links
    at will; the signer keeps the one already sent."""
    sent = signature.withdraw_link_sent_at
    interval = timedelta(seconds=settings.SIGNATURE_WITHDRAW_LINK_INTERVAL)
    return sent is None or sent <= timezone.now() - interval


def _email_cap(kind: str) -> int | None:
    """How many emails of `kind` the sign form may trigger per rolling
    SIGNATURE_EMAIL_WINDOW (None: not triggered by the form, not capped)."""
    if kind in (EmailKind.CONFIRM, EmailKind.ALREADY_NEUTRAL):
        return int(settings.SIGNATURE_MAX_EMAILS)  # the same emails, the same cap
    if kind in (EmailKind.ALREADY, EmailKind.ALREADY_NO_LINK):
        return int(settings.SIGNATURE_MAX_ALREADY_EMAILS)
    return None


def _request_email(signature_id: int, kind: str) -> bool:
    """Ask for one more email of `kind` to a signature (a conditional
    update); a sender sends it once the transaction commits.

    Emails the sign form can trigger (a confirmation request, "already
    signed") are capped per rolling window of SIGNATURE_EMAIL_WINDOW
    seconds, so a stranger cannot flood an inbox; the cap renews with the
    window, so a stranger cannot use it up for good either, and every email
    in the window carries a working link (a confirmation link lives longer
    than the window).  The "confirmed" email (the owner's own act, once per
    signature) is never capped."""
    now = timezone.now()
    cap = _email_cap(kind)
    changes: dict[str, Any] = {"emails_requested": F("emails_requested") + 1, "email_kind": kind}
    if kind in (EmailKind.ALREADY, EmailKind.CONFIRMED):
        changes["withdraw_link_sent_at"] = now  # these carry a withdraw link
    owed = Signature.objects.filter(pk=signature_id)
    if cap is not None:
        window_open = Q(
            email_window_start__gt=now - timedelta(seconds=settings.SIGNATURE_EMAIL_WINDOW)
        )
        owed = owed.filter(~window_open | Q(email_window_count__lt=cap))
        changes["email_window_start"] = Case(
            When(window_open, then=F("email_window_start")), default=Value(now)
        )
        changes["email_window_count"] = Case(
            When(window_open, then=F("email_window_count") + 1), default=Value(1)
        )
    if not owed.update(**changes):
        return False
    _email_owed()
    return True


@transaction.atomic
def signature_confirm(
    *,
    signature: Signature,
    display: str | None = None,
    details: SignerDetails | None = None,
    client_ip: str = "",
    personal_email: str = "",
) -> bool:
    """pending → confirmed as one conditional update (idempotent: a second or
    concurrent click updates nothing).  The winner inserts the count delta
    and asks for the "confirmed" email with the withdraw link.

    `details` are what the owner chose on the confirm page, which shows
    every field that will be published: they replace whatever the sign form
    stored (someone else may have typed it).  `display` alone changes only
    the display.  Whether the signature counts is decided here, by the
    confirming client's rate limit (`confirm_rate_hold`): over it, the
    signature is held (`flagged`, with its `held_reason`) until an organiser
    reviews it, and the thanks page says so.

    `personal_email` (a work address only): where everything that names the
    letter goes once its owner confirms it (`signature_personal_confirm`);
    sealed, never hashed.  Raises ServiceError (field "personal_email") if
    it is not a deliverable address, or is one the employer runs.
    Returns True if this call confirmed it."""
    if signature.status != SignatureStatus.PENDING:
        return False  # a second click: not counted against the rate limit
    changes: dict[str, Any] = {
        "status": SignatureStatus.CONFIRMED,
        "confirmed_at": timezone.now(),
    }
    if personal_email.strip() and signature.work_address:
        changes["personal_sealed"] = sealed_address(
            _personal_address(signature.letter, personal_email)
        )
    if details is not None:
        changes.update(details.cleaned())
    elif display in Display.values:
        changes["display"] = display
        if display == Display.ANONYMOUS:
            changes.update(UNNAMED)
    if not signature.letter.public_comments:
        changes["comment"] = ""  # the letter's comments are off: none stored
    held = confirm_rate_hold(letter_id=signature.letter_id, client_ip=client_ip)
    changes["flagged"] = bool(held)
    changes["held_reason"] = held
    # The letter's condition is a subquery on a local column (no join), so
    # the row's own `status = pending` stays in the UPDATE's WHERE, where a
    # concurrent confirm re-checks it: exactly one wins.
    live_letter = Letter.objects.filter(pk=signature.letter_id).exclude(
        status=LetterStatus.ARCHIVED  # archived a moment ago
    )
    updated = Signature.objects.filter(
        pk=signature.pk, status=SignatureStatus.PENDING, letter_id__in=live_letter.values("pk")
    ).update(**changes)
    if not updated:
        return False
    signature.refresh_from_db(fields=_OWN_FIELDS)  # keeps the letter already loaded
    if not signature.work_address:
        _request_email(signature.pk, EmailKind.CONFIRMED)  # carries the withdraw link
    elif signature.personal_sealed:
        # A work mailbox gets nothing that names the letter: the thanks page
        # shows the withdraw link once, and the personal address, once
        # confirmed, gets the "confirmed" email with it.
        _request_email(signature.pk, EmailKind.PERSONAL_CONFIRM)
    if not signature.flagged:
        count_change(signature, +1)
    return True
