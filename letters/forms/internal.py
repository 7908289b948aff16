"""The form on an internal letter's page: the work address a reading link
goes to (letters/services/internal.py decides whether it may)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class ReadPassForm(forms.Form):
    email = forms.CharField(
        label=_("Your work email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={"required": _("Enter your work email address.")},
    )
