"""Shared public responses: the same bytes for every visitor of a language,
cached between count updates, with Cache-Control, ETag and Last-Modified."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseNotModified
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.http import http_date, parse_http_date_safe
from django.utils.translation import get_language

from letters.replica import reads_from_replica
from speed.memory import LocalTier

_View = TypeVar("_View", bound=Callable[..., Any])

# What a copy's `build` returns: the body and its content type, and when what
# it shows last changed, where the builder knows (see `_last_modified`).
Built = tuple[bytes, str] | tuple[bytes, str, datetime | None]

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


CHANGES_KEPT = 30 * 24 * 3600  # seconds a copy's (ETag, Last-Modified) is remembered


def _last_modified(cache_key: str, etag: str, changed_at: datetime | None, now: float) -> int:
    """Last-Modified of a copy just built: when what it shows last changed.

    Worked out once per build, never per request.  The builder says when
    the content it read last changed (`changed_at`: the letter's last
    event, version or publication, its count's last change), where it
    knows.  What no row dates (an organiser's edit of the goal, a name
    hidden, the "closes in" text) is caught by comparing bytes: the copy's
    ETag and Last-Modified are remembered (CHANGES_KEPT) beside it, so

    - the same bytes as last time keep the Last-Modified they had;
    - other bytes take `changed_at` if it is later than the previous
      build (it explains the change), else the build time (the change
      happened since the previous build, at the latest now);

    and a changed copy always gets a later Last-Modified than any copy
    before it, so `If-Modified-Since` with an earlier copy's date is a 200.
    With nothing remembered (first build, cache down): `changed_at`, or
    the build time."""
    memo_key = f"{cache_key}:changed"
    known = _cache_call("get", memo_key)
    stamp = int(changed_at.timestamp()) if changed_at is not None else None
    if isinstance(known, tuple) and len(known) == 3:
        known_etag, known_modified, known_built = known
        if known_etag == etag:
            if now - known_built > CHANGES_KEPT / 30:  # keep it while the copy is read
                _cache_call("set", memo_key, (etag, known_modified, int(now)), timeout=CHANGES_KEPT)
            return int(known_modified)
        # A date after the previous build explains the change; else it
        # happened since, at the latest now.
        explained = stamp is not None and stamp > known_built
        modified = min(stamp, int(now)) if explained and stamp is not None else int(now)
        modified = max(modified, int(known_modified) + 1)
    else:
        modified = min(stamp, int(now)) if stamp is not None else int(now)
    _cache_call("set", memo_key, (etag, modified, int(now)), timeout=CHANGES_KEPT)
    return modified


def _build(cache_key: str, build: Callable[[], Built]) -> CachedBody:
    built = build()
    body, content_type = built[0], built[1]
    changed_at = built[2] if len(built) == 3 else None
    now = time.time()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    fresh = CachedBody(
        body=body,
        content_type=content_type,
        etag=etag,
        last_modified=_last_modified(cache_key, etag, changed_at, now),
        fresh_until=now + settings.COUNT_INTERVAL,
    )
    _cache_call("set", cache_key, fresh, timeout=settings.COUNT_INTERVAL + STALE_GRACE)
    return fresh


def _shared(cache_key: str, build: Callable[[], Built]) -> CachedBody:
    """The shared tier: its copy, rebuilt by one request (holding a short
    lock) when stale while the others keep getting the stale copy."""
    cached = _cache_call("get", cache_key)
    if not isinstance(cached, CachedBody):
        return _build(cache_key, build)
    if cached.fresh_until <= time.time():
        lock = f"{cache_key}:rebuild"
        # The lock expires after COUNT_INTERVAL (at least 2 s): if the
        # process holding it dies mid-build, every node serves the stale
        # copy at most that much longer, so the public staleness bound
        # (letters/replica.py) stretches by one COUNT_INTERVAL at worst,
        # never by a fixed half-minute.  A build slower than that is at
        # worst done twice.
        if _cache_call("add", lock, 1, timeout=max(2, settings.COUNT_INTERVAL)):
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
    build: Callable[[], Built],
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
    # The language comes from ?lang=, the language cookie or Accept-Language
    # (`language_from_query`): a new response, nothing to merge with.
    response["Vary"] = "Accept-Language, Cookie"
    return response


def public_page(
    request: HttpRequest,
    key: str,
    template: str,
    context: Callable[[], dict[str, Any]],
    *,
    from_replica: bool = False,
) -> HttpResponse:
    """`public_response` for an HTML page: `template` rendered with what
    `context()` returns, built only when the cached copy is stale.

    The context may say when what it shows last changed
    (`content_changed_at`, for Last-Modified); the template gets the
    page's path (`page_path`: the same for every visitor of this copy) for
    its canonical address and language alternates (base.html).
    `from_replica`: the build (context and rendering) reads from the
    replica where one is fresh (`letters.replica.reads_from_replica`)."""
    build = page_build(request, template, context)
    return public_response(request, key, reads_from_replica(build) if from_replica else build)


def page_build(
    request: HttpRequest, template: str, context: Callable[[], dict[str, Any]]
) -> Callable[[], Built]:
    """`public_page`'s builder: for a view whose one cached copy may be one
    of two pages (a letter's, or the notice that it was taken down)."""

    def build() -> Built:
        values = {"page_path": request.path, **context()}
        body = render_to_string(template, values).encode()
        return body, "text/html; charset=utf-8", values.get("content_changed_at")

    return build


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


def query_language(request: HttpRequest) -> str | None:
    """The language `?lang=` names, if it is one of ours, made the active one."""
    # No query string (nearly every request): no QueryDict to parse.
    lang = request.GET.get("lang", "") if request.META.get("QUERY_STRING") else ""
    if lang not in dict(settings.LANGUAGES):
        return None
    translation.activate(lang)
    request.LANGUAGE_CODE = lang
    return lang


def remember_language(request: HttpRequest, response: HttpResponseBase, lang: str) -> None:
    """Keep `lang` for the rest of the visit: Django's language cookie, which
    LocaleMiddleware (in both middleware chains) reads on every later request,
    organiser and account pages included.  A session cookie (unless
    LANGUAGE_COOKIE_AGE says otherwise), SameSite=Lax, HttpOnly, Secure
    wherever the session cookie is.

    Set only when the visitor's cookie says otherwise, and then the answer is
    `private, no-store`: an answer that sets a cookie is never a shared copy
    (the copy in the cache is the body alone, never its headers).  The next
    answer, with the cookie, is the shared one again."""
    if request.method not in ("GET", "HEAD"):
        return
    if request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) == lang:
        return
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        lang,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE or settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE or "Lax",
    )
    response["Cache-Control"] = "private, no-store"
    patch_vary_headers(response, ("Cookie",))


def language_from_query(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Honour `?lang=de` (the language switcher) over the language cookie and
    Accept-Language, and keep the choice for the visit (`remember_language`).

    Without `?lang=`, LocaleMiddleware chose from the cookie, then
    Accept-Language: so every page whose language it chose says
    `Vary: Accept-Language, Cookie` (`public_response`), and the shared
    copies are one per language (the language is in the cache key)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        lang = query_language(request)
        response = view(request, *args, **kwargs)
        if lang is not None:
            remember_language(request, response, lang)
        return response

    return wrapped
