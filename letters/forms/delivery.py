"""The delivery forms: recording a delivery, leadership's response,
updates for signers and emailing an access link."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from letters.forms.zoned import ZonedForm
from letters.models import Addressee, Answer, DeliveryMethod, Demand, Employer, Letter

# The most recipients typed on one delivery (each gets a link).
MAX_TYPED_RECIPIENTS = 20


def _employer_field(employers: list[Employer], label: str) -> forms.ModelChoiceField[Employer]:
    """A choice of employer (radio buttons), the only one chosen already."""
    return forms.ModelChoiceField(
        label=label,
        queryset=Employer.objects.filter(pk__in=[e.pk for e in employers]).order_by(
            "position", "id"
        ),
        widget=forms.RadioSelect,
        empty_label=None,
        initial=employers[0].pk if len(employers) == 1 else None,
    )


class DeliveryForm(ZonedForm):
    """When and how, in the organiser's time zone (`ZonedForm`).

    A letter with employers (`employers`) is delivered to one employer's
    leadership at a time: the form asks which employer, and its recipients
    may be typed (one a line, "name, role") as well as chosen among the
    letter's addressees, since each employer's leadership is its own."""

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

    def __init__(
        self, *args: Any, letter: Letter, employers: list[Employer] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        recipients = self.fields["recipients"]
        assert isinstance(recipients, forms.ModelMultipleChoiceField)
        recipients.queryset = letter.addressees.all()
        self.employers = employers or []
        if self.employers:
            self.fields["employer"] = _employer_field(
                self.employers, str(_("Delivered to the leadership of"))
            )
            recipients.required = False
            self.fields["other_recipients"] = forms.CharField(
                label=_("Other recipients (one a line: name, role)"),
                help_text=_(
                    "This employer's leadership, if the letter's addressees do not name them."
                ),
                required=False,
                max_length=5000,
                widget=forms.Textarea(attrs={"rows": 3}),
            )
            self.order_fields(["employer", "recipients", "other_recipients"])

    def clean_other_recipients(self) -> list[tuple[str, str]]:
        typed = []
        for line in str(self.cleaned_data["other_recipients"]).splitlines():
            name, _sep, role = line.strip().partition(",")
            if not name.strip():
                continue
            if len(name.strip()) > 150 or len(role.strip()) > 200:
                raise forms.ValidationError(_("A name or role is too long."))
            typed.append((name.strip(), role.strip()))
        if len(typed) > MAX_TYPED_RECIPIENTS:
            raise forms.ValidationError(
                _("At most %(n)s recipients at a time.") % {"n": MAX_TYPED_RECIPIENTS}
            )
        return typed

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        chosen = data.get("recipients") or data.get("other_recipients")
        if self.employers and not chosen and "other_recipients" not in self.errors:
            self.add_error("recipients", _("Choose at least one recipient."))
        return data

    def recipients_chosen(self) -> list[tuple[str, str]]:
        """(name, role) of each recipient: the addressees ticked, then the
        ones typed."""
        chosen = [(a.name, a.role) for a in self.cleaned_data["recipients"]]
        return chosen + list(self.cleaned_data.get("other_recipients") or [])

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
        self,
        *args: Any,
        demands: list[Demand],
        with_source: bool = False,
        employers: list[Employer] | None = None,
        **kwargs: Any,
    ) -> None:
        """`employers`: recorded by organisers on a letter with employers,
        whose leadership gave it (among those delivered to)."""
        super().__init__(*args, **kwargs)
        self.demands = demands
        if employers:
            self.fields["employer"] = _employer_field(employers, str(_("Whose leadership")))
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
