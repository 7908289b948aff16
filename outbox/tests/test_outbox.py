"""The local outbox: with DEBUG on and no EMAIL_URL, sent email is readable in
the site with clickable links."""

from __future__ import annotations

import pytest
from django.core.mail import EmailMultiAlternatives
from django.test import override_settings
from django.urls import include, path

from config import urls as project_urls
from outbox.backends import OutboxBackend
from outbox.models import OutboxMessage

pytestmark = pytest.mark.django_db

urlpatterns = [*project_urls.urlpatterns, path("outbox/", include("outbox.urls"))]


def test_outbox_backend_keeps_text_and_html():
    message = EmailMultiAlternatives(
        "Please confirm",
        "Open http://testserver/s/abc/ now",
        "from@example.org",
        ["to@example.org"],
    )
    message.attach_alternative("<p>html</p>", "text/html")

    assert OutboxBackend().send_messages([message]) == 1

    stored = OutboxMessage.objects.get()
    assert (stored.to, stored.subject, stored.html) == (
        "to@example.org",
        "Please confirm",
        "<p>html</p>",
    )


@override_settings(ROOT_URLCONF=__name__)
def test_outbox_page_shows_the_email_with_a_clickable_link(client):
    OutboxMessage.objects.create(
        from_email="f@example.org",
        to="t@example.org",
        subject="Confirm",
        body="Go http://testserver/s/abc/",
    )
    index = client.get("/outbox/")
    detail = client.get(f"/outbox/{OutboxMessage.objects.get().pk}/")

    assert "Confirm" in index.content.decode()
    assert '<a href="http://testserver/s/abc/"' in detail.content.decode()
    assert client.post("/outbox/").status_code == 405


def test_outbox_is_not_served_in_production(client):
    assert client.get("/outbox/").status_code == 404
