"""The canonical email address: accepted exactly when the site can deliver to
it without SMTPUTF8, refused next to the email field otherwise.

The property tests type arbitrary text and odd-but-valid RFC 5322 forms
(quoted local parts, address literals, internationalised domains, characters
that Unicode case folding takes for ASCII) into the real sign path, and send
whatever it accepts through the real sender to a real SMTP server."""

from __future__ import annotations

import string
import warnings
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.mail import mailers
from django.core.mail.backends.smtp import EmailBackend
from django.core.mail.message import sanitize_address
from django.urls import reverse
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from conftest import SmtpSink
from letters import services, tasks
from letters.emailaddr import canonical_domain, canonical_email, domain_allowed, mail_address
from letters.models import Display, Letter, Signature
from letters.signer_address import address_hash
from letters.tests.factories import address_of

ORIGIN: dict[str, Any] = {"HTTP_ORIGIN": "http://testserver"}


def refusal(address: str) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        canonical_email(address)
    return caught.value


def smtp_backend_forms(address: str) -> tuple[str, str]:
    """What Django's SMTP backend makes of an address: the envelope address
    (`prep_address`) and the header form (`sanitize_address`).  Either
    raises ValueError for an address it cannot send to."""
    backend = mailers.default
    assert isinstance(backend, EmailBackend)  # the `smtp` fixture's: Django's SMTP backend
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sanitize_address is deprecated in Django 6.1
        return backend.prep_address(address), sanitize_address(address, "utf-8")


# --- The canonical form -------------------------------------------------------


def test_a_quoted_local_part_that_is_a_dot_atom_is_the_same_mailbox_unquoted():
    assert canonical_email('"a.b"@example.org') == canonical_email("a.b@example.org")
    assert canonical_email('"a.b"@example.org') == "a.b@example.org"
    assert canonical_email('"Cora.Coworker"@Example.ORG') == "cora.coworker@example.org"
    assert canonical_email('"cora+letters"@example.org') == "cora@example.org"
    assert canonical_email('  "o\'brien"@example.org ') == "o'brien@example.org"


@pytest.mark.parametrize(
    "typed",
    [
        '"cora coworker"@example.org',  # a space
        '"cora\\ coworker"@example.org',  # an escaped space
        '"cora\\"x"@example.org',  # an escaped quote
        '"cora@home"@example.org',  # an @ inside the quotes
        '"cora..x"@example.org',  # not a dot-atom inside
        '"ſtefan"@example.org',
        '""@example.org',
    ],
)
def test_other_quoted_local_parts_are_refused_with_a_clear_message(typed):
    error = refusal(typed)
    assert error.code == "quoted"
    assert "quotation marks" in error.messages[0]


@pytest.mark.parametrize(
    "typed",
    ["cora@[127.0.0.1]", "cora@[10.0.0.1]", "cora@[IPv6:::1]", "cora@[IPv6:2001:db8::1]"],
)
def test_an_address_at_an_ip_address_is_refused(typed):
    error = refusal(typed)
    assert error.code == "address_literal"
    assert "IP address" in error.messages[0]


@pytest.mark.parametrize("typed", ["cora@localhost", "cora@example", "cora@localhost."])
def test_an_address_at_a_single_label_domain_is_refused(typed):
    error = refusal(typed)
    assert error.code == "single_label"
    assert "example.org" in error.messages[0]


def test_an_internationalised_domain_is_accepted_and_punycoded(smtp):
    for typed, canonical in [
        ("joerg@bücher.example", "joerg@xn--bcher-kva.example"),
        ("joerg@BÜCHER.example", "joerg@xn--bcher-kva.example"),
        ("ivan@почта.рф", "ivan@xn--80a1acny.xn--p1ai"),
        ("cora@example。org", "cora@example.org"),  # an ideographic full stop is a dot
        ("cora@example.org.", "cora@example.org"),  # the root's dot
    ]:
        assert canonical_email(typed) == canonical
        assert smtp_backend_forms(canonical) == (canonical, canonical)


def test_a_domain_is_refused_unless_it_makes_a_dns_name():
    for typed in [
        "cora@ex＿ample.org",  # nameprep makes it "ex_ample": not a host name
        "cora@-example.org",
        "cora@example-.org",
        "cora@example..org",
        "cora@example.org..",
        "cora@1.2.3.4",  # an IP address without brackets: no top-level label
        "cora@example.c0m",
        "cora@" + "a" * 64 + ".example",  # a label over 63 characters
        "cora@" + ".".join(["a" * 60] * 5) + ".org",  # a domain over 253 characters
    ]:
        assert refusal(typed).code == "invalid", typed


@pytest.mark.parametrize(
    "typed",
    [
        "ſtefan@example.org",  # long s: folds to "s" in a case-insensitive match
        "İlse@example.org",  # dotted capital I: lower-cases to "i" and a combining dot
        "\u212aora@example.org",  # the Kelvin sign: folds to "k"
        "ılse@example.org",  # dotless i
        "jörg@example.org",
        "straße@example.org",
        "ｃora@example.org",  # fullwidth c
        "cora\u200b@example.org",  # a zero-width space
        "ﬁona@example.org",  # the fi ligature
    ],
)
def test_a_non_ascii_local_part_is_refused_not_mapped(typed):
    error = refusal(typed)
    assert error.code == "non_ascii"
    assert "before the @" in error.messages[0].lower()


def test_a_plus_tag_is_dropped_and_what_it_leaves_must_still_be_an_address():
    assert canonical_email("Cora@Example.ORG") == "cora@example.org"
    assert canonical_email("cora+letters@example.org") == "cora@example.org"
    assert canonical_email("cora+a+b@example.org") == "cora@example.org"
    assert canonical_email("cora.c+x.y@example.org") == "cora.c@example.org"
    for typed in ["+tag@example.org", "cora.+tag@example.org", "+@example.org"]:
        assert refusal(typed).code == "invalid", typed


@pytest.mark.parametrize(
    "typed",
    [
        "=?utf-8?q?cora?=@example.org",  # sanitize_address would send to cora@example.org
        "=?utf-8?q?=C5=BFtefan?=@example.org",  # ... or to a non-ASCII mailbox
        "cora.=?utf-8?b?eA==?=@example.org",
    ],
)
def test_a_local_part_that_mail_libraries_would_decode_is_refused(typed):
    assert refusal(typed).code == "invalid"


def test_addresses_over_the_smtp_length_limits_are_refused():
    assert canonical_email("c" * 64 + "@example.org") == "c" * 64 + "@example.org"
    assert refusal("c" * 65 + "@example.org").code == "invalid"
    long_domain = ".".join(["a" * 60] * 3) + ".example"  # 190 characters
    assert len(canonical_email("c" * 63 + "@" + long_domain)) == 254
    assert refusal("c" * 64 + "@" + long_domain).code == "invalid"  # 255 characters


def test_allowed_domains_typed_by_organisers_match_the_addresses_signers_type():
    allowed = [canonical_domain(" @Bücher.Example. "), canonical_domain("northwind.example")]
    assert allowed == ["xn--bcher-kva.example", "northwind.example"]
    assert domain_allowed(canonical_email("joerg@BÜCHER.example"), allowed)
    assert domain_allowed(canonical_email("cora@eu.northwind.example."), allowed)
    assert not domain_allowed(canonical_email("cora@evilnorthwind.example"), allowed)
    with pytest.raises(UnicodeError):
        canonical_domain("a..b.example")  # the organiser form answers "is not a domain"
    with pytest.raises(ValidationError):
        canonical_email("cora@a..b.example")


# --- Through the sign form ------------------------------------------------------


def sign(client: Any, letter: Letter, email: str) -> Any:
    data = {"name": "Pat Property", "email": email, "display": Display.PUBLIC, "consent": "on"}
    return client.post(reverse("letters:sign", kwargs={"slug": letter.slug}), data, **ORIGIN)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "typed",
    [
        "ſtefan@example.org",
        "İlse@example.org",
        "\u212aora@example.org",
        "cora@[127.0.0.1]",
        "cora@localhost",
        '"cora@home"@example.org',
    ],
)
def test_the_sign_form_refuses_an_address_it_cannot_deliver_to_next_to_the_email_field(
    client, open_letter, smtp, typed
):
    response = sign(client, open_letter, typed)

    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"email"}
    assert 'id="id_email_error"' in response.content.decode()
    assert not Signature.objects.exists()
    assert smtp.messages == []


# --- Properties: refused next to the email field, or delivered -------------------

_ATEXT = string.ascii_letters + string.digits + "!#$%&'*+-/=?^_`{|}~"
_atom = st.text(alphabet=_ATEXT, min_size=1, max_size=8)
_dot_atom = st.lists(_atom, min_size=1, max_size=3).map(".".join)
# Characters Unicode case folding takes for ASCII letters, look-alikes, and
# characters mail syntax gives a meaning to.
_tricky = st.sampled_from(
    [*'ſİıKßéÅﬁｃ＠．。@"\\ .,;:()<>[]', "\u00a0", "\u200b", "\u0307", "\t", "\r\n", "\x00", "=?"]
)
_local = st.one_of(
    _dot_atom,
    st.lists(st.one_of(_atom, _tricky), min_size=1, max_size=5).map("".join),
    _dot_atom.map(lambda text: f'"{text}"'),  # quoted, yet the same mailbox
    st.text(st.characters(max_codepoint=0x17F), max_size=10).map(lambda text: f'"{text}"'),
    st.lists(st.one_of(_atom, st.sampled_from(["\\ ", '\\"', "\\\\", " "])), max_size=4).map(
        lambda parts: '"' + "".join(parts) + '"'
    ),
)
_ldh_label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
_idn_label = st.text(
    st.characters(categories=("Lu", "Ll", "Lo", "Nd", "Mn")), min_size=1, max_size=8
)
_domain = st.one_of(
    st.builds(
        lambda labels, top: ".".join([*labels, top]),
        st.lists(st.one_of(_ldh_label, _idn_label, _tricky), min_size=1, max_size=3),
        st.sampled_from(["org", "example", "de", "xn--p1ai", "рф", "中国", "1", "c0m", "org."]),
    ),
    st.ip_addresses(v=4).map(lambda ip: f"[{ip}]"),
    st.ip_addresses(v=6).map(lambda ip: f"[IPv6:{ip}]"),
    st.ip_addresses(v=4).map(str),
    st.sampled_from(["localhost", "example", "", "-a.example", "a..example", "a_b.example"]),
)
_rfc_forms = st.builds(
    lambda local, domain, pad: f"{pad}{local}@{domain}{pad}",
    _local,
    _domain,
    st.sampled_from(["", " ", "\t"]),
)
TYPED = st.one_of(_rfc_forms, st.emails(), st.text(max_size=60))

_PROPERTY = hypothesis_settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_TRICKY_EXAMPLES = [
    "ſtefan@example.org",
    "İlse@example.org",
    "\u212aora@example.org",
    '"a.b"@example.org',
    "cora@[127.0.0.1]",
    "cora@[IPv6:::1]",
    "cora@localhost",
    "joerg@bücher.example",
    "cora.+tag@example.org",
    "=?utf-8?q?cora?=@example.org",
]


def assert_delivered_once(smtp: SmtpSink, letter: Letter, typed: str) -> None:
    """The one signature stored is at an ASCII address, as typed, that
    Django's SMTP backend takes unchanged, deduplicated by its canonical
    form; the sender delivered its confirmation there, through the real
    SMTP server."""
    signature = Signature.objects.get(letter=letter)
    address = address_of(signature)
    assert address == mail_address(typed).deliver_to
    assert canonical_email(address) == canonical_email(typed)
    assert signature.email_hash == address_hash(canonical_email(typed))
    assert address.isascii()
    assert len(address) <= 254
    assert smtp_backend_forms(address) == (address, address)
    tasks.send_signature_emails.apply()  # a second sender finds nothing owed
    (received,) = smtp.messages
    assert received.envelope_to == [address]
    assert received.message["To"].addresses[0].addr_spec == address
    signature.refresh_from_db()
    assert signature.emails_sent == 1
    assert not signature.email_failed


# What the sign form may answer about an address (letters/emailaddr.py).
REFUSALS = {
    "Enter a valid email address.",
    "Enter the address without quotation marks, spaces or backslashes.",
    "Before the @, use only unaccented letters (a to z), digits and punctuation.",
    "Enter an address at a domain name, not at an IP address.",
    "Enter an address at a full domain name, such as example.org.",
}


@pytest.mark.django_db
@_PROPERTY
@given(typed=TYPED)
@example(typed=_TRICKY_EXAMPLES[0])
@example(typed=_TRICKY_EXAMPLES[1])
@example(typed=_TRICKY_EXAMPLES[2])
@example(typed=_TRICKY_EXAMPLES[3])
@example(typed=_TRICKY_EXAMPLES[4])
@example(typed=_TRICKY_EXAMPLES[5])
@example(typed=_TRICKY_EXAMPLES[6])
@example(typed=_TRICKY_EXAMPLES[7])
@example(typed=_TRICKY_EXAMPLES[8])
@example(typed=_TRICKY_EXAMPLES[9])
def test_the_sign_service_refuses_an_address_or_it_is_delivered(typed, open_letter, smtp):
    smtp.messages.clear()
    refused: services.ServiceError | None = None
    try:
        services.signature_create(letter=open_letter, email=typed, name="Pat Property")
    except services.ServiceError as exc:
        refused = exc
    if refused is not None:
        assert refused.field == "email"
        assert refused.message in REFUSALS  # a clear reason, never an internal error
        assert not Signature.objects.filter(letter=open_letter).exists()
        return
    try:
        tasks.send_signature_emails.apply()  # in a transaction: no sender on commit
        assert_delivered_once(smtp, open_letter, typed)
    finally:
        Signature.objects.filter(letter=open_letter).delete()


@pytest.mark.django_db(transaction=True)
@_PROPERTY
@given(typed=TYPED)
@example(typed=_TRICKY_EXAMPLES[0])
@example(typed=_TRICKY_EXAMPLES[1])
@example(typed=_TRICKY_EXAMPLES[3])
@example(typed=_TRICKY_EXAMPLES[6])
@example(typed=_TRICKY_EXAMPLES[7])
def test_the_sign_form_refuses_an_address_next_to_the_email_field_or_it_is_delivered(
    typed, client, open_letter, smtp
):
    smtp.messages.clear()
    response = sign(client, open_letter, typed)
    try:
        if response.status_code == 400:
            errors = response.context["form"].errors
            assert set(errors) == {"email"}
            assert all(message.strip() for message in errors["email"])
            assert not Signature.objects.filter(letter=open_letter).exists()
            assert smtp.messages == []
            return
        assert response.status_code == 302
        assert_delivered_once(smtp, open_letter, typed)  # sent on commit, by the real sender
    finally:
        Signature.objects.filter(letter=open_letter).delete()
