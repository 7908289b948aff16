"""The organiser's forms for held signatures and office ranges."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class HeldFilterForm(forms.Form):
    """Which held signatures to release or invalidate: the same filters as
    invalidation (email domain with its subdomains, whole days of
    confirmation); no filter means every held signature."""

    domain = forms.CharField(
        label=_("Email domain"),
        max_length=253,
        required=False,
        help_text=_("Includes its subdomains. Leave empty for every domain."),
    )
    since = forms.DateField(
        label=_("Confirmed on or after (day)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    until = forms.DateField(
        label=_("Confirmed on or before (day)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)


class OfficeRangeForm(forms.Form):
    network = forms.CharField(
        label=_("Address range"),
        max_length=49,
        help_text=_(
            "The public address range your office's traffic comes from, e.g. 192.0.2.0/24."
        ),
    )
    label = forms.CharField(
        label=_("Label (optional)"),
        max_length=80,
        required=False,
        help_text=_("For example the office's city. Shown to this letter's organisers."),
    )
