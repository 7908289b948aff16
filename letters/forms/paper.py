"""The form that records a batch of paper signatures, or corrects one
(services.paper checks the rest: a new batch counts 1 or more, a correction
0 or more; no date in the future).  A letter that names employers asks
whose staff signed the sheets (other supporters only if the letter takes
them); a correction keeps its batch's employer and does not ask."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from letters.models import Letter
from letters.selectors.employers import letter_employers
from letters.services.errors import ServiceError
from letters.services.paper import MAX_BATCH, WHERE_HOW_MAX, PaperInput, normalise_sha256

# The employer field's value for other supporters (employers are numbered).
SUPPORTERS = "supporters"


class PaperBatchForm(forms.Form):
    employer = forms.ChoiceField(
        label=_("Whose staff signed"),
        help_text=_("The batch counts towards this employer's total, and the letter's."),
    )
    count = forms.IntegerField(
        label=_("Signatures in this batch"), min_value=0, max_value=MAX_BATCH
    )
    collected_on = forms.DateField(
        label=_("Collected on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    where_how = forms.CharField(
        label=_("Where and how"),
        max_length=WHERE_HOW_MAX,
        help_text=_(
            "For example: “sheets passed round at the Leeds depot, counted by two of us”. "
            "Shown to the organisers only; the public timeline shows the count."
        ),
    )
    scan_sha256 = forms.CharField(
        label=_("SHA-256 checksum of the scan (optional)"),
        required=False,
        max_length=100,
        help_text=_(
            "If you keep a scan of the sheets, its checksum (for example from "
            "“sha256sum scan.pdf”) shows later that the scan was not changed."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    corrects = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(
        self, *args: Any, letter: Letter | None = None, correcting: bool = False, **kwargs: Any
    ) -> None:
        """`letter`: whose employers are offered (none: the field goes, as
        it does for a letter that names none and for a correction)."""
        super().__init__(*args, **kwargs)
        if not self.is_bound and "collected_on" not in self.initial:
            self.initial["collected_on"] = timezone.localdate()
        employers = letter_employers(letter=letter) if letter is not None else []
        if not employers or correcting:
            del self.fields["employer"]
            return
        choices = [("", _("Choose…"))] + [(str(e.pk), e.name) for e in employers]
        if letter is not None and letter.accept_supporters:
            choices.append((SUPPORTERS, _("Other supporters (at none of these employers)")))
        field = self.fields["employer"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices

    def clean_scan_sha256(self) -> str:
        try:
            return normalise_sha256(self.cleaned_data.get("scan_sha256") or "")
        except ServiceError as exc:
            raise forms.ValidationError(exc.message) from exc

    def to_input(self) -> PaperInput:
        data = self.cleaned_data
        employer = data.get("employer") or SUPPORTERS
        return PaperInput(
            count=data["count"],
            collected_on=data["collected_on"],
            where_how=data["where_how"],
            scan_sha256=data["scan_sha256"],
            employer_id=None if employer == SUPPORTERS else int(employer),
        )
