"""Erase the personal data of letters closed or delivered more than
RETENTION_DAYS ago, now (what the `signatures_erase_retained` periodic task
does every day): counts stay, names and addresses go.  Audited per letter.

    manage.py erase_retained [--progress | --no-progress] [-v 0]

On a terminal, stderr shows how far it got (signature rows erased, their
rate, the time left: letters/progress.py); piped, only the last line, which
says how many signatures were erased (none with `-v 0`)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from letters import services
from letters.progress import add_progress_argument, command_progress


class Command(BaseCommand):
    help = "Erase signers' personal data of letters past their retention period, now."

    def add_arguments(self, parser: CommandParser) -> None:
        add_progress_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        with command_progress(self, options, unit="signatures") as progress:
            erased = services.signatures_erase_retained(progress=progress)
        if options["verbosity"] > 0:
            self.stdout.write(
                f"Erased the personal data of {erased:,} signature{'' if erased == 1 else 's'}."
            )
