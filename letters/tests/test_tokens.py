"""Signer tokens (`letters.tokens`): opaque (no id, no counter, no secret in
them), bound to one purpose, one signature's secret and the server's key;
expired, tampered and bit-flipped tokens read None; old-format withdraw and
unsubscribe links still work, and nothing is minted in the old format."""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import secrets
from typing import Any

import pytest
from django.core import signing

from letters import services
from letters.models import Letter, Signature
from letters.tests.factories import pending_signature
from letters.tokens import CHECK_BYTES, ID_BYTES, NONCE_BYTES, Purpose, make_token, read_token

pytestmark = pytest.mark.django_db

# Ids far from any the sequence hands out, so that their digits cannot turn
# up by chance in a token's random bytes.
FIRST_ID = 3_140_592_653


def signature_with_id(letter: Letter, pk: int) -> Signature:
    """A pending signature with a chosen id (as if that many signed before)."""
    return pending_signature(letter, pk=pk, email=f"signer{pk}@example.org", name=f"Signer {pk}")


@pytest.fixture
def signature(open_letter: Letter) -> Signature:
    return signature_with_id(open_letter, FIRST_ID)


@pytest.fixture(params=list(Purpose))
def purpose(request: pytest.FixtureRequest) -> Purpose:
    """Each purpose (a test's own parametrisation may narrow it)."""
    return Purpose(request.param)


@pytest.fixture
def token(signature: Signature, purpose: Purpose) -> str:
    """`signature`'s token for `purpose`, which reads back (the control)."""
    minted = make_token(signature, purpose)
    assert read_token(minted, purpose) == signature
    return minted


def b64_decodings(token: str) -> list[bytes]:
    """Every part of the token, and the whole of it, base64-decoded every
    way there is (URL-safe and standard alphabets, padded)."""
    out = []
    for part in [*token.split(":"), token.replace(":", "")]:
        padded = part + "=" * (-len(part) % 4)
        for decode in (base64.urlsafe_b64decode, base64.b64decode):
            with contextlib.suppress(ValueError):  # binascii.Error is one
                out.append(decode(padded))
    return out


def id_spellings(pk: int) -> list[bytes]:
    """An id as text, as JSON, and as 4- and 8-byte big- and little-endian integers."""
    return [
        str(pk).encode(),
        json.dumps([pk]).encode()[:-1],
        *(pk.to_bytes(n, "big") for n in (4, 8)),
        *(pk.to_bytes(n, "little") for n in (4, 8)),
    ]


@pytest.fixture
def consecutive(open_letter: Letter) -> list[Signature]:
    """Eight signatures with consecutive ids."""
    return [signature_with_id(open_letter, FIRST_ID + i) for i in range(8)]


@pytest.mark.parametrize("purpose", list(Purpose))
def test_a_token_decodes_to_neither_the_signature_id_nor_its_secret(
    consecutive: list[Signature], purpose: Purpose
) -> None:
    for signature in consecutive:
        token = make_token(signature, purpose)
        assert read_token(token, purpose) == signature  # the control
        decoded = b64_decodings(token)
        assert decoded, "no part of the token decodes"
        for blob in [token.encode(), *decoded]:
            for spelling in id_spellings(signature.pk):
                assert spelling not in blob, (token, spelling)
            assert signature.secret.encode() not in blob
            try:
                value = json.loads(blob)
            except ValueError:  # not JSON (bytes that are not UTF-8 raise too)
                continue
            assert signature.pk not in (value if isinstance(value, list) else [value])


def test_the_payload_is_the_same_length_for_every_id(open_letter: Letter) -> None:
    small = signature_with_id(open_letter, 3)
    large = signature_with_id(open_letter, 2**62)
    tokens = [make_token(s, Purpose.WITHDRAW) for s in (small, large)]
    assert len({len(t.split(":")[0]) for t in tokens}) == 1
    assert len(base64.urlsafe_b64decode(tokens[0].split(":")[0] + "=")) == (
        NONCE_BYTES + ID_BYTES + CHECK_BYTES
    )
    assert [read_token(t, Purpose.WITHDRAW) for t in tokens] == [small, large]


@pytest.mark.parametrize("purpose", list(Purpose))
def test_tokens_of_consecutive_signatures_share_no_structure_that_orders_them(
    consecutive: list[Signature], purpose: Purpose
) -> None:
    """Payloads and MACs of neighbours agree on no more characters than
    random strings do (about 1 in 64 per position); the old format's shared
    JSON prefix (`[314059265..`) agreed on more than ten.  Minting twice for
    one signature gives unrelated tokens too, so equality tells nothing."""
    for first, second in itertools.pairwise(consecutive):
        for one, other in [
            (make_token(first, purpose), make_token(second, purpose)),
            (make_token(first, purpose), make_token(first, purpose)),
        ]:
            assert one != other
            (p1, _ts1, mac1), (p2, _ts2, mac2) = one.split(":"), other.split(":")
            for a, b in ((p1, p2), (mac1, mac2)):
                assert len(a) == len(b)
                same = sum(x == y for x, y in zip(a, b, strict=True))
                assert same <= 8, (a, b)
                assert a[:4] != b[:4]
            x1, x2 = base64.urlsafe_b64decode(p1 + "="), base64.urlsafe_b64decode(p2 + "=")
            differing = sum(bin(x ^ y).count("1") for x, y in zip(x1, x2, strict=True))
            assert differing >= 64, "payload bits barely differ"  # random: 128 +- 8


@pytest.mark.parametrize(("minted", "used"), list(itertools.permutations(Purpose, 2)))
def test_a_token_for_one_purpose_does_not_work_for_another(
    signature: Signature, minted: Purpose, used: Purpose
) -> None:
    token = make_token(signature, minted)
    assert read_token(token, minted) == signature
    assert read_token(token, used) is None


def test_expired_tokens_read_none(token: str, settings: Any, purpose: Purpose) -> None:
    settings.SIGNATURE_CONFIRM_MAX_AGE = settings.SIGNATURE_WITHDRAW_MAX_AGE = -1
    assert read_token(token, purpose) is None


def test_every_one_bit_flip_and_every_changed_character_reads_none(
    token: str, purpose: Purpose
) -> None:
    for i, char in enumerate(token):
        for bit in (1, 2, 32):
            flipped = token[:i] + chr(ord(char) ^ bit) + token[i + 1 :]
            assert read_token(flipped, purpose) is None, (i, bit)
        other = "B" if char == "A" else "A"
        assert read_token(token[:i] + other + token[i + 1 :], purpose) is None, i
    for bad in (token[:-1], token + "A", token.replace(":", ""), "", "::", "a:b:c"):
        assert read_token(bad, purpose) is None


def test_a_correctly_signed_token_with_a_changed_id_reads_none(
    open_letter: Letter, signature: Signature
) -> None:
    """The MAC is not all: a payload re-signed with the server's key (which an
    attacker does not have) naming a neighbouring id fails the check that
    binds the token to that signature's secret."""
    purpose = Purpose.WITHDRAW
    signature_with_id(open_letter, FIRST_ID ^ 1)
    payload = signing.TimestampSigner(salt=f"{purpose.value}:v2").unsign(
        make_token(signature, purpose)
    )
    raw = bytearray(base64.urlsafe_b64decode(payload + "="))
    raw[NONCE_BYTES + ID_BYTES - 1] ^= 1  # the id's last bit: now FIRST_ID ^ 1, a live signature
    forged = signing.TimestampSigner(salt=f"{purpose.value}:v2").sign(
        signing.b64_encode(bytes(raw)).decode()
    )
    assert read_token(forged, purpose) is None


def test_withdrawing_or_a_new_secret_revokes_every_token(
    signature: Signature, token: str, purpose: Purpose
) -> None:
    Signature.objects.filter(pk=signature.pk).update(secret=secrets.token_urlsafe(18))
    assert read_token(token, purpose) is None
    fresh = make_token(Signature.objects.get(pk=signature.pk), purpose)
    assert read_token(fresh, purpose) == signature
    services.signature_withdraw(signature_id=signature.pk)
    assert read_token(fresh, purpose) is None


def test_tokens_need_the_server_s_key_and_survive_a_key_rotation(
    signature: Signature, settings: Any
) -> None:
    old_key = settings.SECRET_KEY
    token = make_token(signature, Purpose.WITHDRAW)
    settings.SECRET_KEY = "another-key-" + "x" * 50
    settings.SECRET_KEY_FALLBACKS = []
    assert read_token(token, Purpose.WITHDRAW) is None
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert read_token(token, Purpose.WITHDRAW) == signature
    assert read_token(make_token(signature, Purpose.WITHDRAW), Purpose.WITHDRAW) == signature


def old_format(signature: Signature, purpose: Purpose) -> str:
    """A token as the previous release minted it."""
    return signing.dumps([signature.pk, signature.secret], salt=purpose.value, compress=False)


@pytest.mark.parametrize("purpose", [Purpose.WITHDRAW, Purpose.UNSUBSCRIBE])
def test_an_old_format_withdraw_or_unsubscribe_token_still_works(
    open_letter: Letter, signature: Signature, settings: Any, purpose: Purpose
) -> None:
    other = signature_with_id(open_letter, FIRST_ID + 1)
    token = old_format(signature, purpose)
    assert read_token(token, purpose) == signature
    # still bound to the secret, the purpose and the age
    forged = signing.dumps([other.pk, signature.secret], salt=purpose.value, compress=False)
    assert read_token(forged, purpose) is None
    other_purposes = [p for p in Purpose if p is not purpose]
    assert all(read_token(token, p) is None for p in other_purposes)
    services.signature_withdraw(signature_id=signature.pk)
    assert read_token(token, purpose) is None
    settings.SIGNATURE_WITHDRAW_MAX_AGE = -1
    assert read_token(old_format(other, purpose), purpose) is None


@pytest.mark.parametrize("purpose", [Purpose.CONFIRM, Purpose.NEW_VERSION])
def test_old_format_confirm_and_new_version_tokens_are_no_longer_read(
    signature: Signature, purpose: Purpose
) -> None:
    assert read_token(old_format(signature, purpose), purpose) is None


def test_no_token_is_minted_in_the_old_format(token: str, purpose: Purpose) -> None:
    with pytest.raises(signing.BadSignature):
        signing.loads(token, salt=purpose.value)
