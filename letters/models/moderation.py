"""Reports of letters by visitors and what the site's moderators did about
them: takedowns, with the organisers' one appeal.

A report names no one: a reason, an optional text and when; nothing about
the visitor (no address, no account) and nothing about signers.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from letters.models.letter import Letter

REPORT_TEXT_MAX = 1000


class ReportReason(models.TextChoices):
    SPAM = "spam", _("Spam or advertising")
    ABUSE = "abuse", _("Harassment, hate or threats")
    PERSONAL = "personal", _("It exposes someone's personal data")
    FALSE = "false", _("Impersonation or false claims")
    ILLEGAL = "illegal", _("Otherwise illegal")
    OTHER = "other", _("Something else")


class ReportOutcome(models.TextChoices):
    OPEN = "open", _("Open")
    DISMISSED = "dismissed", _("Dismissed")
    CHANGE_REQUESTED = "change_requested", _("Organisers asked to change it")
    TAKEN_DOWN = "taken_down", _("Letter taken down")


class Report(models.Model):
    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="reports")
    reason = models.CharField(_("reason"), max_length=16, choices=ReportReason.choices)
    text = models.TextField(_("details"), max_length=REPORT_TEXT_MAX, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(
        max_length=16, choices=ReportOutcome.choices, default=ReportOutcome.OPEN
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering: ClassVar[list[str]] = ["created_at", "id"]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(
                fields=["letter", "created_at"],
                condition=Q(outcome="open"),
                name="report_open_idx",
            )
        ]

    def __str__(self) -> str:
        return f"report {self.pk} of {self.letter_id}"


class AppealDecision(models.TextChoices):
    NONE = "", _("Not decided")
    REINSTATED = "reinstated", _("Reinstated")
    REJECTED = "rejected", _("Rejected")


class Takedown(models.Model):
    """A letter taken down by an admin, with the public reason; standing
    until reinstated (`reinstated_at`).  The organisers may appeal once."""

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="takedowns")
    reason = models.TextField(_("public reason"))
    previous_status = models.CharField(max_length=16)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    appeal = models.TextField(blank=True)
    appealed_at = models.DateTimeField(null=True, blank=True)
    appealed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decision = models.CharField(
        max_length=16, choices=AppealDecision.choices, default="", blank=True
    )
    decision_note = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reinstated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-created_at", "-id"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["letter"],
                condition=Q(reinstated_at__isnull=True),
                name="one_standing_takedown",
            ),
            models.CheckConstraint(
                condition=Q(appealed_at__isnull=True) | ~Q(appeal=""),
                name="takedown_appeal_has_text",
            ),
        ]

    def __str__(self) -> str:
        return f"takedown {self.pk} of {self.letter_id}"

    @property
    def appeal_pending(self) -> bool:
        return self.appealed_at is not None and not self.decision
