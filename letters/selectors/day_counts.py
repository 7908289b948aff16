"""Day-by-day changes of a letter's confirmed count, for its charts."""

from __future__ import annotations

import contextlib

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from letters.models import (
    Letter,
    Signature,
    SignatureStatus,
)
from speed.memory import TtlMemo


def letter_day_counts(*, letter: Letter) -> dict[str, int]:
    """The net change of the letter's confirmed count on each day (ISO dates
    in the site's time zone, oldest first; days without change left out).

    A counted signature adds one on the day it was confirmed and, if it was
    withdrawn or invalidated since, takes one away on the day that happened
    (a withdrawal keeps `confirmed_at`); held (`flagged`) signatures were
    never counted and are in no day.  So the days add up to the confirmed
    count, a past day's figure never changes afterwards, and the days tell
    nothing that reading the public total once a day would not: an anonymous
    signer who withdraws lowers today's figure, not the figure of the day
    they signed (DESIGN §2, rule 9).  A day whose changes cancel out is left
    out, as if nothing had happened: the total did not move.  Figures may be
    negative.  Raw: callers suppress or merge small days before showing them
    to anyone but an admin."""
    counted = Signature.objects.filter(letter=letter, flagged=False, confirmed_at__isnull=False)
    withdrawn = Q(status=SignatureStatus.WITHDRAWN, withdrawn_at__isnull=False)
    invalidated = Q(status=SignatureStatus.INVALIDATED, invalidated_at__isnull=False)
    net: dict[str, int] = {}

    def add(rows: QuerySet[Signature], moment: str, sign: int) -> None:
        per_day = (
            rows.annotate(day=TruncDate(moment))
            .values("day")
            .annotate(n=Count("id"))
            .values_list("day", "n")
        )
        for day, n in per_day:
            key = day.isoformat()
            net[key] = net.get(key, 0) + sign * n

    add(
        counted.filter(Q(status=SignatureStatus.CONFIRMED) | withdrawn | invalidated),
        "confirmed_at",
        +1,
    )
    add(counted.filter(withdrawn), "withdrawn_at", -1)
    add(counted.filter(invalidated), "invalidated_at", -1)
    return {day: n for day, n in sorted(net.items()) if n}


# Day counts computed while the cache was down, per process (by full cache
# key), so that a rebuild does not run the GROUP BY again each time.
_day_counts_without_cache: TtlMemo[dict[str, int]] = TtlMemo(max_entries=100)


def _day_counts_cached(letter: Letter) -> dict[str, int]:
    key = f"chart-net-days:{letter.pk}"  # net changes (not the per-confirmation days of old)
    try:
        cached = cache.get(key)
    except Exception:  # noqa: BLE001 -- no cache: this process's copy, or compute
        return _day_counts_without_cache.get_or_compute(
            cache.make_key(key),
            lambda: letter_day_counts(letter=letter),
            settings.CHART_CACHE_SECONDS,
        )
    if cached is None:
        cached = letter_day_counts(letter=letter)
        with contextlib.suppress(Exception):
            cache.set(key, cached, timeout=settings.CHART_CACHE_SECONDS)
    return dict(cached)


def letter_day_counts_cached(*, letter: Letter, confirmed: int) -> dict[str, int]:
    """`letter_day_counts` for public charts, without its cost on every
    rebuild: the GROUP BY over every signature (~0.5-0.9 s on a
    1M-signature letter) runs once per CHART_CACHE_SECONDS, and the cached
    days are made to add up to `confirmed`, the exact count (folded stats
    plus deltas): the difference, the net change since (signatures
    confirmed, withdrawn or invalidated), goes to today, where it belongs,
    day counts being net changes (only a cache made before midnight puts
    the last changes of yesterday on today, until it is rebuilt).  So the
    total is always exact (and agrees with the page's), each day is exact
    within CHART_CACHE_SECONDS, and complementary suppression still sees
    days that sum to the published total.  Raw, like `letter_day_counts`
    (figures may be negative): callers suppress or merge small days."""
    days = _day_counts_cached(letter)
    drift = confirmed - sum(days.values())
    if not drift:
        return dict(days)
    today = timezone.localdate().isoformat()
    days = {**days, today: days.get(today, 0) + drift}
    return {day: n for day, n in sorted(days.items()) if n}
