"""Emailed links: opaque, signed, salted, expiring tokens naming a signature.

Tampered, expired, unknown, revoked and wrong-purpose tokens are
indistinguishable to the caller: each reads as None.

What a token looks like (minted since issue 16)::

    <payload>:<timestamp>:<mac>

`TimestampSigner` with the salt `<purpose>:v2` makes the `:<timestamp>:<mac>`
part (HMAC-SHA-256 under SECRET_KEY), so expiry (`_max_age`) and tampering
are Django's own checks.  The payload is 32 bytes, URL-safe base64 without
padding:

- `nonce`: 12 random bytes, new for every token;
- `id`: the signature id as 8 big-endian bytes XOR-ed with a keystream,
  HMAC-SHA-256(K_id, nonce)[:8], where K_id is derived from SECRET_KEY and the
  purpose (`salted_hmac`);
- `check`: HMAC-SHA-256(K_check, nonce || id || signature.secret)[:12], K_check
  derived likewise.

Why this is sound:

- Opaque: without SECRET_KEY the keystream is a pseudo-random function of a
  random nonce, so the id field is a one-time pad over the id; nothing in a
  token (nor in two tokens compared) tells the id, the order of two
  signatures or how many were made in between.  The timestamp is the minting
  time (as in every Django signed value), not a counter.  A nonce repeats
  after some 2**48 tokens (birthday bound on 96 bits), and even then shows
  only the XOR of two ids.
- Unforgeable: the MAC covers the payload and the timestamp; a changed
  character, a moved bit or a payload of another purpose (other salt, other
  keys) fails before any query.
- Revocable: `check` binds the token to the signature's secret, which the
  token does not carry (tokens of one signer share no part but a timestamp).
  Erasing or changing the secret (withdrawal, erasure) revokes every link.
- Keys: SECRET_KEY mints; SECRET_KEY_FALLBACKS still read (the key that
  verifies the MAC also opens the id), so a key rotation keeps links alive
  until the fallback is dropped.

The previous format, `signing.dumps([id, secret], salt=<purpose>)`, showed the
id to anyone (base64 JSON).  It is never minted any more; withdraw and
unsubscribe links in that format are still read (they live
SIGNATURE_WITHDRAW_MAX_AGE, 400 days, in mailboxes, and signers must always
be able to erase their data), confirm and new-version links in it are not
(a pending signer signs again; the new-version email also carries a
withdraw link).  Delete `_read_old_format` SIGNATURE_WITHDRAW_MAX_AGE after
the release that stopped minting it.

An archived letter is withdrawn from view (docs/threat-model.md): its confirm
and new-version links read as None like any invalid link, while withdraw and
unsubscribe links keep working.
"""

from __future__ import annotations

import enum
import hashlib
import secrets

from django.conf import settings
from django.core import signing
from django.db.models import QuerySet
from django.utils.crypto import constant_time_compare, salted_hmac

from letters.models import LIVE_STATUSES, LetterStatus, Signature


def hash_token(token: str) -> str:
    """How a random bearer token (an invitation, a leadership or preview
    link) is stored: its SHA-256, never the token."""
    return hashlib.sha256(token.encode()).hexdigest()


class Purpose(enum.Enum):
    CONFIRM = "letters.signature.confirm"
    WITHDRAW = "letters.signature.withdraw"
    NEW_VERSION = "letters.signature.new-version"
    UNSUBSCRIBE = "letters.signature.unsubscribe"
    PERSONAL = "letters.signature.personal-address"


# Links that do nothing once a letter is archived (it is withdrawn from view);
# withdraw and unsubscribe links keep working for the signer.
CLOSED_BY_ARCHIVE = frozenset({Purpose.CONFIRM, Purpose.NEW_VERSION, Purpose.PERSONAL})
# Purposes whose old (id-revealing) tokens are still read, never minted.
OLD_FORMAT_READ = frozenset({Purpose.WITHDRAW, Purpose.UNSUBSCRIBE})

NONCE_BYTES = 12
ID_BYTES = 8
CHECK_BYTES = 12
PAYLOAD_BYTES = NONCE_BYTES + ID_BYTES + CHECK_BYTES


def _max_age(purpose: Purpose) -> int:
    if purpose in (Purpose.CONFIRM, Purpose.PERSONAL):
        return settings.SIGNATURE_CONFIRM_MAX_AGE
    if purpose in (Purpose.NEW_VERSION, Purpose.UNSUBSCRIBE):
        return settings.SIGNATURE_WITHDRAW_MAX_AGE
    return settings.SIGNATURE_WITHDRAW_MAX_AGE


def _salt(purpose: Purpose) -> str:
    return f"{purpose.value}:v2"


def _signer(purpose: Purpose, key: str | bytes) -> signing.TimestampSigner:
    return signing.TimestampSigner(key=key, fallback_keys=[], salt=_salt(purpose))


def _keystream(purpose: Purpose, key: str | bytes, nonce: bytes) -> bytes:
    mac = salted_hmac(f"{_salt(purpose)}:id", nonce, secret=key, algorithm="sha256")
    return mac.digest()[:ID_BYTES]


def _check(purpose: Purpose, key: str | bytes, nonce: bytes, pk: int, secret: str) -> bytes:
    value = nonce + pk.to_bytes(ID_BYTES, "big") + secret.encode()
    mac = salted_hmac(f"{_salt(purpose)}:check", value, secret=key, algorithm="sha256")
    return mac.digest()[:CHECK_BYTES]


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def make_token(signature: Signature, purpose: Purpose) -> str:
    """A new opaque token (a fresh nonce each call) for this signature's link."""
    key = settings.SECRET_KEY
    nonce = secrets.token_bytes(NONCE_BYTES)
    hidden_id = _xor(signature.pk.to_bytes(ID_BYTES, "big"), _keystream(purpose, key, nonce))
    check = _check(purpose, key, nonce, signature.pk, signature.secret)
    payload = signing.b64_encode(nonce + hidden_id + check).decode()
    return _signer(purpose, key).sign(payload)


def _live(pk: int, purpose: Purpose) -> Signature | None:
    signatures: QuerySet[Signature] = Signature.objects.select_related("letter").filter(
        pk=pk, status__in=LIVE_STATUSES
    )
    if purpose in CLOSED_BY_ARCHIVE:
        signatures = signatures.exclude(letter__status=LetterStatus.ARCHIVED)
    return signatures.first()


def _read(token: str, purpose: Purpose) -> Signature | None:
    for key in (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS):
        try:
            payload = _signer(purpose, key).unsign(token, max_age=_max_age(purpose))
            raw = signing.b64_decode(payload.encode())
        except (signing.BadSignature, ValueError, TypeError):
            continue
        if len(raw) != PAYLOAD_BYTES:
            return None
        nonce, rest = raw[:NONCE_BYTES], raw[NONCE_BYTES:]
        hidden_id, check = rest[:ID_BYTES], rest[ID_BYTES:]
        pk = int.from_bytes(_xor(hidden_id, _keystream(purpose, key, nonce)), "big")
        if not 0 < pk < 2**63:
            return None
        signature = _live(pk, purpose)
        if signature is None or not signature.secret:
            return None
        if not constant_time_compare(check, _check(purpose, key, nonce, pk, signature.secret)):
            return None
        return signature
    return None


def _read_old_format(token: str, purpose: Purpose) -> Signature | None:
    """`signing.dumps([id, secret], salt=purpose)`: read, never minted."""
    try:
        pk, secret = signing.loads(token, salt=purpose.value, max_age=_max_age(purpose))
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(pk, int) or not isinstance(secret, str) or not secret:
        return None
    signature = _live(pk, purpose)
    if signature is None or not constant_time_compare(signature.secret, secret):
        return None
    return signature


def read_token(token: str, purpose: Purpose) -> Signature | None:
    """The live signature a token names, or None (never says why)."""
    signature = _read(token, purpose)
    if signature is None and purpose in OLD_FORMAT_READ:
        signature = _read_old_format(token, purpose)
    return signature
