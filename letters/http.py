"""Shared public responses: the same bytes for every visitor of a language,
cached between count updates, with Cache-Control, ETag and Last-Modified."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.http import http_date, parse_http_date_safe
from django.utils.translation import get_language

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CachedBody:
    body: bytes
    content_type: str
    etag: str
    last_modified: int
    fresh_until: float


STALE_GRACE = 60  # seconds a stale copy may be served while one request rebuilds it


def _cache_call(method: str, *args: object, **kwargs: object) -> object:
    """The cache, or None when it is down: public pages keep answering."""
    try:
        return getattr(cache, method)(*args, **kwargs)
    except Exception:
        logger.warning("public cache unavailable", exc_info=True)
        return None


def _build(cache_key: str, build: Callable[[], tuple[bytes, str]]) -> CachedBody:
    body, content_type = build()
    now = timezone.now().timestamp()
    fresh = CachedBody(
        body=body,
        content_type=content_type,
        etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"',
        last_modified=int(now),
        fresh_until=now + settings.COUNT_INTERVAL,
    )
    _cache_call("set", cache_key, fresh, timeout=settings.COUNT_INTERVAL + STALE_GRACE)
    return fresh


def public_response(
    request: HttpRequest,
    key: str,
    build: Callable[[], tuple[bytes, str]],
) -> HttpResponse:
    """Serve `build()`'s bytes from the cache, fresh for COUNT_INTERVAL seconds.

    When the copy goes stale, one request (holding a short lock) rebuilds it
    while the others keep getting the stale copy, so a viral letter's page is
    never rebuilt by a crowd at once.  `build` must not read anything
    per-visitor (no session, user, CSRF).
    """
    cache_key = f"public:{get_language()}:{key}"
    cached = _cache_call("get", cache_key)
    if not isinstance(cached, CachedBody):
        cached = _build(cache_key, build)
    elif cached.fresh_until <= timezone.now().timestamp():
        lock = f"{cache_key}:rebuild"
        if _cache_call("add", lock, 1, timeout=30):
            try:
                cached = _build(cache_key, build)
            finally:
                _cache_call("delete", lock)
    response: HttpResponse
    if _not_modified(request, cached):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(cached.body, content_type=cached.content_type)
    response["ETag"] = cached.etag
    response["Last-Modified"] = http_date(cached.last_modified)
    response["Cache-Control"] = (
        f"public, max-age={settings.COUNT_INTERVAL}, "
        f"stale-while-revalidate={max(60, settings.COUNT_INTERVAL * 6)}"
    )
    patch_vary_headers(response, ["Accept-Language"])
    return response


def _not_modified(request: HttpRequest, cached: CachedBody) -> bool:
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return cached.etag in tags or "*" in tags
    since = parse_http_date_safe(request.headers.get("If-Modified-Since", ""))
    return since is not None and cached.last_modified <= since


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or the address the trusted proxies saw."""
    hops = settings.TRUSTED_PROXY_COUNT
    if hops:
        forwarded = [p.strip() for p in request.headers.get("X-Forwarded-For", "").split(",")]
        forwarded = [p for p in forwarded if p]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return str(request.META.get("REMOTE_ADDR", ""))


def same_origin(request: HttpRequest) -> bool:
    """Cross-site request forgery check for forms on cached pages (which carry
    no per-visitor CSRF token): browsers send Origin and Sec-Fetch-Site on every
    POST; refuse any that names another site."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site not in {"same-origin", "none"}:
        return False
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    if origin == "null":
        return False
    allowed = {request.build_absolute_uri("/").rstrip("/"), settings.SITE_URL}
    allowed.update(settings.CSRF_TRUSTED_ORIGINS)
    return origin.rstrip("/") in allowed


def language_from_query(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Honour `?lang=de` (the language switcher) over Accept-Language.  The
    language is part of the URL, so shared caches keep one copy per language
    and no cookie is needed."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        lang = request.GET.get("lang", "")
        if lang in dict(settings.LANGUAGES):
            translation.activate(lang)
            request.LANGUAGE_CODE = lang
        return view(request, *args, **kwargs)

    return wrapped
