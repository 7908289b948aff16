"""Forms validate shape only; domain rules live in services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from letters.models import Display


class SignForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=120)
    email = forms.EmailField(
        label=_("Your email address"),
        max_length=254,
        help_text=_("Only used to confirm your signature. Never shown to anyone."),
    )
    job_title = forms.CharField(label=_("Job title (optional)"), max_length=120, required=False)
    team = forms.CharField(label=_("Team (optional)"), max_length=120, required=False)
    location = forms.CharField(label=_("Location (optional)"), max_length=120, required=False)
    comment = forms.CharField(
        label=_("Comment (optional)"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    display = forms.ChoiceField(
        label=_("How should your signature appear?"),
        choices=[
            (Display.PUBLIC, _("Show my name and details publicly")),
            (Display.ANONYMOUS, _("Anonymous: counted, name withheld")),
        ],
        initial=Display.PUBLIC,
        widget=forms.RadioSelect,
    )
    wants_updates = forms.BooleanField(
        label=_("Email me updates about this letter (delivery, response)"), required=False
    )
    consent = forms.BooleanField(
        label=_(
            "I agree that my name, email address and the details above are stored to "
            "verify and count my signature. My email is never shown to anyone. If I sign "
            "anonymously, my name is shown to no one, including the organisers. I can "
            "withdraw at any time, which erases my data at once; data is erased after the "
            "letter is closed and delivered."
        ),
        error_messages={"required": _("Please agree so we can store your signature.")},
    )
    # Honeypot: hidden from people (CSS and aria-hidden), filled by bots.
    website = forms.CharField(label=_("Leave this field empty"), required=False)


class ConfirmForm(forms.Form):
    display = forms.ChoiceField(
        label=_("How should your signature appear?"),
        choices=[
            (Display.PUBLIC, _("Show my name and details publicly")),
            (Display.ANONYMOUS, _("Anonymous: counted, name withheld")),
        ],
        widget=forms.RadioSelect,
    )
