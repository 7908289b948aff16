"""The ceiling: one minimal Django view behind the site's own settings and
middleware (sessions, CSRF, locale, CSP, allauth...), served by the same
gunicorn settings.  Used as ROOT_URLCONF by bench.baseline_settings."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path


def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"Hello, world\n", content_type="text/plain; charset=utf-8")


urlpatterns = [path("", hello)]
