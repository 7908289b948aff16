"""Keys for sealed signer data change without losing a signer: a rotation
of the sealing key (both keys on the worker, then `reseal_addresses`), a
lost key (counts survive, the address is dropped), a new hash key
(`--rehash`), and the migration that sealed the addresses stored in clear
before (letters/migrations/0011_seal_addresses.py)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from letters import services
from letters.models import Display, Signature, SignatureStatus
from letters.sealing import generate_hash_key, generate_key_pair, key_id, sealed_key_id
from letters.signer_address import address_hash, open_address
from letters.tests.factories import confirmed_signature, signature_of

pytestmark = pytest.mark.django_db

OLD, NEW = generate_key_pair(), generate_key_pair()


@pytest.fixture
def old_key(settings):
    settings.SIGNER_SEAL_PUBLIC_KEY = OLD.public
    settings.SIGNER_SEAL_PRIVATE_KEYS = [OLD.private]
    return settings


def _rotate(settings, *privates: str) -> None:
    settings.SIGNER_SEAL_PUBLIC_KEY = NEW.public
    settings.SIGNER_SEAL_PRIVATE_KEYS = list(privates)


def test_during_a_rotation_the_worker_opens_both_keys_and_reseal_moves_every_address(
    open_letter, old_key
):
    before = confirmed_signature(open_letter, name="Olga Old", email="olga@example.org")
    _rotate(old_key, NEW.private, OLD.private)  # new key first, the old one kept
    services.signature_create(letter=open_letter, email="nina@example.org", name="Nina New")

    services.signature_emails_send()  # "confirmed" to Olga (old key), "confirm" to Nina (new)

    assert sorted(m.to[0] for m in mail.outbox) == ["nina@example.org", "olga@example.org"]
    call_command("reseal_addresses", "--batch", "1", stdout=_Null(), stderr=_Null())
    _rotate(old_key, NEW.private)  # the old private key is destroyed

    rows = Signature.objects.filter(letter=open_letter)
    assert rows.count() == 2
    for row in rows:
        assert sealed_key_id(bytes(row.email_sealed or b"")) == key_id(NEW.public)
    assert open_address(Signature.objects.get(pk=before.pk)) == "olga@example.org"
    assert open_address(signature_of(open_letter, "nina@example.org").get()) == "nina@example.org"


def test_a_lost_key_keeps_the_counts_and_drops_only_the_addresses_it_sealed(open_letter, old_key):
    lost = confirmed_signature(open_letter, name="Lara Lost", email="lara@example.org")
    _rotate(old_key, NEW.private)  # the old private key is gone, nothing re-sealed it
    kept = confirmed_signature(open_letter, name="Kim Kept", email="kim@example.org")
    counted, _public = services.counts_fold(letter_id=open_letter.pk)

    _rotate(old_key)  # a web host: no private key
    with pytest.raises(CommandError):
        call_command("reseal_addresses", stdout=_Null(), stderr=_Null())
    _rotate(old_key, NEW.private)
    call_command("reseal_addresses", "--drop-unopenable", stdout=_Null(), stderr=_Null())

    lost.refresh_from_db()
    assert lost.email_sealed is None
    assert lost.erased_at is not None
    assert lost.email_hash == address_hash("lara@example.org")  # still deduplicated
    assert open_address(Signature.objects.get(pk=kept.pk)) == "kim@example.org"
    assert services.counts_recount(letter_id=open_letter.pk)[0] == counted == 2
    mail.outbox.clear()
    services.signature_create(letter=open_letter, email="Lara@Example.org", name="Lara Lost")
    assert mail.outbox == []  # counted once, and no address to write to
    assert signature_of(open_letter, "lara@example.org").count() == 1


def test_a_new_hash_key_rehashes_every_sealed_address(open_letter, settings):
    signature = confirmed_signature(open_letter, name="Hana Hash", email="hana@example.org")
    new_hash_key = generate_hash_key()

    call_command("reseal_addresses", "--rehash", new_hash_key, stdout=_Null(), stderr=_Null())
    settings.SIGNER_HASH_KEY = new_hash_key

    signature.refresh_from_db()
    assert signature.email_hash == address_hash("hana@example.org")
    services.signature_create(letter=open_letter, email="hana@example.org", name="Hana Hash")
    assert Signature.objects.filter(letter=open_letter).count() == 1  # still one signer


class _Null:
    def write(self, _text: str) -> None:
        pass

    def flush(self) -> None:
        pass


@pytest.mark.django_db(transaction=True)
def test_the_migration_seals_addresses_stored_in_clear_and_forgets_anonymous_names(open_letter):
    """Rows written before sealing (an `email` column in clear, anonymous
    signers' names stored) come out of the migration with no address in
    clear and no anonymous name, still deduplicated and still deliverable."""
    executor = MigrationExecutor(connection)
    before = [("letters", "0010_sealed_address_columns")]
    latest = executor.loader.graph.leaf_nodes("letters")
    executor.migrate(before)
    old = MigrationExecutor(connection).loader.project_state(before).apps
    old_signature = old.get_model("letters", "Signature")
    common = {
        "letter_id": open_letter.pk,
        "version_id": open_letter.current_version_id,
        "status": SignatureStatus.CONFIRMED,
        "secret": "s" * 24,
        "emails_sent": 1,
    }
    old_signature.objects.create(
        email="pia@northwind.example", name="Pia Public", display=Display.PUBLIC, **common
    )
    old_signature.objects.create(
        email="quinn@northwind.example", name="Quinn Quiet", team="Ops",
        display=Display.ANONYMOUS, **common,
    )  # fmt: skip
    for _ in range(2):  # erased by retention before: no address left to hash
        old_signature.objects.create(
            email="", name="", display=Display.PUBLIC, erased_at=timezone.now(), **common
        )

    MigrationExecutor(connection).migrate(latest)

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM letters_signature")
        dumped = repr(cursor.fetchall())
    for secret in ("pia@", "quinn", "Quinn Quiet", "northwind.example"):
        assert secret.lower() not in dumped.lower()
    assert "Pia Public" in dumped  # a public signer's name is public by choice
    quinn = signature_of(open_letter, "quinn@northwind.example").get()
    assert (quinn.name, quinn.team, quinn.display) == ("", "", Display.ANONYMOUS)
    assert open_address(quinn) == "quinn@northwind.example"
    services.signature_create(letter=open_letter, email="pia@northwind.example", name="Pia")
    assert signature_of(open_letter, "pia@northwind.example").count() == 1
    erased = Signature.objects.filter(letter=open_letter, erased_at__isnull=False)
    assert erased.count() == 2  # kept, counted, and not in the way of the constraints
    assert all(row.email_hash.startswith("erased-") for row in erased)


def test_a_sender_without_the_private_key_hands_emails_back_and_fails_none(open_letter, settings):
    """A worker started without SIGNER_SEAL_PRIVATE_KEYS (or a web process)
    cannot open addresses: it must not mark the owed emails failed for
    good, so a worker with the key sends them."""
    privates = settings.SIGNER_SEAL_PRIVATE_KEYS
    services.signature_create(letter=open_letter, email="wren@example.org", name="Wren")
    settings.SIGNER_SEAL_PRIVATE_KEYS = []

    run = services.signature_emails_send()

    assert mail.outbox == []
    assert run.totals.get("failed", 0) == 0
    row = signature_of(open_letter, "wren@example.org").get()
    assert (row.emails_sent, row.email_failed, row.email_lease_until) == (0, False, None)
    settings.SIGNER_SEAL_PRIVATE_KEYS = privates
    services.signature_emails_send()
    assert [m.to for m in mail.outbox] == [["wren@example.org"]]
