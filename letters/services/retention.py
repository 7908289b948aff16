"""Retention: signers' personal data does not outlive its purpose.

A set number of days (RETENTION_DAYS) after a letter is closed or delivered,
every signature's personal data is erased (its sealed address, name and
details; the address's keyed hash stays, so the signer is not counted
twice); the rows stay, so counts (total, public/anonymous, per version,
per day) are kept.  Owners and admins can
erase all identities of a letter at once (audited)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from accounts.models import User
from letters.models import (
    ERASED_FIELDS,
    EventKind,
    Letter,
    LetterStatus,
    Signature,
    SignatureStatus,
)
from letters.progress import Tracker
from letters.services.audit import audit


def _erase(letter: Letter, progress: Tracker | None = None) -> tuple[int, int]:
    """Erase in batches by id (short transactions, no long lock on the letter).
    Returns (pending rows deleted, rows erased), each row counted by the one
    run that changed it: two runs at once (two beats) share the work, and
    neither counts a row twice (conditional updates: `erased_at IS NULL`).

    Pending signatures are deleted, not erased: they are not counted, and an
    erased one would keep its address's hash with no address to send its
    confirmation to, so its owner could not sign again while the letter is
    open (as `signatures_delete_stale` does after a week).  `progress` is
    advanced by the rows deleted or erased."""
    deleted = 0
    while True:
        pending = Signature.objects.filter(letter=letter, status=SignatureStatus.PENDING)
        ids = list(pending.values_list("pk", flat=True)[:5000])
        if not ids:
            break
        deleted += pending.filter(pk__in=ids).delete()[1].get(Signature._meta.label, 0)
        if progress:
            progress.advance(len(ids))
    total = 0
    last_id = 0
    while True:
        ids = list(
            Signature.objects.filter(letter=letter, erased_at__isnull=True, pk__gt=last_id)
            .order_by("pk")
            .values_list("pk", flat=True)[:5000]
        )
        if not ids:
            return deleted, total
        with transaction.atomic():
            total += Signature.objects.filter(pk__in=ids, erased_at__isnull=True).update(
                erased_at=timezone.now(), **ERASED_FIELDS
            )
        last_id = ids[-1]
        if progress:
            progress.advance(len(ids))


def letter_erase_identities(*, letter: Letter, by: User | None) -> int:
    """Erase every signer's personal data of a letter now; counts stay."""
    _deleted, erased = _erase(letter)
    audit(actor=by, action="letter.erase_identities", letter=letter, count=erased)
    return erased


def signatures_erase_retained(*, progress: Tracker | None = None) -> int:
    """Beat (and the `erase_retained` command): erase personal data of
    letters closed or delivered more than RETENTION_DAYS ago.  `progress` is
    advanced by the signature rows deleted or erased.

    Safe run twice: a second run finds nothing left and writes no audit
    entry; two at once share the rows, and each writes an entry only for
    the rows it changed (so a letter's entries add up to its rows)."""
    cutoff = timezone.now() - timedelta(days=settings.RETENTION_DAYS)
    done_states = [
        LetterStatus.CLOSED,
        LetterStatus.DELIVERED,
        LetterStatus.ACKNOWLEDGED,
        LetterStatus.RESPONDED,
        LetterStatus.ARCHIVED,
        LetterStatus.TAKEN_DOWN,  # like closed (letters.services.reports)
    ]
    letters = (
        Letter.objects.filter(status__in=done_states)
        .annotate(
            ended_at=Max(
                "events__created_at",
                filter=Q(
                    events__kind__in=[
                        EventKind.CLOSED,
                        EventKind.DELIVERED,
                        EventKind.ARCHIVED,
                        EventKind.TAKEN_DOWN,
                    ]
                ),
            )
        )
        .filter(ended_at__lte=cutoff)
    )
    due = list(letters)
    if progress:
        todo = Signature.objects.filter(letter__in=due, erased_at__isnull=True)
        progress.start(todo.count() if progress.enabled and due else 0)
    total = 0
    for letter in due:
        if Signature.objects.filter(letter=letter, erased_at__isnull=True).exists():
            deleted, erased = _erase(letter, progress)
            if deleted or erased:
                audit(actor=None, action="retention.erase", letter=letter, count=erased)
            total += erased
    return total
