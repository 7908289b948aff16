"""Letter templates: a small library of starting points ("stop a contract",
"reverse a policy", "recognise our union") that admins keep in the Django
admin and organisers start a new draft from (/organise/new/?template=<id>).

A template is only text: choosing one fills the new-letter form, and nothing
is saved until the organiser saves the letter, which then owes the template
nothing (editing or retiring a template changes no letter).  Each template is
written in one language; a text in another language is another template."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from letters.models.languages import default_language, language_choices


class LetterTemplate(models.Model):
    name = models.CharField(
        _("name"), max_length=100, help_text=_("What organisers choose, e.g. Stop a contract.")
    )
    description = models.CharField(
        _("description"),
        max_length=300,
        blank=True,
        help_text=_("One sentence: when this template fits."),
    )
    language = models.CharField(
        _("language"), max_length=8, choices=language_choices, default=default_language
    )
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(
        _("letter (Markdown)"),
        help_text=_("Put what the organiser must fill in between [square brackets]."),
    )
    demands = models.JSONField(_("demands"), default=list, blank=True)
    active = models.BooleanField(
        _("offered to organisers"),
        default=True,
        help_text=_("Untick to retire the template; letters started from it are not affected."),
    )
    position = models.PositiveSmallIntegerField(
        _("position"), default=0, help_text=_("Smaller numbers come first.")
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["position", "name"]
        verbose_name = _("letter template")
        verbose_name_plural = _("letter templates")

    def __str__(self) -> str:
        return self.name
