"""Reads of paper batches (letters.models.paper): the organisers' list,
every batch with what corrected it, and the batches that count, for the
delivery packet."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F

from letters.models import Letter, PaperBatch


@dataclass(frozen=True)
class PaperBatchRow:
    """A batch as the organisers' list shows it.  `correction_id`: the batch
    that corrects this one (None: it counts as it stands)."""

    batch: PaperBatch
    correction_id: int | None

    @property
    def counts(self) -> bool:
        return self.correction_id is None


def paper_batches(*, letter: Letter) -> list[PaperBatchRow]:
    """Every batch of the letter, newest first, with who entered it and
    what it corrects or is corrected by: one query."""
    batches = (
        PaperBatch.objects.filter(letter=letter)
        .select_related("entered_by", "corrects", "employer")
        .annotate(correction_id=F("corrected_by__id"))
        .order_by("-created_at", "-id")
    )
    return [PaperBatchRow(batch=b, correction_id=b.correction_id) for b in batches]


def paper_batches_counted(*, letter: Letter) -> list[PaperBatch]:
    """The batches that make up the letter's paper total (those no batch
    corrects), in the order they were collected."""
    return list(
        PaperBatch.objects.filter(letter=letter, corrected_by__isnull=True)
        .select_related("employer")
        .order_by("collected_on", "id")
    )
