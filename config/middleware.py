"""Site-wide answers no view has to remember (DESIGN §2 rule 11).

`private_by_default` is the outermost middleware of both chains
(`settings.MIDDLEWARE` and `settings.PUBLIC_MIDDLEWARE`, config/wsgi.py), so
it sees every answer: views', error handlers' (404, 403, 500), redirects'
(a redirect to a token address carries the token in Location), static
files' and the inner middleware's own (SSL redirect, APPEND_SLASH).

- Cache-Control: an answer that says `public` (the shared copies of
  `letters.http.public_response`, WhiteNoise's static files) keeps it.
  Every other answer is `private, no-store`: one that set nothing gets
  exactly that, one that set something else (`max-age=...`, Django's
  `never_cache`) gets `private` and `no-store` added.  A new view is private
  unless it says `public`, which only `public_response` does.
- HEAD: the answer is the GET's status and headers without the body.
  Django's WSGI handler sends whatever body a view made (only runserver and
  the test client strip it; gunicorn drops it with a warning per request),
  so it is dropped here, keeping the GET's Content-Length (set by
  CommonMiddleware, which runs inside this one) or, for a stream, none.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.utils.cache import patch_cache_control

PRIVATE = "private, no-store"

Handler = Callable[[HttpRequest], HttpResponseBase]


def private_by_default(get_response: Handler) -> Handler:
    def middleware(request: HttpRequest) -> HttpResponseBase:
        response = get_response(request)
        keep_public_or_make_private(response)
        if request.method == "HEAD":
            drop_body(response)
        return response

    return middleware


def keep_public_or_make_private(response: HttpResponseBase) -> None:
    value = response.headers.get("Cache-Control")
    if value is None:
        response.headers["Cache-Control"] = PRIVATE
        return
    if value.startswith("public,"):  # public_response's, on the hot path
        return
    directives = {d.split("=", 1)[0].strip().lower() for d in value.split(",")}
    if "public" in directives or {"private", "no-store"} <= directives:
        return
    patch_cache_control(response, private=True, no_store=True)


def drop_body(response: HttpResponseBase) -> None:
    """The GET's answer without its body (RFC 9110 §9.3.2)."""
    if isinstance(response, StreamingHttpResponse):
        # The stream is never read; response.close() closes it (Django
        # registered its close() when the response was made).
        response.streaming_content = ()
    elif isinstance(response, HttpResponse) and response.content:
        if "Content-Length" not in response.headers:
            response.headers["Content-Length"] = str(len(response.content))
        response.content = b""
