"""Signers' comments, apart from their signatures: what the public sees of
a comment (nothing once an organiser hid it, nothing while the letter has
public comments off) and the organisers' list to moderate them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Case, F, QuerySet, TextField, Value, When
from django.db.models.expressions import Expression

from letters.models import Display, Letter, Signature, SignatureStatus
from letters.refs import signature_ref

COMMENTS_LISTED = 500  # on the organisers' comments page, newest first


def shown_comment(letter: Letter) -> Expression:
    """The comment as every reader sees it, in SQL (a hidden comment never
    leaves the database on a public read): empty when the letter's public
    comments are off or an organiser hid this one."""
    if not letter.public_comments:
        return Value("", output_field=TextField())
    return Case(
        When(comment_hidden_at__isnull=True, then=F("comment")),
        default=Value(""),
        output_field=TextField(),
    )


@dataclass(frozen=True)
class CommentRow:
    """A public signer's comment, as its letter's organisers see it."""

    id: int
    name: str
    comment: str
    confirmed_at: datetime | None
    hidden_at: datetime | None
    hidden_reason: str

    @property
    def ref(self) -> str:
        return signature_ref(self.id)


_COLUMNS = ("id", "name", "comment", "confirmed_at", "comment_hidden_at", "comment_hidden_reason")


def commented(letter: Letter) -> QuerySet[Signature]:
    """The letter's confirmed public signers who left a comment: the ones
    its organisers can already see by name, never an anonymous or held
    signature (the same set the hide service acts on)."""
    return Signature.objects.filter(
        letter=letter,
        status=SignatureStatus.CONFIRMED,
        display=Display.PUBLIC,
        flagged=False,
    ).exclude(comment="")


def letter_comments(*, letter: Letter, limit: int = COMMENTS_LISTED) -> list[CommentRow]:
    """The comments organisers moderate, newest first, hidden ones included
    with their reason."""
    rows = commented(letter).order_by("-confirmed_at", "-id").values_list(*_COLUMNS)[:limit]
    return [CommentRow(*row) for row in rows]


def comment_to_hide(*, letter: Letter, signature_id: int) -> CommentRow | None:
    """One comment of `letter_comments` still shown, or None."""
    row = commented(letter).filter(pk=signature_id, comment_hidden_at__isnull=True)
    found = row.values_list(*_COLUMNS).first()
    return CommentRow(*found) if found else None
