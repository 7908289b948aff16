"""Forms validate shape only; domain rules live in services."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from letters.emailaddr import canonical_domain
from letters.models import (
    Addressee,
    Answer,
    DeliveryMethod,
    Demand,
    Display,
    Letter,
    OrganiserRole,
)
from letters.services import LetterInput, SignerDetails


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

    @classmethod
    def clean_quickly(cls, data: Any) -> dict[str, Any] | None:
        """The cleaned data of a valid sign POST, through the form's own
        fields but without building a form (`BaseForm.__init__` deep-copies
        every field: a sixth of a sign POST's CPU, on the path a viral
        letter's signers all take).  None if anything is invalid: build the
        form then, which shows each error next to its field.  Fields are not
        changed by cleaning; this form has no clean_<field> or clean()."""
        cleaned: dict[str, Any] = {}
        for name, field in cls.base_fields.items():
            try:
                cleaned[name] = field.clean(field.widget.value_from_datadict(data, {}, name))
            except forms.ValidationError:
                return None
        return cleaned


class ConfirmForm(forms.Form):
    """The confirm page: every field that will be published, as the owner of
    the address chooses it now (the sign form's values are only a starting
    point: anyone can type anyone's address there).  How the signature
    appears has no default: the owner picks it."""

    name = SignForm.base_fields["name"]
    job_title = SignForm.base_fields["job_title"]
    team = SignForm.base_fields["team"]
    location = SignForm.base_fields["location"]
    comment = SignForm.base_fields["comment"]
    display = forms.ChoiceField(
        label=_("How should your signature appear?"),
        choices=[
            (Display.PUBLIC, _("Show my name and details publicly")),
            (Display.ANONYMOUS, _("Anonymous: counted, name withheld")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how your signature appears.")},
    )
    wants_updates = SignForm.base_fields["wants_updates"]

    @classmethod
    def for_post(cls, data: Any, signature: Any) -> ConfirmForm:
        """The form for a confirm POST.  The page posts every field; a POST
        of the display alone (an older page, a script) keeps the other
        values as they are, shown on the page it came from."""
        if "name" in data:
            return cls(data)
        merged = {
            field: getattr(signature, field)
            for field in ("name", "job_title", "team", "location", "comment")
        }
        if signature.wants_updates:
            merged["wants_updates"] = "on"
        if "display" in data:
            merged["display"] = data["display"]
        return cls(merged)

    def details(self) -> SignerDetails:
        return SignerDetails(**self.cleaned_data)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class LetterForm(forms.Form):
    """Create and edit a letter: its text and its settings."""

    slug = forms.SlugField(
        label=_("Web address"),
        max_length=80,
        help_text=_("Letters, digits and hyphens; the letter's page is /letters/<address>/."),
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    addressees = forms.CharField(
        label=_("Addressed to"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One person per line: name, role (for example: Dana Whitfield, CEO)."),
    )
    body = forms.CharField(
        label=_("Letter (Markdown)"),
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text=_("Paragraphs, **bold**, *italic*, lists and links. No HTML."),
    )
    demands = forms.CharField(
        label=_("Demands"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One demand per line, in order."),
    )
    language = forms.ChoiceField(label=_("Language of the letter"), choices=settings.LANGUAGES)
    allowed_domains = forms.CharField(
        label=_("Allowed email domains (optional)"),
        required=False,
        help_text=_(
            "Only addresses at these domains can sign, as proof of employment. "
            "Separate with commas. Empty: any address."
        ),
    )
    goal = forms.IntegerField(label=_("Signature goal (optional)"), required=False, min_value=1)
    closes_at = forms.DateTimeField(
        label=_("Closes at (optional)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    list_public_signatories = forms.BooleanField(
        label=_("List the names of public signatories"), required=False, initial=True
    )
    show_names_after = forms.IntegerField(
        label=_("Show names only once this many have signed (optional)"),
        required=False,
        min_value=1,
    )
    change_note = forms.CharField(
        label=_("What changed (required when editing an open letter)"),
        max_length=300,
        required=False,
    )

    def __init__(self, *args: Any, creating: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not creating:
            del self.fields["slug"]

    def clean_slug(self) -> str:
        slug = str(self.cleaned_data["slug"]).lower()
        if Letter.objects.filter(slug=slug).exists():
            raise forms.ValidationError(_("This address is taken; choose another."))
        return slug

    def clean_addressees(self) -> list[tuple[str, str]]:
        result = []
        for line in _lines(self.cleaned_data["addressees"]):
            name, _sep, role = line.partition(",")
            if len(name.strip()) > 150 or len(role.strip()) > 200:
                raise forms.ValidationError(_("A name or role is too long."))
            result.append((name.strip(), role.strip()))
        if not result:
            raise forms.ValidationError(_("Name at least one person."))
        return result

    def clean_demands(self) -> list[str]:
        demands = _lines(self.cleaned_data["demands"])
        if not demands:
            raise forms.ValidationError(_("Add at least one demand."))
        return demands

    def clean_allowed_domains(self) -> list[str]:
        raw = self.cleaned_data["allowed_domains"].replace(" ", ",")
        domains = []
        for entry in [d for d in raw.split(",") if d.strip()]:
            try:
                domain = canonical_domain(entry)
            except UnicodeError as exc:
                raise forms.ValidationError(_("%(d)s is not a domain.") % {"d": entry}) from exc
            if "." not in domain or not DOMAIN_RE.fullmatch(domain):
                raise forms.ValidationError(_("%(d)s is not a domain.") % {"d": entry})
            domains.append(domain)
        return domains

    def clean_closes_at(self) -> datetime | None:
        closes_at: datetime | None = self.cleaned_data["closes_at"]
        if closes_at is not None and closes_at <= timezone.now():
            raise forms.ValidationError(_("Choose a time in the future."))
        return closes_at

    def to_input(self) -> LetterInput:
        data = self.cleaned_data
        return LetterInput(
            title=data["title"],
            body=data["body"],
            demands=data["demands"],
            addressees=data["addressees"],
            language=data["language"],
            allowed_domains=data["allowed_domains"],
            goal=data["goal"],
            closes_at=data["closes_at"],
            list_public_signatories=data["list_public_signatories"],
            show_names_after=data["show_names_after"],
            change_note=data["change_note"],
        )

    @classmethod
    def initial_for(cls, letter: Letter) -> dict[str, Any]:
        version = letter.current_version
        assert version is not None
        return {
            "title": letter.title,
            "addressees": "\n".join(
                f"{a.name}, {a.role}" if a.role else a.name for a in letter.addressees.all()
            ),
            "body": version.body,
            "demands": "\n".join(version.demands.values_list("text", flat=True)),
            "language": letter.language,
            "allowed_domains": ", ".join(letter.allowed_domains),
            "goal": letter.goal,
            "closes_at": letter.closes_at,
            "list_public_signatories": letter.list_public_signatories,
            "show_names_after": letter.show_names_after,
        }


DOMAIN_RE = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+")


class TranslationForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(label=_("Letter (Markdown)"), widget=forms.Textarea(attrs={"rows": 12}))
    demands = forms.CharField(
        label=_("Demands"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One per line, in the same order as the original."),
    )

    def clean_demands(self) -> list[str]:
        return _lines(self.cleaned_data["demands"])


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email address"))
    # The least a co-organiser may do unless the owner picks more: a planted
    # organiser is a threat (docs/threat-model.md), so more is a choice.
    role = forms.ChoiceField(
        label=_("Role"), choices=OrganiserRole.choices, initial=OrganiserRole.VIEWER
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=OrganiserRole.choices)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)


class InvalidateFilterForm(forms.Form):
    """Which confirmed signatures to invalidate: by email domain (with its
    subdomains) and/or whole days of confirmation (see services.moderation
    for why not finer)."""

    domain = forms.CharField(
        label=_("Email domain"),
        max_length=253,
        required=False,
        help_text=_("Includes its subdomains."),
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

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("domain") or data.get("since") or data.get("until")):
            raise forms.ValidationError(_("Give an email domain or a range of days."))
        return data


class PaperCountForm(forms.Form):
    paper_count = forms.IntegerField(label=_("Signatures collected on paper"), min_value=0)


class DeliveryForm(forms.Form):
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
