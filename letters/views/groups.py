"""Organising groups: the organiser area's group pages (my groups, a new
group, a group's members, invitations and letters), the letter's choice
of group, and a group's public page.

Every view of a group authorises through `letters.access.group_view`
(GroupCapability); a letter's group through `organiser_view(OWN)`.  Views
validate a form, call one service, then redirect or render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_safe

from letters import selectors, services
from letters.access import (
    Capability,
    GroupAccess,
    GroupCapability,
    OrganiserAccess,
    account,
    group_view,
    organiser_view,
)
from letters.forms import groups as forms
from letters.http import language_from_query, public_page, same_for_everyone
from letters.links import absolute_url
from letters.models import Group, GroupRole
from letters.selectors.changes import index_changed_at
from letters.views.acting import act

VIEW, ASSIGN, MANAGE = GroupCapability.VIEW, GroupCapability.ASSIGN, GroupCapability.MANAGE
GET_POST = ("GET", "POST")
POST = ("POST",)


def _group_page(group: Group) -> HttpResponse:
    return redirect("organise:group", group_slug=group.slug)


# --- The organiser area -------------------------------------------------------------


@login_required
@require_GET
def groups_mine(request: HttpRequest) -> HttpResponse:
    groups = selectors.groups_of(user=account(request))
    return render(request, "groups/mine.html", {"groups": groups})


@login_required
@require_http_methods(GET_POST)
def group_new(request: HttpRequest) -> HttpResponse:
    form = forms.GroupNewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            group = services.group_create(
                by=account(request),
                name=data["name"],
                slug=data["slug"] or "",
                description=data["description"],
            )
        except services.ServiceError as exc:
            form.add_error(exc.field, exc.message)
        else:
            messages.success(request, _("Group created. Invite its members here."))
            return _group_page(group)
    return render(request, "groups/new.html", {"form": form})


@group_view(VIEW)
def group_overview(request: HttpRequest, access: GroupAccess) -> HttpResponse:
    """Members see who else is in the group and its letters (drafts too);
    owners also the open invitations and the forms that change things."""
    group = access.group
    may = access.may
    context: dict[str, Any] = {
        "group": group,
        "access": access,
        "may": may,
        "members": selectors.group_members(group=group),
        "letters": selectors.group_letters(group=group),
        "invitations": selectors.group_invitations_open(group=group) if may["manage"] else [],
        "invite_form": forms.GroupInviteForm(),
        "settings_form": forms.GroupForm(
            initial={"name": group.name, "description": group.description}
        ),
        "role_choices": GroupRole.choices,
        "public_url": absolute_url("group_page", group_slug=group.slug),
    }
    return render(request, "groups/group.html", context)


@group_view(MANAGE, methods=POST)
def group_settings(request: HttpRequest, access: GroupAccess) -> HttpResponse:
    form = forms.GroupForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the group a name."))
        return _group_page(access.group)
    act(
        request,
        lambda: services.group_update(
            group=access.group,
            by=access.user,
            name=form.cleaned_data["name"],
            description=form.cleaned_data["description"],
        ),
        _("Saved."),
    )
    return _group_page(access.group)


@group_view(MANAGE, methods=POST)
def group_invite(request: HttpRequest, access: GroupAccess) -> HttpResponse:
    form = forms.GroupInviteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter an email address and a role."))
        return _group_page(access.group)
    act(
        request,
        lambda: services.group_invite(
            group=access.group,
            by=access.user,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            language=get_language(),
        ),
        _("Invitation sent."),
    )
    return _group_page(access.group)


@group_view(MANAGE, methods=POST)
def group_member_role(request: HttpRequest, access: GroupAccess, member_id: int) -> HttpResponse:
    target = access.member(member_id, MANAGE)
    form = forms.GroupRoleForm(request.POST)
    if form.is_valid():
        act(
            request,
            lambda: services.group_member_set_role(
                group=access.group,
                by=access.user,
                member_id=target.pk,
                role=form.cleaned_data["role"],
            ),
        )
    return _group_page(access.group)


@group_view(VIEW, methods=POST)
def group_member_remove(request: HttpRequest, access: GroupAccess, member_id: int) -> HttpResponse:
    """Owners remove anyone; every member may remove themselves (leave)."""
    target = access.member(member_id, MANAGE, oneself_may=True)
    removed = act(
        request,
        lambda: services.group_member_remove(
            group=access.group, by=access.user, member_id=target.pk
        ),
    )
    if removed and target.user_id == access.user.pk:
        messages.success(request, _("You left the group."))
        return redirect("organise:groups")
    return _group_page(access.group)


@group_view(MANAGE, methods=POST)
def group_letter_remove(
    request: HttpRequest, access: GroupAccess, letter_slug: str
) -> HttpResponse:
    act(
        request,
        lambda: services.group_letter_remove(
            group=access.group, by=access.user, letter_slug=letter_slug
        ),
        _("The letter is no longer the group's."),
    )
    return _group_page(access.group)


@login_required
@require_http_methods(GET_POST)
def group_invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Opening the emailed link changes nothing; the button (POST) accepts."""
    invitation = selectors.group_invitation_get(token=token)
    if invitation is None:
        return render(request, "letters/invalid_link.html", status=404)
    error = None
    if request.method == "POST":
        try:
            member = services.group_invitation_accept(token=token, user=account(request))
        except services.ServiceError as exc:
            error = exc.message
        else:
            return _group_page(member.group)
    return render(request, "groups/invitation.html", {"invitation": invitation, "error": error})


# --- A letter's group (its organiser page) -------------------------------------------


def letter_group_context(access: OrganiserAccess) -> dict[str, Any]:
    """What the letter's organiser page shows of its group: the group, and
    for its owners the form that changes it."""
    letter = access.letter
    form = None
    if access.can(Capability.OWN):
        form = forms.LetterGroupForm(
            groups=selectors.groups_to_assign(user=access.user), current=letter.group
        )
    return {"letter_group": letter.group, "letter_group_form": form}


@organiser_view(Capability.OWN, methods=POST)
def letter_group(request: HttpRequest, access: OrganiserAccess) -> HttpResponse:
    letter = access.letter
    groups = selectors.groups_to_assign(user=access.user)
    form = forms.LetterGroupForm(request.POST, groups=groups, current=letter.group)
    if not form.is_valid():
        messages.error(request, _("Choose one of your groups."))
        return redirect("organise:letter", slug=letter.slug)
    chosen = form.cleaned_data["group"]
    if chosen == (letter.group.slug if letter.group is not None else ""):
        return redirect("organise:letter", slug=letter.slug)  # nothing changed
    group = next((g for g in groups if g.slug == chosen), None) if chosen else None
    act(
        request,
        lambda: services.letter_group_set(letter=letter, by=access.user, group=group),
        _("The letter is now organised by %(group)s.") % {"group": group.name}
        if group is not None
        else _("The letter is no longer organised by a group."),
    )
    return redirect("organise:letter", slug=letter.slug)


# --- A group's public page --------------------------------------------------------------


@same_for_everyone("GET", "HEAD")
@require_safe
@language_from_query
def group_page(request: HttpRequest, group_slug: str) -> HttpResponse:
    """The group and its public letters (open, then past with their
    outcome), as the index shows them; the same cached bytes for everyone."""

    def context() -> dict[str, Any]:
        group = selectors.group_public_get(slug=group_slug)
        index = selectors.group_public_index(group=group)
        return {
            "group": group,
            "rows": index.open,
            "past": index.past,
            "content_changed_at": index_changed_at(index),
        }

    return public_page(
        request, f"group:{group_slug}", "groups/page.html", context, from_replica=True
    )
