"""Who runs a letter (organisers, invitations) and the audit log of who did what."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from letters.models.letter import Letter


class OrganiserRole(models.TextChoices):
    OWNER = "owner", _("Owner")
    EDITOR = "editor", _("Editor")
    VIEWER = "viewer", _("Viewer")


class Organiser(models.Model):
    letter = models.ForeignKey(Letter, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    # Room for role names longer than today's (a role is a set of
    # capabilities, letters/access.py): a new one needs no column change.
    role = models.CharField(
        max_length=32, choices=OrganiserRole.choices, default=OrganiserRole.OWNER
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["letter", "user"], name="organiser_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.role} of {self.letter_id}"


class Invitation(models.Model):
    """An invitation to co-organise a letter; the token is emailed, stored hashed."""

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=32, choices=OrganiserRole.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.email} ({self.role}) for {self.letter_id}"


class AuditLog(models.Model):
    """Who did what to whose data. Never holds the personal data itself."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    action = models.CharField(max_length=64)
    letter = models.ForeignKey(Letter, on_delete=models.SET_NULL, null=True, blank=True)
    target = models.CharField(max_length=200, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.target}"
