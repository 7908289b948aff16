"""What a link preview (Open Graph, Twitter cards) and a search engine read
in the <head> of a public page: its description, canonical address and
language alternates, title, image; and what pages behind a token never say."""

from __future__ import annotations

import io
from html.parser import HTMLParser
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from PIL import Image

from letters import services
from letters.models import Letter
from letters.tests.factories import STOP_THE_CONTRACT, open_letter, pending_signature
from letters.tokens import Purpose, make_token

pytestmark = pytest.mark.django_db

SITE = settings.SITE_URL


class Head(HTMLParser):
    """The <meta> and <link> elements of a page's <head>."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.metas: list[dict[str, str]] = []
        self.links: list[dict[str, str]] = []
        self._in_head = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "head":
            self._in_head = True
        elif self._in_head and tag == "meta":
            self.metas.append(values)
        elif self._in_head and tag == "link":
            self.links.append(values)

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self._in_head = False

    def meta(self, key: str) -> list[str]:
        """The content of every <meta property=key> or <meta name=key>."""
        return [
            m.get("content", "") for m in self.metas if key in (m.get("property"), m.get("name"))
        ]

    def one(self, key: str) -> str:
        (value,) = self.meta(key)
        return value

    def link(self, rel: str) -> list[dict[str, str]]:
        return [link for link in self.links if link.get("rel") == rel]

    def alternates(self) -> dict[str, str]:
        return {
            link["hreflang"]: link["href"] for link in self.link("alternate") if "hreflang" in link
        }


def head(client: Client, url: str) -> Head:
    response = client.get(url)
    assert response.status_code == 200
    return Head(response.content.decode())


def test_a_letter_page_tells_link_previews_what_it_is(client: Client, open_letter: Letter) -> None:
    page = SITE + open_letter.get_absolute_url()

    found = head(client, open_letter.get_absolute_url())

    opening = "Dear CEO, We, the undersigned employees, ask you to act."
    assert found.one("description") == opening
    assert [link["href"] for link in found.link("canonical")] == [page]
    assert found.alternates() == {"en": page, "de": f"{page}?lang=de", "x-default": page}
    assert found.one("og:url") == page
    assert found.one("og:type") == "article"
    assert found.one("og:title") == "Stop the contract"
    assert found.one("og:description") == opening
    assert found.one("og:site_name") == "Undersigned"
    assert found.one("og:locale") == "en_GB"
    assert found.meta("og:locale:alternate") == ["de_DE"]
    assert found.one("twitter:card") == "summary_large_image"
    assert found.one("og:image") == f"{page}card.png"
    assert (found.one("og:image:width"), found.one("og:image:height")) == ("1200", "630")
    assert found.one("og:image:alt") == "Stop the contract · 0 verified signatures"


def test_the_image_a_preview_names_is_there(client: Client, open_letter: Letter) -> None:
    image_url = head(client, open_letter.get_absolute_url()).one("og:image")

    response = client.get(image_url.removeprefix(SITE))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert (image.format, image.size) == ("PNG", (1200, 630))


def test_the_german_page_names_itself_its_language_and_its_german_card(
    client: Client, open_letter: Letter
) -> None:
    page = SITE + open_letter.get_absolute_url()

    found = head(client, open_letter.get_absolute_url() + "?lang=de")

    assert [link["href"] for link in found.link("canonical")] == [f"{page}?lang=de"]
    assert found.alternates() == {"en": page, "de": f"{page}?lang=de", "x-default": page}
    assert found.one("og:url") == f"{page}?lang=de"
    assert found.one("og:locale") == "de_DE"
    assert found.meta("og:locale:alternate") == ["en_GB"]
    assert found.one("og:title") == "Beenden Sie den Vertrag"
    assert found.one("description") == "Sehr geehrte Geschäftsführung, wir bitten Sie zu handeln."
    assert found.one("og:image") == f"{page}card.png?lang=de"


def test_the_description_is_the_opening_as_plain_text_cut_at_a_word(
    client: Client, organiser: Any
) -> None:
    body = "Fish & chips for <b>all</b>, **now** and <script>alert(1)</script>\n\n" + (
        "We ask for fair pay in every team. " * 20
    )
    letter = open_letter(owner=organiser, slug="fish", body=body, translations=[])

    description = head(client, letter.get_absolute_url()).one("description")

    assert description.startswith("Fish & chips for all, now and")
    assert "<" not in description
    assert "alert" not in description  # the sanitiser drops scripts
    assert len(description) <= 200
    assert description.endswith("…")
    assert not description.endswith(" …")


def test_other_public_pages_have_sensible_defaults(client: Client, open_letter: Letter) -> None:
    for path in ("/letters/", "/signing-safely/", open_letter.get_absolute_url() + "signatories/"):
        found = head(client, path)
        assert [link["href"] for link in found.link("canonical")] == [SITE + path], path
        assert found.alternates()["de"] == f"{SITE}{path}?lang=de"
        assert found.one("description").startswith("Undersigned: open letters")
        assert found.one("og:type") == "website"
        assert found.one("og:url") == SITE + path
        assert found.one("twitter:card") == "summary"


def test_a_page_behind_a_token_names_no_address_of_its_own(
    client: Client, open_letter: Letter
) -> None:
    """A canonical address or og:url on an emailed link's page would hand
    the token to whatever reads the page's metadata."""
    signature = pending_signature(open_letter)
    token = make_token(signature, Purpose.CONFIRM)

    found = head(client, f"/s/{token}/")

    assert found.link("canonical") == []
    assert found.alternates() == {}
    assert found.meta("og:url") == []


def test_a_draft_s_review_copy_is_not_indexed_and_offers_no_card(
    client: Client, organiser: Any
) -> None:
    fields = dict(STOP_THE_CONTRACT)
    translations = fields.pop("translations")
    draft = services.letter_create(
        slug="draft",
        data=services.LetterInput(goal=None, allowed_domains=[], **fields),
        owner=organiser,
        translations=translations,
    )
    token = services.letter_preview_link_create(letter=draft)

    found = head(client, f"/p/{token}/")

    assert found.one("robots") == "noindex"
    assert found.link("canonical") == []
    assert found.meta("og:image") == []
    assert found.meta("og:url") == []
