"""Links in emails, the feed, the API and pages shown later come from one
helper (`letters.links`): SITE_URL joined with `reverse()`.  A path written
by hand would keep working until a route moved, then send broken links."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import resolve

from letters import links
from letters.tests.factories import confirmed_signature
from letters.tokens import Purpose

pytestmark = pytest.mark.django_db(transaction=True)

BASE = Path(__file__).resolve().parents[2]
APPLICATION = [BASE / "letters", BASE / "config", BASE / "accounts", BASE / "outbox"]
# SITE_URL followed by a path spelled out: `SITE_URL + "/x/"`, f"{SITE_URL}/x/".
HAND_WRITTEN = re.compile(r"""SITE_URL\s*\+\s*f?["']/|SITE_URL\}/""")


def test_no_link_is_written_by_hand_after_site_url():
    offenders = []
    for root in APPLICATION:
        for path in root.rglob("*.py"):
            if "tests" in path.parts or "migrations" in path.parts:
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if HAND_WRITTEN.search(line):
                    offenders.append(f"{path.relative_to(BASE)}:{number}: {line.strip()}")
    assert offenders == []


@pytest.mark.parametrize("purpose", list(Purpose))
def test_every_signer_link_opens_its_own_page(open_letter, purpose):
    signature = confirmed_signature(open_letter, name="Lina Link", email="lina@example.org")

    url = links.signer_url(signature, purpose)

    assert url.startswith(settings.SITE_URL.rstrip("/") + "/")
    path = url.removeprefix(settings.SITE_URL.rstrip("/"))
    assert resolve(path).url_name == links.SIGNER_ROUTES[purpose]
    assert Client().get(path).status_code == 200


def test_letter_and_organiser_links_name_their_pages(open_letter):
    site = settings.SITE_URL.rstrip("/")

    assert links.letter_url(open_letter) == site + open_letter.get_absolute_url()
    assert links.organiser_url(open_letter) == f"{site}/organise/{open_letter.slug}/"
    assert links.absolute_url("leadership", token="t0k") == f"{site}/l/t0k/"
