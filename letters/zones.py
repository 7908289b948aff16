"""The organiser's time zone: organisers type and read dates and times
(a letter's closing time, a delivery's time, the date leadership is asked
to respond by) in their own zone; the database keeps UTC.

The zone an organiser last chose on a form is remembered in their session
(`remember`): a field on the account would outlive sign-outs, but the
forms' script guesses the zone from the browser whenever none is
remembered, so a new session costs nothing but that guess.  Until a form
is sent, pages show times in `settings.TIME_ZONE`."""

from __future__ import annotations

import functools
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.http import HttpRequest

SESSION_KEY = "organiser-time-zone"


@functools.cache
def zone_names() -> frozenset[str]:
    """Every IANA zone name this system knows (but the two that name no
    place: the host's "localtime" and "Factory"), and the site's own."""
    return frozenset(available_timezones() - {"localtime", "Factory"} | {settings.TIME_ZONE})


@functools.cache
def zone_choices() -> list[tuple[str, str]]:
    """The zones for a select, by name ("America/New_York" shown as
    "America/New York")."""
    return [(name, name.replace("_", " ")) for name in sorted(zone_names())]


def remembered(request: HttpRequest) -> str | None:
    """The zone this organiser last chose on a form, if any."""
    name = request.session.get(SESSION_KEY)
    return name if isinstance(name, str) and name in zone_names() else None


def current(request: HttpRequest) -> str:
    """The zone to show this organiser's times in."""
    return remembered(request) or settings.TIME_ZONE


def remember(request: HttpRequest, name: str) -> None:
    if name in zone_names() and request.session.get(SESSION_KEY) != name:
        request.session[SESSION_KEY] = name


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name if name in zone_names() else settings.TIME_ZONE)
