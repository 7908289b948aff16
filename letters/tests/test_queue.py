"""Services name the tasks they want run (letters.queue) instead of importing
them: every name they use must be a task the worker and the web process
both know, found by the Celery app's autodiscovery alone."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from letters.queue import task, task_name

LETTERS = Path(__file__).resolve().parent.parent


def names_used() -> set[str]:
    """The first argument of every enqueue(...) and send(...) call in letters/."""
    found = set()
    for path in LETTERS.rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in {"enqueue", "send"}
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.add(node.args[0].value)
    return found


def test_every_task_a_service_names_is_registered():
    used = names_used()
    assert {"notify_event", "send_signature_emails", "send_invitation_email"} <= used
    missing = sorted(name for name in used if task(name).name != task_name(name))
    assert missing == []


def test_a_fresh_web_process_finds_the_tasks_without_importing_them():
    """Nothing on the web side imports letters.tasks; `queue.task` has
    Celery's autodiscovery find them."""
    code = (
        "import django, sys; django.setup();"
        "import config.urls; from letters import admin, queue, services;"
        "assert 'letters.tasks' not in sys.modules, 'imported by the web side';"
        "queue.task('notify_event');"
        "from celery import current_app; print(sorted(current_app.tasks))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=LETTERS.parent,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    for name in names_used():
        assert task_name(name) in result.stdout, name
