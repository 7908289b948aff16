"""When what a public page shows last changed (its Last-Modified, a
sitemap's lastmod), worked out from rows the page reads anyway, when its
shared copy is built: never per request.

What no row dates (an edit of the goal, a hidden name, a letter moving to
"closed" on the index) `letters.http` catches by comparing the copy's bytes
with the previous copy's."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Max

from letters.models import Letter, LetterEvent
from letters.selectors.counts import Counts
from letters.selectors.public import LetterIndex, ResponseView, VersionRow, letters_listed

SITEMAP_LIMIT = 50_000  # URLs one sitemap file may list (sitemaps.org)


def newest(*times: datetime | None) -> datetime | None:
    """The latest of `times`, ignoring the missing ones."""
    present = [t for t in times if t is not None]
    return max(present) if present else None


def letter_changed_at(
    *,
    letter: Letter,
    counts: Counts,
    events: Iterable[LetterEvent] = (),
    versions: Iterable[VersionRow] = (),
    responses: Iterable[ResponseView] = (),
) -> datetime | None:
    """The letter page: its publication, newest event, version and response
    (every status change writes an event), and its count's last change."""
    return newest(
        letter.published_at,
        counts.changed_at,
        *(e.created_at for e in events),
        *(v.version.created_at for v in versions),
        *(r.response.created_at for r in responses),
    )


def index_changed_at(index: LetterIndex) -> datetime | None:
    """The index: the newest change among the letters it lists."""
    return newest(
        *(newest(letter.published_at, counts.changed_at) for letter, counts in index.open),
        *(
            newest(p.letter.published_at, p.delivered_at, p.responded_at, p.counts.changed_at)
            for p in index.past
        ),
    )


@dataclass(frozen=True)
class SitemapLetter:
    slug: str
    lastmod: datetime | None  # when its text or timeline last changed


def letters_for_sitemap(*, limit: int = SITEMAP_LIMIT) -> list[SitemapLetter]:
    """Every public letter (never a draft or an archived one), newest first,
    with when its content last changed: its publication or its newest
    timeline event (a new version, a delivery, a response, an update...).
    Counts are not content here: a crawler need not come back for each
    signature.  One query."""
    rows = (
        letters_listed()  # never an internal letter
        .annotate(last_event=Max("events__created_at"))
        .order_by("-published_at", "-id")
        .values_list("slug", "published_at", "last_event")[:limit]
    )
    return [SitemapLetter(slug, newest(published, event)) for slug, published, event in rows]
