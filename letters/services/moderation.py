"""Organisers invalidate signatures: one public signer, or every confirmed
signature matching a filter (email domain, range of days) after a dry-run
count.

Privacy (DESIGN §2 rule 8): no number an organiser obtains here may depend
on whether a given address has a live signature.  So:

- only **confirmed** signatures match.  A pending row is what anyone can
  create by typing someone's address into the sign form, and whether it is
  created depends on whether that address already signed; a pending row is
  never counted, reported or acted on here.  (Unconfirmed rows expire by
  themselves: `signatures_delete_stale`.)
- time windows are whole **days** (of confirmation, in the site's time
  zone), the same grain as the day counts (threat model, "day counts"), so
  sliding a window cannot time one signature to the minute.
- a domain filter takes the domain **and its subdomains**, and may not be
  narrower than one of the letter's allowed domains (a subdomain of an
  employer's domain would be a group inside that employer, DESIGN §2 rule 9).
- exact numbers only from MODERATION_MIN_REPORTED up ("fewer than 5" for
  0-4), and filters matching fewer are refused, with the same message.

Every invalidation is audited (count and filter, never the addresses).

Held signatures (`Signature.flagged`: confirmed from a client over the
confirmation rate limits, not counted) are reviewed the same way: released
(counted, through a CountDelta each, like a confirmation) or invalidated in
bulk by the same filters, after a dry run with the same rules.  What an
organiser sees of them is bounded further (docs/threat-model.md, "Held
signatures"): only signatures held on an **earlier day** are shown or
acted on (`held_review_start`), so the held figures move at the grain of
the day counts, never with one confirmation; they count confirmed rows
only; and no filter picks out a reason category (the reason split is shown
with small-cell and complementary suppression only).

Owners add office address ranges (`office_range_add`), on top of the
operator's SIGN_RATE_ALLOWLIST, so co-workers confirming from one office are
not held; every change is audited."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from letters.emailaddr import canonical_domain
from letters.models import Display, Letter, OfficeRange, Signature, SignatureStatus
from letters.selectors.organiser import held_signatures
from letters.services.audit import audit
from letters.services.counts import count_change
from letters.services.errors import ServiceError
from letters.signer_address import domain_tag


@dataclass(frozen=True)
class SignatureFilter:
    """Which confirmed signatures: at `domain` (and its subdomains),
    confirmed on days `since` to `until` (both included)."""

    domain: str = ""
    since: date | None = None
    until: date | None = None

    def describe(self) -> str:
        parts = []
        if self.domain:
            parts.append(f"domain={self.domain}")
        if self.since:
            parts.append(f"since={self.since.isoformat()}")
        if self.until:
            parts.append(f"until={self.until.isoformat()}")
        return " ".join(parts)


def _filter_domain(letter: Letter, raw: str) -> str:
    try:
        domain = canonical_domain(raw)
    except UnicodeError as exc:
        raise ServiceError(_("Enter a domain like example.com."), field="domain") from exc
    if not domain or "@" in domain:
        raise ServiceError(_("Enter a domain like example.com."), field="domain")
    for entry in letter.allowed_domains:
        base = canonical_domain(entry)
        if domain.endswith("." + base):
            raise ServiceError(
                _("Filter by a whole allowed domain (%(domain)s), not a part of it.")
                % {"domain": base},
                field="domain",
            )
    return domain


def _matching(letter: Letter, flt: SignatureFilter) -> QuerySet[Signature]:
    """The confirmed signatures the filter holds (never pending ones: see
    the module docstring)."""
    if not (flt.domain or flt.since or flt.until):
        raise ServiceError(_("Give an email domain or a range of days."))
    return _filtered(
        letter, Signature.objects.filter(letter=letter, status=SignatureStatus.CONFIRMED), flt
    )


def _filtered(letter: Letter, qs: QuerySet[Signature], flt: SignatureFilter) -> QuerySet[Signature]:
    if flt.since and flt.until and flt.since > flt.until:
        raise ServiceError(_("The first day must not be after the last."), field="until")
    if flt.domain:
        domain = _filter_domain(letter, flt.domain)
        # The stored tags cover each address's domain and its parents.
        qs = qs.filter(email_domains__contains=f" {domain_tag(domain)} ")
    if flt.since:
        qs = qs.filter(confirmed_at__date__gte=flt.since)
    if flt.until:
        qs = qs.filter(confirmed_at__date__lte=flt.until)
    return qs


def signatures_matching_count(*, letter: Letter, flt: SignatureFilter) -> int | None:
    """The dry run: how many confirmed signatures match, or None for "fewer than
    MODERATION_MIN_REPORTED", none included (small numbers, and zero, could
    tell whether one particular person signed)."""
    count = _matching(letter, flt).count()
    return count if count >= settings.MODERATION_MIN_REPORTED else None


def _invalidate(signature: Signature) -> bool:
    """Conditional confirmed → invalidated; the winner takes it out of the
    counts."""
    was_counted = signature.counted
    updated = Signature.objects.filter(pk=signature.pk, status=SignatureStatus.CONFIRMED).update(
        status=SignatureStatus.INVALIDATED, invalidated_at=timezone.now(), secret=""
    )
    if updated and was_counted:
        count_change(signature, -1)
    return bool(updated)


@transaction.atomic
def signature_invalidate(
    *, letter: Letter, by: User | None, signature_id: int, reason: str
) -> None:
    """Invalidate one public confirmed signature (organisers see only those)."""
    if not reason.strip():
        raise ServiceError(_("Give a reason."), field="reason")
    signature = (
        Signature.objects.select_for_update()
        .filter(
            pk=signature_id,
            letter=letter,
            status=SignatureStatus.CONFIRMED,
            display=Display.PUBLIC,
        )
        .first()
    )
    if signature is None or not _invalidate(signature):
        raise ServiceError(_("This signature cannot be invalidated."))
    audit(
        actor=by,
        action="signature.invalidate",
        letter=letter,
        target=f"signature {signature_id}",
        reason=reason,
    )


@transaction.atomic
def signatures_invalidate_matching(
    *, letter: Letter, by: User | None, flt: SignatureFilter, reason: str
) -> int:
    """Invalidate every confirmed signature matching the filter; returns how many.
    Locks the matching rows (select_for_update) and nothing shared."""
    if not reason.strip():
        raise ServiceError(_("Give a reason."), field="reason")
    if signatures_matching_count(letter=letter, flt=flt) is None:
        # Acting on (and reporting) one to four signatures would tell whether
        # one particular person signed.
        raise ServiceError(
            _("Fewer than %(min)d signatures match: nothing was invalidated.")
            % {"min": settings.MODERATION_MIN_REPORTED}
        )
    changed = 0
    for signature in _matching(letter, flt).select_for_update().iterator(chunk_size=500):
        changed += _invalidate(signature)
    audit(
        actor=by,
        action="signature.invalidate_matching",
        letter=letter,
        target=flt.describe(),
        count=changed,
        reason=reason,
    )
    return changed


# --- Held signatures ----------------------------------------------------------------


def _held_matching(letter: Letter, flt: SignatureFilter) -> QuerySet[Signature]:
    """Held signatures the filter holds; no filter: every held one."""
    return _filtered(letter, held_signatures(letter), flt)


def held_matching_count(*, letter: Letter, flt: SignatureFilter) -> int | None:
    """The dry run of a release or an invalidation of held signatures: how
    many match, or None for fewer than MODERATION_MIN_REPORTED (none
    included), as `signatures_matching_count`."""
    count = _held_matching(letter, flt).count()
    return count if count >= settings.MODERATION_MIN_REPORTED else None


def _refuse_small(letter: Letter, flt: SignatureFilter, message: str) -> None:
    if held_matching_count(letter=letter, flt=flt) is None:
        raise ServiceError(message % {"min": settings.MODERATION_MIN_REPORTED})


@transaction.atomic
def held_release_matching(
    *, letter: Letter, by: User | None, flt: SignatureFilter, reason: str
) -> int:
    """Count every held signature matching the filter; returns how many.

    Each one is a conditional update of its own row (held → not held: a
    signature withdrawn or released by someone else meanwhile is skipped)
    and a CountDelta insert, as a confirmation: nothing shared is updated
    here; `counts_fold` folds the deltas into the public count."""
    if not reason.strip():
        raise ServiceError(_("Give a reason."), field="reason")
    _refuse_small(letter, flt, _("Fewer than %(min)d held signatures match: nothing was released."))
    released = 0
    for signature in _held_matching(letter, flt).select_for_update().iterator(chunk_size=500):
        updated = Signature.objects.filter(
            pk=signature.pk, status=SignatureStatus.CONFIRMED, flagged=True
        ).update(flagged=False, held_reason="")
        if updated:
            count_change(signature, +1)
            released += 1
    audit(
        actor=by,
        action="signature.held_release",
        letter=letter,
        target=flt.describe() or "all held",
        count=released,
        reason=reason,
    )
    return released


@transaction.atomic
def held_invalidate_matching(
    *, letter: Letter, by: User | None, flt: SignatureFilter, reason: str
) -> int:
    """Invalidate every held signature matching the filter (they were never
    counted: the counts do not change); returns how many."""
    if not reason.strip():
        raise ServiceError(_("Give a reason."), field="reason")
    _refuse_small(
        letter, flt, _("Fewer than %(min)d held signatures match: nothing was invalidated.")
    )
    changed = 0
    for signature in _held_matching(letter, flt).select_for_update().iterator(chunk_size=500):
        changed += _invalidate(signature)
    audit(
        actor=by,
        action="signature.held_invalidate",
        letter=letter,
        target=flt.describe() or "all held",
        count=changed,
        reason=reason,
    )
    return changed


# --- Office ranges ------------------------------------------------------------------

# The widest range an owner may add: wider would switch the rate limit off
# for much of the internet, not let one office in.
OFFICE_RANGE_MIN_PREFIX = {4: 16, 6: 32}
OFFICE_RANGES_MAX = 50


def _office_network(raw: str) -> str:
    try:
        network = ipaddress.ip_network(raw.strip(), strict=False)
    except ValueError as exc:
        raise ServiceError(
            _("Enter an address range like 192.0.2.0/24 or 2001:db8::/48."), field="network"
        ) from exc
    widest = OFFICE_RANGE_MIN_PREFIX[network.version]
    if network.prefixlen < widest:
        raise ServiceError(
            _("This range is too wide: use /%(prefix)d or narrower.") % {"prefix": widest},
            field="network",
        )
    return str(network)


@transaction.atomic
def office_range_add(
    *, letter: Letter, by: User | None, network: str, label: str = ""
) -> OfficeRange:
    """An owner adds an office range to the letter: confirmations from it
    are not rate limited (they are not held).  Audited."""
    normalised = _office_network(network)
    if OfficeRange.objects.filter(letter=letter, network=normalised).exists():
        raise ServiceError(_("This range is already on the list."), field="network")
    if OfficeRange.objects.filter(letter=letter).count() >= OFFICE_RANGES_MAX:
        raise ServiceError(
            _("A letter can have at most %(n)d office ranges.") % {"n": OFFICE_RANGES_MAX}
        )
    office = OfficeRange.objects.create(
        letter=letter, network=normalised, label=label.strip()[:80], added_by=by
    )
    audit(actor=by, action="office_range.add", letter=letter, target=normalised, label=office.label)
    return office


@transaction.atomic
def office_range_remove(*, letter: Letter, by: User | None, range_id: int) -> None:
    office = OfficeRange.objects.select_for_update().filter(pk=range_id, letter=letter).first()
    if office is None:
        raise ServiceError(_("This range is not on the list."))
    office.delete()
    audit(actor=by, action="office_range.remove", letter=letter, target=office.network)
