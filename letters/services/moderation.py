"""Organisers invalidate signatures: one public signer, or every signature
matching a filter (email domain, time window) after a dry-run count.

Privacy: organisers never see emails or anonymous names.  A dry run reports
exact numbers only from MODERATION_MIN_REPORTED up, so a filter cannot be
used to learn whether one particular person signed.  Every invalidation is
audited (count and filter, never the addresses)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from letters.emailaddr import canonical_domain
from letters.models import Display, Letter, Signature, SignatureStatus
from letters.services.audit import audit
from letters.services.errors import ServiceError
from letters.services.signatures import count_change


@dataclass(frozen=True)
class SignatureFilter:
    domain: str = ""
    since: datetime | None = None
    until: datetime | None = None

    def describe(self) -> str:
        parts = []
        if self.domain:
            parts.append(f"domain={self.domain}")
        if self.since:
            parts.append(f"since={self.since.isoformat()}")
        if self.until:
            parts.append(f"until={self.until.isoformat()}")
        return " ".join(parts)


def _matching(letter: Letter, flt: SignatureFilter) -> QuerySet[Signature]:
    if not (flt.domain or flt.since or flt.until):
        raise ServiceError(_("Give an email domain or a time window."))
    qs = Signature.objects.filter(
        letter=letter, status__in=[SignatureStatus.PENDING, SignatureStatus.CONFIRMED]
    )
    if flt.domain:
        try:
            domain = canonical_domain(flt.domain)
        except UnicodeError as exc:
            raise ServiceError(_("Enter a domain like example.com."), field="domain") from exc
        qs = qs.filter(email__iendswith="@" + domain)
    if flt.since:
        qs = qs.filter(created_at__gte=flt.since)
    if flt.until:
        qs = qs.filter(created_at__lt=flt.until)
    return qs


def signatures_matching_count(*, letter: Letter, flt: SignatureFilter) -> int | None:
    """The dry run: how many live signatures match, or None for "fewer than
    MODERATION_MIN_REPORTED", none included (small numbers, and zero, could
    tell whether one particular person signed)."""
    count = _matching(letter, flt).count()
    return count if count >= settings.MODERATION_MIN_REPORTED else None


def _invalidate(signature: Signature) -> bool:
    """Conditional live → invalidated; the winner takes it out of the counts."""
    was_counted = signature.counted
    updated = Signature.objects.filter(
        pk=signature.pk, status__in=[SignatureStatus.PENDING, SignatureStatus.CONFIRMED]
    ).update(status=SignatureStatus.INVALIDATED, invalidated_at=timezone.now(), secret="")
    if updated and was_counted:
        count_change(signature, -1)
    return bool(updated)


@transaction.atomic
def signature_invalidate(*, letter: Letter, by: Any, signature_id: int, reason: str) -> None:
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
    *, letter: Letter, by: Any, flt: SignatureFilter, reason: str
) -> int:
    """Invalidate every live signature matching the filter; returns how many.
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
