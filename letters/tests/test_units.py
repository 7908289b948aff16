"""Small pure functions: address canonicalisation and Markdown sanitising."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import example, given, settings
from hypothesis import strategies as st

from letters.emailaddr import canonical_email, domain_allowed
from letters.markup import render_markdown


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("Cora@Example.ORG", "cora@example.org"),
        ("cora+letters@example.org", "cora@example.org"),
        ("  cora@example.org ", "cora@example.org"),
        ("joerg@bücher.example", "joerg@xn--bcher-kva.example"),
        ("cora@BÜCHER.example", "cora@xn--bcher-kva.example"),
    ],
)
def test_addresses_are_canonicalised(raw, canonical):
    assert canonical_email(raw) == canonical


@pytest.mark.parametrize("raw", ["", "no-at-sign", "@example.org", "+tag@example.org", "a@b@c"])
def test_bad_addresses_are_refused(raw):
    with pytest.raises(ValidationError):
        canonical_email(raw)


def test_allowed_domains_accept_subdomains_only_of_listed_domains():
    allowed = ["northwind.example", "Bücher.example"]
    assert domain_allowed("a@northwind.example", allowed)
    assert domain_allowed("a@eu.northwind.example", allowed)
    assert domain_allowed("a@xn--bcher-kva.example", allowed)
    assert not domain_allowed("a@evilnorthwind.example", allowed)
    assert not domain_allowed("a@northwind.example.evil", allowed)
    assert domain_allowed("a@anything.example", [])


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '<a href="#" onclick="alert(1)">x</a>',
        "<iframe src='https://evil.example'></iframe>",
        '<svg onload="alert(1)"></svg>',
    ],
)
def test_markdown_renders_nothing_executable(payload):
    html = render_markdown(f"Dear CEO,\n\n{payload}\n\n**Act now.**")
    lowered = html.lower()
    for bad in (
        "<script",
        "onerror",
        "onclick",
        "onload",
        "javascript:",
        "<iframe",
        "<svg",
        "<img",
    ):
        assert bad not in lowered
    assert "<strong>Act now.</strong>" in html


_SIGN_VALUES = st.one_of(
    st.just(""),
    st.just("on"),
    st.sampled_from(["public", "anonymous", "bogus", "pat@example.org", "not-an-email"]),
    st.text(max_size=130),
)


_SIGN_FIELDS = [
    "name", "email", "job_title", "team", "location", "comment",
    "display", "wants_updates", "consent", "website",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({}, optional=dict.fromkeys(_SIGN_FIELDS, _SIGN_VALUES)))
@example({"name": " Pat ", "email": "Pat@Example.org", "display": "anonymous", "consent": "on"})
@example({"name": "Pat", "email": "pat@example.org", "display": "public", "website": "x"})
@example({"name": " ", "email": "pat@example.org", "display": "public", "consent": "on"})
@example({"email": "pat@example.org", "display": "anonymous", "consent": "on"})
def test_the_quick_sign_check_agrees_with_the_full_form(data):
    """The sign POST's fast path accepts exactly what the form accepts, and
    cleans it to the same values."""
    from django.http import QueryDict

    from letters.forms import SignForm

    post = QueryDict(mutable=True)
    post.update(data)
    form = SignForm(post)
    quick = SignForm.clean_quickly(post)
    if form.is_valid():
        assert quick == form.cleaned_data
    else:
        assert quick is None
