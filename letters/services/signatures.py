"""Writes on signatures after signing: withdraw, support a new version,
and the sweeps (resend owed emails, delete stale pending rows).

Locking rules: each takes a row lock on the one signature it changes (or
none), never on shared rows; count changes are CountDelta inserts.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from letters.models import (
    LIVE_STATUSES,
    UNNAMED,
    WITHDRAWN_FIELDS,
    CountDelta,
    Display,
    LetterStatus,
    Signature,
    SignatureStatus,
)
from letters.services.counts import count_change
from letters.signature_outbox import (
    clear_signature_emails_request,
    request_signature_emails,
    signature_emails_owed_now,
)


@transaction.atomic
def signature_withdraw(*, signature_id: int) -> bool:
    """Withdraw a live signature: erase its personal data at once, the
    address's hash included (the row keeps only letter, version and
    timestamps; its owner may sign again) and take it out of the counts.
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
        **WITHDRAWN_FIELDS,
    )
    if was_counted:
        count_change(signature, -1)
    return True


@transaction.atomic
def signature_hide_name(*, signature_id: int) -> bool:
    """A public signer withdraws their name but stays counted: the signature
    becomes anonymous and its name and details are erased (not stored for
    anonymous signers).  Behind the withdraw link, so only its holder can.
    Locks only this signature's row.  Returns False if there was nothing to
    hide (not confirmed, or already anonymous)."""
    signature = (
        Signature.objects.select_for_update()
        .filter(pk=signature_id, status=SignatureStatus.CONFIRMED, display=Display.PUBLIC)
        .first()
    )
    if signature is None:
        return False
    Signature.objects.filter(pk=signature.pk).update(display=Display.ANONYMOUS, **UNNAMED)
    if signature.counted:
        CountDelta.objects.create(
            letter_id=signature.letter_id, version_id=signature.version_id, confirmed=0, public=-1
        )
    return True


def signatures_resend_unsent() -> int:
    """The outbox sweep: if any email is owed and free to send (its signal
    was lost because Redis or the broker was down, or its sender died and
    the lease ran out), make sure a sender runs.  Returns 1 if it asked for
    one.  One indexed query, whatever the number of signatures.  Safe twice
    at once: two senders never claim the same email (SKIP LOCKED and the
    lease, letters.signature_outbox)."""
    if not signature_emails_owed_now():
        return 0
    clear_signature_emails_request()
    request_signature_emails()
    return 1


def signatures_delete_stale() -> int:
    """Delete pending signatures older than SIGNATURE_PENDING_MAX_AGE (they
    were never confirmed; their data must not linger).  Safe twice at once:
    a row deleted by one run is not there for the other to delete."""
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
