"""Who may do what on a letter's organiser pages.

A role is a set of capabilities (`CAPABILITIES`, keyed by `OrganiserRole`);
nothing compares roles by rank.  Every organiser view authorises through
`organiser_view(capability)`, and the authorisation test matrix
(tests/security/matrix.py) derives what each role must get from the same
table, so a new role or a changed capability is one edit here.

Two ways to organise a letter, and what each gives:
- an `Organiser` row (invited to the letter, or its creator): the
  capabilities of that `OrganiserRole` (`CAPABILITIES`);
- membership of the letter's organising group (`Letter.group`): the
  capabilities of that `GroupRole` on the letter
  (`GROUP_LETTER_CAPABILITIES`).  No group role holds OWN or INVITE: a
  group shares the work on its letters, not their ownership (archiving,
  erasing identities, office ranges, changing the letter's own organisers
  and inviting more stay with the letter's own owners), so whoever becomes
  a group owner later cannot destroy a letter they never owned.
Both: the union.  Both are read per request (`organiser_access`, one
query), so leaving or being removed from a group or a letter takes effect
on the next request; nothing is cached.

What a request gets:
- no account: the login page (302), coming back after;
- an account that does not organise the letter (an outsider, an admin, a
  former group member), or no such letter: 404, so drafts and organiser
  pages stay hidden;
- an organiser whose capabilities lack the one needed: 403;
- otherwise the view runs, given an `OrganiserAccess` (letter, user, roles).

A group's own pages (members, invitations, settings) authorise the same
way through `group_view(capability)`, with `GROUP_CAPABILITIES`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.models import User
from letters.models import Group, GroupMember, GroupRole, Letter, Organiser, OrganiserRole


class Capability(StrEnum):
    VIEW = "view"  # organiser pages: counts, public signers, versions, timeline, packet
    EXPORT = "export"  # count and public-signatory exports
    EDIT = "edit"  # text, settings, translations; publish, close, duplicate; review link
    MODERATE = "moderate"  # invalidate signatures
    DELIVER = "deliver"  # record deliveries, leadership links, responses, updates
    INVITE = "invite"  # invite co-organisers
    OWN = "own"  # change roles, remove others, archive, erase identities


CAPABILITIES: Mapping[OrganiserRole, frozenset[Capability]] = {
    OrganiserRole.VIEWER: frozenset({Capability.VIEW, Capability.EXPORT}),
    OrganiserRole.EDITOR: frozenset(
        {
            Capability.VIEW,
            Capability.EXPORT,
            Capability.EDIT,
            Capability.MODERATE,
            Capability.DELIVER,
        }
    ),
    OrganiserRole.OWNER: frozenset(Capability),
}


# What a member of a letter's organising group may do on the letter, by
# their group role (least privilege; see the module's docstring for why no
# group role holds OWN or INVITE).
GROUP_LETTER_CAPABILITIES: Mapping[GroupRole, frozenset[Capability]] = {
    GroupRole.VIEWER: frozenset({Capability.VIEW, Capability.EXPORT}),
    GroupRole.ORGANISER: frozenset(
        {
            Capability.VIEW,
            Capability.EXPORT,
            Capability.EDIT,
            Capability.MODERATE,
            Capability.DELIVER,
        }
    ),
    GroupRole.OWNER: frozenset(
        {
            Capability.VIEW,
            Capability.EXPORT,
            Capability.EDIT,
            Capability.MODERATE,
            Capability.DELIVER,
        }
    ),
}


class GroupCapability(StrEnum):
    VIEW = "view"  # the group's organiser page: its members and letters
    ASSIGN = "assign"  # put a letter one owns into the group (letter_group_set)
    MANAGE = "manage"  # invite, change roles, remove members, take letters out, settings


GROUP_CAPABILITIES: Mapping[GroupRole, frozenset[GroupCapability]] = {
    GroupRole.VIEWER: frozenset({GroupCapability.VIEW}),
    GroupRole.ORGANISER: frozenset({GroupCapability.VIEW, GroupCapability.ASSIGN}),
    GroupRole.OWNER: frozenset(GroupCapability),
}


def role_can(role: str, capability: Capability) -> bool:
    """Whether `role` (an OrganiserRole value) holds `capability`."""
    return capability in CAPABILITIES.get(OrganiserRole(role), frozenset())


def group_role_can(role: str, capability: GroupCapability) -> bool:
    """Whether `role` (a GroupRole value) holds `capability` on its group."""
    return capability in GROUP_CAPABILITIES.get(GroupRole(role), frozenset())


def letter_capabilities(
    organiser_role: str | None, group_role: str | None
) -> frozenset[Capability]:
    """What someone may do on a letter: the union of their own role's
    capabilities (if they organise it) and their group role's (if they are
    a member of its group)."""
    held: frozenset[Capability] = frozenset()
    if organiser_role:
        held |= CAPABILITIES.get(OrganiserRole(organiser_role), frozenset())
    if group_role:
        held |= GROUP_LETTER_CAPABILITIES.get(GroupRole(group_role), frozenset())
    return held


@dataclass(frozen=True)
class OrganiserAccess:
    """An organiser on one letter, as the access check found them: their
    own role on it (None: they organise it only through its group) and
    their role in the letter's group (None: not a member)."""

    letter: Letter
    user: User
    organiser_role: OrganiserRole | None = None
    group_role: GroupRole | None = None

    @property
    def capabilities(self) -> frozenset[Capability]:
        return letter_capabilities(self.organiser_role, self.group_role)

    @property
    def roles(self) -> list[str]:
        """For templates: the roles that give this access, as their labels
        (a group role with its group's name)."""
        held = [str(self.organiser_role.label)] if self.organiser_role else []
        if self.group_role and self.letter.group is not None:
            held.append(
                _("%(role)s in %(group)s")
                % {"role": self.group_role.label, "group": self.letter.group.name}
            )
        return held

    def can(self, capability: Capability) -> bool:
        return capability in self.capabilities

    def require(self, capability: Capability) -> None:
        if not self.can(capability):
            raise PermissionDenied

    @property
    def may(self) -> dict[str, bool]:
        """For templates: `{% if may.edit %}`."""
        return {capability.value: self.can(capability) for capability in Capability}

    def organiser(
        self, organiser_id: int, capability: Capability, *, oneself_may: bool = False
    ) -> Organiser:
        """One of this letter's organisers, to act on with `capability`: 404
        for any other id (another letter's organiser in this letter's URL
        included), 403 without the capability, unless `oneself_may` and the
        organiser is the user themself (leaving)."""
        target = Organiser.objects.filter(pk=organiser_id, letter=self.letter).first()
        if target is None:
            raise Http404
        if not (oneself_may and target.user_id == self.user.pk):
            self.require(capability)
        return target


def account(request: HttpRequest) -> User:
    """The signed-in user of a view behind `login_required`."""
    user: User | AnonymousUser = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise PermissionDenied
    return user


def organiser_access(*, user: User, slug: str, capability: Capability) -> OrganiserAccess:
    """The user's access to the letter at `slug`, holding `capability`
    (404 unless they organise it, in person or through its group; 403 if
    their roles lack it).  One query: the letter, with the user's role on
    it and in its group read beside it, on every request."""
    own_role = Organiser.objects.filter(letter=OuterRef("pk"), user=user).values("role")[:1]
    group_role = GroupMember.objects.filter(group=OuterRef("group_id"), user=user).values("role")
    letter = (
        Letter.objects.select_related("current_version", "group")
        .filter(slug=slug)
        .annotate(
            access_organiser_role=Subquery(own_role),
            access_group_role=Subquery(group_role[:1]),
        )
        .first()
    )
    if letter is None:
        raise Http404
    own, member = letter.access_organiser_role, letter.access_group_role
    if own is None and member is None:
        raise Http404
    access = OrganiserAccess(
        letter=letter,
        user=user,
        organiser_role=OrganiserRole(own) if own is not None else None,
        group_role=GroupRole(member) if member is not None else None,
    )
    access.require(capability)
    return access


OrganiserViewFunc = Callable[..., HttpResponseBase]


def organiser_view(
    capability: Capability, *, methods: Sequence[str] = ("GET",)
) -> Callable[[OrganiserViewFunc], OrganiserViewFunc]:
    """Decorate a view of `organise/<slug>/...`: the login page for no
    account, 405 for another method, then `organiser_access`.  The view is
    called as `view(request, access, **other_url_kwargs)`, and carries its
    capability as `view.capability`."""

    def decorate(view: OrganiserViewFunc) -> OrganiserViewFunc:
        @functools.wraps(view)
        def authorised(request: HttpRequest, slug: str, **kwargs: Any) -> HttpResponseBase:
            access = organiser_access(user=account(request), slug=slug, capability=capability)
            return view(request, access, **kwargs)

        authorised.__dict__["capability"] = capability
        return login_required(require_http_methods(list(methods))(authorised))

    return decorate


# --- A group's own pages ----------------------------------------------------------


@dataclass(frozen=True)
class GroupAccess:
    """A member of one group, as the access check found them."""

    group: Group
    user: User
    membership: GroupMember

    @property
    def role(self) -> GroupRole:
        return GroupRole(self.membership.role)

    def can(self, capability: GroupCapability) -> bool:
        return group_role_can(self.role, capability)

    def require(self, capability: GroupCapability) -> None:
        if not self.can(capability):
            raise PermissionDenied

    @property
    def may(self) -> dict[str, bool]:
        """For templates: `{% if may.manage %}`."""
        return {capability.value: self.can(capability) for capability in GroupCapability}

    def member(
        self, member_id: int, capability: GroupCapability, *, oneself_may: bool = False
    ) -> GroupMember:
        """One of this group's members, to act on with `capability`: 404 for
        any other id, 403 without the capability, unless `oneself_may` and
        the member is the user themself (leaving)."""
        target = GroupMember.objects.filter(pk=member_id, group=self.group).first()
        if target is None:
            raise Http404
        if not (oneself_may and target.user_id == self.user.pk):
            self.require(capability)
        return target


def group_access(*, user: User, slug: str, capability: GroupCapability) -> GroupAccess:
    """The user's membership of the group at `slug`, holding `capability`
    (404 unless they are a member, 403 if their role lacks it).  One query,
    on every request."""
    membership = GroupMember.objects.select_related("group").filter(group__slug=slug, user=user)
    found = membership.first()
    if found is None:
        raise Http404
    access = GroupAccess(group=found.group, user=user, membership=found)
    access.require(capability)
    return access


def group_view(
    capability: GroupCapability, *, methods: Sequence[str] = ("GET",)
) -> Callable[[OrganiserViewFunc], OrganiserViewFunc]:
    """Decorate a view of `organise/groups/<group_slug>/...`, as
    `organiser_view`: the login page, 405, then `group_access`; the view is
    called as `view(request, access, **other_url_kwargs)`."""

    def decorate(view: OrganiserViewFunc) -> OrganiserViewFunc:
        @functools.wraps(view)
        def authorised(request: HttpRequest, group_slug: str, **kwargs: Any) -> HttpResponseBase:
            access = group_access(user=account(request), slug=group_slug, capability=capability)
            return view(request, access, **kwargs)

        authorised.__dict__["capability"] = capability
        return login_required(require_http_methods(list(methods))(authorised))

    return decorate
