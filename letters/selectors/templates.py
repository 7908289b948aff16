"""The letter templates offered to organisers (letters/models/templates.py):
only active ones, those in the reader's language first."""

from __future__ import annotations

from letters.models import LetterTemplate


def letter_templates_offered(*, language: str) -> list[LetterTemplate]:
    """Every active template, those written in `language` first, each group
    in the admins' order (position, then name).  One query."""
    offered = list(LetterTemplate.objects.filter(active=True).order_by("position", "name", "id"))
    return sorted(offered, key=lambda t: t.language != language)  # stable: keeps the order


def letter_template_offered(ref: str | None) -> LetterTemplate | None:
    """The active template whose id is `ref` (as typed in ?template=), or
    None: no such template, a retired one, or not an id."""
    if not ref or not ref.isdigit() or len(ref) > 18:
        return None
    return LetterTemplate.objects.filter(active=True, pk=int(ref)).first()
