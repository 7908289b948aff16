"""Held (flagged) signatures: why a confirmed signature was held back, and
the office address ranges a letter's owners add so that co-workers
confirming from one office network are not held.

A signature is held when the client that confirms it is over the
confirmation rate limits (`services.rate_limits`): it is confirmed (its
owner's own act) but not counted until an organiser releases it
(`services.moderation.held_release_matching`) or invalidates it.  The
reason kept is a category (which limit), never the client's address."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from letters.models.letter import Letter


class HeldReason(models.TextChoices):
    BURST = "burst", _("Many confirmations from one network within minutes")
    SUSTAINED = "sustained", _("Many confirmations from one network within a day")


class OfficeRange(models.Model):
    """An address range (IPv4 or IPv6 network, CIDR) confirmations from which
    are not rate limited on this letter: on top of the operator's global
    list (SIGN_RATE_ALLOWLIST).  Added and removed by the letter's owners,
    audited (`services.moderation.office_range_add`)."""

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="office_ranges")
    network = models.CharField(max_length=49, help_text="Normalised CIDR, e.g. 192.0.2.0/24.")
    label = models.CharField(max_length=80, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["letter", "network"], name="office_range_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.letter_id}: {self.network}"
