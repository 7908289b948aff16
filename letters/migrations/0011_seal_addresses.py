"""Seal and hash every stored address, and forget anonymous signers' names.

Runs in batches of BATCH rows, each in its own transaction: a large table
is not locked for the whole run, and a run that is stopped resumes where it
stopped (it only touches rows not hashed yet).  On a terminal, stderr shows
how far it got (letters/progress.py); in a log, nothing.  The
clear column is dropped by the next migration.  Needs SIGNER_HASH_KEY and SIGNER_SEAL_PUBLIC_KEY (the
settings refuse to start without them in production)."""

import sys

from django.db import migrations, transaction

BATCH = 2000


def seal_addresses(apps, schema_editor):
    from letters.progress import Progress
    from letters.signer_address import stored_address

    signature = apps.get_model("letters", "Signature")
    todo = signature.objects.exclude(email="").filter(email_hash="")
    with Progress(stream=sys.stderr, unit="addresses", own_line=True) as progress:
        progress.start(todo.count())
        while True:
            with transaction.atomic():
                rows = list(todo.order_by("pk").select_for_update()[:BATCH])
                for row in rows:
                    for name, value in stored_address(row.email).items():
                        setattr(row, name, value)
                signature.objects.bulk_update(rows, ["email_hash", "email_sealed", "email_domains"])
            progress.advance(len(rows))
            if len(rows) < BATCH:
                break
    # Rows erased before this release (retention) lost their address: there
    # is nothing to hash.  Each gets a stand-in no HMAC can equal, unique per
    # row, so the constraints hold; as before, that address may sign again.
    erased = signature.objects.filter(
        email="", email_hash="", status__in=("pending", "confirmed"), erased_at__isnull=False
    )
    for pk in erased.values_list("pk", flat=True):
        signature.objects.filter(pk=pk).update(email_hash=f"erased-{pk}")
    unnamed = {"name": "", "job_title": "", "team": "", "location": "", "comment": ""}
    signature.objects.filter(display="anonymous").exclude(**unnamed).update(**unnamed)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("letters", "0010_sealed_address_columns"),
    ]

    operations = [
        migrations.RunPython(seal_addresses, migrations.RunPython.noop, elidable=True),
    ]
