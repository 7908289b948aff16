"""The public signatories list pages with an opaque cursor the site issues:
anything else is refused (and not cached), and a cursor does not tell the
signature id (a site-wide counter of sign attempts)."""

from __future__ import annotations

import base64
import re
import struct

import pytest
from django.core.cache import cache
from django.urls import reverse

from letters.models import Signature
from letters.tests.factories import confirmed_signature
from letters.views.public import SIGNATORIES_PER_PAGE

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def long_list(open_letter):
    for n in range(SIGNATORIES_PER_PAGE + 3):
        confirmed_signature(open_letter, name=f"Signer {n:03d}", email=f"p{n}@example.org")
    return open_letter


def next_cursor(client, url: str) -> str:
    match = re.search(r'href="\?before=([^"&]+)"', client.get(url).content.decode())
    assert match
    return match.group(1)


def test_a_cursor_the_site_did_not_issue_is_refused_and_not_cached(client, long_list):
    url = reverse("letters:signatories", kwargs={"slug": long_list.slug})
    good = next_cursor(client, url)
    last_on_first_page = Signature.objects.order_by("confirmed_at", "id")[3]
    assert last_on_first_page.confirmed_at is not None
    micro = int(last_on_first_page.confirmed_at.timestamp() * 1_000_000)
    flipped = good[:-3] + ("A" if good[-3] != "A" else "B") + good[-2:]
    forged = [
        f"{micro}.{last_on_first_page.pk}",  # the old, readable form
        f"+{micro}.{last_on_first_page.pk}",
        f"{micro:_}.{last_on_first_page.pk}",
        f" {micro}.{last_on_first_page.pk}",
        "nonsense",
        flipped,
        good + "A",
        good[:-1],
    ]

    for raw in forged:
        answer = client.get(url, {"before": raw})
        assert answer.status_code == 400, raw
        language_keys = [
            f"public:{lang}:signatories:{long_list.slug}:{raw}" for lang in ("en", "de")
        ]
        assert all(cache.get(key) is None for key in language_keys), raw

    page = client.get(url, {"before": good})
    assert page.status_code == 200
    assert len(re.findall(r"Signer \d{3}", page.content.decode())) == 3


def test_a_cursor_does_not_reveal_the_signature_id(client, long_list):
    url = reverse("letters:signatories", kwargs={"slug": long_list.slug})
    cursor = next_cursor(client, url)
    ids = set(Signature.objects.values_list("pk", flat=True))

    assert not any(str(pk) in cursor.split(".") for pk in ids)
    raw = base64.urlsafe_b64decode(cursor + "=")
    for offset in range(len(raw) - 7):
        (value,) = struct.unpack(">Q", raw[offset : offset + 8])
        assert value not in ids
