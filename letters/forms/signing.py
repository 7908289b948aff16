"""The signer's forms: signing a letter and confirming the signature."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from letters.models import Display
from letters.services import SignerDetails


def _display_field(**kwargs: Any) -> forms.ChoiceField:
    """How a signature appears: public or anonymous (the sign form's and
    the confirm page's question, worded once)."""
    return forms.ChoiceField(
        label=_("How should your signature appear?"),
        choices=[
            (Display.PUBLIC, _("Show my name and details publicly")),
            (Display.ANONYMOUS, _("Anonymous: counted, name withheld")),
        ],
        widget=forms.RadioSelect,
        **kwargs,
    )


def _named_if_public(cleaned: dict[str, Any]) -> str | None:
    """The one rule across fields: a public signature needs a name (an
    anonymous one stores none: `SignerDetails.cleaned`).  The error, or
    None."""
    if cleaned.get("display") == Display.PUBLIC and not (cleaned.get("name") or "").strip():
        return str(_("Enter your name to sign publicly, or choose anonymous."))
    return None


# The help line of every detail a public signature shows beside the name
# (the sign form's and the confirm page's: an anonymous signature stores
# none of them, `SignerDetails.cleaned`).
_PUBLIC_ONLY = _(
    "Only if you sign publicly: shown with your name. Not stored if you sign anonymously."
)


class _NamedIfPublic(forms.Form):
    """Both signer forms' one cross-field rule, as their clean()."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        error = _named_if_public(cleaned)
        if error:
            self.add_error("name", error)
        return cleaned


class SignForm(_NamedIfPublic):
    name = forms.CharField(
        label=_("Your name"),
        max_length=120,
        required=False,
        help_text=_("Shown with your signature if you sign publicly; not stored if anonymous."),
    )
    email = forms.EmailField(
        label=_("Your email address"),
        max_length=254,
        help_text=_("Only used to confirm your signature. Never shown to anyone."),
    )
    job_title = forms.CharField(
        label=_("Job title (optional)"), max_length=120, required=False, help_text=_PUBLIC_ONLY
    )
    team = forms.CharField(
        label=_("Team (optional)"), max_length=120, required=False, help_text=_PUBLIC_ONLY
    )
    location = forms.CharField(
        label=_("Location (optional)"), max_length=120, required=False, help_text=_PUBLIC_ONLY
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_PUBLIC_ONLY,
    )
    display = _display_field(initial=Display.PUBLIC)
    wants_updates = forms.BooleanField(
        label=_("Email me updates about this letter (delivery, response)"), required=False
    )
    consent = forms.BooleanField(
        label=_(
            "I agree that my email address and, if I sign publicly, my name and the details "
            "above are stored to verify and count my signature. My email address is stored "
            "encrypted and never shown to anyone. If I sign anonymously, my name and details "
            "are not stored at all. I can withdraw at any time, which erases my data at once; "
            "data is erased after the letter is closed and delivered."
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
        changed by cleaning; this form has no clean_<field>, and its
        clean() is `_named_if_public`, checked here too."""
        cleaned: dict[str, Any] = {}
        for name, field in cls.base_fields.items():
            try:
                cleaned[name] = field.clean(field.widget.value_from_datadict(data, {}, name))
            except forms.ValidationError:
                return None
        return None if _named_if_public(cleaned) else cleaned


class ConfirmForm(_NamedIfPublic):
    """The confirm page: every field that will be published, as the owner of
    the address chooses it now (the sign form's values are only a starting
    point: anyone can type anyone's address there).  How the signature
    appears has no default: the owner picks it."""

    name = SignForm.base_fields["name"]
    job_title = SignForm.base_fields["job_title"]
    team = SignForm.base_fields["team"]
    location = SignForm.base_fields["location"]
    comment = SignForm.base_fields["comment"]
    display = _display_field(error_messages={"required": _("Choose how your signature appears.")})
    wants_updates = SignForm.base_fields["wants_updates"]
    # Shown only for a work address (confirm.html): where news and the
    # withdraw link go instead of the mailbox the employer reads.
    personal_email = forms.EmailField(
        label=_("Personal email address for news and your withdraw link (optional)"),
        max_length=254,
        required=False,
        help_text=_(
            "Not your work address. We send it one neutral request to confirm it; after "
            "that, news about this letter and your withdraw link go there, never to your "
            "work address. It is stored encrypted, shown to no one, and erased with your "
            "signature."
        ),
    )

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
        data = {k: v for k, v in self.cleaned_data.items() if k != "personal_email"}
        return SignerDetails(**data)
