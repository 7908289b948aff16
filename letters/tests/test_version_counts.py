"""DESIGN §2 rule 9 for versions: a letter's per-version counts (the public
page, the API, the organisers' page and the count export) are a breakdown
inside the total, so one anonymous signature confirming or withdrawing must
change none of them.  Anonymous signers are in the totals only."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from letters import services
from letters.models import Display
from letters.tests.factories import confirmed_signature, edit_letter

pytestmark = pytest.mark.django_db(transaction=True)


def new_version(letter: Any, by: Any) -> None:
    edit_letter(
        letter,
        by=by,
        body="Dear CEO,\n\nEnd every contract with the agency.",
        demands=["Condemn the agency", "End every contract"],
        addressees=[("Dana Whitfield", "CEO")],
        goal=None,
        change_note="Every contract",
    )
    letter.refresh_from_db()


def version_figures(letter: Any, organiser: Any) -> dict[str, Any]:
    """Every per-version figure anyone but an admin can read."""
    services.counts_fold(letter_id=letter.pk)
    page = Client().get(letter.get_absolute_url()).content.decode()
    start = page.index("Of the signers who show their name")
    api = Client().get(reverse("api_letter", kwargs={"slug": letter.slug})).json()
    organiser_client = Client()
    organiser_client.force_login(organiser)
    export = organiser_client.get(
        reverse("organise:export_counts", kwargs={"slug": letter.slug}),
        {"format": "json", "kind": "version"},
    )
    overview = organiser_client.get(reverse("organise:letter", kwargs={"slug": letter.slug}))
    return {
        "page": page[start : page.index("</p>", start)],
        "api": [(v["number"], v["public_count"]) for v in api["versions"]],
        "export": json.loads(b"".join(export.streaming_content)),  # type: ignore[attr-defined]
        "overview": [
            line for line in overview.content.decode().splitlines() if "named signer" in line
        ],
    }


def test_an_anonymous_signer_of_an_earlier_version_moves_no_version_count(
    open_letter, organiser, settings
):
    settings.COUNT_INTERVAL = 0  # every read rebuilds the public copies
    for n in range(3):
        confirmed_signature(open_letter, name=f"Early {n}", email=f"early{n}@example.org")
    early_anonymous = confirmed_signature(
        open_letter, name="Quiet Early", email="quiet@example.org", display=Display.ANONYMOUS
    )
    new_version(open_letter, organiser)
    for n in range(2):
        confirmed_signature(open_letter, name=f"Late {n}", email=f"late{n}@example.org")

    before = version_figures(open_letter, organiser)
    confirmed_signature(
        open_letter, name="Quiet Late", email="quiet.late@example.org", display=Display.ANONYMOUS
    )
    after_confirm = version_figures(open_letter, organiser)
    services.signature_withdraw(signature_id=early_anonymous.pk)
    after_withdraw = version_figures(open_letter, organiser)
    services.counts_recount(letter_id=open_letter.pk)
    after_recount = version_figures(open_letter, organiser)

    assert before["api"] == [(2, 2), (1, 3)]
    assert after_confirm == before
    assert after_withdraw == before
    assert after_recount == before
