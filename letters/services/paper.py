"""Signatures collected on paper, in batches (letters.models.paper).

`paper_batch_record` adds a batch, or corrects one: a correction is a new
batch naming the batch it replaces, with the right count (zero: the batch
was a mistake).  Batches are never edited or deleted.  Only the latest
batch of a chain can be corrected (the database holds `corrects` unique):
the letter's paper total is the sum over the batches nobody corrects, and
`Letter.paper_count` is rewritten to it in the same transaction.

Locking: the letter row is locked (SELECT ... FOR UPDATE) for the whole
write, so two batches recorded at once both count and a batch is not
corrected twice; the unique `corrects` is the last word if it ever were.

Every batch is a public event ("Paper signatures recorded: 40", or
"corrected: 40 → 35": counts only, no names, no place) and an audit entry
naming the batch, its count, its employer and who entered it.

Employers (a coalition letter's, letters.models.employers): a batch of a
letter that names employers says whose staff signed the sheets, one of
the letter's employers, or (`employer_id` None) other supporters, which
only a letter that accepts other supporters takes.  A letter that names no
employer takes no employer.  A correction keeps its batch's employer
(whatever its input says): moving sheets to another employer is withdrawing
the batch (a correction to 0) and recording a new one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from letters.models import EventKind, Letter, LetterStatus, PaperBatch
from letters.selectors.employers import letter_employers
from letters.services.audit import audit
from letters.services.errors import ServiceError
from letters.services.events import event_record

# A batch is a stack of sheets someone counted: more than this is a typo.
MAX_BATCH = 1_000_000
WHERE_HOW_MAX = 300
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class PaperInput:
    """What an organiser enters about a batch.  `scan_sha256` may come with
    spaces or in capitals (as tools print it): it is normalised."""

    count: int
    collected_on: date
    where_how: str
    scan_sha256: str = ""
    # Whose staff signed (one of the letter's employers); None: other
    # supporters, or a letter that names no employer.
    employer_id: int | None = None


def paper_total(*, letter: Letter) -> int:
    """The letter's signatures on paper: the sum of the counts of the batches
    no other batch corrects (the latest of each chain)."""
    found = PaperBatch.objects.filter(letter=letter, corrected_by__isnull=True).aggregate(
        total=Sum("count")
    )
    return int(found["total"] or 0)


def normalise_sha256(value: str) -> str:
    """The checksum as stored: lower case, without spaces, or blank.  Raises
    ServiceError when it is not 64 hexadecimal characters."""
    cleaned = "".join(value.split()).lower()
    if cleaned and not _SHA256.fullmatch(cleaned):
        raise ServiceError(
            _("A SHA-256 checksum is 64 characters, 0–9 and a–f."), field="scan_sha256"
        )
    return cleaned


def _check(data: PaperInput, *, correcting: bool) -> PaperInput:
    lowest = 0 if correcting else 1
    if not lowest <= data.count <= MAX_BATCH:
        message = (
            _("Enter a number from 0 to %(max)s.")
            if correcting
            else _("Enter a number from 1 to %(max)s.")
        )
        raise ServiceError(message % {"max": f"{MAX_BATCH:,}"}, field="count")
    # A day's grace: the organiser's today may be UTC's tomorrow.
    if data.collected_on > timezone.localdate() + timedelta(days=1):
        raise ServiceError(_("The date cannot be in the future."), field="collected_on")
    where_how = data.where_how.strip()
    if not where_how:
        raise ServiceError(_("Say where and how they were collected."), field="where_how")
    if len(where_how) > WHERE_HOW_MAX:
        raise ServiceError(
            _("At most %(max)s characters.") % {"max": WHERE_HOW_MAX}, field="where_how"
        )
    return PaperInput(
        count=data.count,
        collected_on=data.collected_on,
        where_how=where_how,
        scan_sha256=normalise_sha256(data.scan_sha256),
        employer_id=data.employer_id,
    )


def _employer_of(letter: Letter, data: PaperInput, corrects: PaperBatch | None) -> int | None:
    """The batch's employer: its corrected batch's, else the one asked for,
    which must be one of the letter's employers, or None (other
    supporters) if the letter accepts them (ServiceError on "employer")."""
    if corrects is not None:
        return corrects.employer_id
    employers = {e.pk for e in letter_employers(letter=letter)}
    if data.employer_id is None:
        if employers and not letter.accept_supporters:
            raise ServiceError(_("Choose whose staff signed these sheets."), field="employer")
        return None
    if data.employer_id not in employers:
        raise ServiceError(_("Choose one of the letter's employers."), field="employer")
    return data.employer_id


def paper_batch_record(
    *, letter: Letter, by: User, data: PaperInput, corrects: PaperBatch | None = None
) -> PaperBatch:
    """Record a batch of paper signatures, or (with `corrects`) the corrected
    count of an earlier batch of the same letter that no batch corrects yet.
    Returns the new batch; the letter's `paper_count` is the new total."""
    data = _check(data, correcting=corrects is not None)
    try:
        with transaction.atomic():
            locked = Letter.objects.select_for_update().get(pk=letter.pk)
            if locked.status == LetterStatus.ARCHIVED:
                raise ServiceError(_("The letter is archived: nothing can be added to it."))
            if corrects is not None:
                _check_correctable(locked, corrects)
            employer_id = _employer_of(locked, data, corrects)
            batch = PaperBatch.objects.create(
                letter=locked,
                employer_id=employer_id,
                count=data.count,
                collected_on=data.collected_on,
                where_how=data.where_how,
                entered_by=by,
                scan_sha256=data.scan_sha256,
                corrects=corrects,
            )
            total = paper_total(letter=locked)
            Letter.objects.filter(pk=locked.pk).update(paper_count=total)
            if corrects is None:
                event_record(letter=locked, kind=EventKind.PAPER, text=str(data.count), by=by)
            else:
                text = f"{corrects.count} → {data.count}"
                event_record(letter=locked, kind=EventKind.PAPER_CORRECTED, text=text, by=by)
            audit(
                actor=by,
                action="paper_batch_corrected" if corrects else "paper_batch_recorded",
                letter=locked,
                target=f"paper_batch:{batch.pk}",
                count=data.count,
                employer=employer_id or "",
                collected_on=data.collected_on.isoformat(),
                corrects=corrects.pk if corrects else "",
                scan_sha256=data.scan_sha256,
                paper_total=total,
            )
    except IntegrityError as exc:  # `corrects` taken meanwhile (the lock makes it rare)
        raise ServiceError(_("That batch was corrected already.")) from exc
    letter.paper_count = total
    return batch


def _check_correctable(letter: Letter, batch: PaperBatch) -> None:
    if batch.letter_id != letter.pk:
        raise ServiceError(_("That batch belongs to another letter."))
    if PaperBatch.objects.filter(corrects=batch).exists():
        raise ServiceError(
            _("That batch was corrected already: correct its latest correction instead.")
        )
