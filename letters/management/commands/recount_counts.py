"""Recount every letter's counts from its signatures, repairing drift (what
the `counts_recount` periodic task does every COUNT_RECOUNT_INTERVAL).

    manage.py recount_counts [--progress | --no-progress] [-v 0]

On a terminal, stderr shows how far it got (signature rows recounted, their
rate, the time left: letters/progress.py); piped, only the last line, which
says how many letters were recounted (none with `-v 0`)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from letters import services
from letters.progress import add_progress_argument, command_progress


class Command(BaseCommand):
    help = "Recount every letter's counts from its signatures (repairs drift)."

    def add_arguments(self, parser: CommandParser) -> None:
        add_progress_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        with command_progress(self, options, unit="signatures") as progress:
            letters = services.counts_recount_all(progress=progress)
        if options["verbosity"] > 0:
            self.stdout.write(f"Recounted {letters:,} letter{'' if letters == 1 else 's'}.")
