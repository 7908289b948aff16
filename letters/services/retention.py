"""Retention: signers' personal data does not outlive its purpose.

A set number of days (RETENTION_DAYS) after a letter is closed or delivered,
every signature's personal data is erased; the rows stay, so counts (total,
public/anonymous, per version, per day) are kept.  Owners and admins can
erase all identities of a letter at once (audited)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from accounts.models import User
from letters.models import EventKind, Letter, LetterStatus, Signature
from letters.services.audit import audit

ERASED_FIELDS = {
    "email": "",
    "name": "",
    "job_title": "",
    "team": "",
    "location": "",
    "comment": "",
    "secret": "",
    "wants_updates": False,
}


def _erase(letter: Letter) -> int:
    """Erase in batches by id (short transactions, no long lock on the letter)."""
    total = 0
    last_id = 0
    while True:
        ids = list(
            Signature.objects.filter(letter=letter, erased_at__isnull=True, pk__gt=last_id)
            .order_by("pk")
            .values_list("pk", flat=True)[:5000]
        )
        if not ids:
            return total
        with transaction.atomic():
            total += Signature.objects.filter(pk__in=ids, erased_at__isnull=True).update(
                erased_at=timezone.now(), **ERASED_FIELDS
            )
        last_id = ids[-1]


def letter_erase_identities(*, letter: Letter, by: User | None) -> int:
    """Erase every signer's personal data of a letter now; counts stay."""
    erased = _erase(letter)
    audit(actor=by, action="letter.erase_identities", letter=letter, count=erased)
    return erased


def signatures_erase_retained() -> int:
    """Beat: erase personal data of letters closed or delivered more than
    RETENTION_DAYS ago."""
    cutoff = timezone.now() - timedelta(days=settings.RETENTION_DAYS)
    done_states = [
        LetterStatus.CLOSED,
        LetterStatus.DELIVERED,
        LetterStatus.ACKNOWLEDGED,
        LetterStatus.RESPONDED,
        LetterStatus.ARCHIVED,
    ]
    letters = (
        Letter.objects.filter(status__in=done_states)
        .annotate(
            ended_at=Max(
                "events__created_at",
                filter=Q(
                    events__kind__in=[EventKind.CLOSED, EventKind.DELIVERED, EventKind.ARCHIVED]
                ),
            )
        )
        .filter(ended_at__lte=cutoff)
    )
    total = 0
    for letter in letters:
        if Signature.objects.filter(letter=letter, erased_at__isnull=True).exists():
            erased = _erase(letter)
            audit(actor=None, action="retention.erase", letter=letter, count=erased)
            total += erased
    return total
