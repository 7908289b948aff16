"""Organising groups' forms: creating a group, its settings, inviting
members, their roles, and choosing a letter's group.  Shape only; the
rules are letters/services/groups.py's."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from letters.models import Group, GroupRole


class GroupForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    description = forms.CharField(
        label=_("Description (optional)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Who you are and what you organise for, shown on the group's public page."),
    )


class GroupNewForm(GroupForm):
    slug = forms.SlugField(
        label=_("Web address (optional)"),
        max_length=80,
        required=False,
        help_text=_("Letters, digits and hyphens. Left empty, it is made from the name."),
    )

    field_order = ("name", "slug", "description")


class GroupInviteForm(forms.Form):
    email = forms.EmailField(label=_("Email address"))
    # The least a member may do unless an owner picks more (as InviteForm).
    role = forms.ChoiceField(label=_("Role"), choices=GroupRole.choices, initial=GroupRole.VIEWER)


class GroupRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=GroupRole.choices)


class LetterGroupForm(forms.Form):
    """A letter's group: one the owner may put letters in, or none (the
    letter's current group stays offered, so the form shows it)."""

    group = forms.ChoiceField(
        label=_("Organising group"),
        required=False,
        help_text=_("The groups where you are an organiser or an owner."),
    )

    def __init__(
        self, *args: Any, groups: list[Group], current: Group | None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        offered = {g.slug: g.name for g in groups}
        if current is not None:
            offered.setdefault(current.slug, current.name)
        choices: list[tuple[str, str]] = [("", str(_("No group")))]
        choices += sorted(offered.items(), key=lambda item: item[1].lower())
        field = self.fields["group"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices
        field.initial = current.slug if current is not None else ""
