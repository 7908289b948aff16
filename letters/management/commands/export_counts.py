"""Export signature counts, as the admin action and the organiser dashboard do.

    manage.py export_counts --letter SLUG [--letter SLUG2] [--kind day --kind team]
    manage.py export_counts --summary                   # one row per letter
    ... [--format csv|json] [--output FILE] [--threshold N]

Groups below the threshold are suppressed.  The threshold is
EXPORT_MIN_GROUP unless a higher one is given; a lower one is refused (the
floor for counts that can contain anonymous signers is a setting, not a
command-line choice).  Each run is written to the audit log with its
threshold, kinds and format.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from letters import exports, services
from letters.models import Letter


class Command(BaseCommand):
    help = "Export signature counts (CSV or JSON) to stdout or a file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--letter", action="append", default=[], help="letter slug")
        parser.add_argument("--summary", action="store_true", help="one row per letter")
        parser.add_argument(
            "--kind",
            action="append",
            choices=exports.KINDS,
            default=[],
            help="; ".join(f"{k.name}: {k.label}" for k in exports.COUNT_KINDS.values())
            + " (default: all)",
        )
        parser.add_argument("--format", choices=exports.FORMATS, default="csv")
        parser.add_argument("--output", help="file to write (default: stdout)")
        parser.add_argument(
            "--threshold",
            type=int,
            default=None,
            help="suppress groups below this (default and lowest: EXPORT_MIN_GROUP)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            threshold = exports.export_threshold(options["threshold"])
        except ValueError as exc:
            raise CommandError(
                f"--{exc}: groups that small could single out a signer.  Use a "
                f"threshold of at least {settings.EXPORT_MIN_GROUP}."
            ) from exc
        kinds = options["kind"] or list(exports.KINDS)
        if options["summary"]:
            letters = Letter.objects.order_by("id")
            if options["letter"]:
                letters = letters.filter(slug__in=options["letter"])
            rows = exports.summary_rows(letters.iterator())
            fields = exports.SUMMARY_FIELDS
        else:
            if not options["letter"]:
                raise CommandError("Name at least one --letter, or use --summary.")
            letters = Letter.objects.filter(slug__in=options["letter"]).order_by("id")
            missing = set(options["letter"]) - set(letters.values_list("slug", flat=True))
            if missing:
                raise CommandError(f"No such letter: {', '.join(sorted(missing))}")
            rows = exports.letters_count_rows(letters, kinds, threshold)
            fields = exports.COUNT_FIELDS
        services.audit(
            actor=None,
            action="export.command",
            target=",".join(options["letter"]) or "all",
            summary=options["summary"],
            kinds="summary" if options["summary"] else ",".join(kinds),
            threshold=threshold,
            format=options["format"],
        )
        chunks = exports.stream(rows, fields, options["format"])
        if options["output"]:
            with open(options["output"], "w", newline="") as out:
                out.writelines(chunks)
        else:
            for chunk in chunks:
                self.stdout.write(chunk, ending="")
