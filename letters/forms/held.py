"""The organiser's forms for held signatures and office ranges."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from letters.forms.organise import SignatureFilterForm


class HeldFilterForm(SignatureFilterForm):
    """Which held signatures to release or invalidate: the same filters as
    invalidation; no filter means every held signature."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["domain"].help_text = _(
            "Includes its subdomains. Leave empty for every domain."
        )


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
