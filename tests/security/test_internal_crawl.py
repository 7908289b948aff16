"""The leak crawl for internal letters (issue 18, "Internal first"), in the
style of the privacy crawl: an internal letter of the world's organising
group, with a distinctive title, text, demand and signer, and a count; then
everything anyone without its reading grant can reach is fetched: every
URL of the matrix as the roles that do not organise it (a visitor, a
crawler, a signer of another letter, leadership of another letter, an
account that organises nothing, a removed group member, and staff of
another employer who hold a reading grant for their own internal letter),
every link those pages lead to (the sitemap's, the index's, the group
page's, the API's), and every public address of the internal letter itself.
Its title, text, demand and signer appear in none; its address appears
only at its own addresses (whoever fetches them knew it already), and its
count nowhere."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from typing import Any

from django.conf import settings
from django.test import Client

from letters import services
from letters.models import Letter
from letters.tests.factories import confirmed_signature, make_user, open_letter
from tests.security.matrix import ROUTES, build_path, send
from tests.security.world import World

TITLE = "Harbour Vantage Whisper Letter"
BODY_SECRET = "Quillfeather Accord"
DEMAND = "Abandon the Quillfeather Accord"
SIGNER = "Ottoline Marchbanks"
SLUG = "whisper-letter-7q"
SECRETS = (TITLE, BODY_SECRET, DEMAND, SIGNER)
# Roles of the matrix that do not organise the internal letter (its group's
# members do; so do the organisers of the world's letters, who are its organisers too).
STRANGERS = ("visitor", "signer", "leadership", "outsider", "removed")
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
LANGUAGE_HEADERS: tuple[dict[str, Any], ...] = ({}, {"HTTP_ACCEPT_LANGUAGE": "de"})
LINK = re.compile(r'(?:href|src|action)="(/[^"#]*)"')


def site_link() -> re.Pattern[str]:
    """Absolute links to the site (the sitemap's, the feeds', the API's)."""
    return re.compile(re.escape(settings.SITE_URL) + r'(/[^"<\s]*)')


def seed_internal(world: World) -> Letter:
    """The internal letter, in the world's organising group, with one signer."""
    insider = make_user(email="ines.insider@northwind.example", name="Ines Insider")
    letter = open_letter(
        owner=insider,
        slug=SLUG,
        title=TITLE,
        body=f"Dear leadership,\n\nThe {BODY_SECRET} must end.",
        demands=[DEMAND],
        translations=(),
        allowed_domains=["northwind.example"],
        internal=True,
    )
    Letter.objects.filter(pk=letter.pk).update(group=world.group)
    confirmed_signature(letter, name=SIGNER, email="ottoline@northwind.example")
    services.counts_fold_all()
    return letter


def other_staff(world: World) -> Client:
    """Staff of another employer: their own internal letter, read with a grant."""
    theirs = open_letter(
        owner=world.users["owner"],
        slug="contoso-staff-only",
        title="Contoso staff only",
        translations=(),
        allowed_domains=["contoso.example"],
        internal=True,
    )
    client = Client()
    token, _pass = services.read_pass_issue(letter=theirs)
    assert client.post(f"/r/{token}/").status_code == 302
    assert b"Contoso staff only" in client.get(f"/letters/{theirs.slug}/").content
    return client


def clients(world: World) -> dict[str, Client]:
    found = {role: world.client(role) for role in STRANGERS}
    found["crawler"] = Client(HTTP_USER_AGENT=GOOGLEBOT)
    found["other staff"] = other_staff(world)
    return found


def leaked(text: str, *, slug_allowed: bool = False) -> list[str]:
    plain = unescape(text)
    found = [secret for secret in SECRETS if secret in plain]
    if not slug_allowed and SLUG in plain:
        found.append(SLUG)
    return found


def matrix_answers(world: World, who: dict[str, Client]) -> Iterator[tuple[str, str]]:
    """Every route of the matrix as each stranger (with its query variants
    and, for forms, its POST)."""
    for route, spec in sorted(ROUTES.items()):
        for role, client in who.items():
            path = build_path(route, world, role if role in STRANGERS else "visitor")
            for query in ["", *spec.query]:
                url = f"{path}?{query}" if query else path
                yield f"GET {url} as {role}", send(client, "get", url).text()
            if spec.method == "post" and spec.post is not None:
                answer = send(
                    client, "post", path, spec.post(world), HTTP_ORIGIN="http://testserver"
                )
                yield f"POST {path} as {role}", answer.text()


def links(text: str) -> set[str]:
    found = {m.group(1) for m in LINK.finditer(text)}
    found |= {m.group(1) for m in site_link().finditer(text)}
    return {unescape(path) for path in found}


def own_addresses() -> list[str]:
    """Every public address of a letter (the matrix's letter routes), for
    the internal letter."""
    paths = []
    for route in ROUTES:
        if route.startswith(("letters/<slug:slug>/", "api/letters/<slug:slug>/")):
            paths.append("/" + route.replace("<slug:slug>", SLUG))
    return paths


def test_an_internal_letter_leaks_nowhere_a_stranger_can_reach(world: World) -> None:
    seed_internal(world)
    who = clients(world)
    problems: list[str] = []
    seen: set[str] = set()
    queue: list[str] = []

    for where, text in matrix_answers(world, who):
        problems += [f"{where}: {s}" for s in leaked(text)]
        queue += sorted(links(text) - seen)
        seen |= links(text)
    crawler = who["crawler"]
    visited = 0
    while queue and visited < 400:
        path = queue.pop(0)
        if path.startswith(("/admin/", "/accounts/", "/static/", "/organise/", "/outbox/")):
            continue
        visited += 1
        text = send(crawler, "get", path).text()
        problems += [f"GET {path} (followed): {s}" for s in leaked(text)]
        for found in sorted(links(text) - seen):
            seen.add(found)
            queue.append(found)

    assert visited > 20  # the crawl went somewhere: index, letters, feeds, group page...
    assert any(p.startswith(f"/letters/{world.letter.slug}/") for p in seen)
    assert "/groups/wwu/" in seen or any(p.startswith("/groups/") for p in seen)
    assert problems == []


def test_its_own_addresses_show_a_stranger_nothing_of_it(world: World) -> None:
    seed_internal(world)
    who = clients(world)
    problems: list[str] = []

    for role, client in who.items():
        for path in own_addresses():
            for extra in LANGUAGE_HEADERS:
                text = send(client, "get", path, **extra).text()
                problems += [f"GET {path} as {role}: {s}" for s in leaked(text, slug_allowed=True)]
                if "verified signature" in text or "bestätigte Unterschrift" in text:
                    problems.append(f"GET {path} as {role}: a count")
        for path, data in (
            (f"/letters/{SLUG}/sign/", {"name": "X", "email": "", "consent": "on"}),
            (f"/letters/{SLUG}/read/", {"email": "olga.other@contoso.example"}),
            (f"/letters/{SLUG}/read/", {"email": "nadia@northwind.example"}),
            (f"/letters/{SLUG}/report/", {"reason": "spam", "text": "Spam"}),
        ):
            answer = send(client, "post", path, data, HTTP_ORIGIN="http://testserver")
            problems += [
                f"POST {path} as {role}: {s}" for s in leaked(answer.text(), slug_allowed=True)
            ]

    assert problems == []
