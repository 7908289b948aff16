from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from config import health
from letters import api
from letters.views import delivery, groups, internal, meta, signing, widget
from letters.views import public as views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="letters:index", permanent=False)),
    # Browsers ask for /favicon.ico on pages that name no icon (the admin's).
    path("favicon.ico", lambda request: redirect(static("img/favicon.svg"), permanent=True)),
    path("robots.txt", meta.robots_txt, name="robots_txt"),
    path("healthz", health.healthz, name="healthz"),  # the load balancer's check
    path("sitemap.xml", meta.sitemap_xml, name="sitemap"),
    path("letters/<slug:slug>/embed/", widget.embed, name="letter_embed"),
    path("letters/", include("letters.urls")),
    path("signing-safely/", views.signing_safely, name="signing_safely"),
    path("groups/<slug:group_slug>/", groups.group_page, name="group_page"),
    path("s/<str:token>/", signing.signature_confirm, name="signature_confirm"),
    path("w/<str:token>/", signing.signature_withdraw, name="signature_withdraw"),
    path("v/<str:token>/", signing.signature_new_version, name="signature_new_version"),
    path("p/<str:token>/", views.letter_preview, name="letter_preview"),
    path("l/<str:token>/", delivery.leadership, name="leadership"),
    path("u/<str:token>/", signing.unsubscribe, name="unsubscribe"),
    path("a/<str:token>/", signing.personal_confirm, name="personal_confirm"),
    path("r/<str:token>/", internal.read_pass, name="read_pass"),
    path("organise/", include("letters.organise_urls")),
    path("api/letters/", api.letters_list, name="api_letters"),
    path("api/letters/<slug:slug>/", api.letter_detail, name="api_letter"),
    path("api/letters/<slug:slug>/counts/", api.letter_counts, name="api_letter_counts"),
    path("api/openapi.json", api.openapi_document, name="api_openapi"),
    re_path(r"^api/(?:[\s\S]*/)?$", api.not_found),  # any other API address: a JSON 404
    path("accounts/", include("accounts.urls")),  # allauth's, with ?lang=
    path("admin/", admin.site.urls),
]

if settings.OUTBOX_ENABLED:
    urlpatterns.append(path("outbox/", include("outbox.urls")))
