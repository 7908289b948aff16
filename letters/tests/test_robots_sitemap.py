"""robots.txt and sitemap.xml as a crawler reads them: public pages are
open, organisers' pages and every token address are not; the sitemap lists
the public letters only (never a draft or an archived letter), each with
when its content last changed and its address in every language."""

from __future__ import annotations

import urllib.robotparser
import xml.parsers.expat
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils.http import http_date

from letters import services
from letters.links import SIGNER_ROUTES, signer_url
from letters.models import EventKind, Letter
from letters.tests.factories import (
    STOP_THE_CONTRACT,
    deliver,
    open_letter,
    pending_signature,
)

pytestmark = pytest.mark.django_db

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"
SITE = settings.SITE_URL


def robots(client: Client) -> urllib.robotparser.RobotFileParser:
    response = client.get("/robots.txt")
    assert response.status_code == 200
    parser = urllib.robotparser.RobotFileParser()
    parser.parse(response.content.decode().splitlines())
    return parser


def test_robots_txt_opens_the_public_pages_and_closes_the_private_ones(
    client: Client, open_letter: Letter
) -> None:
    parser = robots(client)
    slug = open_letter.slug
    public = [
        "/letters/",
        f"/letters/{slug}/",
        f"/letters/{slug}/?lang=de",
        f"/letters/{slug}/signatories/",
        f"/letters/{slug}/feed/",
        f"/letters/{slug}/card.png",
        "/signing-safely/",
        "/sitemap.xml",
    ]
    signature = pending_signature(open_letter)
    tokens = [signer_url(signature, purpose).removeprefix(SITE) for purpose in SIGNER_ROUTES]
    private = [
        "/organise/",
        "/organise/new/",
        "/accounts/login/",
        "/admin/",
        "/outbox/",
        reverse("leadership", kwargs={"token": "t" * 43}),
        reverse("letter_preview", kwargs={"token": "t" * 32}),
        *tokens,
    ]

    assert [p for p in public if not parser.can_fetch("*", SITE + p)] == []
    assert [p for p in private if parser.can_fetch("*", SITE + p)] == []
    assert parser.site_maps() == [f"{SITE}/sitemap.xml"]


def test_robots_txt_keeps_crawlers_off_the_sign_steps(client: Client) -> None:
    """Google and Bing read `*` in a path (RFC 9309 leaves it to them)."""
    lines = client.get("/robots.txt").content.decode().splitlines()

    assert "Disallow: /letters/*/sign/" in lines
    assert "Disallow: /letters/*/check-inbox/" in lines
    assert "Disallow: /letters/" not in lines
    assert "Disallow: /" not in lines


def test_robots_txt_is_a_shared_copy(client: Client) -> None:
    response = client.get("/robots.txt")

    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Cache-Control"].startswith("public, max-age=")
    assert client.get("/robots.txt", HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    assert client.post("/robots.txt").status_code == 405


@pytest.fixture
def letters_in_every_state(organiser: Any) -> dict[str, Letter]:
    """An open, a closed, a delivered letter; a draft and an archived one."""
    found = {"open": open_letter(owner=organiser, slug="open-one")}
    closed = open_letter(owner=organiser, slug="closed-one")
    found["closed"] = services.letter_close(letter=closed, by=organiser)
    delivered = open_letter(owner=organiser, slug="delivered-one")
    deliver(delivered, organiser)
    found["delivered"] = delivered
    fields = dict(STOP_THE_CONTRACT)
    translations = fields.pop("translations")
    found["draft"] = services.letter_create(
        slug="draft-one",
        data=services.LetterInput(goal=None, allowed_domains=[], **fields),
        owner=organiser,
        translations=translations,
    )
    archived = open_letter(owner=organiser, slug="archived-one")
    found["archived"] = services.letter_archive(letter=archived, by=organiser)
    return found


def sitemap(client: Client) -> ET.Element:
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    xml.parsers.expat.ParserCreate(namespace_separator=" ").Parse(response.content, True)
    return ET.fromstring(response.content)  # noqa: S314 -- our own document


def urls(root: ET.Element) -> dict[str, ET.Element]:
    return {u.findtext(SITEMAP + "loc") or "": u for u in root.findall(SITEMAP + "url")}


def test_the_sitemap_lists_the_public_letters_only(
    client: Client, letters_in_every_state: dict[str, Letter]
) -> None:
    root = sitemap(client)
    listed = urls(root)
    every_href = {link.get("href") for link in root.iter(XHTML + "link")}

    assert root.tag == SITEMAP + "urlset"
    for state in ("open", "closed", "delivered"):
        page = SITE + letters_in_every_state[state].get_absolute_url()
        assert page in listed, state
        assert f"{page}?lang=de" in listed, state
    for state in ("draft", "archived"):
        slug = letters_in_every_state[state].slug
        assert not [u for u in [*listed, *every_href] if u and slug in u], state
    assert f"{SITE}/letters/" in listed
    assert all(loc.startswith(SITE + "/") for loc in listed)


def test_each_address_names_its_language_versions_and_when_it_changed(
    client: Client, letters_in_every_state: dict[str, Letter]
) -> None:
    closed = letters_in_every_state["closed"]
    page = SITE + closed.get_absolute_url()
    closed_at = closed.events.get(kind=EventKind.CLOSED).created_at

    listed = urls(sitemap(client))

    for loc in (page, f"{page}?lang=de"):
        entry = listed[loc]
        alternates = {
            link.get("hreflang"): link.get("href")
            for link in entry.findall(XHTML + "link")
            if link.get("rel") == "alternate"
        }
        assert alternates == {"en": page, "de": f"{page}?lang=de", "x-default": page}
        lastmod = entry.findtext(SITEMAP + "lastmod") or ""
        assert lastmod == closed_at.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def test_the_sitemap_is_one_query_whatever_the_number_of_letters(
    client: Client,
    letters_in_every_state: dict[str, Letter],
    django_assert_max_num_queries: Any,
) -> None:
    with django_assert_max_num_queries(1):
        first = client.get("/sitemap.xml")
    with django_assert_max_num_queries(0):
        again = client.get("/sitemap.xml", HTTP_IF_NONE_MATCH=first["ETag"])

    assert again.status_code == 304
    assert first["Cache-Control"].startswith("public, max-age=")
    newest = max(
        letter.events.order_by("-created_at").first().created_at  # type: ignore[union-attr]
        for state, letter in letters_in_every_state.items()
        if state not in ("draft", "archived")
    )
    assert first["Last-Modified"] == http_date(newest.timestamp())
