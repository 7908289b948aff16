"""The WSGI entry point (`gunicorn config.wsgi`).

Requests whose answer is the same for every visitor go through a shorter
middleware chain than the rest of the site: `settings.PUBLIC_MIDDLEWARE`,
the middleware that shape such an answer (Cache-Control and HEAD, security
headers, CSP, language, Content-Length, framing).  The views mark them with
`letters.http.same_for_everyone`: the sign POST (the same redirect for
everyone; `csrf_exempt`, `letters.http.same_origin` checks Origin and
Sec-Fetch-Site instead) and the GETs of the pages and API answers served by
`letters.http.public_response` (the same cached bytes for everyone).  None
reads a session, user, message or CSRF cookie, so the session,
authentication, messages, CSRF and allauth middleware only cost them time:
about 0.35 ms of the 2-2.5 ms of CPU a sign takes in a worker, measured
in-process.  Everything else, including any other method on those
addresses, goes through the full `settings.MIDDLEWARE`.

HEAD takes the same chain as GET (`same_for_everyone("GET")` marks both)
and gets the GET's status and headers; `config.middleware`, the outermost
of both chains, drops the body, since Django's WSGI handler does not (only
runserver and the test client do; gunicorn drops it too, but logs a warning
for every such answer).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable
from typing import Any

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
site = get_wsgi_application()

from django.conf import settings  # noqa: E402  (after django.setup())
from django.core.handlers.wsgi import WSGIHandler, get_path_info  # noqa: E402
from django.urls import Resolver404, resolve  # noqa: E402


class ChainHandler(WSGIHandler):
    """Django's WSGI handler with its own middleware list."""

    def __init__(self, middleware: list[str]) -> None:
        self.middleware = list(middleware)
        super().__init__()

    def load_middleware(self, is_async: bool = False) -> None:
        # BaseHandler reads settings.MIDDLEWARE; this runs once, at import.
        full = settings.MIDDLEWARE
        settings.MIDDLEWARE = self.middleware
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = full


public = ChainHandler(settings.PUBLIC_MIDDLEWARE)


@functools.lru_cache(maxsize=4096)
def public_methods(path: str) -> frozenset[str]:
    """The methods whose answer at `path` is the same for everyone, as the
    view it resolves to declares (`letters.http.same_for_everyone`)."""
    try:
        view = resolve(path).func
    except Resolver404:
        return frozenset()
    return frozenset(getattr(view, "same_for_everyone", ()))


def is_public(method: str, path: str) -> bool:
    return method in public_methods(path)


def application(
    environ: dict[str, Any], start_response: Callable[..., Any]
) -> Iterable[bytes]:  # fmt: skip
    if is_public(str(environ.get("REQUEST_METHOD")), get_path_info(environ)):
        return public(environ, start_response)
    return site(environ, start_response)
