"""Asking for work to be done later: a Celery task named like a URL.

Services never import the tasks that call them (DESIGN §6: imports run one
way, tasks import services).  They name the task instead, as templates
name a view for `reverse()`: `enqueue("notify_event", event.pk)` sends
`letters.tasks.notify_event` once the transaction commits.  The Celery app
finds `letters.tasks` by autodiscovery; `letters/tests/test_queue.py`
checks that every name services use is a task a fresh process finds.
"""

from __future__ import annotations

from celery import Task, current_app
from django.db import transaction


def task_name(name: str) -> str:
    return f"letters.tasks.{name}"


def task(name: str) -> Task:
    """The registered task `name`.  The worker imports the tasks modules when
    it starts; a web process has Celery's autodiscovery import them the
    first time it asks for one."""
    full = task_name(name)
    if full not in current_app.tasks:
        current_app.loader.import_default_modules()
    return current_app.tasks[full]


def send(name: str, *args: object, countdown: float | None = None) -> None:
    """Publish the task now (outside a transaction, or on commit)."""
    task_ = task(name)
    if countdown is None:
        task_.delay(*args)
    else:
        task_.apply_async(args=args, countdown=countdown)


def enqueue(name: str, *args: object, countdown: float | None = None) -> None:
    """Publish the task once the current transaction commits (at once
    outside a transaction); nothing is published if it rolls back.
    `countdown`: run it that many seconds later (in-process, eager tasks
    run at once)."""
    transaction.on_commit(lambda: send(name, *args, countdown=countdown))
