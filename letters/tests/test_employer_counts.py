"""A coalition letter's counts per employer where the public reads them: the
letter page (a bar per employer, the other supporters apart, the total),
the API and the widget, through the sign and confirm views a co-worker
uses, served from the same cached copies as every other count."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from django.core import mail
from django.db.models import Count
from django.test import Client
from django.urls import reverse

from letters.charts import EmployerBar, EmployerChart, employer_chart
from letters.models import Display, EmployerStats, Letter, Signature, SignatureStatus
from letters.selectors.employers import EmployerCount, EmployerCounts
from letters.services.counts import counts_fold, counts_recount
from letters.services.employers import EmployerInput
from letters.tests.factories import confirmed_signature, open_letter, record_paper, signature_of

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN: dict[str, Any] = {"HTTP_ORIGIN": "http://testserver"}

NORTHWIND = EmployerInput(name="Northwind", domains=["northwind.example"])
CONTOSO = EmployerInput(name="Contoso", domains=["contoso.example", "contoso-labs.example"])
FABRIKAM = EmployerInput(name="Fabrikam", domains=["fabrikam.example"])


def coalition(owner: Any, *, supporters: bool = False, **fields: Any) -> Letter:
    """An open letter that Northwind's, Contoso's and Fabrikam's staff sign."""
    return open_letter(
        owner=owner,
        slug="coalition",
        employers=[NORTHWIND, CONTOSO, FABRIKAM],
        accept_supporters=supporters,
        **fields,
    )


def sign(letter: Letter, email: str, **overrides: Any) -> Any:
    data = {
        "name": email.split("@")[0].title(),
        "email": email,
        "display": Display.PUBLIC,
        "consent": "on",
        **overrides,
    }
    url = reverse("letters:sign", kwargs={"slug": letter.slug})
    return Client().post(url, data, **ORIGIN)


def sign_and_confirm(letter: Letter, email: str, **overrides: Any) -> None:
    """Sign through the form, then press the button behind the emailed link."""
    assert sign(letter, email, **overrides).status_code == 302
    message = [m for m in mail.outbox if email in m.to][-1]
    match = re.search(r"https?://[^/\s]+(/s/[^\s]+)", str(message.body))
    assert match, message.body
    display = overrides.get("display", Display.PUBLIC)
    assert Client().post(match.group(1), {"display": display}).status_code == 200
    assert signature_of(letter, email).get().status == SignatureStatus.CONFIRMED


def api(letter: Letter) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        Client().get(reverse("api_letter", kwargs={"slug": letter.slug})).content
    )
    return data


def page(letter: Letter, language: str = "en") -> str:
    return Client().get(letter.get_absolute_url(), {"lang": language}).content.decode()


def widget(letter: Letter, language: str = "en") -> str:
    url = reverse("letter_embed", kwargs={"slug": letter.slug})
    return Client().get(url, {"lang": language, "theme": "light"}).content.decode()


def bars(html: str) -> list[str]:
    """The letter page's bars as a reader hears them: each meter's name."""
    labels = re.findall(r'<span class="bar-label" id="[^"]+">(.*?)</span>\s*<meter', html, re.S)
    return [re.sub(r"<[^>]+>", "", label) for label in labels]


def counted_in_database(letter: Letter) -> dict[str | None, int]:
    """What the rows say: confirmed, counted signatures per employer name."""
    rows = (
        Signature.objects.filter(letter=letter, status=SignatureStatus.CONFIRMED, flagged=False)
        .values("employer__name")
        .annotate(n=Count("id"))
    )
    return {row["employer__name"]: row["n"] for row in rows}


def test_a_signer_from_each_employers_domain_or_subdomain_counts_under_that_employer(organiser):
    letter = coalition(organiser)
    for address in (
        "nia@northwind.example",
        "ned@eu.northwind.example",  # a subdomain
        "cal@contoso.example",
        "cy@dev.contoso-labs.example",  # a subdomain of the second domain
        "fay@fabrikam.example",
    ):
        sign_and_confirm(letter, address)
    sign_and_confirm(letter, "fin@fabrikam.example", display=Display.ANONYMOUS)

    data = api(letter)
    assert data["employers"] == [
        {"name": "Northwind", "confirmed": 2, "paper": 0, "total": 2},
        {"name": "Contoso", "confirmed": 2, "paper": 0, "total": 2},
        {"name": "Fabrikam", "confirmed": 2, "paper": 0, "total": 2},
    ]
    assert data["other_supporters"] is None  # this letter takes none
    assert data["confirmed_count"] == 6
    assert bars(page(letter)) == [
        "Northwind: 2 verified signatures",
        "Contoso: 2 verified signatures",
        "Fabrikam: 2 verified signatures",
    ]


def test_an_address_at_no_employer_is_refused_with_the_domains_to_use(organiser):
    letter = coalition(organiser)

    refused = sign(letter, "sam@example.org")

    assert refused.status_code == 400
    html = refused.content.decode()
    assert "Please use your work address" in html
    for domain in ("northwind.example", "contoso.example", "contoso-labs.example"):
        assert domain in html
    assert not Signature.objects.exists()
    assert mail.outbox == []


def test_a_supporter_is_accepted_when_the_letter_takes_them_and_shown_apart(organiser):
    letter = coalition(organiser, supporters=True)
    sign_and_confirm(letter, "nia@northwind.example")
    sign_and_confirm(letter, "sam@example.org")
    sign_and_confirm(letter, "sue@mail.example.net", display=Display.ANONYMOUS)

    assert signature_of(letter, "sam@example.org").get().employer is None
    data = api(letter)
    assert [(e["name"], e["confirmed"]) for e in data["employers"]] == [
        ("Northwind", 1),
        ("Contoso", 0),
        ("Fabrikam", 0),
    ]
    assert data["other_supporters"] == {"confirmed": 2, "paper": 0, "total": 2}
    assert data["confirmed_count"] == 3

    html = page(letter)
    section = html[html.index('data-testid="employer-bars"') :]
    staff, apart = section.split('data-testid="supporters-bar"', 1)
    # Supporters are in no employer's bar; their own bar is after a note
    # that says what they are, and before the letter's total.
    assert "Other supporters" not in staff
    assert bars(staff) == [
        "Northwind: 1 verified signature",
        "Contoso: 0 verified signatures",
        "Fabrikam: 0 verified signatures",
    ]
    assert "not counted as anyone" in apart
    assert bars(apart) == ["Other supporters: 2 verified signatures"]
    assert "In all: 3 signatures" in apart


def test_per_employer_counts_in_the_api_match_the_database_after_a_recount(organiser):
    letter = coalition(organiser, supporters=True)
    for address in ("a@northwind.example", "b@eu.northwind.example", "c@contoso-labs.example"):
        sign_and_confirm(letter, address)
    confirmed_signature(letter, email="d@fabrikam.example", display=Display.ANONYMOUS)
    confirmed_signature(letter, email="e@example.org")
    counts_fold(letter_id=letter.pk)
    # Drift: the folded figures are wrong until the recount repairs them.
    EmployerStats.objects.filter(letter=letter).update(confirmed=40)

    counts_recount(letter_id=letter.pk)

    data = api(letter)
    database = counted_in_database(letter)
    assert database == {"Northwind": 2, "Contoso": 1, "Fabrikam": 1, None: 1}
    assert {e["name"]: e["confirmed"] for e in data["employers"]} == {
        name: n for name, n in database.items() if name is not None
    }
    assert data["other_supporters"]["confirmed"] == database[None]
    assert data["confirmed_count"] == sum(database.values())


def test_paper_signatures_are_in_their_employers_bar_and_the_total(organiser):
    letter = coalition(organiser, supporters=True)
    sign_and_confirm(letter, "nia@northwind.example")
    contoso = letter.employers.get(name="Contoso")
    record_paper(letter, 12, employer_id=contoso.pk)
    record_paper(letter, 3)  # other supporters' sheets

    data = api(letter)
    assert data["employers"][1] == {"name": "Contoso", "confirmed": 0, "paper": 12, "total": 12}
    assert data["other_supporters"] == {"confirmed": 0, "paper": 3, "total": 3}
    html = page(letter)
    assert bars(html)[1] == "Contoso: 0 verified signatures, 12 on paper"
    assert 'max="16" value="12"' in html  # each bar is drawn against the total
    assert "In all: 16 signatures" in html


def test_the_widget_names_the_largest_employers_and_how_many_others(organiser):
    letter = open_letter(
        owner=organiser,
        slug="coalition",
        employers=[
            NORTHWIND,
            CONTOSO,
            FABRIKAM,
            EmployerInput(name="Tailspin", domains=["tailspin.example"]),
        ],
        accept_supporters=True,
    )
    for address in ("a@tailspin.example", "b@tailspin.example", "c@tailspin.example"):
        confirmed_signature(letter, email=address)
    confirmed_signature(letter, email="d@contoso.example")
    confirmed_signature(letter, email="e@contoso.example")
    confirmed_signature(letter, email="f@fabrikam.example")
    confirmed_signature(letter, email="g@example.org")

    html = widget(letter)
    employers = html[html.index('data-testid="widget-employers"') :].split("</ul>")[0]
    items = [re.sub(r"<[^>]+>", "", li) for li in re.findall(r"<li>(.*?)</li>", employers)]
    assert items == ["Tailspin 3", "Contoso 2", "2 more employers"]
    assert "Other supporters" not in employers  # in the count above, in no employer's figure


def test_a_letter_with_one_employer_shows_no_bars_and_lists_it_in_the_api(organiser):
    letter = open_letter(owner=organiser, slug="one", allowed_domains=["northwind.example"])
    confirmed_signature(letter, email="nia@northwind.example")

    assert 'data-testid="employer-bars"' not in page(letter)
    assert 'data-testid="widget-employers"' not in widget(letter)
    data = api(letter)
    assert data["employers"] == [
        {"name": "northwind.example", "confirmed": 1, "paper": 0, "total": 1}
    ]
    assert data["other_supporters"] is None


def test_a_letter_anyone_may_sign_has_no_employers_in_the_api(open_letter):
    confirmed_signature(open_letter, email="pia@example.org")

    data = api(open_letter)

    assert data["employers"] == []
    assert data["other_supporters"] is None
    assert 'data-testid="employer-bars"' not in page(open_letter)


@pytest.mark.parametrize("where", ["page", "api", "widget"])
def test_employer_counts_come_from_the_cached_copy_and_show_within_the_count_interval(
    organiser, settings, where
):
    """The bars are read with the rest of the page: a confirmation is not
    in the copy already built, and is in every copy built after the count
    interval."""
    settings.COUNT_INTERVAL = 1
    letter = coalition(organiser)
    confirmed_signature(letter, email="nia@northwind.example")
    read = {
        "page": lambda: "Contoso: 1 verified signature" in bars(page(letter)),
        "api": lambda: api(letter)["employers"][1]["confirmed"] == 1,
        "widget": lambda: "Contoso</span> 1<" in widget(letter),
    }[where]
    assert not read()

    confirmed_signature(letter, email="cal@contoso.example")
    assert not read()  # the copy built before it, for everyone
    time.sleep(settings.COUNT_INTERVAL + 0.1)
    assert read()


def test_the_employer_chart_is_none_where_a_split_would_say_nothing() -> None:
    one = EmployerCounts(
        employers=(EmployerCount(1, "Northwind", ("n.example",), 5),), supporters=0
    )
    two = EmployerCounts(
        employers=(
            EmployerCount(1, "Northwind", ("n.example",), 5, paper=2),
            EmployerCount(2, "Contoso", ("c.example",), 9),
        ),
        supporters=4,
        supporters_paper=1,
    )

    assert employer_chart(one, total=5, accept_supporters=False) is None
    assert employer_chart(EmployerCounts((), 3), total=3, accept_supporters=True) is None
    with_supporters = employer_chart(one, total=5, accept_supporters=True)
    assert with_supporters is not None
    assert with_supporters.supporters is not None
    chart = employer_chart(two, total=21, accept_supporters=False)
    assert chart == EmployerChart(
        employers=(EmployerBar("Northwind", 5, 2), EmployerBar("Contoso", 9, 0)),
        supporters=None,
        total=21,
    )
    assert chart.scale == 21
    assert chart.largest(1) == ([EmployerBar("Contoso", 9, 0)], 1)
    # Counts read a moment apart may disagree: no bar is ever past its scale.
    skewed = EmployerChart(employers=(EmployerBar("Northwind", 30, 0),), supporters=None, total=25)
    assert skewed.scale == 30
