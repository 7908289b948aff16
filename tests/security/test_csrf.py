"""CSRF on every state-changing request, and no state change on GET.

Every POST without a CSRF token is refused with 403 and changes nothing,
except the two documented exemptions: the sign form (its page is cached for
everyone, so it refuses cross-site Origin / Sec-Fetch-Site instead; see
docs/architecture.md), the reading-link request of an internal letter (its
form is on the same cached page, and checked the same way) and the RFC 8058
one-click unsubscribe, which mail providers POST.  The read API is exempt
too, but answers 405 to any POST.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from letters.models import Signature
from tests.security.matrix import ROUTES, build_path, send
from tests.security.world import NO_ACCOUNT, ROLES, World, snapshot

SIGN = "letters/<slug:slug>/sign/"
READ = "letters/<slug:slug>/read/"
UNSUBSCRIBE = "u/<str:token>/"
CSRF_FAILED = b"CSRF verification failed"


def is_api(route: str) -> bool:
    return route.startswith(("api/", "^api/"))


def actor(route: str) -> str:
    """The role that could use the route: a token's holder, the owner, or anyone."""
    prefix = route.split("/", 1)[0]
    if prefix in {"s", "w", "v", "u"}:
        return "signer"
    if prefix == "l":
        return "leadership"
    if prefix == "organise":
        return "owner"
    return "visitor"


def post_data(route: str, world: World) -> dict[str, Any]:
    spec = ROUTES[route]
    return spec.post(world) if spec.post else {}


CHECKED = sorted(r for r in ROUTES if r not in {SIGN, READ, UNSUBSCRIBE} and not is_api(r))


def test_every_post_without_a_csrf_token_is_refused_and_changes_nothing(world: World) -> None:
    clients = world.clients(enforce_csrf_checks=True)
    before = snapshot()

    answers = {
        route: send(
            clients[actor(route)],
            "post",
            build_path(route, world, actor(route)),
            post_data(route, world),
            keep=True,
        )
        for route in CHECKED
    }

    not_refused = {r: a.status for r, a in answers.items() if a.status != 403}
    assert not_refused == {}
    assert all(CSRF_FAILED in a.body for a in answers.values())
    assert snapshot() == before


def test_the_same_posts_with_a_csrf_token_get_past_the_check(world: World) -> None:
    """The control: the refusals above are CSRF's, not the view's."""
    clients = world.clients(enforce_csrf_checks=True)
    for role, client in clients.items():  # a page with a form sets the csrftoken cookie
        client.get("/accounts/login/" if role in NO_ACCOUNT else "/organise/new/")

    statuses = {}
    for route in CHECKED:
        client = clients[actor(route)]
        token = client.cookies["csrftoken"].value
        answer = send(
            client,
            "post",
            build_path(route, world, actor(route)),
            post_data(route, world),
            HTTP_X_CSRFTOKEN=token,
        )
        assert CSRF_FAILED not in answer.body, route
        statuses[route] = answer.status
    assert 403 not in statuses.values()


def test_the_read_api_answers_405_to_any_post(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    before = snapshot()
    for route in (r for r in ROUTES if is_api(r)):
        answer = send(client, "post", build_path(route, world, "visitor"), keep=True)
        assert answer.status in {405, 404}, route  # 404: the catch-all for unknown addresses
    assert snapshot() == before


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_ORIGIN": "https://evil.example"},
        {"HTTP_ORIGIN": "null"},
        {"HTTP_SEC_FETCH_SITE": "cross-site"},
        {"HTTP_SEC_FETCH_SITE": "same-site", "HTTP_ORIGIN": "http://hr.testserver"},
        {"HTTP_SEC_FETCH_SITE": "cross-site", "HTTP_ORIGIN": "http://testserver"},
    ],
    ids=["other-origin", "null-origin", "cross-site", "sibling-subdomain", "mixed"],
)
def test_the_csrf_exempt_sign_form_refuses_cross_site_posts(
    world: World, headers: dict[str, str]
) -> None:
    client = Client(enforce_csrf_checks=True)
    before = Signature.objects.count()

    answer = send(
        client, "post", build_path(SIGN, world, "visitor"), post_data(SIGN, world), keep=True,
        **headers,
    )  # fmt: skip

    assert answer.status == 403
    assert b"Cross-site request refused." in answer.body
    assert Signature.objects.count() == before


def test_the_sign_form_takes_same_origin_posts_without_a_token(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    before = Signature.objects.count()

    answer = send(
        client, "post", build_path(SIGN, world, "visitor"), post_data(SIGN, world), keep=True,
        HTTP_ORIGIN="http://testserver", HTTP_SEC_FETCH_SITE="same-origin",
    )  # fmt: skip

    assert answer.status == 302
    assert Signature.objects.count() == before + 1


def test_one_click_unsubscribe_takes_a_post_without_a_token(world: World) -> None:
    """RFC 8058: the mail provider POSTs `List-Unsubscribe=One-Click` with no
    cookie or token.  It can only turn off the token holder's own updates."""
    path = build_path(UNSUBSCRIBE, world, "signer")
    client = Client(enforce_csrf_checks=True)

    opened = send(client, "get", path, keep=True)
    assert Signature.objects.get(pk=world.signer.pk).wants_updates
    clicked = send(client, "post", path, {"List-Unsubscribe": "One-Click"}, keep=True)

    assert (opened.status, clicked.status) == (200, 200)
    assert not Signature.objects.get(pk=world.signer.pk).wants_updates


def test_no_get_anywhere_changes_state(world: World) -> None:
    """Mail scanners and proxies open links: every URL of the matrix, opened
    by every role (with its own tokens), changes no row of any letter,
    signature, link or organiser."""
    clients = world.clients()
    before = snapshot()

    for route, spec in ROUTES.items():
        for role in ROLES:
            path = build_path(route, world, role)
            for query in ["", *spec.query]:
                send(clients[role], "get", f"{path}?{query}" if query else path, keep=True)

    assert snapshot() == before
