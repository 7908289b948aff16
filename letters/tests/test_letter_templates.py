"""Letter templates (issue 19): organisers start a new draft from one of a
small library that admins keep.  Olivia (an organiser), Ada (staff with a
second factor) and a visitor without an account."""

from __future__ import annotations

import html
import re
from importlib import import_module
from typing import Any

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse

from letters import selectors
from letters.models import Letter, LetterTemplate, LetterVersion
from letters.tests.factories import letter_form, make_admin

NEW = "/organise/new/"

CONTRACT: dict[str, Any] = {
    "name": "Stop a contract",
    "description": "Ask leadership to end a contract you object to.",
    "language": "en",
    "title": "End our contract with [client]",
    "body": "Dear [name],\n\nWe ask you to **end the contract** with [client].",
    "demands": ["End the contract with [client]", "Publish the criteria for contracts"],
}


def template(**fields: Any) -> LetterTemplate:
    return LetterTemplate.objects.create(**{**CONTRACT, **fields})


def client_for(user: Any | None) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        client.force_login(user)
    return client


def field_value(page: str, name: str) -> str:
    """What the form's input or textarea `name` holds, unescaped."""
    textarea = re.search(rf'<textarea name="{name}"[^>]*>(.*?)</textarea>', page, re.S)
    if textarea:
        return html.unescape(textarea.group(1)).strip("\r\n")
    found = re.search(rf'<input type="\w+" name="{name}"[^>]*?(?: value="([^"]*)")?[^>]*>', page)
    assert found, f"no field {name}"
    return html.unescape(found.group(1) or "")


def test_the_new_letter_page_offers_the_active_templates_only(organiser):
    offered = template()
    retired = template(name="Retired template", active=False)

    page = client_for(organiser).get(NEW).content.decode()

    assert "Start from a template" in page
    assert f'href="{NEW}?template={offered.pk}"' in page
    assert offered.description in page
    assert "Retired template" not in page
    assert f"?template={retired.pk}" not in page


def test_choosing_a_template_fills_the_form_and_saves_nothing(organiser):
    chosen = template()
    letters_before = Letter.objects.count()

    response = client_for(organiser).get(NEW, {"template": chosen.pk})

    page = response.content.decode()
    assert response.status_code == 200
    assert "Started from the template “Stop a contract”" in page
    assert field_value(page, "title") == chosen.title
    assert field_value(page, "body").replace("\r\n", "\n") == chosen.body
    assert field_value(page, "demands").splitlines() == chosen.demands
    assert field_value(page, "addressees") == ""  # whom it goes to is the organiser's to say
    assert Letter.objects.count() == letters_before  # nothing saved by looking
    assert LetterVersion.objects.count() == 0


def test_saving_a_letter_started_from_a_template_makes_an_ordinary_draft(organiser):
    chosen = template()
    form = letter_form(
        slug="",
        title="End our contract with Acme Surveillance",
        body="Dear Casey,\n\nWe ask you to **end the contract** with Acme Surveillance.",
        demands="End the contract with Acme Surveillance\nPublish the criteria for contracts",
    )

    response = client_for(organiser).post(f"{NEW}?template={chosen.pk}", form)

    assert response.status_code == 302
    letter = Letter.objects.get(title="End our contract with Acme Surveillance")
    assert letter.status == "draft"
    assert letter.organisers.get() == organiser
    assert letter.current_version is not None
    assert list(letter.current_version.demands.values_list("text", flat=True)) == [
        "End the contract with Acme Surveillance",
        "Publish the criteria for contracts",
    ]
    chosen.refresh_from_db()
    assert chosen.title == CONTRACT["title"]  # the template is untouched


@pytest.mark.parametrize("ref", ["retired", "999999", "not-a-number", ""])
def test_a_retired_or_unknown_template_fills_nothing(organiser, ref):
    retired = template(active=False)
    ref = str(retired.pk) if ref == "retired" else ref

    response = client_for(organiser).get(NEW, {"template": ref})

    page = response.content.decode()
    assert response.status_code == 200
    assert field_value(page, "title") == ""
    assert retired.body not in html.unescape(page)
    assert "Started from the template" not in page
    assert ("That template is no longer offered" in page) == (ref != "")


def test_a_visitor_without_an_account_is_sent_to_sign_in_and_sees_no_template(db):
    chosen = template()

    response = client_for(None).get(NEW, {"template": chosen.pk})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert chosen.title not in response.content.decode()


def test_the_dashboard_links_to_the_templates_of_its_language(organiser):
    english = template()
    german = template(name="Einen Vertrag beenden", language="de", title="Beenden Sie")

    page = client_for(organiser).get("/organise/").content.decode()

    assert f'href="{NEW}?template={english.pk}"' in page
    assert f"?template={german.pk}" not in page  # on the new-letter page, after the English


def test_templates_in_the_readers_language_come_first(db):
    LetterTemplate.objects.all().delete()  # the seeded ones
    english = template(position=1)
    german = template(name="Einen Vertrag beenden", language="de", position=2)
    template(name="Retired", language="de", active=False)

    assert selectors.letter_templates_offered(language="de") == [german, english]
    assert selectors.letter_templates_offered(language="en") == [english, german]


def test_an_admin_creates_a_template_that_organisers_are_then_offered(organiser):
    admin = client_for(make_admin())
    add = "/admin/letters/lettertemplate/add/"

    response = admin.post(
        add,
        {
            "name": "Fair on-call pay",
            "description": "Ask for on-call time to be paid in full.",
            "language": "en",
            "active": "on",
            "position": "5",
            "title": "Pay on-call time in full",
            "body": "Dear [name],\n\nOn-call nights are work.",
            "demands": "Pay on-call time in full\n\nCap on-call nights at four a month\n",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    created = LetterTemplate.objects.get(name="Fair on-call pay")
    assert created.demands == ["Pay on-call time in full", "Cap on-call nights at four a month"]
    assert admin.get(f"/admin/letters/lettertemplate/{created.pk}/change/").status_code == 200
    page = client_for(organiser).get(NEW).content.decode()
    assert f'href="{NEW}?template={created.pk}"' in page


def test_an_organiser_cannot_manage_templates(organiser):
    response = client_for(organiser).get("/admin/letters/lettertemplate/add/")

    assert response.status_code == 403
    assert LetterTemplate.objects.filter(name="Fair on-call pay").count() == 0


def test_the_migration_seeds_three_templates_in_each_language(db):
    seeding = import_module("letters.migrations.0021_letter_templates")
    LetterTemplate.objects.all().delete()

    seeding.seed(apps, None)

    names = {
        language: [t.name for t in LetterTemplate.objects.filter(language=language)]
        for language in ("en", "de")
    }
    assert names["en"] == ["Stop a contract", "Reverse a policy", "Recognise our union"]
    assert names["de"] == [
        "Einen Vertrag beenden",
        "Eine Entscheidung rückgängig machen",
        "Unsere Gewerkschaft anerkennen",
    ]
    for seeded in LetterTemplate.objects.all():
        assert seeded.active
        assert seeded.title
        assert seeded.description
        assert len(seeded.demands) == 3
        assert "[" in seeded.body  # what the organiser fills in is marked
    seeding.unseed(apps, None)
    assert not LetterTemplate.objects.exists()
