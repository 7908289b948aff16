"""The delivery forms: recording a delivery, leadership's response,
updates for signers and emailing an access link."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from letters.forms.zoned import ZonedForm
from letters.models import Addressee, Answer, DeliveryMethod, Demand, Letter


class DeliveryForm(ZonedForm):
    """When and how, in the organiser's time zone (`ZonedForm`)."""

    recipients = forms.ModelMultipleChoiceField(
        label=_("Delivered to"),
        queryset=Addressee.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Each recipient gets a personal access link."),
    )
    method = forms.ChoiceField(label=_("How"), choices=DeliveryMethod.choices)
    delivered_at = forms.DateTimeField(
        label=_("When"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    note = forms.CharField(
        label=_("Note (public, on the timeline)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    links_expire_days = forms.IntegerField(
        label=_("Links expire after this many days (optional)"),
        required=False,
        min_value=1,
        max_value=3650,
    )
    respond_by = forms.DateTimeField(
        label=_("Ask for a response by (optional)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args: Any, letter: Letter, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        recipients = self.fields["recipients"]
        assert isinstance(recipients, forms.ModelMultipleChoiceField)
        recipients.queryset = letter.addressees.all()

    def clean_respond_by(self) -> datetime | None:
        respond_by: datetime | None = self.cleaned_data["respond_by"]
        if respond_by is not None and respond_by <= timezone.now():
            raise forms.ValidationError(_("Choose a time in the future."))
        return respond_by


class ResponseForm(forms.Form):
    """A statement and an answer per demand of the delivered version."""

    statement = forms.CharField(
        label=_("Statement"), max_length=10000, widget=forms.Textarea(attrs={"rows": 6})
    )

    def __init__(
        self, *args: Any, demands: list[Demand], with_source: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.demands = demands
        for demand in demands:
            self.fields[f"demand_{demand.pk}"] = forms.ChoiceField(
                label=demand.text,
                choices=Answer.choices,
                initial=Answer.NO_ANSWER,
                required=False,
                widget=forms.RadioSelect,
            )
        if with_source:
            self.fields["source"] = forms.CharField(
                label=_("Where was this said? (all-hands meeting, email to staff…)"),
                max_length=300,
            )

    def answers(self) -> dict[int, str]:
        return {d.pk: self.cleaned_data[f"demand_{d.pk}"] or Answer.NO_ANSWER for d in self.demands}


class UpdateForm(forms.Form):
    text = forms.CharField(
        label=_("Update for signers (public, on the timeline)"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class LinkEmailForm(forms.Form):
    link_id = forms.IntegerField(widget=forms.HiddenInput)
    token = forms.CharField(widget=forms.HiddenInput, max_length=100)
    email = forms.EmailField(label=_("Email the link to"))
