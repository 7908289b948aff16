"""A signer's address as the database holds it: never in clear.

For each signature three values stand in for the address (the columns of
`Signature`; docs/architecture.md "Sealed signer data"):

- `email_hash`: the keyed hash of the canonical address (HMAC-SHA-256 with
  SIGNER_HASH_KEY).  One live signature per letter and address is a unique
  index on it; it survives erasure, so an erased signer is not counted
  twice.  Without the key, a list of addresses cannot be tried against it.
- `email_sealed`: the canonical address sealed to the mail sender's public
  key (HPKE, `letters.sealing`).  Web processes can seal but not open;
  only a process with SIGNER_SEAL_PRIVATE_KEYS (the email workers) opens
  it, at the moment of sending (`open_address`), and keeps the plaintext
  nowhere.  Erasure and withdrawal drop it.
- `email_domains`: keyed hashes of the address's domain and of each parent
  domain, space-separated, for invalidation by domain (with subdomains).
  Not the domain in clear: a personal domain (jane@janedoe.name) names its
  owner as surely as the address.  Organisers type a domain, which is
  hashed the same way and looked for among the tags.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from typing import Any

from django.conf import settings

from letters.sealing import CannotUnseal, NoKeyHere, seal, signer_hash, unb64, unseal

__all__ = [
    "CannotUnseal",
    "NoKeyHere",
    "address_hash",
    "domain_tag",
    "domain_tags",
    "open_address",
    "open_personal",
    "sealed_address",
    "stored_address",
]

DOMAIN_TAG_CHARS = 24  # 96 bits of a keyed hash: enough to tell domains apart


def address_hash(canonical: str, hash_key: str = "") -> str:
    """The keyed hash of a canonical address (what deduplicates it), with
    SIGNER_HASH_KEY unless another key is given (a rotation)."""
    return signer_hash(canonical, hash_key or settings.SIGNER_HASH_KEY)


@functools.lru_cache(maxsize=8)
def _domain_key(hash_key: str) -> bytes:
    """A key for domain tags derived from SIGNER_HASH_KEY, so that a tag
    can never equal an address's hash."""
    return hmac.new(unb64(hash_key), b"undersigned domain tag v1", hashlib.sha256).digest()


def domain_tag(domain: str, hash_key: str = "") -> str:
    """The tag of one canonical domain (lower case, IDNA-encoded)."""
    key = _domain_key(hash_key or settings.SIGNER_HASH_KEY)
    return hmac.new(key, domain.encode(), hashlib.sha256).hexdigest()[:DOMAIN_TAG_CHARS]


def domain_tags(domain: str, hash_key: str = "") -> str:
    """`" t1 t2 … "`: the tags of `domain` and of each parent (a.b.example
    → a.b.example, b.example, example), between spaces, so a filter is one
    `contains " tag "`."""
    labels = domain.split(".")
    tags = [domain_tag(".".join(labels[i:]), hash_key) for i in range(len(labels))]
    return f" {' '.join(tags)} "


def stored_address(canonical: str, hash_key: str = "", *, deliver_to: str = "") -> dict[str, Any]:
    """The column values that stand in for an address on a signature: the
    hash of its `canonical` form (letters.emailaddr), and, sealed, the form
    emails go to (`deliver_to`, as typed; the canonical one if not given)
    with the tags of its domain."""
    deliver_to = deliver_to or canonical
    return {
        "email_hash": address_hash(canonical, hash_key),
        "email_sealed": seal(deliver_to, settings.SIGNER_SEAL_PUBLIC_KEY),
        "email_domains": domain_tags(deliver_to.rpartition("@")[2], hash_key),
    }


def sealed_address(address: str) -> bytes:
    """`address` sealed to the workers' key, alone: a new spelling of a
    signer's address, or a personal address (never hashed: it neither
    counts nor deduplicates)."""
    return seal(address, settings.SIGNER_SEAL_PUBLIC_KEY)


def open_personal(signature: Any) -> str:
    """The confirmed personal address, opened like `open_address`."""
    sealed = signature.personal_sealed
    if not sealed:
        raise CannotUnseal("no personal address")
    return unseal(bytes(sealed), settings.SIGNER_SEAL_PRIVATE_KEYS)


def open_address(signature: Any) -> str:
    """The signer's address, for the message being sent now: only in a
    process with the private key, and never to be stored or logged.
    CannotUnseal if the address was erased or this process cannot open it
    (a web process)."""
    sealed = signature.email_sealed
    if not sealed:
        raise CannotUnseal("no sealed address (erased or withdrawn)")
    return unseal(bytes(sealed), settings.SIGNER_SEAL_PRIVATE_KEYS)
