"""Forms whose dates and times are in the organiser's time zone
(`letters.zones`): a `time_zone` select just before the first date-time,
times typed read as wall-clock times there, stored times shown back
there.  Django does both through the active time zone, so the form
validates inside `timezone.override(zone)` and turns its aware initial
values into that zone's wall-clock times itself (they are rendered later,
outside the form).  A wall-clock time that does not exist in the zone (the
hour skipped when clocks go forward) or exists twice (the hour repeated
when they go back) is refused with Django's message saying so."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from letters import zones


class ZonedForm(forms.Form):
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        required=False,
        choices=zones.zone_choices,
        help_text=_("The dates and times on this form are in this time zone."),
    )

    def __init__(self, *args: Any, zone: str | None = None, **kwargs: Any) -> None:
        """`zone`: the one the organiser chose last time (None: none yet, and
        the form's script may guess it from the browser)."""
        super().__init__(*args, **kwargs)
        default = zone if zone in zones.zone_names() else settings.TIME_ZONE
        field = self.fields["time_zone"]
        field.initial = default
        if zone is None and not self.is_bound:
            field.widget.attrs["data-guess-time-zone"] = ""
        chosen = str(self.data.get(self.add_prefix("time_zone")) or "") if self.is_bound else ""
        self.zone_chosen = chosen in zones.zone_names()  # sent with the form: remember it
        self.zone_name: str = chosen if self.zone_chosen else str(default)
        self.zone = zones.zone(self.zone_name)
        self.initial = dict(self.initial)
        for name, value in list(self.initial.items()):
            if isinstance(value, datetime) and timezone.is_aware(value):
                self.initial[name] = timezone.localtime(value, self.zone).replace(tzinfo=None)
        self._time_zone_first()

    def _time_zone_first(self) -> None:
        """The select goes just before the first date-time it governs."""
        names = [n for n in self.fields if n != "time_zone"]
        for i, name in enumerate(names):
            if isinstance(self.fields[name], forms.DateTimeField):
                names.insert(i, "time_zone")
                break
        else:
            names.append("time_zone")
        self.order_fields(names)

    def full_clean(self) -> None:
        with timezone.override(self.zone):
            super().full_clean()
