"""Signatures collected on paper, recorded in batches with their provenance.

A batch is never edited.  A mistake is corrected by a new batch that
`corrects` the old one and carries the right count; a batch is corrected at
most once (the database holds `corrects` unique), so the batches of a
letter form chains: an original batch, then its correction, then the
correction's correction...  The last batch of each chain (the one nobody
corrects) is the one that counts:

    effective total = sum of `count` over the batches no other batch corrects.

`Letter.paper_count` holds that total, written by services.paper in the same
transaction as the batch, so every existing reader keeps reading one number.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from letters.models.letter import Letter

SHA256_PATTERN = r"^[0-9a-f]{64}$"
sha256_validator = RegexValidator(
    SHA256_PATTERN, _("A SHA-256 checksum is 64 characters, 0–9 and a–f.")
)


class PaperBatch(models.Model):
    """`where_how`: where and how the signatures were collected (blank only
    for the batch the 0020 migration made from an old total);
    `scan_sha256`: the checksum of a scan of the sheets, kept elsewhere
    (blank: none given)."""

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="paper_batches")
    # Whose staff signed these sheets (null: the letter names no employer,
    # or other supporters); a correction keeps its batch's employer.
    employer = models.ForeignKey(
        "Employer", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    count = models.PositiveIntegerField(_("signatures"))
    collected_on = models.DateField(_("collected on"))
    where_how = models.CharField(_("where and how"), max_length=300, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    scan_sha256 = models.CharField(
        _("SHA-256 of the scan"), max_length=64, blank=True, validators=[sha256_validator]
    )
    corrects = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrected_by",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-created_at", "-id"]
        verbose_name_plural = "paper batches"
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=Q(scan_sha256="") | Q(scan_sha256__regex=SHA256_PATTERN),
                name="paper_batch_sha256",
            ),
            models.CheckConstraint(
                condition=~Q(corrects=models.F("id")), name="paper_batch_not_itself"
            ),
        ]

    def __str__(self) -> str:
        return f"paper batch {self.pk} of {self.letter_id}: {self.count}"
