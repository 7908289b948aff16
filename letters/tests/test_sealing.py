"""The building blocks of sealed signer data (letters/sealing.py), checked
against RFC 9180's own test vector and against each other."""

from __future__ import annotations

import environ
import pytest
from cryptography.hazmat.bindings._rust import openssl as rust_openssl
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import x25519
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from config.signer_keys import load_signer_keys
from letters import sealing


def test_the_hpke_implementation_opens_rfc_9180_appendix_a1():
    """RFC 9180 A.1.1 (DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM,
    base mode, sequence 0): the library's HPKE key schedule and AEAD, which
    our hybrid suite shares, against values we did not write."""
    h = bytes.fromhex
    recipient = x25519.X25519PrivateKey.from_private_bytes(
        h("4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8")
    )
    enc = h("37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431")
    ct = h(
        "f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a96d8770ac83d07bea87e13c512a"
    )
    suite = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_128_GCM)

    opened = rust_openssl.hpke._decrypt_with_aad(
        suite,
        enc + ct,
        recipient,
        info=h("4f6465206f6e2061204772656369616e2055726e"),
        aad=b"Count-0",
    )

    assert opened == b"Beauty is truth, truth beauty"


def test_an_address_sealed_to_a_public_key_opens_only_with_its_private_key():
    pair, other = sealing.generate_key_pair(), sealing.generate_key_pair()
    address = "pat.o'neil+team@dept.example.org"

    sealed = sealing.seal(address, pair.public)

    assert address.encode() not in sealed
    assert sealing.seal(address, pair.public) != sealed  # a fresh ephemeral key each time
    assert sealing.unseal(sealed, [other.private, pair.private]) == address  # a rotation
    with pytest.raises(sealing.CannotUnseal):
        sealing.unseal(sealed, [other.private])  # a process without the key
    with pytest.raises(sealing.CannotUnseal):
        sealing.unseal(sealed, [])  # a web process


def test_a_tampered_sealed_value_does_not_open():
    pair = sealing.generate_key_pair()
    sealed = bytearray(sealing.seal("pat@example.org", pair.public))
    sealed[-1] ^= 1

    with pytest.raises(sealing.CannotUnseal):
        sealing.unseal(bytes(sealed), [pair.private])


def test_the_keyed_hash_deduplicates_without_the_key_telling():
    key, other = sealing.generate_hash_key(), sealing.generate_hash_key()

    assert sealing.signer_hash("pat@example.org", key) == sealing.signer_hash(
        "pat@example.org", key
    )
    assert sealing.signer_hash("pat@example.org", key) != sealing.signer_hash(
        "pam@example.org", key
    )
    assert sealing.signer_hash("pat@example.org", key) != sealing.signer_hash(
        "pat@example.org", other
    )


def test_the_key_command_prints_keys_that_work_together(capsys):
    call_command("signer_keys")
    lines = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines() if "=" in line)

    sealed = sealing.seal("pat@example.org", lines["SIGNER_SEAL_PUBLIC_KEY"])

    assert sealing.unseal(sealed, [lines["SIGNER_SEAL_PRIVATE_KEYS"]]) == "pat@example.org"
    assert len(sealing.signer_hash("pat@example.org", lines["SIGNER_HASH_KEY"])) == 64


def _env(**values: str) -> environ.Env:
    class Fixed(environ.Env):
        ENVIRON = values

    return Fixed()


def test_make_run_makes_its_keys_once_and_keeps_them(tmp_path):
    first = load_signer_keys(_env(), debug=True, var_dir=tmp_path)
    again = load_signer_keys(_env(), debug=True, var_dir=tmp_path)

    assert first == again  # kept under var/, not made anew
    assert (tmp_path / "signer-keys.env").stat().st_mode & 0o077 == 0  # the owner's only
    sealed = sealing.seal("pat@example.org", first.public)
    assert sealing.unseal(sealed, first.privates) == "pat@example.org"


def test_a_web_process_may_have_no_private_key_but_production_needs_the_others(tmp_path):
    pair, hash_key = sealing.generate_key_pair(), sealing.generate_hash_key()
    web = load_signer_keys(
        _env(SIGNER_HASH_KEY=hash_key, SIGNER_SEAL_PUBLIC_KEY=pair.public),
        debug=False,
        var_dir=tmp_path,
    )
    assert web.privates == []
    with pytest.raises(sealing.CannotUnseal):
        sealing.unseal(sealing.seal("pat@example.org", web.public), web.privates)

    with pytest.raises(ImproperlyConfigured, match="SIGNER_SEAL_PUBLIC_KEY must be set"):
        load_signer_keys(_env(SIGNER_HASH_KEY=hash_key), debug=False, var_dir=tmp_path)
    assert not (tmp_path / "signer-keys.env").exists()  # production never makes keys
