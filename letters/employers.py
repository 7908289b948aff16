"""Which employer an address belongs to, from its domain alone.

Pure functions over a letter's employers (letters.models.employers): the
sign path calls `employer_for` with the employers cached beside the letter,
so deciding costs no query."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class HasDomains(Protocol):
    domains: list[str]


def domain_covers(base: str, domain: str) -> bool:
    """Whether `domain` is `base` or one of its subdomains (both canonical)."""
    return domain == base or domain.endswith("." + base)


def employer_for[E: HasDomains](address: str, employers: Sequence[E]) -> E | None:
    """The employer whose domains cover the address's domain (`address`
    canonical, as letters.emailaddr makes it), or None: an address at none
    of them (an other supporter, where the letter accepts them)."""
    domain = address.rpartition("@")[2]
    for employer in employers:
        if any(domain_covers(base, domain) for base in employer.domains):
            return employer
    return None


def domains_overlap(first: str, second: str) -> bool:
    """Whether one domain covers the other: two employers of a letter may
    not hold such a pair, or a signer's employer would be ambiguous."""
    return domain_covers(first, second) or domain_covers(second, first)
