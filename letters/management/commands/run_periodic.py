"""Celery beat's schedule for embedded mode (`make run`): no broker, no beat,
so this runs each periodic task of CELERY_BEAT_SCHEDULE in this process at
its interval (folding counts, sweeping unsent emails, closing due letters,
retention...).  Production runs `celery -A config beat` instead.

`--for SECONDS` stops after that long (tests); otherwise it runs until
interrupted."""

from __future__ import annotations

import logging
import time
from typing import Any, cast

from celery import current_app
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run the periodic tasks in this process (embedded mode: no broker, no beat)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--for", dest="duration", type=float, default=0.0)

    def handle(self, *args: Any, **options: Any) -> None:
        current_app.loader.import_default_modules()  # the tasks, by name
        schedule: dict[str, float] = {
            str(entry["task"]): float(cast(float, entry["schedule"]))
            for entry in settings.CELERY_BEAT_SCHEDULE.values()
        }
        due = dict.fromkeys(schedule, time.monotonic())
        stop_at = time.monotonic() + options["duration"] if options["duration"] else None
        self.stderr.write(f"Running {len(schedule)} periodic tasks in this process.")
        while stop_at is None or time.monotonic() < stop_at:
            now = time.monotonic()
            for name, interval in schedule.items():
                if now >= due[name]:
                    due[name] = now + interval
                    try:
                        current_app.tasks[name].apply()
                    except Exception:  # one task's failure must not stop the others
                        logger.exception("periodic task %s failed", name)
            time.sleep(max(0.05, min(due.values()) - time.monotonic()))
