"""The organisers' forms: drafting and translating a letter, inviting
co-organisers and moderating signatures."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from letters.emailaddr import canonical_domain
from letters.forms.zoned import ZonedForm
from letters.models import Letter, LetterStatus, OrganiserRole
from letters.services import LetterInput
from letters.services.employers import EmployerInput, employers_check
from letters.services.errors import ServiceError
from letters.services.slugs import slug_free, slug_from_title, slug_taken

DOMAIN_RE = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+")


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class LetterForm(ZonedForm):
    """Create and edit a letter: its text and its settings.  A new letter's
    web address comes after the title and may be left empty: the service
    makes one from the title (`services.slugs`).  The page's script fills
    it from the title as it is typed, until the organiser edits it, and
    says so in `slug_auto`: such an address, if taken meanwhile, moves on
    to the next free one like a made one instead of being refused."""

    title = forms.CharField(label=_("Title"), max_length=200)
    slug = forms.SlugField(
        label=_("Web address (optional)"),
        max_length=80,
        required=False,
        help_text=_(
            "Made from the title if you leave it empty. Lower-case letters, digits and"
            " hyphens: the letter's page will be /letters/<address>/."
        ),
        error_messages={
            "invalid": _("Use only letters a-z, digits and hyphens, for example fair-rota-2026.")
        },
    )
    slug_auto = forms.BooleanField(required=False, widget=forms.HiddenInput)
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
    employers = forms.CharField(
        label=_("Employers and their email domains (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "One employer per line: its name, a colon, then the domains that prove"
            " employment there, separated by commas (for example: Northwind: northwind.example,"
            " eu.northwind.example). Subdomains count too. Empty: any address can sign."
        ),
    )
    accept_supporters = forms.BooleanField(
        label=_("Also accept other supporters (addresses at none of these domains)"),
        required=False,
        help_text=_("Counted apart, never presented as staff."),
    )
    internal = forms.BooleanField(
        label=_(
            "Internal first: only staff at the employers' domains can read it until it goes public"
        ),
        required=False,
    )
    public_at_count = forms.IntegerField(
        label=_("Go public by itself at this many verified signatures (optional)"),
        help_text=_("For an internal letter: it goes public when this many have signed."),
        required=False,
        min_value=1,
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
        self.creating = creating
        if not creating:
            del self.fields["slug"]
            del self.fields["slug_auto"]
        # Published: internal goes public only by "Make public" (services.internal).
        if self.initial.get("published"):
            self.fields["internal"].disabled = True
            if not self.initial.get("internal"):
                self.fields["public_at_count"].disabled = True

    def clean_slug(self) -> str:
        return str(self.cleaned_data["slug"]).lower().strip("-")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        slug = data.get("slug") or ""
        if not self.creating or not slug:
            return data
        if data.get("slug_auto") and slug == slug_from_title(data.get("title") or ""):
            data["slug"] = ""  # the script's, from the title: the service picks a free one
        elif slug_taken(slug):  # reserved words included
            self.add_error(
                "slug",
                _("This address is taken. Choose another, for example %(free)s.")
                % {"free": slug_free(slug)},
            )
        return data

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

    def clean_employers(self) -> list[EmployerInput]:
        entries = []
        for line in _lines(self.cleaned_data["employers"]):
            name, sep, raw = line.rpartition(":")
            if not sep:
                name, raw = "", line
            domains = []
            for entry in [d for d in raw.replace(" ", ",").split(",") if d.strip()]:
                try:
                    domain = canonical_domain(entry)
                except UnicodeError as exc:
                    raise forms.ValidationError(_("%(d)s is not a domain.") % {"d": entry}) from exc
                if "." not in domain or not DOMAIN_RE.fullmatch(domain):
                    raise forms.ValidationError(_("%(d)s is not a domain.") % {"d": entry})
                domains.append(domain)
            if not domains:
                raise forms.ValidationError(
                    _("Give %(name)s at least one email domain.") % {"name": name or line}
                )
            name = name.strip() or domains[0]
            if len(name) > 150:
                raise forms.ValidationError(_("An employer's name is too long."))
            entries.append(EmployerInput(name=name, domains=domains))
        try:
            employers_check(entries)
        except ServiceError as exc:
            raise forms.ValidationError(exc.message) from exc
        return entries

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
            employers=data["employers"],
            accept_supporters=data["accept_supporters"],
            goal=data["goal"],
            closes_at=data["closes_at"],
            list_public_signatories=data["list_public_signatories"],
            show_names_after=data["show_names_after"],
            change_note=data["change_note"],
            internal=data["internal"],
            public_at_count=data["public_at_count"],
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
            "employers": "\n".join(
                f"{e.name}: {', '.join(e.domains)}" for e in letter.employers.all()
            ),
            "accept_supporters": letter.accept_supporters,
            "goal": letter.goal,
            "closes_at": letter.closes_at,
            "list_public_signatories": letter.list_public_signatories,
            "show_names_after": letter.show_names_after,
            "internal": letter.internal,
            "public_at_count": letter.public_at_count,
            "published": letter.status != LetterStatus.DRAFT,  # not a field
        }


class TranslationForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(label=_("Letter (Markdown)"), widget=forms.Textarea(attrs={"rows": 12}))
    demands = forms.CharField(
        label=_("Demands"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One per line, in the same order as the original."),
    )
    change_note = forms.CharField(
        label=_("What changed"),
        max_length=300,
        required=False,
        help_text=_(
            "Needed once the letter is open: a changed translation is a new version of the"
            " letter, and signers of earlier versions see this note."
        ),
    )

    def __init__(self, *args: Any, letter_language: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        language = self.fields["language"]
        assert isinstance(language, forms.ChoiceField)
        language.choices = [(c, n) for c, n in settings.LANGUAGES if c != letter_language]

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


class SignatureFilterForm(forms.Form):
    """Confirmed signatures by email domain (with its subdomains) and/or
    whole days of confirmation (see services.moderation for why not finer),
    with the reason for acting on them: invalidation's and held signatures'
    filters (letters/forms/held.py)."""

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


class InvalidateFilterForm(SignatureFilterForm):
    """Which confirmed signatures to invalidate: at least one filter."""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("domain") or data.get("since") or data.get("until")):
            raise forms.ValidationError(_("Give an email domain or a range of days."))
        return data
