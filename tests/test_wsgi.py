"""The WSGI entry point gunicorn serves (config/wsgi.py): the sign POST and
the cached public pages take a shorter middleware chain, and must answer
exactly as the full site would; every other request keeps the full chain
(CSRF, sessions, login)."""

from __future__ import annotations

import io
import sys
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from config import wsgi
from letters.models import Signature
from letters.tests.factories import address_of
from speed.public_chain import WithPublicChain, is_public

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _language_restored():
    """A handler called directly leaves the last request's language active in
    this thread (LocaleMiddleware activates one per request and gunicorn's
    next request activates its own); later tests expect the default."""
    with translation.override(settings.LANGUAGE_CODE):
        yield


SECURITY_HEADERS = (
    "Content-Security-Policy",
    "X-Frame-Options",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
    "Content-Language",
    "Vary",
)


def call(app: Any, method: str, path: str, data: dict[str, str] | None = None,
         **headers: str) -> tuple[int, dict[str, str], bytes]:  # fmt: skip
    """One request through a WSGI callable, as gunicorn makes it."""
    body = urlencode(data or {}).encode()
    environ = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "SCRIPT_NAME": "",
        "SERVER_NAME": "testserver", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "testserver", "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)), "REMOTE_ADDR": "127.0.0.1",
        "wsgi.input": io.BytesIO(body), "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
        "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
        "wsgi.version": (1, 0),
        **{"HTTP_" + k.upper(): v for k, v in headers.items()},
    }  # fmt: skip
    answer: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> None:  # fmt: skip  # noqa: E501
        answer["status"] = int(status.split()[0])
        answer["headers"] = dict(response_headers)

    result = app(environ, start_response)
    try:
        content = b"".join(result)
    finally:
        result.close()
    return answer["status"], answer["headers"], content


# The short chain in front of the site, as config/wsgi.py builds it.
CHAINED = WithPublicChain(wsgi.site)


def sign_data(email: str, **extra: str) -> dict[str, str]:
    return {"name": "Ada", "email": email, "display": "public", "consent": "on", **extra}


def test_a_sign_post_takes_the_short_chain_and_answers_as_the_full_site(open_letter):
    path = reverse("letters:sign", kwargs={"slug": open_letter.slug})
    assert is_public("POST", path)
    # gunicorn's application takes the chain unless PUBLIC_MIDDLEWARE_CHAIN is off;
    # the tests below check the chain itself either way.
    assert (
        isinstance(wsgi.application, WithPublicChain) is settings.SPEED["PUBLIC_MIDDLEWARE_CHAIN"]
    )
    assert CHAINED.public.middleware == settings.PUBLIC_MIDDLEWARE
    assert len(settings.PUBLIC_MIDDLEWARE) < len(settings.MIDDLEWARE)

    short = call(CHAINED, "POST", path, sign_data("short@example.org"),
                 origin="http://testserver", accept_language="en")  # fmt: skip
    full = call(wsgi.site, "POST", path, sign_data("full@example.org"),
                origin="http://testserver", accept_language="en")  # fmt: skip

    assert short[0] == full[0] == 302
    assert short[1]["Location"] == full[1]["Location"]
    assert short[1]["Location"].startswith(
        reverse("letters:check_inbox", kwargs={"slug": open_letter.slug})
    )
    assert short[1] == full[1]  # every header, security headers included
    for name in SECURITY_HEADERS:
        assert short[1].get(name), name
    assert "Set-Cookie" not in short[1]  # no session, no CSRF cookie
    assert {address_of(signature) for signature in Signature.objects.all()} == {
        "short@example.org",
        "full@example.org",
    }


def test_a_refused_sign_post_shows_its_errors_in_the_signers_language(open_letter):
    path = reverse("letters:sign", kwargs={"slug": open_letter.slug})
    status, headers, content = call(
        CHAINED, "POST", path, sign_data(""), origin="http://testserver",
        accept_language="de",
    )  # fmt: skip
    assert status == 400
    assert headers["Content-Language"] == "de"
    assert "Dieses Feld ist zwingend erforderlich." in content.decode()
    assert (
        headers["Content-Security-Policy"]
        == call(wsgi.site, "GET", "/letters/")[1]["Content-Security-Policy"]
    )
    assert not Signature.objects.exists()


def test_a_cross_site_sign_post_is_still_refused(open_letter):
    path = reverse("letters:sign", kwargs={"slug": open_letter.slug})
    status, _headers, _content = call(
        CHAINED, "POST", path, sign_data("x@example.org"), origin="https://evil.example"
    )
    assert status == 403
    assert not Signature.objects.exists()


def test_every_other_request_keeps_the_full_chain(open_letter):
    sign_path = reverse("letters:sign", kwargs={"slug": open_letter.slug})
    login = reverse("account_login")
    assert not is_public("POST", login)
    assert not is_public("GET", login)
    assert not is_public("POST", "/letters/no-such-letter/sign/extra/")
    assert not is_public("POST", reverse("letters:detail", kwargs={"slug": "x"}))

    # A POST elsewhere without a CSRF token: the full chain's CSRF check refuses it.
    status, _headers, _content = call(
        CHAINED, "POST", login, {"login": "a@example.org", "password": "x"}
    )
    assert status == 403
    # A GET of the sign address is not a sign POST: the full chain, then 405.
    status, headers, _content = call(CHAINED, "GET", sign_path)
    assert status == 405
    assert headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("letters:detail", True),
        ("letters:index", False),
        ("letters:signatories", True),
        ("api_letter", True),
        ("api_letters", False),
    ],
)
def test_a_public_page_takes_the_short_chain_and_answers_as_the_full_site(
    open_letter, name, kwargs
):
    path = reverse(name, kwargs={"slug": open_letter.slug} if kwargs else None)
    assert is_public("GET", path)
    short = call(CHAINED, "GET", path, accept_language="de")
    full = call(wsgi.site, "GET", path, accept_language="de")
    assert short[0] == full[0] == 200
    assert short[1] == full[1]  # every header: ETag, Cache-Control, CSP, Vary...
    assert short[2] == full[2]
    assert "Set-Cookie" not in short[1]
    assert short[1]["Content-Length"] == str(len(short[2]))

    revalidated = call(CHAINED, "GET", path, accept_language="de",
                       if_none_match=short[1]["ETag"])  # fmt: skip
    assert revalidated[0] == 304
    assert revalidated[2] == b""
