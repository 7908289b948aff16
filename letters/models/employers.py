"""The employers a letter speaks for: a coalition letter names several.

A signer's employer is decided by the verified address's domain, never by
anything typed (`letters.employers.employer_for`): the first employer one
of whose domains is the address's domain or a parent of it.  The domains of
a letter's employers never overlap (services.employers), so "first" is
"only".  A signature whose address is at none of them is an "other
supporter" (employer null), accepted only when the letter says so
(`Letter.accept_supporters`), counted apart and never presented as staff.

`Letter.allowed_domains` is the union of its employers' domains, written by
the same services in the same transaction (the older readers: the work
address rule, the personal address refusal, invalidation by domain).
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from letters.models.letter import Letter


class Employer(models.Model):
    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="employers")
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(_("employer"), max_length=150)
    domains = models.JSONField(_("email domains"), default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["position", "id"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["letter", "name"], name="employer_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class EmployerStats(models.Model):
    """Folded confirmed counts per employer; written only by counts_fold and
    counts_recount, under the letter's LetterStats lock.  Both figures are
    totals (DESIGN §2 rule 9 allows a total per employer to move with one
    anonymous signer); `public` is never shown apart from `confirmed`."""

    employer = models.OneToOneField(
        Employer, on_delete=models.CASCADE, primary_key=True, related_name="stats"
    )
    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="+")
    confirmed = models.IntegerField(default=0)
    public = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.employer_id}: {self.confirmed}"
