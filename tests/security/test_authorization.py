"""The authorisation matrix: every URL of the site (from the URL conf) times
every role, with the status each role must get.  The table is in
tests/security/matrix.py; a URL missing from it fails here."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client
from django.utils import timezone

from letters import services
from letters.access import CAPABILITIES, Capability
from letters.models import LeadershipLink, Organiser, OrganiserRole, Signature, SignatureStatus
from letters.refs import signature_ref
from letters.tests.factories import confirmed_signature, make_user, open_letter
from tests.security.matrix import ROUTES, build_path, matrix_request, send, url_patterns
from tests.security.world import ROLES, World


def test_every_url_pattern_is_in_the_matrix() -> None:
    found = set(url_patterns())

    assert sorted(found - set(ROUTES)) == [], "add these URLs to tests/security/matrix.py"
    assert sorted(set(ROUTES) - found) == [], "these URLs are gone: remove them from the matrix"


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_every_role_gets_the_expected_status(world: World, route: str) -> None:
    clients = world.clients()
    spec = ROUTES[route]

    got = {role: matrix_request(clients[role], route, world, role).status for role in ROLES}

    wrong = {
        role: f"expected {spec.expect[role]}, got {got[role]} ({build_path(route, world, role)})"
        for role in ROLES
        if got[role] != spec.expect[role]
    }
    assert wrong == {}, f"{spec.method.upper()} {route}"


REDIRECTS = {  # a visitor's 302s that are not the login page
    "": "/letters/",
    "letters/<slug:slug>/sign/": "/letters/stop-the-contract/check-inbox/",
}
TO_LOGIN = sorted(r for r, s in ROUTES.items() if s.expect["visitor"] == 302 and r not in REDIRECTS)


@pytest.mark.parametrize("route", TO_LOGIN)
def test_no_account_is_sent_to_the_login_page(world: World, route: str) -> None:
    """A visitor's 302 in the matrix is the login page, coming back here after."""
    path = build_path(route, world, "visitor")

    answer = matrix_request(Client(), route, world, "visitor")

    assert answer.headers["Location"] == f"/accounts/login/?next={quote(path)}"


@pytest.mark.parametrize(("route", "target"), sorted(REDIRECTS.items()))
def test_the_other_redirects_go_where_they_should(world: World, route: str, target: str) -> None:
    answer = matrix_request(Client(), route, world, "visitor")

    assert answer.headers["Location"].startswith(target)


@pytest.fixture
def foreign(world: World) -> dict[str, Any]:
    """Another team's letter, with a co-organiser, a public signer and a
    leadership link: ids an owner of our letters might try on their own URLs."""
    stranger = make_user(email="sven.stranger@example.com", name="Sven Stranger")
    helper = make_user(email="hana.helper@example.com", name="Hana Helper")
    letter = open_letter(owner=stranger, slug="their-letter")
    membership = Organiser.objects.create(letter=letter, user=helper, role=OrganiserRole.EDITOR)
    signature = confirmed_signature(letter, name="Theo Theirs", email="theo@example.com")
    _d, (issued,) = services.letter_deliver(
        letter=letter,
        by=stranger,
        method="email",
        delivered_at=timezone.now(),
        recipients=[services.Recipient("Their CEO")],
    )
    return {
        "organiser": membership.pk,
        "signature": signature.pk,
        "signature_ref": signature_ref(signature.pk),
        "link": issued.link.pk,
    }


def _foreign_state(ids: dict[str, Any]) -> tuple[object, ...]:
    return (
        Organiser.objects.filter(pk=ids["organiser"]).values_list("role", flat=True).first(),
        Signature.objects.get(pk=ids["signature"]).status,
        LeadershipLink.objects.get(pk=ids["link"]).revoked_at,
    )


FOREIGN_ID_URLS = [
    pytest.param(
        "organisers/{organiser}/role/",
        {"role": "viewer"},
        id="role",
    ),
    pytest.param("organisers/{organiser}/remove/", {}, id="remove"),
    pytest.param("signatures/{signature_ref}/invalidate/", {"reason": "x"}, id="invalidate"),
    pytest.param("delivery/links/{link}/revoke/", {}, id="revoke"),
]


@pytest.mark.parametrize(("suffix", "data"), FOREIGN_ID_URLS)
def test_an_owner_cannot_reach_another_letter_s_objects_through_their_own_urls(
    world: World, foreign: dict[str, Any], suffix: str, data: dict[str, str]
) -> None:
    """IDs in organiser URLs are checked against the letter in the same URL:
    another letter's id is refused (not found, or an error message) and
    never a server error."""
    client = Client(raise_request_exception=False)
    client.force_login(world.users["owner"])
    before = _foreign_state(foreign)
    slug = world.delivered.slug if "delivery" in suffix else world.letter.slug

    answer = send(client, "post", f"/organise/{slug}/" + suffix.format(**foreign), data, keep=True)

    assert answer.status in {302, 404}
    assert _foreign_state(foreign) == before
    assert Signature.objects.get(pk=foreign["signature"]).status == SignatureStatus.CONFIRMED


def test_every_organiser_role_is_a_set_of_capabilities_and_owners_hold_all() -> None:
    """The table the views check and this matrix reads (`letters.access`):
    no role is left out, and what only owners may do is named there."""
    assert set(CAPABILITIES) == set(OrganiserRole)
    assert CAPABILITIES[OrganiserRole.OWNER] == frozenset(Capability)
    assert all(Capability.VIEW in held for held in CAPABILITIES.values())
