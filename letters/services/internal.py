"""Internal first: a letter circulated among its employers' staff before it
goes public (docs/organisers.md, "Internal first").

- An internal letter (`Letter.internal`) has at least one employer.  Its
  text and counts are readable only in a browser that used a reading
  pass: a one-time link emailed to an address at one of its employers'
  domains (`read_pass_request`, then `read_pass_send` in a worker, then
  `read_pass_use` from the link's button).  It is listed nowhere
  (`selectors.letters_listed`), and signing works as for a public letter,
  except that other supporters (addresses at no employer's domain) can
  sign only once it is public: their confirm page would show them the text.
- It goes public when an organiser says so (`letter_make_public`, behind
  a confirmation step) or, if they set one, when its confirmed count
  reaches `public_at_count` (`letter_public_at_count_check`, asked for by
  the count fold and after an edit); either way a WENT_PUBLIC event on the
  timeline, emailed to the signers who asked for news.  A public letter
  never becomes internal again; a draft may change either way.

What the site keeps of a pass: its letter, the SHA-256 of its token and
its times; never the address it went to.  The address travels to the
email worker sealed to the worker's key, like a signer's (DESIGN §2 rule
10), and only the worker, which opens it, makes the token: no web process
and no broker message ever holds a usable link.

The pass email is neutral (rule 12: the employer reads work mail): it
names no letter, employer or organiser.  Asking for a pass answers the
same whatever the address (rule 2): only an address at none of the
employers' domains is told so, which depends on its domain alone.  Asks
are rate-limited per client and per address (fixed windows, like the
confirmation limits of letters/services/rate_limits.py); over a limit,
nothing is sent and the answer is the same.

Locking: using a pass is one conditional update (unused and unexpired →
used), so a link works once however many clicks race; going public is one
conditional update (internal → public), so the threshold and an organiser
at once make one event.
"""

from __future__ import annotations

import base64
import logging
import secrets
import time
from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from letters import notifications
from letters.emailaddr import mail_address
from letters.employers import employer_for
from letters.models import PUBLIC_STATUSES, EventKind, Letter, LetterStatus, ReadPass
from letters.queue import enqueue
from letters.sealing import CannotUnseal, NoKeyHere, unb64, unseal
from letters.selectors.counts import letter_counts
from letters.selectors.employers import letter_employers
from letters.services.emailing import TryLater, Undeliverable, deliver
from letters.services.errors import ServiceError
from letters.services.events import event_record
from letters.services.rate_limits import _parse_rate, _rate_windows
from letters.signer_address import address_hash, sealed_address
from letters.tokens import hash_token
from speed.counters import count_in_windows

logger = logging.getLogger(__name__)

FIELD = "internal"
# Settings may override each (config/settings.py is full): how long a pass
# works, and how many passes one address may be sent per window.
READ_PASS_SECONDS = 24 * 3600
READ_LINK_RATE_PER_ADDRESS = "3/3600"


def _setting(name: str, default: object) -> object:
    return getattr(settings, name, default)


def read_pass_seconds() -> int:
    return int(str(_setting("INTERNAL_READ_PASS_SECONDS", READ_PASS_SECONDS)))


# --- Whether a letter may be (or stay) internal ------------------------------------


def internal_check(
    *, letter: Letter | None, internal: bool | None, employers: Sequence[object]
) -> bool:
    """The `internal` value a create (`letter` None) or an edit may store,
    or a ServiceError on the `internal` field.  `internal` None: as it is
    (a new letter: not internal).  A draft may change either way; once
    published, an internal letter goes public only through
    `letter_make_public` (which tells its signers) and a public one never
    becomes internal.  An internal letter needs an employer: only staff at
    its employers' domains can read it."""
    was = letter.internal if letter is not None else False
    wanted = was if internal is None else internal
    published = letter is not None and letter.status != LetterStatus.DRAFT
    if published and wanted != was:
        if wanted:
            raise ServiceError(
                _("A letter that is public cannot become internal again."), field=FIELD
            )
        raise ServiceError(
            _("Use “Make public” on the letter's page: it tells the signers who asked for news."),
            field=FIELD,
        )
    if wanted and not employers:
        raise ServiceError(
            _("An internal letter needs at least one employer: only their staff can read it."),
            field=FIELD,
        )
    return wanted


# --- Reading passes ------------------------------------------------------------------


def _over_a_limit(letter: Letter, client_ip: str, address_key: str) -> bool:
    """Count this ask against the client's windows (the sign limits,
    SIGN_RATE_BURST and SIGN_RATE_SUSTAINED, with their allowlist) and the
    address's (READ_LINK_RATE_PER_ADDRESS).  Fails open: with the cache
    down, passes are sent."""
    windows = _rate_windows(letter.pk, client_ip, "readpassrate")
    limit, window = _parse_rate(
        str(_setting("INTERNAL_READ_LINK_RATE_PER_ADDRESS", READ_LINK_RATE_PER_ADDRESS))
    )
    now = int(time.time())
    windows.append((f"readpassaddr:{letter.pk}:{address_key}:{now // window}", window + 5, limit))
    try:
        counts = count_in_windows([(key, ttl) for key, ttl, _limit in windows])
    except Exception:
        logger.warning("read pass rate limit: cache unavailable", exc_info=True)
        return False
    return any(n > most for n, (_key, _ttl, most) in zip(counts, windows, strict=True))


def read_pass_request(*, letter: Letter, email: str, client_ip: str, language: str) -> bool:
    """Someone asks to read an internal letter: if `email` is at one of its
    employers' domains, a reading pass is emailed to it (by a worker, on
    commit).  Returns whether one was asked for; the caller answers the
    same either way.  ServiceError (on `email`) for an address that is not
    one, or is at none of the employers' domains: that depends on the
    domain alone, never on whether the address signed."""
    if not letter.internal or letter.status not in PUBLIC_STATUSES:
        raise ServiceError(_("Anyone can read this letter now."))
    try:
        address = mail_address(email)
    except ValidationError as exc:
        raise ServiceError(exc.messages[0], field="email") from exc
    except Exception as exc:
        raise ServiceError(_("Enter a valid email address."), field="email") from exc
    if employer_for(address.deliver_to, letter_employers(letter=letter)) is None:
        raise ServiceError(
            _("Use your work address: it must be at one of the employers' email domains."),
            field="email",
        )
    if _over_a_limit(letter, client_ip, address_hash(address.canonical)[:24]):
        return False
    sealed = base64.urlsafe_b64encode(sealed_address(address.deliver_to)).decode().rstrip("=")
    enqueue("send_read_pass", letter.pk, sealed, language)
    return True


def read_pass_issue(*, letter: Letter) -> tuple[str, ReadPass]:
    """A new pass for `letter`: the token (for the email, never stored)
    and its row.  Expired passes of the letter are deleted on the way."""
    now = timezone.now()
    ReadPass.objects.filter(letter=letter, expires_at__lte=now).delete()
    token = secrets.token_urlsafe(24)
    read_pass = ReadPass.objects.create(
        letter=letter,
        token_hash=hash_token(token),
        expires_at=now + timedelta(seconds=read_pass_seconds()),
    )
    return token, read_pass


def read_pass_send(*, letter_id: int, sealed: str, language: str) -> str:
    """The worker's half: open the address, make a pass and email its link
    (the neutral `read-link` email).  Skipped if the letter is no longer
    internal.  An email the server could not take now leaves no pass
    behind (the retry makes a new one)."""
    letter = Letter.objects.filter(pk=letter_id, internal=True, status__in=PUBLIC_STATUSES).first()
    if letter is None:
        return "skipped"
    try:
        to = unseal(unb64(sealed), settings.SIGNER_SEAL_PRIVATE_KEYS)
    except NoKeyHere:
        raise TryLater("no key for sealed addresses in this process") from None
    except (CannotUnseal, ValueError) as exc:
        raise Undeliverable(f"address cannot be opened ({type(exc).__name__})") from None
    token, read_pass = read_pass_issue(letter=letter)
    try:
        message = notifications.read_pass_email(
            to=to, token=token, language=language, seconds=read_pass_seconds()
        )
        deliver(message)
    except (TryLater, Undeliverable):
        ReadPass.objects.filter(pk=read_pass.pk).delete()
        raise
    return "sent"


def read_pass_use(*, token: str) -> Letter | None:
    """Use a pass, once: one conditional update (unused and unexpired →
    used).  The letter it opens, or None (unknown, used, expired)."""
    if not token:
        return None
    now = timezone.now()
    token_hash = hash_token(token)
    used = ReadPass.objects.filter(
        token_hash=token_hash, used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    if not used:
        return None
    return (
        Letter.objects.filter(read_passes__token_hash=token_hash, status__in=PUBLIC_STATUSES)
        .select_related("current_version")
        .first()
    )


# --- Going public --------------------------------------------------------------------


@transaction.atomic
def letter_make_public(*, letter: Letter, by: User | None = None) -> Letter:
    """internal → public, as one conditional update, for a published
    letter; writes a WENT_PUBLIC event, which emails the signers who asked
    for news (`services.events.SIGNER_NEWS`).  `by` None: its threshold."""
    updated = Letter.objects.filter(pk=letter.pk, internal=True, status__in=PUBLIC_STATUSES).update(
        internal=False
    )
    if not updated:
        raise ServiceError(_("Only a published internal letter can be made public."))
    event_record(letter=letter, kind=EventKind.WENT_PUBLIC, by=by)
    letter.refresh_from_db()
    return letter


def letter_public_at_count_check(*, letter_id: int) -> bool:
    """Make an internal letter public if its confirmed count reached its
    `public_at_count` (the count fold asks, and an edit that set the
    threshold); True if it went public now."""
    letter = Letter.objects.filter(
        pk=letter_id, internal=True, status__in=PUBLIC_STATUSES, public_at_count__isnull=False
    ).first()
    if letter is None or letter.public_at_count is None:
        return False
    if letter_counts(letter_id=letter_id).confirmed < letter.public_at_count:
        return False
    try:
        letter_make_public(letter=letter)
    except ServiceError:  # made public meanwhile
        return False
    return True


def public_at_count_recheck(letter: Letter) -> None:
    """After an edit: an internal letter whose threshold is already reached
    goes public once the edit commits (no new signature needed)."""
    if letter.internal and letter.public_at_count and letter.status in PUBLIC_STATUSES:
        enqueue("make_public_at_count", letter.pk)
