"""Letters and their immutable published versions (text, demands, translations)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from letters.models.languages import default_language, language_choices


class LetterStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Open for signatures")
    CLOSED = "closed", _("Closed")
    DELIVERED = "delivered", _("Delivered")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESPONDED = "responded", _("Responded")
    ARCHIVED = "archived", _("Archived")
    # By the site's moderators (letters.services.reports): the page shows a
    # notice instead of the text; reinstating restores the earlier status.
    TAKEN_DOWN = "taken_down", _("Taken down")


PUBLIC_STATUSES = (
    LetterStatus.OPEN,
    LetterStatus.CLOSED,
    LetterStatus.DELIVERED,
    LetterStatus.ACKNOWLEDGED,
    LetterStatus.RESPONDED,
)


class Letter(models.Model):
    slug = models.SlugField(_("address"), max_length=80, unique=True)
    title = models.CharField(_("title"), max_length=200)
    language = models.CharField(
        _("language"), max_length=8, choices=language_choices, default=default_language
    )
    status = models.CharField(
        max_length=16, choices=LetterStatus.choices, default=LetterStatus.DRAFT
    )
    allowed_domains = models.JSONField(
        _("allowed email domains"),
        default=list,
        blank=True,
        help_text=_("Signers must use an address at one of these domains. Empty: any address."),
    )
    accept_supporters = models.BooleanField(
        _("also accept other supporters"),
        default=False,
        help_text=_(
            "Addresses at none of the employers' domains may sign too: counted apart as "
            "other supporters, never as staff."
        ),
    )
    goal = models.PositiveIntegerField(_("signature goal"), null=True, blank=True)
    closes_at = models.DateTimeField(_("closes at"), null=True, blank=True)
    list_public_signatories = models.BooleanField(_("list public signatories"), default=True)
    show_names_after = models.PositiveIntegerField(
        _("show names only once this many have signed"), null=True, blank=True
    )
    public_comments = models.BooleanField(
        _("show signers' comments"),
        default=True,
        help_text=_("Off: the sign form asks for no comment and no comment is shown anywhere."),
    )
    paper_count = models.PositiveIntegerField(_("signatures on paper"), default=0)
    # Internal first (letters/services/internal.py): readable only by whoever
    # proved an address at one of its employers' domains, listed nowhere,
    # until its organisers make it public or `public_at_count` is reached.
    internal = models.BooleanField(_("internal first"), default=False)
    public_at_count = models.PositiveIntegerField(
        _("go public at this many verified signatures"), null=True, blank=True
    )
    preview_token_hash = models.CharField(max_length=64, blank=True, editable=False)
    respond_by = models.DateTimeField(_("respond by"), null=True, blank=True)
    respond_by_noted = models.BooleanField(default=False, editable=False)
    duplicated_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    current_version = models.ForeignKey(
        "LetterVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    organisers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Organiser", related_name="letters"
    )
    # The organising group whose members organise it too (letters/models/groups.py).
    group = models.ForeignKey(
        "Group", on_delete=models.SET_NULL, null=True, blank=True, related_name="letters"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-published_at", "-id"]
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["status", "-published_at"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("letters:detail", kwargs={"slug": self.slug})

    @property
    def is_open(self) -> bool:
        return self.status == LetterStatus.OPEN


class Addressee(models.Model):
    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="addressees")
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(_("name"), max_length=150)
    role = models.CharField(_("role"), max_length=200, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.name}, {self.role}" if self.role else self.name


class LetterVersion(models.Model):
    """An immutable published text. Never updated after creation."""

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    body = models.TextField(_("body (Markdown)"))
    body_html = models.TextField(editable=False)
    change_note = models.CharField(_("change note"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )

    class Meta:
        ordering: ClassVar[list[str]] = ["letter", "number"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["letter", "number"], name="version_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.letter_id} v{self.number}"

    def fingerprint(
        self, demands: list[str], translations: Iterable[VersionTranslation] = ()
    ) -> str:
        """SHA-256 over the text as published, in every language: the body
        and ordered demands, then each translation (by language code) as
        0x01, its code, 0x00, its body and its demands.  Without
        translations this is the fingerprint versions always had."""
        digest = hashlib.sha256(self.body.encode())
        for demand in demands:
            digest.update(b"\x00" + demand.encode())
        for translation in sorted(translations, key=lambda t: t.language):
            digest.update(b"\x01" + translation.language.encode() + b"\x00")
            digest.update(translation.body.encode())
            for demand in translation.demands:
                digest.update(b"\x00" + str(demand).encode())
        return digest.hexdigest()


class Demand(models.Model):
    version = models.ForeignKey(LetterVersion, on_delete=models.CASCADE, related_name="demands")
    position = models.PositiveSmallIntegerField()
    text = models.TextField()

    class Meta:
        ordering: ClassVar[list[str]] = ["position"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["version", "position"], name="demand_position_unique")
        ]

    def __str__(self) -> str:
        return self.text


class VersionTranslation(models.Model):
    """The same version's text in another language (one count covers all).

    Part of its version: it has exactly the version's demands (same count
    and order), the version's fingerprint covers it, and once the letter
    is open a change to it is a new version (services.translation_save)."""

    version = models.ForeignKey(
        LetterVersion, on_delete=models.CASCADE, related_name="translations"
    )
    language = models.CharField(max_length=8, choices=language_choices)
    title = models.CharField(max_length=200)
    body = models.TextField()
    body_html = models.TextField(editable=False)
    demands = models.JSONField(default=list)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["version", "language"], name="translation_unique")
        ]

    def __str__(self) -> str:
        return f"{self.version_id} ({self.language})"
