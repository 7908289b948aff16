"""Email addresses: send to what was typed, deduplicate on the mailbox.

The rule: an address is accepted exactly when the site can deliver to it
over plain SMTP (no SMTPUTF8).  `mail_address` gives two forms of it, or
raises ValidationError:

- `deliver_to`, what emails are sent to: the local part exactly as typed
  (its case and its `+tag` kept: a provider without subaddressing has no
  mailbox for the rewritten address), the domain lower-cased and
  IDNA-encoded.  Never an address the mail backend would refuse, re-encode
  or read as a different mailbox (a test sends every address it accepts
  through Django's SMTP backend to a real SMTP server);
- `canonical` (`canonical_email`), what identifies the mailbox, so one
  person signs once: the local part lower-cased and without its `+tag`;
  at gmail.com and googlemail.com (one provider, one mailbox under both
  names, dots ignored) without dots and at gmail.com.  Only its keyed hash
  is stored (letters/signer_address.py).

Local part (before the last `@`):

- an ASCII dot-atom (RFC 5322 `atext`: letters, digits and
  ``!#$%&'*+-/=?^_`{|}~``; atoms joined by single dots), checked as typed,
  before lower-casing.  Non-ASCII characters are refused, never mapped: a
  case-insensitive pattern takes the long s (U+017F), the dotted capital I
  (U+0130) or the Kelvin sign (U+212A) for ASCII letters, but they name
  another mailbox, one only an SMTPUTF8 server can take (and U+0130
  lower-cases to two characters, one of them not ASCII);
- at most 64 characters as typed (RFC 5321); for the canonical form,
  lower-cased and a `+tag` dropped (``Cora+x@`` is ``cora@``), and what is
  left must still be a dot-atom;
- a quoted local part whose content is itself a valid dot-atom is the same
  mailbox as the unquoted one (the quotes are not part of it, RFC 5322
  3.2.4): ``"a.b"@x`` and ``a.b@x`` give the same canonical address.  Any
  other quoted local part (spaces, backslash escapes, `@` or `"` inside the
  quotes) is refused;
- `=?` is refused anywhere in it: mail libraries read ``=?charset?q?...?=``
  as an RFC 2047 encoded word and send to the decoded address instead.

Domain (after the last `@`):

- a DNS name of at least two labels (``a@localhost`` is refused), each of
  ASCII letters, digits and inner hyphens, at most 63 characters; the last
  label is two letters or more, or an IDNA ``xn--`` label (``a@1.2.3.4`` is
  refused); one trailing dot is dropped;
- an internationalised domain is accepted and IDNA-encoded (Python's `idna`
  codec: IDNA 2003 with nameprep, the encoding `canonical_domain` gives a
  letter's allowed domains, so `domain_allowed` compares like with like);
- address literals (``a@[127.0.0.1]``, ``a@[IPv6:::1]``) are refused: a
  signer's mailbox is at a domain, and a literal points the sender at any
  host a stranger names.

The whole address as sent is ASCII and at most 254 characters (RFC 5321's
path limit, less the angle brackets).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# RFC 5322 dot-atom, ASCII only (no IGNORECASE: with it, `[A-Z]` would match
# `ſ` and the Kelvin sign through Unicode case folding).
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_DOT_ATOM = re.compile(rf"{_ATEXT}+(?:\.{_ATEXT}+)*")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_TOP_LABEL = re.compile(r"[a-z]{2,63}|xn--[a-z0-9-]{1,59}")

MAX_TYPED = 320  # RFC 3696 (errata): longer input is not worth parsing
MAX_LOCAL = 64
MAX_DOMAIN = 253
MAX_ADDRESS = 254


def _invalid() -> ValidationError:
    return ValidationError(_("Enter a valid email address."), code="invalid")


# One mailbox under several spellings at these providers: dots in the local
# part are ignored, and both domains are the same mailboxes.
_DOTLESS_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}


@dataclass(frozen=True)
class MailAddress:
    """An accepted address in its two forms: `deliver_to`, as typed (local
    part as typed, its quotes dropped when it is a dot-atom; the domain
    lower-cased and IDNA-encoded), which emails are sent to; `canonical`,
    which identifies the mailbox (deduplication)."""

    deliver_to: str
    canonical: str


def mail_address(address: str) -> MailAddress:
    """Both forms of `address` (see the module docstring).  Raises
    ValidationError for anything the site cannot deliver to without
    SMTPUTF8."""
    address = address.strip()
    if len(address) > MAX_TYPED:
        raise _invalid()
    local, at, domain = address.rpartition("@")
    if not at:
        raise _invalid()
    typed_local = _typed_local(local)
    ascii_domain = _canonical_mail_domain(domain)
    deliver_to = f"{typed_local}@{ascii_domain}"
    canonical_local = typed_local.lower().split("+", 1)[0]
    if not _DOT_ATOM.fullmatch(canonical_local):
        raise _invalid()  # nothing before the +
    if ascii_domain in _DOTLESS_DOMAINS:
        canonical_local = canonical_local.replace(".", "")
        ascii_domain = _DOTLESS_DOMAINS[ascii_domain]
    if len(deliver_to) > MAX_ADDRESS or not canonical_local:
        raise _invalid()
    return MailAddress(deliver_to=deliver_to, canonical=f"{canonical_local}@{ascii_domain}")


def canonical_email(address: str) -> str:
    """The canonical form of `address`: what identifies its mailbox."""
    return mail_address(address).canonical


def _typed_local(local: str) -> str:
    """The local part as typed, validated: a dot-atom of at most 64
    characters (quotes around a dot-atom dropped)."""
    if len(local) >= 2 and local[0] == local[-1] == '"':
        local = local[1:-1]
        if not _DOT_ATOM.fullmatch(local):
            raise ValidationError(
                _("Enter the address without quotation marks, spaces or backslashes."),
                code="quoted",
            )
    elif not local.isascii():
        raise ValidationError(
            _("Before the @, use only unaccented letters (a to z), digits and punctuation."),
            code="non_ascii",
        )
    if not _DOT_ATOM.fullmatch(local) or "=?" in local or len(local) > MAX_LOCAL:
        raise _invalid()
    return local


def _canonical_mail_domain(domain: str) -> str:
    if domain.startswith("["):
        raise ValidationError(
            _("Enter an address at a domain name, not at an IP address."),
            code="address_literal",
        )
    domain = domain.removesuffix(".")
    try:
        ascii_domain = _idna(domain)
    except UnicodeError as exc:
        raise _invalid() from exc
    labels = ascii_domain.split(".")
    if len(labels) < 2 and _LABEL.fullmatch(ascii_domain):
        raise ValidationError(
            _("Enter an address at a full domain name, such as example.org."),
            code="single_label",
        )
    if (
        not ascii_domain.isascii()
        or len(ascii_domain) > MAX_DOMAIN
        or not all(_LABEL.fullmatch(label) for label in labels)
        or not _TOP_LABEL.fullmatch(labels[-1])
    ):
        raise _invalid()
    return ascii_domain


def _idna(domain: str) -> str:
    """Lower-cased and IDNA-encoded; UnicodeError if it cannot be."""
    return domain.lower().encode("idna").decode("ascii")


def canonical_domain(domain: str) -> str:
    """A domain as an organiser types it (a letter's allowed domains, a
    moderation filter), encoded as `canonical_email` encodes an address's.
    Raises UnicodeError when it cannot be IDNA-encoded; callers check the
    shape (`forms.DOMAIN_RE`)."""
    return _idna(domain.strip().lstrip("@").rstrip("."))


def domain_allowed(email: str, allowed: list[str]) -> bool:
    """True when `email` (canonical) is at one of `allowed` or a subdomain of one."""
    if not allowed:
        return True
    domain = email.rpartition("@")[2]
    for entry in allowed:
        base = canonical_domain(entry)
        if domain == base or domain.endswith("." + base):
            return True
    return False
