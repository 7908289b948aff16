"""The share card a link preview shows (`og:image`): a 1200x630 PNG with
the letter's title, its verified count and the site's name, public and
cached like the page, for public letters only, and telling nothing about
any signer."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from PIL import Image

from letters import services, share_card
from letters.models import Display, Letter
from letters.tests.factories import STOP_THE_CONTRACT, confirmed_signature, open_letter
from letters.views import meta

pytestmark = pytest.mark.django_db


def card_url(letter: Letter) -> str:
    return reverse("letters:card", kwargs={"slug": letter.slug})


def png(body: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(body))
    image.load()
    return image


def test_the_card_is_a_1200x630_png_shared_by_everyone(client: Client, open_letter: Letter) -> None:
    response = client.get(card_url(open_letter))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    image = png(response.content)
    assert (image.format, image.size) == ("PNG", (1200, 630))
    assert response["Cache-Control"].startswith("public, max-age=")
    assert not response.cookies
    again = client.get(card_url(open_letter), HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304
    assert client.post(card_url(open_letter)).status_code == 405


def test_the_german_card_is_its_own_shared_copy(client: Client, open_letter: Letter) -> None:
    """`?lang=de` draws the German title; the choice sets no cookie, so
    the image stays a shared copy."""
    english = client.get(card_url(open_letter))
    german = client.get(card_url(open_letter) + "?lang=de")

    assert german.status_code == 200
    assert german.content != english.content
    assert german["Cache-Control"].startswith("public, max-age=")
    assert not german.cookies


def test_drafts_and_archived_letters_have_no_card(client: Client, organiser: Any) -> None:
    fields = dict(STOP_THE_CONTRACT)
    translations = fields.pop("translations")
    draft = services.letter_create(
        slug="draft",
        data=services.LetterInput(goal=None, allowed_domains=[], **fields),
        owner=organiser,
        translations=translations,
    )
    archived = services.letter_archive(letter=open_letter(owner=organiser), by=organiser)

    assert client.get(card_url(draft)).status_code == 404
    assert client.get(card_url(archived)).status_code == 404
    assert client.get("/letters/no-such-letter/card.png").status_code == 404


def test_the_card_shows_the_count_and_nothing_about_who_signed(
    client: Client, organiser: Any
) -> None:
    """Two letters with the same title and count but different signers
    (named, with teams and comments) have the very same card: nothing of
    a signer is drawn.  One more signature changes it."""
    first = open_letter(owner=organiser, slug="first")
    second = open_letter(owner=organiser, slug="second")
    confirmed_signature(first, name="Pia Public", email="pia@example.org", team="Data")
    confirmed_signature(
        second, name="Zed Other", email="zed@example.org", team="Legal", comment="Finally"
    )

    assert client.get(card_url(first)).content == client.get(card_url(second)).content

    confirmed_signature(first, name="Anna", email="anna@example.org", display=Display.ANONYMOUS)
    time.sleep(settings.COUNT_INTERVAL + 0.1)
    assert client.get(card_url(first)).content != client.get(card_url(second)).content


def test_the_card_is_drawn_once_per_title_count_and_language(
    client: Client, open_letter: Letter, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: list[str] = []
    draw = meta.render_card

    def counting(*, title: str, confirmed: int) -> bytes:
        drawn.append(f"{title}: {confirmed}")
        return draw(title=title, confirmed=confirmed)

    monkeypatch.setattr(meta, "render_card", counting)

    client.get(card_url(open_letter))
    time.sleep(settings.COUNT_INTERVAL + 0.1)  # the public copy is rebuilt ...
    client.get(card_url(open_letter))  # ... the picture is not
    client.get(card_url(open_letter) + "?lang=de")
    confirmed_signature(open_letter, name="Pia Public", email="pia@example.org")
    time.sleep(settings.COUNT_INTERVAL + 0.1)
    client.get(card_url(open_letter))

    assert drawn == [
        "Stop the contract: 0",
        "Beenden Sie den Vertrag: 0",
        "Stop the contract: 1",
    ]


def test_without_the_debian_fonts_the_card_uses_pillow_s_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    missing = Path("/nonexistent/fonts/DejaVuSans.ttf")
    monkeypatch.setattr(share_card, "REGULAR", missing)
    monkeypatch.setattr(share_card, "BOLD", missing)

    image = png(share_card.render_card(title="Stop the contract", confirmed=1234))

    assert image.size == (1200, 630)


def test_a_long_title_wraps_inside_the_card_and_a_too_long_one_ends_in_an_ellipsis() -> None:
    width = share_card.WIDTH - 2 * share_card.MARGIN
    _short_face, short = share_card._fit_title("Stop the contract", width)
    long_title = "Stop the contract with the agency and publish an ethics policy " * 2
    face, lines = share_card._fit_title(long_title.strip(), width)
    endless_face, endless = share_card._fit_title("Unterschriftensammlung " * 60, width)

    assert short == ["Stop the contract"]
    assert 1 < len(lines) <= 5
    assert all(face.getlength(line) <= width for line in lines)
    assert " ".join(lines) == " ".join(long_title.split())  # every word, in order
    assert len(endless) == 5
    assert endless[-1].endswith("…")
    assert all(endless_face.getlength(line) <= width for line in endless)
