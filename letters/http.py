"""Shared public responses: the same bytes for every visitor of a language,
cached between count updates, with Cache-Control, ETag and Last-Modified."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.http import http_date, parse_http_date_safe
from django.utils.translation import get_language

from speed.memory import LocalTier

_View = TypeVar("_View", bound=Callable[..., Any])

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CachedBody:
    """One shared copy, as stored in the cache (pickled)."""

    body: bytes
    content_type: str
    etag: str
    last_modified: int
    fresh_until: float


STALE_GRACE = 60  # seconds a stale copy may be served while one request rebuilds it

# The process-local tier (speed machinery: docs/speed.md, speed/memory.py).
#
# Every worker keeps the copies it last served in a small LRU in memory and
# answers from it, with no network I/O, until the copy's own `fresh_until`
# (its build time + COUNT_INTERVAL); then it asks the shared tier (the cache,
# Redis in production) as before, with the same stale-while-rebuild lock.
#
# Invalidation: nothing deletes public copies today; a change by an organiser
# (edit, new version, status, moderation, delivery, response) reaches the
# public pages when the shared copy is rebuilt, at most COUNT_INTERVAL after
# it was built.  A local copy never outlives the shared copy's freshness, so
# the bound is the same in every process and no per-request "generation"
# lookup (a network round trip, the very cost this tier removes) is needed.
# If explicit invalidation is ever added, it must delete the shared key and
# be paired with a generation in the key; `local_tier_clear` empties this
# process's tier (tests).
#
# With the cache down every process rebuilds at most once per COUNT_INTERVAL
# and serves its own copy in between.
LOCAL_MAX_ENTRIES = 256
LOCAL_MAX_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class LocalCopy:
    """A shared copy with its response headers worked out once."""

    cached: CachedBody
    last_modified: str
    cache_control: str


def new_local_tier(
    max_entries: int = LOCAL_MAX_ENTRIES, max_bytes: int = LOCAL_MAX_BYTES
) -> LocalTier[LocalCopy]:
    return LocalTier(max_entries, max_bytes, size=lambda copy: len(copy.cached.body))


_local = new_local_tier()


def local_tier_clear() -> None:
    """Forget this process's copies (the shared tier is untouched)."""
    _local.clear()


def _cache_call(method: str, *args: object, **kwargs: object) -> object:
    """The cache, or None when it is down: public pages keep answering."""
    try:
        return getattr(cache, method)(*args, **kwargs)
    except Exception:
        logger.warning("public cache unavailable", exc_info=True)
        return None


def _build(cache_key: str, build: Callable[[], tuple[bytes, str]]) -> CachedBody:
    body, content_type = build()
    now = time.time()
    fresh = CachedBody(
        body=body,
        content_type=content_type,
        etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"',
        last_modified=int(now),
        fresh_until=now + settings.COUNT_INTERVAL,
    )
    _cache_call("set", cache_key, fresh, timeout=settings.COUNT_INTERVAL + STALE_GRACE)
    return fresh


def _shared(cache_key: str, build: Callable[[], tuple[bytes, str]]) -> CachedBody:
    """The shared tier: its copy, rebuilt by one request (holding a short
    lock) when stale while the others keep getting the stale copy."""
    cached = _cache_call("get", cache_key)
    if not isinstance(cached, CachedBody):
        return _build(cache_key, build)
    if cached.fresh_until <= time.time():
        lock = f"{cache_key}:rebuild"
        if _cache_call("add", lock, 1, timeout=30):
            try:
                return _build(cache_key, build)
            finally:
                _cache_call("delete", lock)
    return cached


def _local_key(cache_key: str) -> str:
    """The shared tier's full key (prefix and version included), so that
    copies of differently configured caches never mix."""
    try:
        return cache.make_key(cache_key)
    except Exception:  # noqa: BLE001 -- a misconfigured cache: the plain key
        return cache_key


def public_response(
    request: HttpRequest,
    key: str,
    build: Callable[[], tuple[bytes, str]],
) -> HttpResponse:
    """Serve `build()`'s bytes from the cache, fresh for COUNT_INTERVAL seconds.

    First from this process's memory (no I/O, no query: a 304 costs no more
    than comparing the ETag), then from the shared cache.  When the shared
    copy goes stale, one request (holding a short lock) rebuilds it while the
    others keep getting the stale copy, so a viral letter's page is never
    rebuilt by a crowd at once.  `build` must not read anything per-visitor
    (no session, user, CSRF).
    """
    # The active language (LocaleMiddleware or `language_from_query` set
    # both); the attribute is cheaper than asking the translation machinery.
    language = getattr(request, "LANGUAGE_CODE", None) or get_language()
    cache_key = f"public:{language}:{key}"
    local_key = _local_key(cache_key)
    copy = _local.get(local_key) if settings.SPEED["PUBLIC_PAGE_LOCAL_TIER"] else None
    if copy is None or copy.cached.fresh_until <= time.time():
        cached = _shared(cache_key, build)
        if copy is None or copy.cached is not cached:
            copy = LocalCopy(
                cached=cached,
                last_modified=http_date(cached.last_modified),
                cache_control=(
                    f"public, max-age={settings.COUNT_INTERVAL}, "
                    f"stale-while-revalidate={max(60, settings.COUNT_INTERVAL * 6)}"
                ),
            )
            _local.put(local_key, copy)
    cached = copy.cached
    response: HttpResponse
    if _not_modified(request, cached):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(cached.body, content_type=cached.content_type)
    response["ETag"] = cached.etag
    response["Last-Modified"] = copy.last_modified
    response["Cache-Control"] = copy.cache_control
    response["Vary"] = "Accept-Language"  # a new response: nothing to merge with
    return response


def public_page(
    request: HttpRequest, key: str, template: str, context: Callable[[], dict[str, Any]]
) -> HttpResponse:
    """`public_response` for an HTML page: `template` rendered with what
    `context()` returns, built only when the cached copy is stale."""

    def build() -> tuple[bytes, str]:
        return render_to_string(template, context()).encode(), "text/html; charset=utf-8"

    return public_response(request, key, build)


def _not_modified(request: HttpRequest, cached: CachedBody) -> bool:
    # META, not request.headers: building the headers mapping costs more
    # than the rest of a 304 from the memory tier.
    if_none_match = request.META.get("HTTP_IF_NONE_MATCH")
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return cached.etag in tags or "*" in tags
    since = parse_http_date_safe(request.META.get("HTTP_IF_MODIFIED_SINCE", ""))
    return since is not None and cached.last_modified <= since


def same_for_everyone(*methods: str) -> Callable[[_View], _View]:
    """Mark a view whose answer to `methods` is the same for every visitor:
    it reads no session, user, message or CSRF cookie (a `public_response`
    page, the sign POST).  config/wsgi.py serves those requests through the
    shorter PUBLIC_MIDDLEWARE chain.  Put it outermost: the mark is read
    from the view the URL resolves to.

    HEAD is GET without the body (config.middleware drops it, in both
    chains), so a GET that is the same for everyone marks HEAD too; the
    view must accept it (`require_safe`)."""
    marked = frozenset(methods) | ({"HEAD"} if "GET" in methods else set())

    def mark(view: _View) -> _View:
        view.same_for_everyone = marked  # type: ignore[attr-defined]
        return view

    return mark


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
        # No query string (nearly every request): no QueryDict to parse.
        lang = request.GET.get("lang", "") if request.META.get("QUERY_STRING") else ""
        if lang in dict(settings.LANGUAGES):
            translation.activate(lang)
            request.LANGUAGE_CODE = lang
        return view(request, *args, **kwargs)

    return wrapped
