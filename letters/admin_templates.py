"""The admin of letter templates (letters/models/templates.py): admins write,
order and retire the templates organisers start a new letter from.  A
template holds no personal data and changes no letter, so it is edited
directly (Django's admin log records who changed what)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from letters.markup import render_markdown
from letters.models import LetterTemplate


class LetterTemplateForm(forms.ModelForm):
    """The demands as lines of text (one per line), not as JSON."""

    demands = forms.CharField(
        label=_("Demands"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("One demand per line, in order."),
    )

    class Meta:
        model = LetterTemplate
        fields = (
            "name",
            "description",
            "language",
            "title",
            "body",
            "demands",
            "active",
            "position",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial["demands"] = "\n".join(str(d) for d in self.instance.demands)

    def clean_demands(self) -> list[str]:
        demands = [line.strip() for line in self.cleaned_data["demands"].splitlines()]
        demands = [d for d in demands if d]
        if not demands:
            raise forms.ValidationError(_("Add at least one demand."))
        return demands


@admin.register(LetterTemplate)
class LetterTemplateAdmin(admin.ModelAdmin):
    form = LetterTemplateForm
    list_display = ("name", "language", "title", "active", "position", "updated_at")
    list_editable = ("active", "position")
    list_filter = ("active", "language")
    search_fields = ("name", "title", "description")
    readonly_fields = ("preview",)
    fields = (
        "name",
        "description",
        "language",
        "active",
        "position",
        "title",
        "body",
        "demands",
        "preview",
    )

    @admin.display(description=_("Preview (as saved)"))
    def preview(self, obj: LetterTemplate) -> SafeString:
        if obj.pk is None:
            return mark_safe("–")
        items = format_html("".join("<li>{}</li>" for _ in obj.demands), *obj.demands)
        # render_markdown sanitises (nh3): the same HTML a letter's page shows.
        body = mark_safe(render_markdown(obj.body))  # noqa: S308
        return format_html("<h3>{}</h3>{}<ol>{}</ol>", obj.title, body, items)
