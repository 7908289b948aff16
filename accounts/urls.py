"""allauth's pages, each honouring `?lang=` like the site's own pages
(`letters.http.language_from_query`: the language switcher's links, kept
for the visit), so an account page can be asked for in German."""

from __future__ import annotations

from typing import Any

from allauth import urls as allauth_urls
from django.urls import URLPattern, URLResolver

from letters.http import language_from_query


def _with_language(patterns: list[Any]) -> list[URLPattern | URLResolver]:
    wrapped: list[URLPattern | URLResolver] = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            wrapped.append(
                URLResolver(
                    entry.pattern,
                    _with_language(entry.url_patterns),
                    entry.default_kwargs,
                    entry.app_name,
                    entry.namespace,
                )
            )
        else:
            wrapped.append(
                URLPattern(
                    entry.pattern,
                    language_from_query(entry.callback),
                    entry.default_args,
                    entry.name,
                )
            )
    return wrapped


urlpatterns = _with_language(allauth_urls.urlpatterns)
