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
from letters.access import (
    CAPABILITIES,
    GROUP_CAPABILITIES,
    GROUP_LETTER_CAPABILITIES,
    Capability,
    GroupCapability,
)
from letters.models import (
    GroupRole,
    LeadershipLink,
    Organiser,
    OrganiserRole,
    Signature,
    SignatureStatus,
)
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
    # A public letter needs no reading link: back to it.
    "letters/<slug:slug>/read/": "/letters/stop-the-contract/",
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


def test_every_group_role_is_a_set_of_capabilities_and_none_owns_the_letters() -> None:
    """The group tables (`letters.access`): every group role is in both; on
    a letter, no group role holds more than an editor, nor OWN or INVITE
    (archiving, erasing identities, the letter's own organisers stay with
    its owners); on the group, owners hold all."""
    assert set(GROUP_LETTER_CAPABILITIES) == set(GroupRole) == set(GROUP_CAPABILITIES)
    for held in GROUP_LETTER_CAPABILITIES.values():
        assert Capability.VIEW in held
        assert held <= CAPABILITIES[OrganiserRole.EDITOR]
        assert not held & {Capability.OWN, Capability.INVITE}
    assert GROUP_LETTER_CAPABILITIES[GroupRole.VIEWER] == CAPABILITIES[OrganiserRole.VIEWER]
    assert GROUP_CAPABILITIES[GroupRole.OWNER] == frozenset(GroupCapability)
    assert all(GroupCapability.VIEW in held for held in GROUP_CAPABILITIES.values())


# Every page a group member reaches by GET: the letters' organiser pages
# (through the group) and the group's own page.
MEMBER_PAGES = sorted(
    r
    for r, spec in ROUTES.items()
    if spec.method == "get"
    and (r.startswith("organise/<slug:slug>/") or r == "organise/groups/<slug:group_slug>/")
)


LEAVE = "organise/groups/<slug:group_slug>/members/<int:member_id>/remove/"


def _leave(world: World, client: Client) -> None:
    path = build_path(LEAVE, world, "group_organiser")
    assert send(client, "post", path, keep=True).status == 302


def _removed(world: World, client: Client) -> None:
    services.group_member_remove(
        group=world.group,
        by=world.users["group_owner"],
        member_id=world.group_membership("group_organiser").pk,
    )


@pytest.mark.parametrize("how", [_leave, _removed], ids=["leaving", "removed"])
def test_a_group_member_who_leaves_or_is_removed_loses_every_page_at_once(
    world: World, how: Any
) -> None:
    """Access is read from the rows on every request (no cache, no session
    state): the same signed-in client, the very next request, is a 404 on
    every page it reached through the group."""
    client = world.client("group_organiser")
    before = {r: matrix_request(client, r, world, "group_organiser").status for r in MEMBER_PAGES}

    how(world, client)
    after = {r: matrix_request(client, r, world, "group_organiser").status for r in MEMBER_PAGES}

    assert before == {r: ROUTES[r].expect["group_organiser"] for r in MEMBER_PAGES}
    assert 200 in before.values()
    assert after == dict.fromkeys(MEMBER_PAGES, 404)
