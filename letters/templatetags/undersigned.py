"""Template helpers of our own: `{% load undersigned %}`."""

from __future__ import annotations

from datetime import date

from django import template

from letters import links

register = template.Library()


@register.simple_tag
def absolute_url(viewname: str, **kwargs: object) -> str:
    """`letters.links.absolute_url`: SITE_URL joined with the route's path,
    for addresses shown to be used elsewhere (the widget's code)."""
    return links.absolute_url(viewname, **kwargs)


@register.filter
def iso_date(value: str) -> date | str:
    """An ISO date string ("2026-01-05") as a date, for `|date`; anything
    else unchanged."""
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        return value
