"""Email address canonicalisation: one person, one canonical address."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _


def canonical_email(address: str) -> str:
    """Lower-case, strip a `+tag` from the local part, IDNA-encode the domain.

    Raises ValidationError for anything that is not a plausible address.
    """
    address = address.strip()
    validate_email(address)
    local, _sep, domain = address.rpartition("@")
    local = local.lower().split("+", 1)[0]
    if not local:
        raise ValidationError(_("Enter a valid email address."), code="invalid")
    try:
        domain = domain.lower().rstrip(".").encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValidationError(_("Enter a valid email address."), code="invalid") from exc
    return f"{local}@{domain}"


def canonical_domain(domain: str) -> str:
    return domain.strip().lower().lstrip("@").rstrip(".").encode("idna").decode("ascii")


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
