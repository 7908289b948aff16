"""Reading an internal letter in one browser: the grant a used reading pass
gives (letters/services/internal.py).

The grant is a cookie, signed (HMAC with SECRET_KEY, Django's signed
cookies), naming the one letter it opens and when it was given: read
with a maximum age (READ_GRANT_SECONDS), so it expires even if a browser
keeps it.  Its path is the letter's address (/letters/<slug>/), so the
browser sends it only to that letter's pages (the page, its sign POST,
its signatories) and to nothing else; HttpOnly, SameSite=Lax, Secure
wherever the session cookie is.

Checking it reads no session (the letter page goes through the public
middleware chain, speed/public_chain.py) and costs no query.  A page
answered to a grant's holder is `private, no-store` and never a shared
copy (letters/views/public.py)."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponseBase

from letters.models import Letter

READ_COOKIE = "letter_read"
_SALT = "letters.internal.read.v1"
READ_GRANT_SECONDS = 14 * 24 * 3600  # settings.INTERNAL_READ_GRANT_SECONDS may say otherwise


def read_grant_seconds() -> int:
    return int(getattr(settings, "INTERNAL_READ_GRANT_SECONDS", READ_GRANT_SECONDS))


def reading_grant(response: HttpResponseBase, letter: Letter) -> None:
    """Let this browser read `letter` for READ_GRANT_SECONDS."""
    response.set_signed_cookie(
        READ_COOKIE,
        str(letter.pk),
        salt=_SALT,
        max_age=read_grant_seconds(),
        path=letter.get_absolute_url(),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def granted_letter_id(request: HttpRequest) -> int | None:
    """The letter this browser was granted reading, if its cookie is ours
    and not expired (no query)."""
    if READ_COOKIE not in request.COOKIES:
        return None
    try:
        value = request.get_signed_cookie(READ_COOKIE, salt=_SALT, max_age=read_grant_seconds())
    except (KeyError, signing.BadSignature):
        return None
    return int(value) if value and value.isdigit() else None


def may_read(request: HttpRequest, letter: Letter) -> bool:
    """Whether this browser may read `letter`: any listed letter; an
    internal one with its grant."""
    return not letter.internal or granted_letter_id(request) == letter.pk
