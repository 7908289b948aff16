"""Who reaches the admin, and what everyone else sees instead (issue 20).

- Oscar (an outsider) and Olivia (an organiser) are signed in but not staff:
  every admin address answers them a plain 403 page in the site's look, with
  no redirect at all (it used to bounce between /admin/ and the login page
  for ever).
- Staff without two-factor authentication are sent to set it up.
- Ada (staff with TOTP) reaches the admin's index, whose sections and lists
  are named once each, in proper plurals.
- Anonymous visitors are sent to the login page.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from letters.tests.factories import make_admin, make_user

# A page, a list, the login, an address the admin does not have.
ADMIN_ADDRESSES = ("/admin/", "/admin/letters/signature/", "/admin/login/", "/admin/no-such-page/")


def _staff_without_mfa() -> User:
    user = make_user(email="sid.staff@example.org", name="Sid Staff")
    user.is_staff = user.is_superuser = True
    user.save()
    return user


def _client(user: User | None) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.parametrize("path", ADMIN_ADDRESSES)
@pytest.mark.parametrize("who", ["outsider", "organiser"])
def test_a_signed_in_user_who_is_not_staff_is_told_the_admin_is_not_for_them(
    db: None, request: pytest.FixtureRequest, who: str, path: str
) -> None:
    # `db` named here, not only through the persona fixture, so that
    # pytest-django orders this test among the database tests.
    user = request.getfixturevalue(who)

    response = _client(user).get(path, follow=True)

    assert response.redirect_chain == []  # answered on the spot, no loop
    assert response.status_code == 403
    assert "private" in response["Cache-Control"]
    page = response.content.decode()
    assert "<h1>Not allowed</h1>" in page
    assert "for site administrators only" in page
    assert f"You are signed in as {user.email}" in page
    assert f'href="{reverse("letters:index")}"' in page  # the way home
    assert f'href="{reverse("account_logout")}"' in page
    assert 'class="site-header"' in page  # the site's look, not the admin's
    assert "Site administration" not in page


@pytest.mark.parametrize("path", ADMIN_ADDRESSES)
def test_staff_without_two_factor_are_sent_to_set_it_up(db: None, path: str) -> None:
    response = _client(_staff_without_mfa()).get(path, follow=True)

    assert response.redirect_chain[-1][0] == reverse("mfa_index")
    assert response.status_code == 200


def test_staff_with_two_factor_reach_the_admin_index(db: None) -> None:
    client = _client(make_admin())

    index = client.get("/admin/")
    via_login = client.get("/admin/login/", follow=True)

    assert index.status_code == 200
    assert "Site administration" in index.content.decode()
    assert via_login.redirect_chain == [(reverse("admin:index"), 302)]
    assert via_login.status_code == 200


@pytest.mark.parametrize("path", ADMIN_ADDRESSES)
def test_anonymous_visitors_are_sent_to_the_login_page(db: None, path: str) -> None:
    response = _client(None).get(path, follow=True)

    assert response.redirect_chain[-1][0].startswith(reverse("account_login"))
    assert response.status_code == 200


PEOPLE: dict[str, Callable[[], User | None]] = {
    "anonymous": lambda: None,
    "not staff": lambda: make_user(email="nora.nostaff@example.org"),
    "staff without two-factor": _staff_without_mfa,
    "staff with two-factor": make_admin,
}


@pytest.mark.parametrize("who", PEOPLE)
def test_no_one_is_sent_round_in_circles(db: None, who: str) -> None:
    client = _client(PEOPLE[who]())

    for path in (*ADMIN_ADDRESSES, "/admin/letters/letter/?status=open"):
        # The test client raises RedirectCycleError on a loop.
        response = client.get(path, follow=True)
        assert len(response.redirect_chain) <= 2, (path, response.redirect_chain)
        assert response.status_code in {200, 403, 404}, path


def test_the_admin_index_names_each_section_and_list_once_in_plain_english(
    db: None,
) -> None:
    response = _client(make_admin()).get("/admin/")

    app_list: list[dict[str, Any]] = response.context["app_list"]
    sections = [str(app["name"]) for app in app_list]
    lists = [str(model["name"]) for app in app_list for model in app["models"]]
    assert len(sections) == len(set(sections)), sections
    assert len(lists) == len(set(lists)), lists
    assert "Users" in sections  # ours, apart from allauth's "Accounts"
    assert "Deliveries" in lists
    # Django's default plural only adds an "s": "Deliverys", "Letter statss".
    naive = [name for name in lists if re.search(r"([^aeiou]ys|ss)$", name)]
    assert naive == []
    assert "Deliverys" not in response.content.decode()
