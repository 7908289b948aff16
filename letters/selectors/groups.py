"""What organising groups show: a member's groups, a group's members,
open invitations and letters (to its members), and its public page (to
anyone: its public letters and what became of them)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count
from django.http import Http404

from accounts.models import User
from letters.access import GROUP_CAPABILITIES, GroupCapability
from letters.models import Group, GroupInvitation, GroupMember, Letter
from letters.selectors.counts import Counts, letter_counts_many
from letters.selectors.public import LetterIndex, letters_index
from letters.tokens import hash_token


@dataclass(frozen=True)
class MyGroup:
    group: Group
    role: str  # the GroupRole value
    role_label: str
    letters: int  # how many letters the group has, in every state


def groups_of(*, user: User) -> list[MyGroup]:
    """The user's groups, by name, with their role and the group's letter
    count.  One query."""
    memberships = (
        GroupMember.objects.filter(user=user)
        .select_related("group")
        .annotate(letter_count=Count("group__letters"))
        .order_by("group__name", "group_id")
    )
    return [MyGroup(m.group, m.role, m.get_role_display(), m.letter_count) for m in memberships]


def groups_to_assign(*, user: User) -> list[Group]:
    """The groups the user may put a letter in (GroupCapability.ASSIGN)."""
    roles = [r for r, held in GROUP_CAPABILITIES.items() if GroupCapability.ASSIGN in held]
    return list(Group.objects.filter(memberships__user=user, memberships__role__in=roles))


def group_members(*, group: Group) -> list[GroupMember]:
    return list(
        GroupMember.objects.filter(group=group).select_related("user").order_by("created_at", "id")
    )


def group_invitations_open(*, group: Group) -> list[GroupInvitation]:
    return list(
        GroupInvitation.objects.filter(group=group, accepted_at__isnull=True).order_by("id")
    )


def group_invitation_get(*, token: str) -> GroupInvitation | None:
    """The open invitation a token names, or None (unknown, used, tampered)."""
    if not token:
        return None
    return (
        GroupInvitation.objects.select_related("group")
        .filter(token_hash=hash_token(token), accepted_at__isnull=True)
        .first()
    )


def group_letters(*, group: Group) -> list[tuple[Letter, Counts]]:
    """Every letter of the group, drafts included (its members organise
    them), newest first, with confirmed counts.  Two queries."""
    letters = list(Letter.objects.filter(group=group).order_by("-created_at", "-id"))
    counts = letter_counts_many([letter.pk for letter in letters])
    return [(letter, counts[letter.pk]) for letter in letters]


def group_public_get(*, slug: str) -> Group:
    group = Group.objects.filter(slug=slug).first()
    if group is None:
        raise Http404
    return group


def group_public_index(*, group: Group) -> LetterIndex:
    """The group's letters anyone may see, as the site's index shows them:
    open ones, then past ones with their outcome (never a draft, an
    archived or a taken-down letter, nor one the index leaves out)."""
    return letters_index(group_id=group.pk)
