"""What "archived" means, surface by surface.

The rule (docs/threat-model.md): an archived letter is withdrawn from view.
Every surface that shows it, or acts on it, answers exactly like an unknown
letter or an invalid link (same status, same bytes) and changes nothing:
the public page, signatories, check-inbox, feed, widget, API and lists, the
sign form, leadership links (`/l/`), review links (`/p/`), and its signers'
confirm (`/s/`) and new-version (`/v/`) links.  What keeps working: a
signer's withdraw (`/w/`) and unsubscribe (`/u/`) links, because signers
must always be able to erase their data, and the organiser area, for its
organisers (who may erase identities).

Each surface reads its object in one place, and the rule lives there:
`selectors.letter_public_get` (PUBLIC_STATUSES), `selectors.leadership_link_get`,
`selectors.letter_by_preview_token`, `letters.tokens.read_token` (by
purpose).  Public pages are cached copies: the archive reaches them within
COUNT_INTERVAL, like every other change (letters/http.py); the tests move
the clock past that.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from accounts.models import User
from letters import http, services
from letters.models import Letter, LetterStatus, Signature, SignatureStatus
from letters.tests.factories import confirmed_signature, deliver, make_user, sign
from letters.tokens import Purpose, make_token
from speed import memory
from tests.security.world import JUNK_TOKEN, snapshot

pytestmark = pytest.mark.django_db

UNKNOWN_SLUG = "no-such-letter"


@dataclass
class Scene:
    """A delivered letter with a confirmed signer (wanting updates), a
    pending signer, a review link and a leadership link, all working."""

    letter: Letter
    owner: User
    confirmed: Signature
    pending: Signature
    tokens: dict[str, str]  # link name -> token

    def archive(self) -> None:
        services.letter_archive(letter=self.letter, by=self.owner)
        self.letter.refresh_from_db()
        assert self.letter.status == LetterStatus.ARCHIVED


@pytest.fixture
def scene(organiser: User, open_letter: Letter) -> Scene:
    confirmed = confirmed_signature(
        open_letter,
        name="Pia Public",
        email="pia.public@example.org",
        team="Data",
        wants_updates=True,
    )
    pending = sign(open_letter, wants_updates=True)
    preview = services.letter_preview_link_create(letter=open_letter)
    _delivery, (issued,) = deliver(open_letter, by=organiser, method="email")
    open_letter.refresh_from_db()
    confirmed.refresh_from_db()
    return Scene(
        letter=open_letter,
        owner=organiser,
        confirmed=confirmed,
        pending=pending,
        tokens={
            "leadership": issued.token,
            "review": preview,
            "confirm (pending signer)": make_token(pending, Purpose.CONFIRM),
            "confirm (confirmed signer)": make_token(confirmed, Purpose.CONFIRM),
            "new version": make_token(confirmed, Purpose.NEW_VERSION),
            "withdraw": make_token(confirmed, Purpose.WITHDRAW),
            "unsubscribe": make_token(confirmed, Purpose.UNSUBSCRIBE),
        },
    )


@pytest.fixture
def later(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Move the clocks of the public page caches (letters.http) and of the
    sign path's memory of letter rows (speed.memory, for
    selectors.letter_for_signing) past
    the longest a copy stays fresh."""

    def move() -> None:
        shift = max(settings.COUNT_INTERVAL, settings.SIGNING_LETTER_TTL) + 1
        clock = SimpleNamespace(
            time=lambda: time.time() + shift, monotonic=lambda: time.monotonic() + shift
        )
        monkeypatch.setattr(http, "time", clock)
        monkeypatch.setattr(memory, "time", clock)

    return move


def answer(
    client: Client, method: str, path: str, data: dict[str, Any] | None = None
) -> tuple[int, bytes]:
    response = getattr(client, method)(path, data or {})
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response.status_code, body


# --- Public surfaces: like an unknown letter ------------------------------------

PUBLIC_SURFACES = {
    "letter page": "/letters/{slug}/",
    "signatories": "/letters/{slug}/signatories/",
    "check inbox": "/letters/{slug}/check-inbox/",
    "feed": "/letters/{slug}/feed/",
    "share card": "/letters/{slug}/card.png",
    "widget": "/letters/{slug}/embed/",
    "API letter": "/api/letters/{slug}/",
    "API counts": "/api/letters/{slug}/counts/",
}


@pytest.mark.parametrize("surface", sorted(PUBLIC_SURFACES))
def test_an_archived_letter_s_public_surfaces_answer_like_an_unknown_letter(
    scene: Scene, later: Callable[[], None], surface: str
) -> None:
    client = Client()
    path = PUBLIC_SURFACES[surface]
    assert answer(client, "get", path.format(slug=scene.letter.slug))[0] == 200  # the control

    scene.archive()
    later()

    got = answer(client, "get", path.format(slug=scene.letter.slug))
    assert got[0] == 404
    assert got == answer(client, "get", path.format(slug=UNKNOWN_SLUG))


def test_an_archived_open_letter_leaves_every_list_and_takes_no_signature(
    organiser: User, open_letter: Letter, later: Callable[[], None]
) -> None:
    """The lists (letters open for signatures) and the sign form: an open
    letter that is archived is in no list, and signing it is like signing
    a letter that does not exist."""
    client = Client()
    lists = ["/letters/", "/api/letters/", "/sitemap.xml"]
    assert all(open_letter.slug in answer(client, "get", p)[1].decode() for p in lists)

    services.letter_archive(letter=open_letter, by=organiser)
    later()

    for path in lists:
        status, body = answer(client, "get", path)
        assert status == 200
        assert open_letter.slug not in body.decode()
        assert open_letter.title not in body.decode()
    sign = {"email": "new.signer@example.org", "name": "New Signer", "display": "public"}
    rows = Signature.objects.count()
    got = answer(client, "post", f"/letters/{open_letter.slug}/sign/", sign)
    assert got[0] == 404
    assert got == answer(client, "post", f"/letters/{UNKNOWN_SLUG}/sign/", sign)
    assert Signature.objects.count() == rows


# --- Links that stop working: like an invalid link, and change nothing ----------

# link name -> (URL prefix, the requests a holder of the link could send)
CONFIRM_POST = {"display": "anonymous", "name": "X", "consent": "on"}
GONE_LINKS: dict[str, tuple[str, list[tuple[str, dict[str, str] | None]]]] = {
    "leadership": (
        "l",
        [
            ("get", None),
            ("post", {"action": "acknowledge"}),
            ("post", {"action": "respond", "statement": "We decline."}),
        ],
    ),
    "review": ("p", [("get", None)]),
    "confirm (pending signer)": ("s", [("get", None), ("post", CONFIRM_POST)]),
    "confirm (confirmed signer)": ("s", [("get", None), ("post", CONFIRM_POST)]),
    "new version": ("v", [("get", None), ("post", {})]),
}


@pytest.mark.parametrize("link", sorted(GONE_LINKS))
def test_an_archived_letter_s_links_answer_like_an_invalid_link_and_change_nothing(
    scene: Scene, link: str
) -> None:
    prefix, requests = GONE_LINKS[link]
    path = f"/{prefix}/{scene.tokens[link]}/"
    client = Client()
    assert answer(client, "get", path)[0] == 200  # the control

    scene.archive()
    before = snapshot()

    got = {answer(client, method, path, data) for method, data in requests}
    assert snapshot() == before  # no confirmation, no count, no acknowledgement
    invalid = {
        answer(client, method, f"/{prefix}/{JUNK_TOKEN}/", data) for method, data in requests
    }
    assert len(invalid) == 1
    assert got == invalid, f"{link}: the answers differ from an invalid link's"
    assert {status for status, _body in got} == {404}


# --- What keeps working ---------------------------------------------------------


def test_a_signer_can_still_withdraw_from_an_archived_letter(scene: Scene) -> None:
    scene.archive()
    client = Client()
    path = f"/w/{scene.tokens['withdraw']}/"

    assert answer(client, "get", path)[0] == 200
    assert Signature.objects.get(pk=scene.confirmed.pk).status == SignatureStatus.CONFIRMED

    assert answer(client, "post", path)[0] == 200
    row = Signature.objects.get(pk=scene.confirmed.pk)
    assert row.status == SignatureStatus.WITHDRAWN
    assert (row.email_hash, row.email_sealed, row.email_domains) == ("", None, "")
    assert (row.name, row.team, row.secret) == ("", "", "")
    assert answer(client, "get", path)[0] == 404  # revoked with the data


def test_a_signer_can_still_unsubscribe_from_an_archived_letter(scene: Scene) -> None:
    scene.archive()
    client = Client()
    path = f"/u/{scene.tokens['unsubscribe']}/"

    assert answer(client, "get", path)[0] == 200
    assert Signature.objects.get(pk=scene.confirmed.pk).wants_updates is True

    assert answer(client, "post", path)[0] == 200
    assert Signature.objects.get(pk=scene.confirmed.pk).wants_updates is False


ORGANISER_PAGES = [
    "/organise/{slug}/",
    "/organise/{slug}/signatures/",
    "/organise/{slug}/delivery/",
    "/organise/{slug}/packet/",
    "/organise/{slug}/export/counts/",
    "/organise/{slug}/export/signatories/",
]


@pytest.mark.parametrize("page", ORGANISER_PAGES)
def test_organisers_keep_their_area_of_an_archived_letter_and_outsiders_do_not_get_in(
    scene: Scene, page: str
) -> None:
    scene.archive()
    owner, outsider = Client(), Client()
    owner.force_login(scene.owner)
    outsider.force_login(make_user(email="oscar.outsider@example.net"))
    path = page.format(slug=scene.letter.slug)

    assert answer(owner, "get", path)[0] == 200
    assert answer(outsider, "get", path)[0] == 404


def test_an_owner_can_erase_the_identities_of_an_archived_letter(scene: Scene) -> None:
    scene.archive()
    owner = Client()
    owner.force_login(scene.owner)

    done = owner.post(f"/organise/{scene.letter.slug}/erase/", {"confirm": scene.letter.slug})

    assert done.status_code == 302
    rows = Signature.objects.filter(letter=scene.letter)
    assert rows.exists()
    assert all(r.erased_at is not None and r.name == "" and r.secret == "" for r in rows)
