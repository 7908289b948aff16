"""A payload corpus through the Markdown body and every text field a person
can type: every page that shows them renders them inert."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from letters import services
from letters.models import Display, Organiser, OrganiserRole
from letters.tests.factories import confirmed_signature, make_user

pytestmark = pytest.mark.django_db(transaction=True)

PAYLOADS = [
    "<script>alert('x')</script>",
    '"><img src=x onerror=alert(1)>',
    "<svg/onload=alert(1)>",
    "javascript:alert(1)",
    '<a href="javascript:alert(1)">click</a>',
    "</textarea><script>alert(1)</script>",
    "<iframe srcdoc='<script>alert(1)</script>'></iframe>",
    "{{ 7*7 }}{% debug %}",
    "<style>body{display:none}</style>",
    "<details open ontoggle=alert(1)>",
]


class LiveMarkup(HTMLParser):
    """Collects every element and attribute a browser would act on."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"iframe", "svg", "style", "object", "embed", "img"}:
            self.problems.append(f"<{tag}>")
        if tag == "script" and not (dict(attrs).get("src") or "").startswith("/static/"):
            self.problems.append("inline <script>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{tag} {name}=")
            if name in {"href", "src", "action"} and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.problems.append(f"{tag} {name}=javascript:")


def assert_inert(html: str) -> None:
    parser = LiveMarkup()
    parser.feed(html)
    assert parser.problems == []


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_in_every_field_render_inert(payload):
    owner = make_user(email="owner@example.org", name=payload)
    letter = services.letter_create(
        slug="xss",
        data=services.LetterInput(
            title=f"Title {payload}",
            body=f"Dear CEO,\n\n{payload}\n\n[link]({payload})",
            demands=[f"Demand {payload}"],
            addressees=[(f"Name {payload}", f"Role {payload}")],
        ),
        owner=owner,
        translations=[
            services.TranslationInput("de", f"Titel {payload}", payload, [f"F {payload}"])
        ],
    )
    services.letter_publish(letter=letter)
    services.letter_edit(
        letter=letter,
        by=owner,
        data=services.LetterInput(
            title=f"Title {payload}",
            body=f"Dear CEO,\n\n{payload}\n\nMore.",
            demands=[f"Demand {payload}", "Second"],
            addressees=[(f"Name {payload}", f"Role {payload}")],
            change_note=f"Note {payload}",
        ),
    )
    confirmed_signature(
        letter,
        name=f"Signer {payload}",
        email="s@example.org",
        team=payload,
        location=payload,
        comment=payload,
    )
    confirmed_signature(
        letter, name=payload, email="a@example.org", display=Display.ANONYMOUS, comment=payload
    )
    Organiser.objects.filter(letter=letter).update(role=OrganiserRole.OWNER)
    visitor, organiser = Client(), Client()
    organiser.force_login(owner)

    pages = [
        visitor.get(letter.get_absolute_url()),
        visitor.get(letter.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="de"),
        visitor.get(reverse("letters:signatories", kwargs={"slug": letter.slug})),
        visitor.get(reverse("letters:index")),
        organiser.get(reverse("organise:dashboard")),
        organiser.get(reverse("organise:letter", kwargs={"slug": letter.slug})),
        organiser.get(reverse("organise:signatures", kwargs={"slug": letter.slug})),
        organiser.get(reverse("organise:edit", kwargs={"slug": letter.slug})),
    ]
    for response in pages:
        assert response.status_code == 200
        assert_inert(response.content.decode())
        if "{{" in payload:  # shown as typed, never evaluated as a template
            assert "{{ 7*7 }}" in response.content.decode()
    api = visitor.get(reverse("api_letter", kwargs={"slug": letter.slug}))
    assert api["Content-Type"] == "application/json"  # JSON is data, never HTML
