"""Key rotation for sealed signer addresses (docs/operations.md, "Signer keys").

Run on a host that holds the private keys (an email worker's environment):

- `manage.py reseal_addresses`: every sealed address not sealed to the
  current SIGNER_SEAL_PUBLIC_KEY is opened with SIGNER_SEAL_PRIVATE_KEYS
  (the new and the old keys) and sealed again to the current one.  After
  it, the old private key can be destroyed.
- `--drop-unopenable`: addresses no key here opens (a lost key) are
  dropped: the row keeps its hash and counts, and is marked erased.
- `--rehash NEW_KEY`: also recompute each address's keyed hash and domain
  tags with NEW_KEY (a new SIGNER_HASH_KEY).  Rows already erased have no
  address to hash again and keep the old hash; signing must be closed
  while this runs (see the procedure in docs/operations.md).

Batches of --batch rows, each in its own transaction; safe to stop and run
again.  On a terminal, stderr shows how far it got (addresses done, their
rate, the time left: letters/progress.py); `--progress` shows it in a log
too, `-v 0` prints nothing but errors.  The last line (stdout) counts what
was done."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from letters.emailaddr import canonical_email
from letters.models import Signature
from letters.progress import add_progress_argument, command_progress
from letters.sealing import CannotUnseal, key_id, seal, sealed_key_id, unseal
from letters.signer_address import stored_address


class Command(BaseCommand):
    help = "Re-seal signer addresses to the current key (and optionally re-hash them)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, default=1000)
        parser.add_argument("--drop-unopenable", action="store_true")
        parser.add_argument("--rehash", metavar="NEW_HASH_KEY", default="")
        add_progress_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.SIGNER_SEAL_PRIVATE_KEYS:
            raise CommandError("SIGNER_SEAL_PRIVATE_KEYS is not set here: run it on a worker host.")
        current = key_id(settings.SIGNER_SEAL_PUBLIC_KEY)
        totals = {"resealed": 0, "rehashed": 0, "unopenable": 0, "dropped": 0}
        todo = Signature.objects.filter(email_sealed__isnull=False)
        last = 0
        with command_progress(self, options, unit="addresses") as progress:
            progress.start(todo.count())
            while True:
                with transaction.atomic():
                    rows = list(
                        todo.filter(pk__gt=last)
                        .order_by("pk")
                        .select_for_update()[: options["batch"]]
                    )
                    for row in rows:
                        self._one(row, current, options, totals)
                if not rows:
                    break
                last = rows[-1].pk
                progress.advance(len(rows))
        if options["verbosity"] > 0:
            self.stdout.write(" ".join(f"{name}={n}" for name, n in totals.items()))

    def _one(
        self, row: Signature, current: bytes, options: dict[str, Any], totals: dict[str, int]
    ) -> None:
        sealed = bytes(row.email_sealed or b"")
        stale = sealed_key_id(sealed) != current
        if not (stale or options["rehash"]):
            return
        try:
            address = unseal(sealed, settings.SIGNER_SEAL_PRIVATE_KEYS)
        except CannotUnseal:  # NoKeyHere included: no key here opens it
            totals["unopenable"] += 1
            if options["drop_unopenable"]:
                Signature.objects.filter(pk=row.pk).update(
                    email_sealed=None, email_domains="", erased_at=row.erased_at or timezone.now()
                )
                totals["dropped"] += 1
            return
        if options["rehash"]:
            canonical = canonical_email(address)  # what is sealed is the address as typed
            values = stored_address(canonical, options["rehash"], deliver_to=address)
            Signature.objects.filter(pk=row.pk).update(**values)
            totals["rehashed"] += 1
        else:
            Signature.objects.filter(pk=row.pk).update(
                email_sealed=seal(address, settings.SIGNER_SEAL_PUBLIC_KEY)
            )
        totals["resealed"] += stale
