"""A shorter middleware chain for answers that are the same for everyone.

Requests whose answer is the same for every visitor go through
`settings.PUBLIC_MIDDLEWARE`, the middleware that shape such an answer
(Cache-Control and HEAD, security headers, CSP, language, Content-Length,
framing).  The views mark them with `letters.http.same_for_everyone`: the
sign POST (the same redirect for everyone; `csrf_exempt`,
`letters.http.same_origin` checks Origin and Sec-Fetch-Site instead) and the
GETs of the pages and API answers served by `letters.http.public_response`
(the same cached bytes for everyone).  None reads a session, user, message
or CSRF cookie, so the session, authentication, messages, CSRF and allauth
middleware only cost them time (gain: docs/speed.md).  Everything else,
including any other method on those addresses, goes through the full
`settings.MIDDLEWARE`.  WSGI only (`config.wsgi`); PUBLIC_MIDDLEWARE_CHAIN=
False sends everything through the full chain.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler, get_path_info
from django.urls import Resolver404, resolve

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


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


class WithPublicChain:
    """`site`, with requests that are the same for everyone sent through
    PUBLIC_MIDDLEWARE instead."""

    def __init__(self, site: WsgiApp) -> None:
        self.site = site
        self.public = ChainHandler(settings.PUBLIC_MIDDLEWARE)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:  # fmt: skip
        if is_public(str(environ.get("REQUEST_METHOD")), get_path_info(environ)):
            return self.public(environ, start_response)
        return self.site(environ, start_response)


def with_public_chain(site: WsgiApp) -> WsgiApp:
    """The WSGI application: `site` behind the public chain, or `site`
    itself when PUBLIC_MIDDLEWARE_CHAIN is off."""
    return WithPublicChain(site) if settings.SPEED["PUBLIC_MIDDLEWARE_CHAIN"] else site
