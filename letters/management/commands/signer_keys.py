"""Make the keys that seal signers' addresses (letters/sealing.py).

Prints the environment variables to set: SIGNER_HASH_KEY and
SIGNER_SEAL_PUBLIC_KEY on every process, SIGNER_SEAL_PRIVATE_KEYS only on
the processes that send email (the Celery workers).  Nothing is stored."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from letters.sealing import generate_hash_key, generate_key_pair


class Command(BaseCommand):
    help = "Generate the signer sealing key pair and hash key; print them as environment variables."

    def handle(self, *args: Any, **options: Any) -> None:
        pair = generate_key_pair()
        self.stdout.write("# Every process (web and workers):")
        self.stdout.write(f"SIGNER_HASH_KEY={generate_hash_key()}")
        self.stdout.write(f"SIGNER_SEAL_PUBLIC_KEY={pair.public}")
        self.stdout.write("# Only the processes that send email (Celery workers); back it up:")
        self.stdout.write(f"SIGNER_SEAL_PRIVATE_KEYS={pair.private}")
