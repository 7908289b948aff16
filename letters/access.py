"""Who may do what on a letter's organiser pages.

A role is a set of capabilities (`CAPABILITIES`, keyed by `OrganiserRole`);
nothing compares roles by rank.  Every organiser view authorises through
`organiser_view(capability)`, and the authorisation test matrix
(tests/security/matrix.py) derives what each role must get from the same
table, so a new role or a changed capability is one edit here.

What a request gets:
- no account: the login page (302), coming back after;
- an account that does not organise the letter (an outsider, an admin), or
  no such letter: 404, so drafts and organiser pages stay hidden;
- an organiser whose role lacks the capability: 403;
- otherwise the view runs, given an `OrganiserAccess` (letter, user, role).
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
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_http_methods

from accounts.models import User
from letters.models import Letter, Organiser, OrganiserRole


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


def role_can(role: str, capability: Capability) -> bool:
    """Whether `role` (an OrganiserRole value) holds `capability`."""
    return capability in CAPABILITIES.get(OrganiserRole(role), frozenset())


@dataclass(frozen=True)
class OrganiserAccess:
    """An organiser on one letter, as the access check found them."""

    letter: Letter
    user: User
    membership: Organiser

    @property
    def role(self) -> OrganiserRole:
        return OrganiserRole(self.membership.role)

    def can(self, capability: Capability) -> bool:
        return role_can(self.role, capability)

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
    (404 unless they organise it, 403 if their role lacks it).  One query."""
    membership = (
        Organiser.objects.select_related("letter__current_version")
        .filter(letter__slug=slug, user=user)
        .first()
    )
    if membership is None:
        raise Http404
    access = OrganiserAccess(letter=membership.letter, user=user, membership=membership)
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
