"""A letter's web address (its slug, /letters/<slug>/): typed by the
organiser, or made from the title when they leave it empty
(`django.utils.text.slugify`, then -2, -3 ... until one is free).

The unique index on `Letter.slug` is what decides between two drafts
wanting the same address at once (`letter_insert`): a typed address taken
meanwhile is refused, a made one moves on to the next number."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from letters.models import Letter
from letters.services.errors import ServiceError

MAX_LENGTH = 80  # Letter.slug's
# Words of the organiser area's own addresses (/organise/new/,
# /organise/invitations/<token>/, /organise/groups/...): a letter there
# could not be reached.
RESERVED = frozenset({"new", "invitations", "groups"})
ATTEMPTS = 20  # made addresses tried before giving up (concurrent drafts)


def slug_from_title(title: str) -> str:
    """What the title makes ("" if it has no letter or digit slugify keeps)."""
    return slugify(title)[:MAX_LENGTH].strip("-_")


def slug_taken(slug: str) -> bool:
    return slug in RESERVED or Letter.objects.filter(slug=slug).exists()


def slug_free(base: str) -> str:
    """`base` if free, else the first free `base-2`, `base-3` ... (cut to fit)."""
    candidate, n = base, 1
    while slug_taken(candidate):
        n += 1
        suffix = f"-{n}"
        candidate = base[: MAX_LENGTH - len(suffix)].rstrip("-_") + suffix
    return candidate


def letter_insert(*, slug: str, fields: dict[str, Any]) -> Letter:
    """INSERT the letter row at `slug`, or, when `slug` is empty, at the first
    free address made from `fields["title"]` (inside the caller's
    transaction, each attempt in a savepoint)."""
    base = slug or slug_from_title(str(fields.get("title", "")))
    if not base:
        raise ServiceError(
            _("The title has no letters or digits to make a web address from: type one."),
            field="slug",
        )
    for _attempt in range(ATTEMPTS):
        wanted = slug or slug_free(base)
        if slug and slug in RESERVED:
            break
        try:
            with transaction.atomic():
                return Letter.objects.create(slug=wanted, **fields)
        except IntegrityError:
            if slug:
                break
    raise ServiceError(_("This address is taken; choose another."), field="slug")
