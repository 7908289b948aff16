"""Forms of reports and takedown: a visitor's report, the admins' actions
and the organisers' appeal (shape only; letters.services.reports decides)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from letters.models import REPORT_TEXT_MAX, ReportReason
from letters.services.reports import APPEAL_TEXT_MAX

MESSAGE_MAX = 2000


class ReportForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("What is wrong with this letter?"),
        choices=[("", _("Choose a reason")), *ReportReason.choices],
    )
    text = forms.CharField(
        label=_("Anything the moderators should know (optional)"),
        required=False,
        max_length=REPORT_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Up to 1,000 characters. Please do not write anyone's personal details here."),
    )


class TakeDownForm(forms.Form):
    reason = forms.CharField(
        label=_("Public reason"),
        max_length=MESSAGE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown on the letter's page instead of its text."),
    )


class ChangeRequestForm(forms.Form):
    message = forms.CharField(
        label=_("What the organisers should change"),
        max_length=MESSAGE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Emailed to the organisers and shown on their page."),
    )


class DecisionForm(forms.Form):
    note = forms.CharField(
        label=_("Note to the organisers (optional)"),
        required=False,
        max_length=MESSAGE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class AppealForm(forms.Form):
    message = forms.CharField(
        label=_("Why should the letter be reinstated?"),
        max_length=APPEAL_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("You can appeal once. The site's moderators read it and decide."),
    )
