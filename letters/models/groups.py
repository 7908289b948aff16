"""Organising groups: a union branch, a workers' collective, a coalition.

A group has members with roles (`GroupRole`); a letter may belong to one
group (`Letter.group`), and the group's members then organise it with the
capabilities their group role maps to (letters/access.py,
`GROUP_LETTER_CAPABILITIES`) without a per-letter invitation.  Who may do
what to the group itself is in the same module (`GROUP_CAPABILITIES`).

Rules the database enforces: one membership per group and user; a group's
address (slug) is unique.  "A group keeps at least one owner" is the
services' (letters/services/groups.py), under row locks.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from letters.models.languages import default_language, language_choices


class GroupRole(models.TextChoices):
    OWNER = "owner", _("Group owner")
    ORGANISER = "organiser", _("Group organiser")
    VIEWER = "viewer", _("Group viewer")


class Group(models.Model):
    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("address"), max_length=80, unique=True)
    description = models.TextField(_("description"), max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="GroupMember", related_name="organising_groups"
    )

    class Meta:
        ordering: ClassVar[list[str]] = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("group_page", kwargs={"group_slug": self.slug})


class GroupMember(models.Model):
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="group_memberships"
    )
    # Room for longer role names, as Organiser.role.
    role = models.CharField(max_length=32, choices=GroupRole.choices, default=GroupRole.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["group", "user"], name="group_member_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.role} of group {self.group_id}"


class GroupInvitation(models.Model):
    """An invitation to join a group; the token is emailed, stored hashed
    (as letters.models.Invitation).  `language`: the email's, the inviter's
    at the time."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=32, choices=GroupRole.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    language = models.CharField(max_length=8, choices=language_choices, default=default_language)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.email} ({self.role}) for group {self.group_id}"
