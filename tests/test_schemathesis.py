"""The read API against its own OpenAPI document: schemathesis generates
requests from /api/openapi.json and checks every answer against it (status
codes, content types, headers, response schemas) through the WSGI app.

The document closes every object (`additionalProperties: false`), so a field
it does not describe, a signer's name for one, fails this run."""

from __future__ import annotations

from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import strategies as st

from config.wsgi import application
from letters.models import Display
from letters.openapi import DEMO_SLUG
from letters.services.employers import EmployerInput
from letters.tests.factories import confirmed_signature, open_letter, record_paper

# Loaded through the WSGI app at collection time (the document needs no database).
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
    """Half the drawn addresses are the letter's, so its 200 answers are
    checked as well as the 404s of unknown ones."""
    if not path_parameters or "slug" not in path_parameters:
        return st.just(path_parameters)
    return st.sampled_from([path_parameters, {**path_parameters, "slug": DEMO_SLUG}])


@pytest.fixture
def letter(transactional_db: None) -> Any:
    """An open coalition letter at the documented example address: two
    employers, a signer of each (one anonymous), another supporter, and
    paper for one employer."""
    letter = open_letter(
        slug=DEMO_SLUG,
        employers=[
            EmployerInput(name="Northwind", domains=["northwind.example"]),
            EmployerInput(name="Contoso", domains=["contoso.example"]),
        ],
        accept_supporters=True,
    )
    confirmed_signature(letter, name="Pia Public", email="pia@northwind.example")
    confirmed_signature(
        letter, name="Anna Anonymous", email="anna@contoso.example", display=Display.ANONYMOUS
    )
    confirmed_signature(letter, name="Sam Supporter", email="sam@example.org")
    record_paper(letter, 7, employer_id=letter.employers.get(name="Contoso").pk)
    return letter


@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@hypothesis.settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    database=None,
)
def test_api_conforms_to_its_openapi_document(case: Any, letter: Any) -> None:
    response = case.call_and_validate()
    if response.status_code == 200:
        assert "Anna Anonymous" not in response.text
        if case.operation.path == "/api/letters/{slug}/" and case.path_parameters == {
            "slug": DEMO_SLUG
        }:
            assert [e["name"] for e in response.json()["employers"]] == ["Northwind", "Contoso"]
