"""`{% moderation_notice %}`: what the site's moderators told a letter's
organisers (their letter's page, templates/organise/letter.html): a
takedown with its reason and the one appeal, change requests, decisions."""

from __future__ import annotations

from typing import Any

from django import template

from letters.forms.reports import AppealForm
from letters.selectors.reports import letter_moderation

register = template.Library()


@register.inclusion_tag("organise/_moderation.html", takes_context=True)
def moderation_notice(context: template.Context) -> dict[str, Any]:
    letter = context["letter"]
    moderation = letter_moderation(letter=letter)
    may = context.get("may") or {}
    return {
        "letter": letter,
        "moderation": moderation,
        "takedown": moderation.takedown,
        "may_appeal": bool(may.get("edit")),
        "appeal_form": AppealForm(),
        "csrf_token": context.get("csrf_token"),
        "zone_name": context.get("zone_name"),
    }
