"""Sealed signer data: the building blocks (issue "Sealed signer data").

- `seal` encrypts a signer's address to the mail sender's public key with
  HPKE (RFC 9180, base mode) over the hybrid post-quantum KEM
  ML-KEM-768 + X25519, HKDF-SHA256 and AES-256-GCM: a copy taken today
  cannot be opened by a future quantum computer unless both halves fall.
  Web processes need only the public key (SIGNER_SEAL_PUBLIC_KEY).
- `unseal` opens it, with one of the private keys only the email-sending
  processes hold (SIGNER_SEAL_PRIVATE_KEYS: several during a rotation).
  Each sealed value names the key it was sealed to.
- `signer_hash` is the keyed hash (HMAC-SHA-256 with SIGNER_HASH_KEY, a key
  outside the database) that deduplicates addresses without storing them.

Keys are made by `manage.py signer_keys` and read by the settings
(`config/signer_keys.py`); `letters.signer_address` applies them to
signatures (docs/architecture.md, "Sealed signer data").
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import mlkem, x25519

SUITE = hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
# Binds every sealed value to what it is: a value sealed for another purpose
# (or another application using the same key) does not open as an address.
INFO = b"undersigned signer address v1"
VERSION = b"\x01"
KEY_ID_BYTES = 4
_MLKEM_SEED, _X25519 = 64, 32


class CannotUnseal(Exception):
    """The value does not open (not sealed by us, tampered with, erased).
    Never carries the value."""


class NoKeyHere(CannotUnseal):
    """This process holds no private key for the value: a web process, or a
    worker not given the key it was sealed to (a rotation half done).  Not
    the value's fault: another process may open it."""


@dataclass(frozen=True)
class KeyPair:
    private: str  # for the email-sending processes only
    public: str  # for every process


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@functools.lru_cache(maxsize=8)
def key_id(public: str) -> bytes:
    """Which key a sealed value was sealed to: the start of the public key's
    SHA-256 (public, so it says nothing about the key)."""
    return hashlib.sha256(unb64(public)).digest()[:KEY_ID_BYTES]


def generate_key_pair() -> KeyPair:
    m = mlkem.MLKEM768PrivateKey.generate()
    x = x25519.X25519PrivateKey.generate()
    private = _b64(m.private_bytes_raw() + x.private_bytes_raw())
    public = _b64(m.public_key().public_bytes_raw() + x.public_key().public_bytes_raw())
    return KeyPair(private=private, public=public)


@functools.lru_cache(maxsize=8)
def _public_key(public: str) -> hpke.MLKEM768X25519PublicKey:
    raw = unb64(public)
    return hpke.MLKEM768X25519PublicKey(
        mlkem.MLKEM768PublicKey.from_public_bytes(raw[:-_X25519]),
        x25519.X25519PublicKey.from_public_bytes(raw[-_X25519:]),
    )


@functools.lru_cache(maxsize=8)
def _private_key(private: str) -> tuple[bytes, hpke.MLKEM768X25519PrivateKey]:
    raw = unb64(private)
    if len(raw) != _MLKEM_SEED + _X25519:
        raise ValueError("not a signer sealing private key")
    m = mlkem.MLKEM768PrivateKey.from_seed_bytes(raw[:_MLKEM_SEED])
    x = x25519.X25519PrivateKey.from_private_bytes(raw[_MLKEM_SEED:])
    public = _b64(m.public_key().public_bytes_raw() + x.public_key().public_bytes_raw())
    return key_id(public), hpke.MLKEM768X25519PrivateKey(m, x)


def seal(text: str, public: str) -> bytes:
    """`text` sealed to `public`: version, key id, then HPKE's enc and
    ciphertext.  A fresh ephemeral key each time: two seals of the same
    address differ (deduplication is `signer_hash`'s job)."""
    return VERSION + key_id(public) + SUITE.encrypt(text.encode(), _public_key(public), info=INFO)


def sealed_key_id(sealed: bytes) -> bytes:
    """The id of the key `sealed` was sealed to (what a rotation looks at)."""
    return sealed[len(VERSION) : len(VERSION) + KEY_ID_BYTES]


def unseal(sealed: bytes, privates: list[str]) -> str:
    """The text sealed in `sealed`, with whichever of `privates` it names."""
    if not sealed.startswith(VERSION):
        raise CannotUnseal("unknown format")
    wanted = sealed_key_id(sealed)
    body = sealed[len(VERSION) + KEY_ID_BYTES :]
    for private in privates:
        kid, key = _private_key(private)
        if hmac.compare_digest(kid, wanted):
            try:
                return SUITE.decrypt(body, key, info=INFO).decode()
            except Exception as exc:
                raise CannotUnseal("does not open") from exc
    raise NoKeyHere("no private key for this value here")


def signer_hash(canonical_address: str, key: str) -> str:
    """The keyed hash of a canonical address (hex): equal addresses, equal
    hashes; without `key`, nothing to try a list of addresses against."""
    return hmac.new(unb64(key), canonical_address.encode(), hashlib.sha256).hexdigest()


def generate_hash_key() -> str:
    return _b64(secrets.token_bytes(32))


def new_keys() -> dict[str, str]:
    """A fresh set of the three variables (what `manage.py signer_keys` prints)."""
    pair = generate_key_pair()
    return {
        "SIGNER_HASH_KEY": generate_hash_key(),
        "SIGNER_SEAL_PUBLIC_KEY": pair.public,
        "SIGNER_SEAL_PRIVATE_KEYS": pair.private,
    }


def write_keys_file(path: Path) -> bool:
    """Write a fresh set of keys to `path` (readable by its owner only),
    unless the file exists: keys are made once, never replaced.  True if
    it made them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w") as out:
        out.writelines(f"{name}={value}\n" for name, value in new_keys().items())
    return True


def read_keys_file(path: Path) -> dict[str, str]:
    """The NAME=value lines of a keys file (comments and blank lines skipped)."""
    lines = path.read_text().splitlines()
    pairs = (line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))
    return {name.strip(): value.strip() for name, value in pairs}
