"""Opaque references to signatures, for the URLs and pages organisers see.

A signature's id is a site-wide counter of sign attempts: two ids tell how
many people tried to sign anything, on any letter, in between (pending and
anonymous signatures included).  Pages never show it; they show a reference
made by a keyed pseudo-random permutation of the 64-bit id (a four-round
Feistel network whose round function is HMAC-SHA-256 under a key derived
from SECRET_KEY, `salted_hmac`): stable for a signature, so a page and its
form agree, and without the key unrelated to the id and to the references of
neighbouring ids.  Any string of the right shape decodes to some id, which
the caller looks up within the letter in the same URL, as it would a typed
id.
"""

from __future__ import annotations

import base64
import binascii
import re

from django.utils.crypto import salted_hmac

_SALT = "letters.signature.ref"
_ROUNDS = 4
_MASK32 = 0xFFFFFFFF
_REF = re.compile(r"[A-Za-z0-9_-]{11}")


def _round(index: int, half: int) -> int:
    digest = salted_hmac(_SALT, f"{index}:{half}", algorithm="sha256").digest()
    return int.from_bytes(digest[:4], "big")


def mask_id(pk: int) -> int:
    """The id through the keyed permutation (64 bits in, 64 bits out)."""
    left, right = (pk >> 32) & _MASK32, pk & _MASK32
    for index in range(_ROUNDS):
        left, right = right, left ^ _round(index, right)
    return (left << 32) | right


def unmask_id(value: int) -> int:
    """`mask_id` undone."""
    left, right = (value >> 32) & _MASK32, value & _MASK32
    for index in reversed(range(_ROUNDS)):
        left, right = right ^ _round(index, left), left
    return (left << 32) | right


def signature_ref(pk: int) -> str:
    """The opaque reference of signature `pk` (11 URL-safe characters)."""
    block = mask_id(pk).to_bytes(8, "big")
    return base64.urlsafe_b64encode(block).decode().rstrip("=")


def signature_pk(ref: str) -> int | None:
    """The id a reference stands for, or None if it is not one."""
    if not _REF.fullmatch(ref):
        return None
    try:
        block = base64.urlsafe_b64decode(ref + "=")
    except (ValueError, binascii.Error):
        return None
    pk = unmask_id(int.from_bytes(block, "big"))
    return pk if 0 < pk < 2**63 else None
