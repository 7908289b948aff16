"""What site staff change from the admin.  The admin writes nothing itself:
each change is one of these, in a transaction, through the same services
organisers use (with their state checks and timeline events), plus an
audit-log entry naming the staff member.  A refused change raises
ServiceError and leaves everything as it was.

- `letter_staff_step`: publish, close or archive a letter;
- `letter_staff_edit`: a letter's settings (never its status, text, paper
  count or, once published, its address);
- `signatures_staff_invalidate`: invalidate confirmed signatures (the admin
  cannot delete signatures: an invalidated one stays, out of the counts).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from letters.models import Letter, LetterStatus, Signature, SignatureStatus
from letters.services.audit import audit
from letters.services.counts import count_change
from letters.services.drafting import letter_archive, letter_close, letter_publish
from letters.services.errors import ServiceError

STEPS: dict[str, Callable[..., Letter]] = {
    "publish": letter_publish,
    "close": letter_close,
    "archive": letter_archive,
}

# The settings staff may change on a letter's admin page; everything else
# there is read-only (status, paper count, versions: their own services).
EDITABLE_FIELDS = (
    "title",
    "goal",
    "closes_at",
    "list_public_signatories",
    "show_names_after",
    "respond_by",
)


@transaction.atomic
def letter_staff_step(*, letter: Letter, by: User, step: str) -> Letter:
    """Publish, close or archive `letter` through its service (state
    check, event), audited as `admin.letter.<step>`."""
    before = letter.status
    changed = STEPS[step](letter=letter, by=by)
    audit(
        actor=by,
        action=f"admin.letter.{step}",
        letter=changed,
        target=changed.slug,
        status_before=before,
        status=changed.status,
    )
    return changed


@transaction.atomic
def letter_staff_edit(*, letter: Letter, by: User, changes: Mapping[str, Any]) -> Letter:
    """Change some of a letter's settings (EDITABLE_FIELDS only; the address
    only while a draft), audited with the names of the fields changed (not
    their values: a title may be what the change was about, and the log is
    no second copy of the letter)."""
    allowed = set(EDITABLE_FIELDS)
    locked = Letter.objects.select_for_update().get(pk=letter.pk)
    if locked.status == LetterStatus.DRAFT:
        allowed.add("slug")
    refused = sorted(set(changes) - allowed)
    if refused:
        raise ServiceError(
            _("These cannot be changed here: %(fields)s.") % {"fields": ", ".join(refused)}
        )
    # Only what differs from what is stored (a form may call an untouched
    # field changed: the log names what really changed).
    changes = {f: v for f, v in changes.items() if getattr(locked, f) != v}
    if changes:
        Letter.objects.filter(pk=letter.pk).update(**changes)
        audit(
            actor=by,
            action="admin.letter.edit",
            letter=locked,
            target=letter.slug,
            fields=",".join(sorted(changes)),
        )
    letter.refresh_from_db()
    return letter


@transaction.atomic
def signatures_staff_invalidate(*, signature_ids: Iterable[int], by: User, reason: str) -> int:
    """Invalidate the given signatures, all or none: each must be confirmed
    (a pending one expires by itself; a withdrawn, invalidated or erased one
    has left the counts already).  Counted ones leave the counts.  One
    audit entry per letter, naming the signature ids, the count and the
    reason.  Returns how many were invalidated."""
    if not reason.strip():
        raise ServiceError(_("Give a reason."), field="reason")
    ids = sorted(set(signature_ids))
    if not ids:
        raise ServiceError(_("Select the signatures to invalidate."))
    signatures = list(Signature.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    not_confirmed = [s.pk for s in signatures if s.status != SignatureStatus.CONFIRMED]
    if not_confirmed or len(signatures) != len(ids):
        raise ServiceError(
            _(
                "Only confirmed signatures can be invalidated; not confirmed: %(ids)s."
                " Nothing was invalidated."
            )
            % {"ids": ", ".join(str(pk) for pk in not_confirmed) or "?"}
        )
    now = timezone.now()
    by_letter: dict[int, list[int]] = {}
    for signature in signatures:
        Signature.objects.filter(pk=signature.pk).update(
            status=SignatureStatus.INVALIDATED, invalidated_at=now, secret=""
        )
        if signature.counted:
            count_change(signature, -1)
        by_letter.setdefault(signature.letter_id, []).append(signature.pk)
    letters = Letter.objects.in_bulk(list(by_letter))
    for letter_id, pks in by_letter.items():
        audit(
            actor=by,
            action="admin.signature.invalidate",
            letter=letters[letter_id],
            target=", ".join(f"signature {pk}" for pk in pks),
            count=len(pks),
            reason=reason.strip(),
        )
    return len(signatures)
