"""The WSGI entry point (`gunicorn config.wsgi`).

Sign POSTs (`letters:sign`) go through a shorter middleware chain than the
rest of the site: `settings.SIGN_MIDDLEWARE`, the middleware that shape that
answer (security headers, CSP, language, framing).  The sign view answers
the same to every visitor and reads no session, user, message or CSRF
cookie (it is `csrf_exempt`: `letters.http.same_origin` checks Origin and
Sec-Fetch-Site instead), so the session, authentication, messages, CSRF and
allauth middleware only cost it time: about 0.35 ms of the 2-2.5 ms of CPU
a sign takes in a worker, measured in-process.  Everything else, including
a GET of the sign address, goes through the full `settings.MIDDLEWARE`.
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

SIGN_VIEW = "letters:sign"


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


sign = ChainHandler(settings.SIGN_MIDDLEWARE)


@functools.lru_cache(maxsize=1024)
def is_sign_path(path: str) -> bool:
    try:
        return resolve(path).view_name == SIGN_VIEW
    except Resolver404:
        return False


def application(
    environ: dict[str, Any], start_response: Callable[..., Any]
) -> Iterable[bytes]:  # fmt: skip
    if environ.get("REQUEST_METHOD") == "POST" and is_sign_path(get_path_info(environ)):
        return sign(environ, start_response)
    return site(environ, start_response)
